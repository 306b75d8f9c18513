"""Properties of the stream decoder: read splitting never matters, garbage never crashes.

Run with `-s` or `-rA` to see how many cases each property tried.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qwenvl_desktop.core.api.stream import StreamDecoder, completion_to_events
from qwenvl_desktop.core.api.types import (
    ContentDelta,
    Finish,
    ReasoningDelta,
    StreamEvent,
    Usage,
)
from qwenvl_desktop.core.catalog import load_builtin
from qwenvl_desktop.core.errors import MalformedStream, StreamErrorEvent

PROVIDER = load_builtin().get("nebula")
PROPERTY_SETTINGS = settings(max_examples=200, deadline=None, database=None,
                             suppress_health_check=[HealthCheck.too_slow])

# name -> [cases tried, cases handled]; printed once the module's tests are done.
TALLY: dict[str, list[int]] = {}


@pytest.fixture(scope="module", autouse=True)
def print_tally(report_line: Callable[[str], None]) -> Iterator[None]:
    yield
    for name, (tried, handled) in TALLY.items():
        report_line(f"stream-parser properties [{name}]: {tried} cases tried, {handled} handled")


def count(name: str, handled: bool) -> None:
    tally = TALLY.setdefault(name, [0, 0])
    tally[0] += 1
    tally[1] += int(handled)


# --- valid streams -------------------------------------------------------------------

# Any text except lone surrogates (not encodable), braces, quotes and newlines included.
TEXT = st.text(st.characters(codec="utf-8"), min_size=1, max_size=12)
DELTAS = st.lists(st.one_of(st.builds(ContentDelta, TEXT), st.builds(ReasoningDelta, TEXT)),
                  max_size=10)
# A total of 0 is read as "not given" and recomputed, so totals here are consistent.
USAGE = st.tuples(st.integers(0, 10**6), st.integers(1, 10**6), st.integers(0, 10**6)).map(
    lambda t: Usage(t[0], t[1], t[0] + t[1], t[2]))
FRAMINGS = ("sse", "sse-crlf", "sse-cr", "ndjson", "pretty")


def to_chunk(event: StreamEvent) -> dict[str, Any]:
    choice: dict[str, Any] = {"index": 0, "delta": {}, "finish_reason": None}
    usage: dict[str, Any] | None = None
    if isinstance(event, ContentDelta):
        choice["delta"] = {"content": event.text}
    elif isinstance(event, ReasoningDelta):
        choice["delta"] = {"reasoning_content": event.text}
    elif isinstance(event, Finish):
        choice["finish_reason"] = event.reason
    elif isinstance(event, Usage):
        usage = {"prompt_tokens": event.prompt_tokens,
                 "completion_tokens": event.completion_tokens,
                 "total_tokens": event.total_tokens,
                 "completion_tokens_details": {"reasoning_tokens": event.reasoning_tokens}}
    choices = [] if usage is not None else [choice]
    return {"object": "chat.completion.chunk", "choices": choices, "usage": usage}


def render(events: list[StreamEvent], framing: str, ascii_only: bool, pings: bool) -> bytes:
    chunks = [to_chunk(e) for e in events]
    if framing == "ndjson":
        return "".join(json.dumps(c, ensure_ascii=ascii_only) + "\n" for c in chunks).encode()
    if framing == "pretty":
        return "\n".join(json.dumps(c, ensure_ascii=ascii_only, indent=2)
                         for c in chunks).encode()
    parts = []
    for c in chunks:
        if pings:
            parts.append(": ping\n\n")
        parts.append(f"data: {json.dumps(c, ensure_ascii=ascii_only)}\n\n")
    parts.append("data: [DONE]\n\n")
    newline = {"sse": "\n", "sse-crlf": "\r\n", "sse-cr": "\r"}[framing]
    return "".join(parts).replace("\n", newline).encode()


def run(data: bytes, cuts: list[int]) -> list[StreamEvent]:
    decoder = StreamDecoder(PROVIDER)
    events: list[StreamEvent] = []
    bounds = [0, *sorted(set(cuts)), len(data)]
    for start, end in itertools.pairwise(bounds):
        events += decoder.feed(data[start:end])
    events += decoder.close()
    return events


@st.composite
def valid_streams(draw: st.DrawFn) -> tuple[list[StreamEvent], bytes]:
    events: list[StreamEvent] = list(draw(DELTAS))
    if draw(st.booleans()):
        events.append(Finish(draw(st.sampled_from(["stop", "length", "content_filter"]))))
    if draw(st.booleans()):
        events.append(draw(USAGE))
    framing = draw(st.sampled_from(FRAMINGS))
    data = render(events, framing, draw(st.booleans()), draw(st.booleans()))
    return events, data


@PROPERTY_SETTINGS
@given(stream=valid_streams(), data=st.data())
def test_any_split_gives_the_same_events(stream: tuple[list[StreamEvent], bytes],
                                         data: st.DataObject) -> None:
    expected, raw = stream
    cuts = data.draw(st.lists(st.integers(0, len(raw)), max_size=12))
    handled = False
    try:
        whole = run(raw, [])
        split = run(raw, cuts)
        byte_by_byte = run(raw, list(range(len(raw)))) if len(raw) < 600 else split
        assert whole == expected
        assert split == expected
        assert byte_by_byte == expected
        handled = True
    finally:
        count("split invariance", handled)


# --- garbage -------------------------------------------------------------------------

FRAGMENTS = st.sampled_from([
    b"data: ", b"data:", b"event: error\n", b"event: ping\n", b": ping\n", b"id: 7\n",
    b"{", b"}", b"[", b"]", b'"', b"\\", b",", b":", b"\n", b"\r", b"\r\n", b"\n\n", b" ",
    b"[DONE]", b"null", b"true", b"0", b"-1", b"1e999", b"NaN", b"Infinity",
    b'{"choices":', b'[{"delta":', b'{"content":', b'"reasoning":', b'"finish_reason":',
    b'"usage":', b'{"prompt_tokens":', b'"error":', b'{"message":', b'"code":', b'"x"',
    b"\xe2\x82", b"\xac", b"\xf0\x9f", b"\x91\x8b", b"\xff", b"\x00", b"<html>",
])
GARBAGE = st.one_of(st.binary(max_size=400),
                    st.lists(FRAGMENTS, max_size=60).map(b"".join))
EXPECTED_ERRORS = (MalformedStream, StreamErrorEvent)


@PROPERTY_SETTINGS
@given(raw=GARBAGE, data=st.data())
def test_arbitrary_bytes_raise_only_stream_errors(raw: bytes, data: st.DataObject) -> None:
    cuts = data.draw(st.lists(st.integers(0, len(raw)), max_size=8))
    handled = False
    try:
        # Any other exception, QwenVLError or not, escapes and fails the test.
        try:
            events = run(raw, cuts)
        except EXPECTED_ERRORS:
            pass
        else:
            assert all(isinstance(e, ContentDelta | ReasoningDelta | Finish | Usage)
                       for e in events)
        handled = True
    finally:
        count("arbitrary bytes", handled)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(["choices", "delta", "message", "content", "usage",
                                       "reasoning", "reasoning_content", "finish_reason",
                                       "error", "code", "message", "statusCode",
                                       "prompt_tokens", "completion_tokens_details",
                                       "object"]), children, max_size=5),
    max_leaves=20,
)


@PROPERTY_SETTINGS
@given(obj=st.dictionaries(st.sampled_from(["choices", "usage", "error", "object", "code",
                                            "message"]), JSON_VALUES, max_size=4))
def test_any_json_object_is_an_answer_or_a_stream_error(obj: dict[str, Any]) -> None:
    handled = False
    try:
        for feed_as_stream in (False, True):
            try:
                if feed_as_stream:
                    run(f"data: {json.dumps(obj)}\n\n".encode(), [])
                else:
                    completion_to_events(obj, PROVIDER)
            except EXPECTED_ERRORS:
                pass
        handled = True
    finally:
        count("arbitrary JSON chunks", handled)
