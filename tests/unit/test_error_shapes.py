"""Real error shapes seen from providers and gateways, and how each front end words them."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from qwenvl_desktop.cli.advice import terminal_advice
from qwenvl_desktop.core.api.error_parsing import error_from_event, error_from_response
from qwenvl_desktop.core.api.stream import StreamDecoder
from qwenvl_desktop.core.catalog import CustomEndpoint, load_builtin
from qwenvl_desktop.core.error_facts import facts
from qwenvl_desktop.core.errors import (
    AuthenticationError,
    BadRequestError,
    ContentFilterError,
    ModelRetiredError,
    NotFoundError,
    RateLimitError,
    ServerError,
    StreamErrorEvent,
    explain,
)
from qwenvl_desktop.ui.error_advice import window_advice

CATALOG = load_builtin()
INTL = CATALOG.get("dashscope-intl")
SEGMIND = CATALOG.get("segmind")
GATEWAY = CATALOG.make_custom(CustomEndpoint(name="office-gateway",
                                             base_url="http://10.0.0.5:4000/v1"))
NOW = 1_800_000_000.0

MODERATION = {"error": {"code": "data_inspection_failed",
                        "message": "Input text data may contain inappropriate content.",
                        "type": "data_inspection_failed", "param": None},
              "id": "chatcmpl-1", "request_id": "0a1b"}


def test_a_4xx_body_framed_as_an_sse_line_is_parsed_like_any_error_body() -> None:
    body = f"data: {json.dumps(MODERATION)}\n\n".encode()
    err = error_from_response(400, {"content-type": "text/event-stream"}, body, INTL)
    assert type(err) is ContentFilterError
    assert err.subject == "input text"
    assert err.code == "data_inspection_failed"
    words = explain(err)
    assert "data:" not in words
    assert "Input text data may contain inappropriate content." in words
    assert "refused the question's text" in words
    assert "check the parameters" not in words


@pytest.mark.parametrize(("message", "subject", "plain"), [
    ("Input text data may contain inappropriate content.", "input text", "question's text"),
    ("Input image data may contain inappropriate content.", "input image", "refused an image"),
    ("Output data may contain inappropriate content.", "output", "stopped the answer"),
    ("<400> InternalError.Algo.DataInspectionFailed: Input data may contain inappropriate "
     "content.", "input", "refused the request"),
])
def test_moderation_refusals_get_their_own_plain_explanation(message: str, subject: str,
                                                             plain: str) -> None:
    body = json.dumps({"error": {"code": "DataInspectionFailed", "message": message}}).encode()
    err = error_from_response(400, {}, body, INTL)
    assert type(err) is ContentFilterError
    assert err.subject == subject
    assert plain in explain(err)
    mid = error_from_event({"error": {"code": "data_inspection_failed", "message": message}},
                           INTL)
    assert mid.kind == "moderation"
    assert plain in explain(mid)


def test_an_error_event_in_a_200_stream_shows_the_providers_code_not_http() -> None:
    err = error_from_event({"error": {"code": 400, "message": "the request exceeds the "
                                      "available context size", "type": "exceed_context"}},
                           GATEWAY)
    words = explain(err)
    assert not words.startswith("HTTP")
    assert words.startswith("Error 400 from office-gateway: the request exceeds the available "
                            "context size")
    assert facts(err).kind == "too_long"


def test_llama_cpp_error_field_lines_carry_the_servers_whole_message() -> None:
    decoder = StreamDecoder(GATEWAY)
    message = ("the request exceeds the available context size. try increasing the context "
               "size or enable context shift")
    stream = ('data: {"choices":[{"delta":{"content":"Par"},"finish_reason":null}]}\n\n'
              f'error: {{"code":400,"message":"{message}","type":"invalid_request_error"}}\n\n'
              "data: [DONE]\n\n").encode()
    pieces = [stream[cut:cut + 7] for cut in range(0, len(stream), 7)]

    def feed_all() -> None:
        for piece in pieces:
            decoder.feed(piece)

    with pytest.raises(StreamErrorEvent) as info:
        feed_all()
    assert info.value.message == message
    assert info.value.partial_text in ("", "Par")
    assert "neither SSE nor JSON" not in explain(info.value)


def test_gateway_wrapped_upstream_reason_is_shown() -> None:
    raw = json.dumps({"error": {"message": "qwen/qwen3-vl is temporarily rate-limited "
                                           "upstream", "code": 429}})
    body = json.dumps({"error": {"code": 502, "message": "Provider returned error",
                                 "metadata": {"provider_name": "Alibaba", "raw": raw}}})
    err = error_from_response(502, {}, body.encode(), GATEWAY)
    assert type(err) is ServerError
    assert "Provider returned error" in err.message
    assert "Alibaba said: qwen/qwen3-vl is temporarily rate-limited upstream" in err.message
    plain = json.dumps({"error": {"code": 400, "message": "Provider returned error",
                                  "metadata": {"raw": "Image too large: 25MB > 20MB"}}})
    err = error_from_response(400, {}, plain.encode(), GATEWAY)
    assert "upstream said: Image too large: 25MB > 20MB" in err.message


@pytest.mark.parametrize(("status", "body"), [
    (400, {"error": {"message": "Authentication Error, No api key passed in.",
                     "type": "auth_error", "param": "None", "code": "400"}}),
    (401, {"error": {"message": "Authentication Error, Invalid proxy server token passed. "
                                "Unable to find token in cache",
                     "type": "token_not_found_in_db", "code": "401"}}),
])
def test_a_gateways_key_errors_read_as_key_problems(status: int, body: dict[str, object]) -> None:
    err = error_from_response(status, {}, json.dumps(body).encode(), GATEWAY)
    assert type(err) is AuthenticationError
    assert "key" in explain(err, window_advice)
    # A plain 400 about something else stays a bad request.
    other = error_from_response(400, {}, b'{"error": {"message": "temperature must be < 2"}}',
                                GATEWAY)
    assert type(other) is BadRequestError


@pytest.mark.parametrize(("headers", "wait"), [
    ({"Retry-After": "7"}, 7.0),
    ({"retry-after-ms": "1500"}, 1.5),
    ({"x-ratelimit-reset-requests": "6m0s", "x-ratelimit-reset-tokens": "1.5s"}, 360.0),
    ({"x-ratelimit-reset-requests": "20ms"}, 0.02),
    ({"X-RateLimit-Reset": str(int(NOW) + 42)}, 42.0),
    ({"x-ratelimit-reset": "12"}, 12.0),
    ({"llm_provider-retry-after": "9"}, 9.0),
    ({"x-ms-retry-after-ms": "2500"}, 2.5),
    ({"x-rate-limit-reset-at-utc": "2027-01-15T08:00:30Z"}, 30.0),
    ({}, None),
])
def test_rate_limit_wait_hints_from_the_common_headers(headers: dict[str, str],
                                                      wait: float | None) -> None:
    now = NOW
    if "x-rate-limit-reset-at-utc" in headers:
        now = datetime(2027, 1, 15, 8, 0, 0, tzinfo=UTC).timestamp()
    err = error_from_response(429, headers, b'{"error": "Rate limit exceeded"}', SEGMIND,
                              now=now)
    assert type(err) is RateLimitError
    assert err.retry_after == (pytest.approx(wait) if wait is not None else None)
    if wait is not None:
        assert f"wait {wait:g} s" in explain(err)


def test_the_providers_own_words_are_shown_whole() -> None:
    message = " ".join(f"word{i}" for i in range(120))   # ~800 characters
    err = error_from_response(400, {}, json.dumps({"error": {"message": message}}).encode(),
                              INTL)
    assert err.message.startswith(message)
    long_body = json.dumps({"error": {"message": " ".join([message] * 5)}}).encode()
    runaway = error_from_response(400, {}, long_body, INTL)
    kept = runaway.message.removesuffix(" …").split(" ")
    assert all(word.startswith("word") and word[4:].isdigit() for word in kept[:-1])
    assert runaway.message.endswith("…")


def test_segmind_retired_and_unknown_models_get_their_own_explanation() -> None:
    gone = error_from_response(410, {}, b'{"error": "Model qwen2p5-vl-32b has been retired"}',
                               SEGMIND)
    assert type(gone) is ModelRetiredError
    assert "retired; pick another" in explain(gone)
    assert "Nothing was charged" in explain(gone)
    unknown = error_from_response(404, {}, b'{"error": "Model qwen9-vl not found"}', SEGMIND)
    assert type(unknown) is NotFoundError
    assert facts(unknown).kind == "model_not_found"
    assert "pick another" in explain(unknown)
    assert "qwenvl-desktop models segmind --refresh" in explain(unknown, terminal_advice)


def test_each_front_end_words_the_advice_in_its_own_terms() -> None:
    timeout_body = b'{"error": {"message": "temperature out of range"}}'
    bad = error_from_response(400, {}, timeout_body, INTL)
    assert "--temperature" in explain(bad, terminal_advice)
    assert "panel" not in explain(bad, terminal_advice)
    assert "check the parameters in the panel" in explain(bad, window_advice)
    auth = error_from_response(401, {}, b'{"error": {"message": "Incorrect API key"}}', INTL)
    terminal = explain(auth, terminal_advice)
    assert "qwenvl-desktop key set dashscope-intl" in terminal
    assert "DASHSCOPE_API_KEY" in terminal
    assert "Settings" not in terminal
    assert "Settings › Keys" in explain(auth, window_advice)
    core = explain(auth)
    assert "Settings" not in core
    assert "qwenvl-desktop" not in core


def test_messages_name_the_endpoint_as_the_person_named_it() -> None:
    proxied = INTL.with_base_url("https://llm-proxy.example.com/v1")
    err = error_from_response(502, {"content-type": "text/html"},
                              b"<html><title>502 Bad Gateway</title></html>", proxied)
    assert "Alibaba Model Studio — Singapore at https://llm-proxy.example.com/v1" in err.message
    local = error_from_response(503, {}, b"", GATEWAY)
    assert "office-gateway" in local.message
