"""Every provider × every wire fault, over real sockets to the loopback server.

Each case asserts the outcome a person would see: the full answer (reasoning kept
apart), or the exact error class, words from the provider plus a hint in `explain`,
and the partial answer that had arrived before the fault. Faults that cannot happen
to non-streaming Segmind are replaced by Segmind's own equivalent, never skipped.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from qwenvl_desktop.core.api.types import ChatResult, ContentDelta, Finish, ReasoningDelta, Usage
from qwenvl_desktop.core.errors import (
    APIStatusError,
    AuthenticationError,
    CreditsError,
    InterruptedStream,
    MalformedStream,
    PermissionError_,
    ProviderError,
    RateLimitError,
    ServerError,
    StreamErrorEvent,
    TimeoutError_,
    explain,
)
from qwenvl_desktop.testing.provider_server import (
    Script,
    default_error_message,
    dialect_for,
    split_pieces,
)

from .conftest import PROVIDER_IDS, Outcome, Tally, Wire

ANSWER = "The picture shows a red bicycle leaning against a yellow wall."
REASONING = "The person asks about the image. I can see a bicycle and a wall."
MULTIBYTE = "Größe: 10 × 20 cm — ✓ 自行车 🚲 naïve café"
MAX_RETRIES = 3

# Dialects whose wire format carries reasoning (delta.reasoning_content / delta.reasoning).
REASONING_PROVIDERS = {"dashscope-intl", "dashscope-us", "dashscope-cn", "ovh", "aimlapi",
                       "local-vllm"}
STREAMING_USAGE = {"dashscope-intl", "dashscope-us", "dashscope-cn", "ovh", "aimlapi",
                   "local-vllm"}

# What each class of error must tell the person to do (from errors.explain).
HINTS: dict[type[ProviderError], str] = {
    AuthenticationError: "replace the key",
    CreditsError: "credits",
    PermissionError_: "access",
    RateLimitError: "rate-limiting",
    ServerError: "server problem",
    StreamErrorEvent: "mid-answer",
    TimeoutError_: "too long",
    InterruptedStream: "cut off",
    MalformedStream: "not a chat answer",
}


def streaming(pid: str) -> bool:
    return pid != "segmind"


def script(pid: str, **fields: object) -> Script:
    reasoning = REASONING if pid in REASONING_PROVIDERS else ""
    fields.setdefault("content", ANSWER)
    return Script(reasoning=reasoning, **fields)  # type: ignore[arg-type]


def fault_point(pid: str) -> int:
    """Strike after all the reasoning and three pieces of the answer."""
    reasoning = REASONING if pid in REASONING_PROVIDERS else ""
    return len(split_pieces(reasoning, None)) + 3


def result_of(outcome: Outcome) -> ChatResult:
    assert outcome.error is None, f"unexpected error: {outcome.error!r}"
    result = ChatResult()
    for event in outcome.events:
        result.add(event)
    return result


def expect_error(outcome: Outcome, cls: type[ProviderError]) -> ProviderError:
    err = outcome.error
    assert err is not None, f"expected {cls.__name__}, got events {outcome.events!r}"
    assert type(err) is cls, f"expected {cls.__name__}, got {type(err).__name__}: {err}"
    words = explain(err)
    assert HINTS[cls] in words, words
    assert err.provider
    return err


def expect_partial(wire: Wire, err: ProviderError, pid: str) -> None:
    """The error carries exactly what the server had sent before the fault."""
    record = wire.server.requests[-1]
    assert err.partial_text == record.sent_text
    assert err.partial_reasoning == record.sent_reasoning
    if streaming(pid):
        assert err.partial_text == "".join(split_pieces(ANSWER, None)[:3])
        assert err.partial_reasoning == (REASONING if pid in REASONING_PROVIDERS else "")
    else:
        assert err.partial_text == ""


def expect_answer(wire: Wire, outcome: Outcome, pid: str, content: str = ANSWER) -> ChatResult:
    result = result_of(outcome)
    assert result.text == content
    assert result.reasoning == (REASONING if pid in REASONING_PROVIDERS else "")
    # Reasoning never leaks into the answer and comes before it.
    kinds = [type(e) for e in outcome.events if isinstance(e, ContentDelta | ReasoningDelta)]
    if ReasoningDelta in kinds:
        assert kinds.index(ContentDelta) > max(
            i for i, k in enumerate(kinds) if k is ReasoningDelta)
    assert result.finish_reason == "stop"
    finishes = [e for e in outcome.events if isinstance(e, Finish)]
    assert len(finishes) == 1
    return result


def expect_status(wire: Wire, outcome: Outcome, pid: str, cls: type[ProviderError],
                  status: int, *, requests: int = 1) -> APIStatusError:
    err = expect_error(outcome, cls)
    assert isinstance(err, APIStatusError)
    assert err.status == status
    message = default_error_message(dialect_for(pid), status).strip()
    assert message in explain(err)
    assert len(wire.server.requests) == requests
    assert err.partial_text == ""
    return err


# --- the cases ---------------------------------------------------------------------------

def case_normal(wire: Wire, pid: str) -> None:
    wire.server.enqueue(script(pid, usage={"prompt_tokens": 1200, "completion_tokens": 34,
                                           "total_tokens": 1234}))
    outcome = wire.turn(pid)
    result = expect_answer(wire, outcome, pid)
    if pid in STREAMING_USAGE or not streaming(pid):
        assert result.usage == Usage(prompt_tokens=1200, completion_tokens=34,
                                     total_tokens=1234)
    else:
        assert result.usage is None
    assert outcome.retries == []


def case_drop(wire: Wire, pid: str) -> None:
    wire.server.enqueue(script(pid, drop_after=fault_point(pid)))
    outcome = wire.turn(pid)
    err = expect_error(outcome, InterruptedStream)
    expect_partial(wire, err, pid)
    assert len(wire.server.requests) == 1, "a request that had begun answering was re-sent"


def case_malformed(wire: Wire, pid: str) -> None:
    # Segmind: a 200 body cut in half (valid length, invalid JSON).
    wire.server.enqueue(script(pid, malformed=True, fault_after=fault_point(pid)))
    outcome = wire.turn(pid)
    err = expect_error(outcome, MalformedStream)
    expect_partial(wire, err, pid)
    assert len(wire.server.requests) == 1


def case_error_event(wire: Wire, pid: str) -> None:
    # Segmind: a 200 answer whose body is {"error": "..."}.
    message = "Upstream model crashed while decoding the image."
    wire.server.enqueue(script(pid, error_event=True, error_message=message,
                               fault_after=fault_point(pid)))
    outcome = wire.turn(pid)
    err = expect_error(outcome, StreamErrorEvent)
    assert message in explain(err)
    expect_partial(wire, err, pid)
    assert len(wire.server.requests) == 1


def case_401(wire: Wire, pid: str) -> None:
    outcome = wire.turn(pid, api_key="sk-not-the-right-key-42")
    err = expect_status(wire, outcome, pid, AuthenticationError, 401)
    if pid.startswith("dashscope"):
        assert "region" in explain(err)


def case_403(wire: Wire, pid: str) -> None:
    wire.server.enqueue(Script(status=403))
    outcome = wire.turn(pid)
    # AI/ML API says 403 when the account is out of credits.
    cls = CreditsError if pid == "aimlapi" else PermissionError_
    expect_status(wire, outcome, pid, cls, 403)


def case_406(wire: Wire, pid: str) -> None:
    wire.server.enqueue(Script(status=406))
    outcome = wire.turn(pid)
    expect_status(wire, outcome, pid, CreditsError, 406)


def case_429(wire: Wire, pid: str) -> None:
    wire.server.enqueue(Script(status=429, retry_after="2"), times=MAX_RETRIES + 1)
    outcome = wire.turn(pid)
    err = expect_status(wire, outcome, pid, RateLimitError, 429, requests=MAX_RETRIES + 1)
    assert err.retry_after == 2.0
    assert outcome.sleeps == [2.0] * MAX_RETRIES
    assert [r.attempt for r in outcome.retries] == [1, 2, 3]


def _server_error(status: int) -> Callable[[Wire, str], None]:
    def case(wire: Wire, pid: str) -> None:
        wire.server.enqueue(Script(status=status), times=MAX_RETRIES + 1)
        outcome = wire.turn(pid)
        expect_status(wire, outcome, pid, ServerError, status, requests=MAX_RETRIES + 1)
        assert len(outcome.retries) == MAX_RETRIES

    return case


def case_html(wire: Wire, pid: str) -> None:
    wire.server.enqueue(Script(html_status=502), times=MAX_RETRIES + 1)
    outcome = wire.turn(pid)
    err = expect_error(outcome, ServerError)
    assert isinstance(err, APIStatusError)
    assert err.status == 502
    words = explain(err)
    assert "502 Bad Gateway" in words
    assert "<html" not in words
    assert "<center>" not in words
    assert len(wire.server.requests) == MAX_RETRIES + 1


def case_stall(wire: Wire, pid: str) -> None:
    # Segmind: the body stops half-way. The idle timeout, not a total one, must fire.
    wire.server.enqueue(script(pid, stall=True, fault_after=fault_point(pid)))
    outcome = wire.turn(pid, read_timeout=0.5)
    err = expect_error(outcome, TimeoutError_)
    expect_partial(wire, err, pid)
    assert len(wire.server.requests) == 1


def case_no_done(wire: Wire, pid: str) -> None:
    # Nebula never sends [DONE]; Segmind has no stream: both must simply work.
    wire.server.enqueue(script(pid, no_done=True))
    expect_answer(wire, wire.turn(pid), pid)


def case_no_finish(wire: Wire, pid: str) -> None:
    wire.server.enqueue(script(pid, no_finish=True, fault_after=fault_point(pid)))
    outcome = wire.turn(pid)
    if streaming(pid):
        err = expect_error(outcome, InterruptedStream)
        expect_partial(wire, err, pid)
    else:
        # A whole JSON answer with finish_reason null is still the whole answer.
        result = result_of(outcome)
        assert result.text == ANSWER
        assert result.finish_reason == ""


def case_multibyte(wire: Wire, pid: str) -> None:
    wire.server.enqueue(script(pid, content=MULTIBYTE, split_multibyte=True))
    expect_answer(wire, wire.turn(pid), pid, content=MULTIBYTE)


def case_keepalive(wire: Wire, pid: str) -> None:
    # Segmind: whitespace before the JSON while the model works.
    wire.server.enqueue(script(pid, keepalive=True))
    expect_answer(wire, wire.turn(pid), pid)


def case_crlf(wire: Wire, pid: str) -> None:
    wire.server.enqueue(script(pid, crlf=True, content="Line one.\r\nLine two.\n"))
    expect_answer(wire, wire.turn(pid), pid, content="Line one.\r\nLine two.\n")


def case_retry_then_succeed(wire: Wire, pid: str) -> None:
    wire.server.enqueue(script(pid, fail_times=2, fail_status=503))
    outcome = wire.turn(pid)
    expect_answer(wire, outcome, pid)
    assert len(wire.server.requests) == 3
    assert [r.attempt for r in outcome.retries] == [1, 2]
    assert all("503" in r.reason for r in outcome.retries)
    # Retrying events all come before the first piece of the answer.
    first_text = next(i for i, e in enumerate(outcome.events)
                      if isinstance(e, ContentDelta | ReasoningDelta))
    assert all(outcome.events.index(r) < first_text for r in outcome.retries)


CASES: dict[str, Callable[[Wire, str], None]] = {
    "normal": case_normal,
    "drop-mid-stream": case_drop,
    "malformed-chunk": case_malformed,
    "error-event-in-200": case_error_event,
    "401": case_401,
    "403": case_403,
    "406": case_406,
    "429-retry-after": case_429,
    "500": _server_error(500),
    "502": _server_error(502),
    "504": _server_error(504),
    "html-502": case_html,
    "stall-past-idle-timeout": case_stall,
    "no-done": case_no_done,
    "no-finish-reason": case_no_finish,
    "multibyte-split": case_multibyte,
    "keepalive-comments": case_keepalive,
    "crlf-framing": case_crlf,
    "fail-then-succeed": case_retry_then_succeed,
}


@pytest.mark.parametrize("fault", list(CASES))
@pytest.mark.parametrize("pid", PROVIDER_IDS)
def test_wire_fault(wire: Wire, matrix_tally: Tally, pid: str, fault: str) -> None:
    matrix_tally.tried += 1
    CASES[fault](wire, pid)
    matrix_tally.handled += 1
