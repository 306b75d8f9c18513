"""The decoder's fast path for reads of whole `data:` events gives what the general
path gives — the same events, the same errors with the same partial text — and
`plain_content` reads a chunk exactly as `chunk_events` does."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_stream_properties import FRAGMENTS, JSON_VALUES, valid_streams

from qwenvl_desktop.core.api.chunks import chunk_events, plain_content
from qwenvl_desktop.core.api.stream import StreamDecoder
from qwenvl_desktop.core.api.types import ContentDelta, StreamEvent
from qwenvl_desktop.core.catalog import load_builtin
from qwenvl_desktop.core.errors import ProviderError

PROVIDER = load_builtin().get("dashscope-intl")
SETTINGS = settings(max_examples=200, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow])


class _GeneralOnly(StreamDecoder):
    """The decoder with its fast path switched off: the reference."""

    def _whole_events(self, data: bytes, out: list[StreamEvent]) -> bool:
        return False


class _Counting(StreamDecoder):
    fast_reads = 0

    def _whole_events(self, data: bytes, out: list[StreamEvent]) -> bool:
        taken = super()._whole_events(data, out)
        self.fast_reads += taken
        return taken


def _outcome(decoder: StreamDecoder, reads: list[bytes]) -> tuple[Any, ...]:
    """Everything a caller can see: the events, or the error with its partial text,
    and the end state."""
    events: list[StreamEvent] = []
    try:
        for read in reads:
            events += decoder.feed(read)
        events += decoder.close()
    except ProviderError as err:
        return ("error", type(err), err.message, events, err.partial_text,
                err.partial_reasoning)
    return ("events", events, decoder.saw_done, decoder.saw_finish)


def _reads(raw: bytes, cuts: list[int]) -> list[bytes]:
    bounds = [0, *sorted(set(cuts)), len(raw)]
    return [raw[a:b] for a, b in itertools.pairwise(bounds)]


def _event_cuts(raw: bytes, pick: list[bool]) -> list[int]:
    """Cuts after some of the blank lines that end SSE events."""
    ends = [i + 2 for i in range(len(raw) - 1) if raw[i:i + 2] == b"\n\n"]
    return [end for end, take in zip(ends, pick, strict=False) if take]


def _sse(chunks: list[Any]) -> bytes:
    return "".join(f"data: {json.dumps(c)}\n\n" for c in chunks).encode()


def _delta(text: Any) -> dict[str, Any]:
    return {"object": "chat.completion.chunk", "usage": None,
            "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]}


@SETTINGS
@given(stream=valid_streams(), pick=st.lists(st.booleans(), max_size=40))
def test_reads_of_whole_events_give_the_same_events(stream: tuple[list[StreamEvent], bytes],
                                                    pick: list[bool]) -> None:
    expected, raw = stream
    reads = _reads(raw, _event_cuts(raw, pick))
    fast = _outcome(StreamDecoder(PROVIDER), reads)
    assert fast == _outcome(_GeneralOnly(PROVIDER), reads)
    assert fast[0] == "events"
    assert fast[1] == expected


# A clean first event, then anything: the fast path must either decode a read exactly
# as the general path would or leave it to it, errors and partial text included.
TAILS = st.one_of(
    st.lists(FRAGMENTS, max_size=40).map(b"".join),
    st.lists(st.one_of(st.text(max_size=6).map(_delta), JSON_VALUES), max_size=6).map(_sse),
    st.binary(max_size=200),
)


@SETTINGS
@given(tails=st.lists(TAILS, min_size=1, max_size=4), split=st.booleans())
def test_any_reads_after_a_clean_event_give_the_same_outcome(tails: list[bytes],
                                                             split: bool) -> None:
    reads = [_sse([_delta("Hello")]), *tails]
    if split:
        reads = [piece for read in reads for piece in _reads(read, [len(read) // 2])]
    assert _outcome(StreamDecoder(PROVIDER), reads) == _outcome(_GeneralOnly(PROVIDER), reads)


def test_an_ordinary_answer_takes_the_fast_path_after_its_first_read() -> None:
    reads = [_sse([_delta(word)]) for word in ("One", " two", " three")]
    reads.append(b'data: {"choices":[{"delta":{},"finish_reason":"stop"}]}\n\n'
                 b"data: [DONE]\n\n")
    decoder = _Counting(PROVIDER)
    outcome = _outcome(decoder, reads)
    assert outcome == ("events", [ContentDelta("One"), ContentDelta(" two"),
                                  ContentDelta(" three"), *chunk_events(
                                      {"choices": [{"delta": {}, "finish_reason": "stop"}]},
                                      PROVIDER)], True, True)
    assert decoder.fast_reads == 3          # every read after the first


@pytest.mark.parametrize("read", [
    b"data: {\"choices\":[{\"delta\":{\"content\":\"x\"}}]}\r\n\r\n",     # CRLF
    b": ping\n\ndata: {\"choices\":[{\"delta\":{\"content\":\"x\"}}]}\n\n",
    b"event: message\ndata: {\"choices\":[{\"delta\":{\"content\":\"x\"}}]}\n\n",
    b"data: {\"choices\":[{\"delta\":{\"content\":\"x\"}}]}\n\ndata: {\"cho",   # cut
    b"data: {\"choices\":[{\"delta\":{\"content\":\"x\"}}]} {}\n\n",   # two values
    b"data: [DONE] \n\n",
    b"data: {\n\"choices\": []}\n\n",       # a JSON object over two lines: not SSE
])
def test_other_reads_go_the_general_way(read: bytes) -> None:
    decoder = _Counting(PROVIDER)
    first = _outcome(decoder, [_sse([_delta("a")]), read])
    assert decoder.fast_reads == 0
    assert first == _outcome(_GeneralOnly(PROVIDER), [_sse([_delta("a")]), read])


CHUNKISH = st.fixed_dictionaries(
    {"choices": st.lists(st.fixed_dictionaries(
        {"delta": st.one_of(JSON_VALUES, st.fixed_dictionaries(
            {"content": st.one_of(st.none(), st.text(max_size=5), JSON_VALUES)},
            optional={"reasoning_content": st.one_of(st.none(), st.text(max_size=3)),
                      "reasoning": st.one_of(st.none(), st.text(max_size=3)),
                      "role": st.just("assistant")}))},
        optional={"finish_reason": st.one_of(st.none(), st.just(""), st.just("stop")),
                  "index": st.just(0)}), max_size=2)},
    optional={"usage": st.one_of(st.none(), JSON_VALUES), "error": JSON_VALUES,
              "object": st.just("chat.completion.chunk")})


@SETTINGS
@given(obj=st.one_of(CHUNKISH, JSON_VALUES))
def test_plain_content_reads_a_chunk_as_chunk_events_does(obj: Any) -> None:
    text = plain_content(obj)
    if text is None:
        return                   # not the commonest chunk: chunk_events reads it
    assert chunk_events(obj, PROVIDER) == ([ContentDelta(text)] if text else [])


def test_plain_content_takes_the_commonest_chunk_and_nothing_else() -> None:
    assert plain_content(_delta(" word")) == " word"
    assert plain_content(_delta("")) == ""
    assert plain_content({**_delta("x"), "usage": {"total_tokens": 3}}) is None
    reasoning = _delta("x")
    reasoning["choices"][0]["delta"]["reasoning_content"] = "hmm"
    assert plain_content(reasoning) is None
    finishing = _delta("x")
    finishing["choices"][0]["finish_reason"] = "stop"
    assert plain_content(finishing) is None
    assert plain_content({"error": None, **_delta("x")}) is None
    assert plain_content(_delta(["a", "b"])) is None
