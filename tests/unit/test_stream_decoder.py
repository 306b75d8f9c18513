# ruff: noqa: E501
"""The stream decoder against the framings and faults providers actually produce."""

from __future__ import annotations

import json
from typing import Any

import pytest

from qwenvl_desktop.core.api.stream import StreamDecoder, completion_to_events
from qwenvl_desktop.core.api.types import (
    ContentDelta,
    Finish,
    ReasoningDelta,
    StreamEvent,
    Usage,
)
from qwenvl_desktop.core.catalog import Provider, load_builtin
from qwenvl_desktop.core.errors import MalformedStream, StreamErrorEvent, explain

CATALOG = load_builtin()
DASHSCOPE = CATALOG.get("dashscope-intl")
OVH = CATALOG.get("ovh")
AIML = CATALOG.get("aimlapi")
NEBULA = CATALOG.get("nebula")
SEGMIND = CATALOG.get("segmind")

# Copied from the DashScope OpenAI-compatible vision guide (seeds/004), "Streaming output".
SEED_004_STREAM = """data: {"choices":[{"delta":{"content":"","role":"assistant"},"index":0,"logprobs":null,"finish_reason":null}],"object":"chat.completion.chunk","usage":null,"created":1724729595,"system_fingerprint":null,"model":"qwen-vl-plus","id":"chatcmpl-4c83f437-303f-907b-9de5-79cac83d6b18"}

data: {"choices":[{"finish_reason":null,"delta":{"content":"In the"},"index":0,"logprobs":null}],"object":"chat.completion.chunk","usage":null,"created":1724729595,"system_fingerprint":null,"model":"qwen-vl-plus","id":"chatcmpl-4c83f437-303f-907b-9de5-79cac83d6b18"}

data: {"choices":[{"delta":{"content":" picture,"},"finish_reason":null,"index":0,"logprobs":null}],"object":"chat.completion.chunk","usage":null,"created":1724729595,"system_fingerprint":null,"model":"qwen-vl-plus","id":"chatcmpl-4c83f437-303f-907b-9de5-79cac83d6b18"}

data: {"choices":[{"delta":{"content":" a woman"},"finish_reason":null,"index":0,"logprobs":null}],"object":"chat.completion.chunk","usage":null,"created":1724729595,"system_fingerprint":null,"model":"qwen-vl-plus","id":"chatcmpl-4c83f437-303f-907b-9de5-79cac83d6b18"}

data: {"choices":[{"delta":{"content":" and her dog are"},"finish_reason":null,"index":0,"logprobs":null}],"object":"chat.completion.chunk","usage":null,"created":1724729595,"system_fingerprint":null,"model":"qwen-vl-plus","id":"chatcmpl-4c83f437-303f-907b-9de5-79cac83d6b18"}

data: {"choices":[{"delta":{"content":" interacting on the beach. The dog is sitting on the ground,"},"finish_reason":null,"index":0,"logprobs":null}],"object":"chat.completion.chunk","usage":null,"created":1724729595,"system_fingerprint":null,"model":"qwen-vl-plus","id":"chatcmpl-4c83f437-303f-907b-9de5-79cac83d6b18"}

data: {"choices":[{"delta":{"content":" extending its paw as if to shake hands or give"},"finish_reason":null,"index":0,"logprobs":null}],"object":"chat.completion.chunk","usage":null,"created":1724729595,"system_fingerprint":null,"model":"qwen-vl-plus","id":"chatcmpl-4c83f437-303f-907b-9de5-79cac83d6b18"}

data: {"choices":[{"delta":{"content":" a high five. The woman is wearing a plaid"},"finish_reason":null,"index":0,"logprobs":null}],"object":"chat.completion.chunk","usage":null,"created":1724729595,"system_fingerprint":null,"model":"qwen-vl-plus","id":"chatcmpl-4c83f437-303f-907b-9de5-79cac83d6b18"}

data: {"choices":[{"delta":{"content":" shirt and seems to be having an intimate"},"finish_reason":null,"index":0,"logprobs":null}],"object":"chat.completion.chunk","usage":null,"created":1724729595,"system_fingerprint":null,"model":"qwen-vl-plus","id":"chatcmpl-4c83f437-303f-907b-9de5-79cac83d6b18"}

data: {"choices":[{"delta":{"content":" interaction with the dog, and is smiling."},"finish_reason":null,"index":0,"logprobs":null}],"object":"chat.completion.chunk","usage":null,"created":1724729595,"system_fingerprint":null,"model":"qwen-vl-plus","id":"chatcmpl-4c83f437-303f-907b-9de5-79cac83d6b18"}

data: {"choices":[{"delta":{"content":" The background is the ocean and the sky at sunrise or"},"finish_reason":null,"index":0,"logprobs":null}],"object":"chat.completion.chunk","usage":null,"created":1724729595,"system_fingerprint":null,"model":"qwen-vl-plus","id":"chatcmpl-4c83f437-303f-907b-9de5-79cac83d6b18"}

data: {"choices":[{"delta":{"content":" sunset. This is"},"finish_reason":null,"index":0,"logprobs":null}],"object":"chat.completion.chunk","usage":null,"created":1724729595,"system_fingerprint":null,"model":"qwen-vl-plus","id":"chatcmpl-4c83f437-303f-907b-9de5-79cac83d6b18"}

data: {"choices":[{"delta":{"content":" a heartwarming photo that shows"},"finish_reason":null,"index":0,"logprobs":null}],"object":"chat.completion.chunk","usage":null,"created":1724729595,"system_fingerprint":null,"model":"qwen-vl-plus","id":"chatcmpl-4c83f437-303f-907b-9de5-79cac83d6b18"}

data: {"choices":[{"finish_reason":"stop","delta":{"content":" a moment of friendship between a person and a pet."},"index":0,"logprobs":null}],"object":"chat.completion.chunk","usage":null,"created":1724729595,"system_fingerprint":null,"model":"qwen-vl-plus","id":"chatcmpl-4c83f437-303f-907b-9de5-79cac83d6b18"}

data: {"choices":[],"object":"chat.completion.chunk","usage":{"prompt_tokens":1276,"completion_tokens":79,"total_tokens":1355},"created":1724729595,"system_fingerprint":null,"model":"qwen-vl-plus","id":"chatcmpl-4c83f437-303f-907b-9de5-79cac83d6b18"}

data: [DONE]

"""

SEED_004_TEXT = [
    "In the", " picture,", " a woman", " and her dog are",
    " interacting on the beach. The dog is sitting on the ground,",
    " extending its paw as if to shake hands or give",
    " a high five. The woman is wearing a plaid",
    " shirt and seems to be having an intimate",
    " interaction with the dog, and is smiling.",
    " The background is the ocean and the sky at sunrise or",
    " sunset. This is", " a heartwarming photo that shows",
    " a moment of friendship between a person and a pet.",
]
SEED_004_EVENTS: list[StreamEvent] = [
    *(ContentDelta(t) for t in SEED_004_TEXT),
    Finish("stop"),
    Usage(prompt_tokens=1276, completion_tokens=79, total_tokens=1355, reasoning_tokens=0),
]


def decode(provider: Provider, data: bytes, size: int = 0) -> list[StreamEvent]:
    """All events from `data`, fed whole (size 0) or in pieces of `size` bytes, then EOF."""
    decoder = StreamDecoder(provider)
    events: list[StreamEvent] = []
    pieces = [data] if size <= 0 else [data[i:i + size] for i in range(0, len(data), size)]
    for piece in pieces:
        events += decoder.feed(piece)
    events += decoder.close()
    return events


def chunk(delta: dict[str, Any] | None = None, finish: str | None = None,
          usage: dict[str, Any] | None = None) -> dict[str, Any]:
    choices = [] if delta is None and finish is None else [
        {"index": 0, "delta": delta or {}, "finish_reason": finish}]
    return {"id": "chatcmpl-1", "object": "chat.completion.chunk", "choices": choices,
            "usage": usage}


def sse(*objs: dict[str, Any], done: bool = True, newline: str = "\n") -> bytes:
    text = "".join(f"data: {json.dumps(o, ensure_ascii=False)}\n\n" for o in objs)
    if done:
        text += "data: [DONE]\n\n"
    return text.replace("\n", newline).encode()


# --- DashScope (seed 004) ------------------------------------------------------------

def test_seed_004_stream_gives_exact_events() -> None:
    decoder = StreamDecoder(DASHSCOPE)
    events = decoder.feed(SEED_004_STREAM.encode()) + decoder.close()
    assert events == SEED_004_EVENTS
    assert decoder.saw_done
    assert decoder.saw_finish


@pytest.mark.parametrize("size", [1, 2, 3, 7, 64, 1000])
def test_seed_004_stream_in_pieces(size: int) -> None:
    assert decode(DASHSCOPE, SEED_004_STREAM.encode(), size) == SEED_004_EVENTS


@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_crlf_and_cr_framing(newline: str) -> None:
    data = SEED_004_STREAM.replace("\n", newline).encode()
    assert decode(DASHSCOPE, data) == SEED_004_EVENTS
    assert decode(DASHSCOPE, data, 1) == SEED_004_EVENTS


def test_text_on_the_finishing_chunk_comes_before_finish() -> None:
    data = sse(chunk({"content": "Hello"}), chunk({"content": " world."}, finish="length"))
    assert decode(OVH, data) == [ContentDelta("Hello"), ContentDelta(" world."),
                                 Finish("length")]


def test_empty_and_null_content_emit_nothing() -> None:
    data = sse(chunk({"role": "assistant", "content": ""}), chunk({"content": None}),
               chunk({}), chunk({"content": "x"}), chunk(None, finish="stop"))
    assert decode(OVH, data) == [ContentDelta("x"), Finish("stop")]


# --- reasoning -----------------------------------------------------------------------

def test_ovh_style_reasoning_field() -> None:
    data = sse(chunk({"role": "assistant", "reasoning": "Look at"}),
               chunk({"reasoning": " the image."}),
               chunk({"content": "A cat."}, finish="stop"))
    assert decode(OVH, data) == [ReasoningDelta("Look at"), ReasoningDelta(" the image."),
                                 ContentDelta("A cat."), Finish("stop")]


def test_aimlapi_reasoning_content_and_reasoning_tokens() -> None:
    usage = {"prompt_tokens": 10, "completion_tokens": 30, "total_tokens": 40,
             "completion_tokens_details": {"reasoning_tokens": 21, "text_tokens": 9}}
    data = sse(chunk({"reasoning_content": "Hmm."}), chunk({"content": "Yes."}),
               chunk({"content": ""}, finish="stop"), chunk(None, usage=usage))
    assert decode(AIML, data) == [
        ReasoningDelta("Hmm."), ContentDelta("Yes."), Finish("stop"),
        Usage(prompt_tokens=10, completion_tokens=30, total_tokens=40, reasoning_tokens=21)]


def test_reasoning_sent_under_both_names_counts_once() -> None:
    data = sse(chunk({"reasoning_content": "Think", "reasoning": "Think"}))
    assert decode(OVH, data) == [ReasoningDelta("Think")]


def test_usage_with_null_details_and_missing_total() -> None:
    usage = {"prompt_tokens": 5, "completion_tokens": 7, "completion_tokens_details": None}
    assert decode(OVH, sse(chunk(None, usage=usage))) == [Usage(5, 7, 12, 0)]


# --- Nebula and other non-SSE framings ------------------------------------------------

NEBULA_CHUNKS = [
    chunk({"role": "assistant", "content": "This"}),
    chunk({"content": " image {shows} \"quotes\" and \\\\ back\\slashes"}),
    chunk({"content": " a setting"}, finish="stop"),
]
NEBULA_EVENTS: list[StreamEvent] = [
    ContentDelta("This"), ContentDelta(" image {shows} \"quotes\" and \\\\ back\\slashes"),
    ContentDelta(" a setting"), Finish("stop")]


@pytest.mark.parametrize("size", [0, 1, 5])
def test_nebula_newline_delimited_json(size: int) -> None:
    data = "".join(json.dumps(c) + "\n" for c in NEBULA_CHUNKS).encode()
    decoder = StreamDecoder(NEBULA)
    events: list[StreamEvent] = []
    pieces = [data] if not size else [data[i:i + size] for i in range(0, len(data), size)]
    for piece in pieces:
        events += decoder.feed(piece)
    events += decoder.close()
    assert events == NEBULA_EVENTS
    assert decoder.saw_finish
    assert not decoder.saw_done


@pytest.mark.parametrize("size", [0, 1, 3, 17])
def test_nebula_pretty_printed_objects_one_after_another(size: int) -> None:
    # As its documentation prints them: indented, no data: framing, no separator.
    data = "\n".join(json.dumps(c, indent=2) for c in NEBULA_CHUNKS).encode()
    assert decode(NEBULA, data, size) == NEBULA_EVENTS


def test_concatenated_objects_on_one_line_and_last_without_newline() -> None:
    data = ("".join(json.dumps(c) for c in NEBULA_CHUNKS)).encode()
    assert decode(NEBULA, data) == NEBULA_EVENTS


def test_json_line_inside_an_sse_stream() -> None:
    data = (sse(chunk({"content": "a"}), done=False)
            + json.dumps(chunk({"content": "b"})).encode() + b"\n"
            + sse(chunk({"content": "c"}, finish="stop")))
    assert decode(OVH, data) == [ContentDelta("a"), ContentDelta("b"), ContentDelta("c"),
                                 Finish("stop")]


def test_several_data_lines_without_blank_lines_between() -> None:
    data = (f"data: {json.dumps(chunk({'content': 'a'}))}\n"
            f"data: {json.dumps(chunk({'content': 'b'}, finish='stop'))}\n"
            "data: [DONE]\n\n").encode()
    decoder = StreamDecoder(OVH)
    assert decoder.feed(data) + decoder.close() == [ContentDelta("a"), ContentDelta("b"),
                                                    Finish("stop")]
    assert decoder.saw_done


COMPLETION = {
    "id": "chatcmpl-9", "object": "chat.completion", "model": "qwen3-vl-plus",
    "choices": [{"index": 0, "finish_reason": "stop",
                 "message": {"role": "assistant", "reasoning_content": "Checked.",
                             "content": "Two dogs."}}],
    "usage": {"prompt_tokens": 2509, "completion_tokens": 34, "total_tokens": 2543},
}
COMPLETION_EVENTS: list[StreamEvent] = [ReasoningDelta("Checked."), ContentDelta("Two dogs."),
                                        Finish("stop"), Usage(2509, 34, 2543, 0)]


@pytest.mark.parametrize("indent", [None, 2])
def test_whole_completion_when_the_server_ignored_stream(indent: int | None) -> None:
    data = json.dumps(COMPLETION, indent=indent).encode()
    assert decode(DASHSCOPE, data) == COMPLETION_EVENTS
    assert decode(DASHSCOPE, data, 3) == COMPLETION_EVENTS


# --- keep-alives and SSE details ------------------------------------------------------

def test_keepalives_comments_event_id_and_retry_lines() -> None:
    data = (b": ping\n\n:keep-alive\n"
            b"event: ping\ndata: \n\n"
            b"id: 1\nretry: 3000\nevent: message\n"
            + f"data: {json.dumps(chunk({'content': 'ok'}))}\n\n".encode()
            + b": OPENROUTER PROCESSING\n\n"
            + sse(chunk(None, finish="stop")))
    assert decode(OVH, data) == [ContentDelta("ok"), Finish("stop")]


def test_byte_order_mark_at_start_is_ignored() -> None:
    assert decode(OVH, b"\xef\xbb\xbf" + sse(chunk({"content": "x"}))) == [ContentDelta("x")]


# --- multi-byte characters -----------------------------------------------------------

MULTIBYTE = "Grüße 👋 — 図表 ok"


def test_multibyte_split_at_every_byte_offset() -> None:
    data = sse(chunk({"content": MULTIBYTE}), chunk(None, finish="stop"))
    expected = [ContentDelta(MULTIBYTE), Finish("stop")]
    for offset in range(len(data) + 1):
        decoder = StreamDecoder(OVH)
        events = decoder.feed(data[:offset]) + decoder.feed(data[offset:]) + decoder.close()
        assert events == expected, offset


def test_multibyte_in_ndjson_byte_by_byte() -> None:
    data = (json.dumps(chunk({"content": MULTIBYTE}), ensure_ascii=False) + "\n").encode()
    assert decode(NEBULA, data, 1) == [ContentDelta(MULTIBYTE)]


# --- [DONE], truncation --------------------------------------------------------------

def test_everything_after_done_is_ignored() -> None:
    decoder = StreamDecoder(OVH)
    data = sse(chunk({"content": "a"}, finish="stop")) + sse(chunk({"content": "late"}))
    assert decoder.feed(data + b"\xff garbage\n") == [ContentDelta("a"), Finish("stop")]
    assert decoder.feed(b"data: {broken\n\n") == []
    assert decoder.close() == []


def test_done_without_trailing_newline_counts() -> None:
    decoder = StreamDecoder(OVH)
    events = decoder.feed(sse(chunk({"content": "a"}), done=False) + b"data: [DONE]")
    events += decoder.close()
    assert events == [ContentDelta("a")]
    assert decoder.saw_done
    assert not decoder.saw_finish


def test_last_event_without_blank_line_is_still_read() -> None:
    data = f"data: {json.dumps(chunk({'content': 'z'}, finish='stop'))}\n".encode()
    assert decode(OVH, data) == [ContentDelta("z"), Finish("stop")]


@pytest.mark.parametrize("tail", [b'data: {"choices":[{"delta":{"cont', b'{"choices": [',
                                  "data: {\"choices\":[{\"delta\":{\"content\":\"é".encode()[:-1]])
def test_cut_off_stream_is_an_interruption_not_garbage(tail: bytes) -> None:
    decoder = StreamDecoder(OVH)
    events = decoder.feed(sse(chunk({"content": "partial"}), done=False) + tail)
    events += decoder.close()
    assert events == [ContentDelta("partial")]
    assert not decoder.saw_finish
    assert not decoder.saw_done


# --- errors --------------------------------------------------------------------------

def test_error_event_inside_a_200_stream() -> None:
    error = {"error": {"message": "Input data may contain inappropriate content.",
                       "type": "invalid_request_error", "code": "data_inspection_failed"}}
    decoder = StreamDecoder(DASHSCOPE)
    assert decoder.feed(sse(chunk({"content": "Part one"}), done=False)) == [
        ContentDelta("Part one")]
    with pytest.raises(StreamErrorEvent) as info:
        decoder.feed(sse(chunk({"content": " and two"}), error, done=False))
    err = info.value
    assert err.code == "data_inspection_failed"
    assert err.provider == "dashscope-intl"
    assert "inappropriate content" in explain(err)
    # Text decoded in the failing call is handed over on the exception.
    assert err.partial_text == " and two"


def test_dashscope_top_level_error_and_sse_error_event() -> None:
    top = sse({"code": "Throttling.RateQuota", "message": "Requests rate limit exceeded",
               "request_id": "r1"}, done=False)
    with pytest.raises(StreamErrorEvent, match="rate limit exceeded") as info:
        decode(DASHSCOPE, top)
    assert info.value.code == "Throttling.RateQuota"
    named = b'event: error\ndata: {"message": "upstream died", "code": "E500"}\n\n'
    with pytest.raises(StreamErrorEvent, match="upstream died"):
        decode(OVH, named)
    text = b"event: error\ndata: worker crashed\n\n"
    with pytest.raises(StreamErrorEvent, match="worker crashed"):
        decode(OVH, text)


@pytest.mark.parametrize(("data", "what"), [
    (b"data: {not json}\n\n", "not valid JSON"),
    (b"data: [1, 2]\n\n", "not a JSON object"),
    (b'data: {"status": "ok"}\n\n', "not a chat answer"),
    (b'data: {"choices": "nope"}\n\n', "unreadable choices"),
    (b'data: {"choices": [{"delta": "x"}]}\n\n', "unreadable delta"),
    (b"<html><body>Sign in to the hotel wifi</body></html>\n", "neither SSE nor JSON"),
    (b"Internal Server Error", "neither SSE nor JSON"),
    (b"data: ok\n\xff\xfe\x00\n\n", "not UTF-8"),
    (b'{"choices": []} trailing words\n', "text after a JSON chunk"),
    (b"{]\n", "not valid JSON"),
    (b"data: " + b"[" * 100_000 + b"\n\n", "not valid JSON"),
])
def test_malformed_streams(data: bytes, what: str) -> None:
    with pytest.raises(MalformedStream, match=what) as info:
        decode(OVH, data)
    assert info.value.provider == "ovh"
    assert "base URL" in explain(info.value)


def test_malformed_excerpt_is_short_and_redacted() -> None:
    key = "sk-LEAKED0123456789abcdef"
    data = f"data: {{\"oops\": Bearer {key} {'x' * 500}\n\n".encode()
    with pytest.raises(MalformedStream) as info:
        decode(OVH, data)
    assert key not in str(info.value)
    assert len(str(info.value)) < 200


# --- non-streamed answers ------------------------------------------------------------

SEGMIND_ANSWER = {
    "id": "chat_abc123", "object": "chat.completion", "created": 1677652288,
    "model": "qwen2p5-vl-32b-instruct",
    "choices": [{"index": 0, "message": {
        "role": "assistant",
        "content": "I can see a beautiful sunset over the ocean with vibrant orange and "
                   "pink hues in the sky."}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 56, "completion_tokens": 31, "total_tokens": 87},
}


def test_completion_to_events_segmind_answer() -> None:
    assert completion_to_events(SEGMIND_ANSWER, SEGMIND) == [
        ContentDelta("I can see a beautiful sunset over the ocean with vibrant orange and "
                     "pink hues in the sky."),
        Finish("stop"), Usage(56, 31, 87, 0)]


def test_completion_to_events_reasoning_and_errors() -> None:
    assert completion_to_events(COMPLETION, DASHSCOPE) == COMPLETION_EVENTS
    with pytest.raises(StreamErrorEvent, match="Not enough credits"):
        completion_to_events({"error": "Not enough credits"}, SEGMIND)
    with pytest.raises(MalformedStream):
        completion_to_events({"status": "queued"}, SEGMIND)
    with pytest.raises(MalformedStream):
        completion_to_events({"choices": []}, SEGMIND)


def test_after_an_error_the_decoder_stays_quiet() -> None:
    decoder = StreamDecoder(OVH)
    with pytest.raises(MalformedStream):
        decoder.feed(b"data: {oops\n\ndata: {\"choices\": [")
    # A close() in the caller's `finally` must not raise a second, different error.
    assert decoder.close() == []
    assert decoder.feed(sse(chunk({"content": "late"}))) == []


def test_whole_answer_bytes_decode_like_completion_to_events() -> None:
    # The client may feed a blocking (Segmind) body through the decoder too.
    body = json.dumps(SEGMIND_ANSWER, indent=2).encode()
    assert decode(SEGMIND, body) == completion_to_events(SEGMIND_ANSWER, SEGMIND)
