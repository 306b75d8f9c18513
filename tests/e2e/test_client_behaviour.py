"""ChatClient against the loopback server: what goes on the wire, retries, cancellation.

Real sockets throughout. Waiting is done on the server's conditions (requests seen,
stream stalled, client hung up), never by sleeping.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import socket
import threading
from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import cast

import httpx
import pytest

from qwenvl_desktop.core.api.client import RETRY_AFTER_CAP, ChatClient
from qwenvl_desktop.core.api.request import build_request, serialize_body
from qwenvl_desktop.core.api.types import (
    ChatMessage,
    ChatParams,
    ContentDelta,
    ImagePart,
    StreamEvent,
)
from qwenvl_desktop.core.catalog import Provider
from qwenvl_desktop.core.errors import (
    AuthenticationError,
    MissingKeyError,
    NetworkError,
    ProviderError,
    RateLimitError,
    ServerError,
    StreamErrorEvent,
    explain,
)
from qwenvl_desktop.testing.provider_server import ProviderServer, Script, split_pieces

from .conftest import CUSTOM_ID, CUSTOM_MODEL, PROVIDER_IDS, TEST_MODELS, RecordingSleep, Wire

PIXEL = base64.b64encode(b"\x89PNG\r\n\x1a\n-not-really-a-png").decode()
IMAGE = ImagePart(url=f"data:image/png;base64,{PIXEL}")
QUESTION = [ChatMessage(role="system", text="Answer briefly."),
            ChatMessage(role="user", text="What is in the picture?", images=(IMAGE,))]
ANSWER_TEXT = "One two three four five six seven."
SECRET = "sk-SECRET-e2e-4f9a1c7d-do-not-print-0123456789"


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- what is sent ---------------------------------------------------------------------------

@pytest.mark.parametrize("pid", PROVIDER_IDS)
def test_request_on_the_wire_matches_each_providers_documented_form(wire: Wire, pid: str) -> None:
    provider = wire.provider(pid)
    model = wire.model(pid)
    params = ChatParams(temperature=0.7) if provider.accepts("temperature") else ChatParams()
    outcome = wire.turn(pid, messages=QUESTION, params=params)
    assert outcome.error is None, outcome.error

    [record] = wire.server.requests
    spec = build_request(provider, model, QUESTION, params, api_key=wire.key)
    # Exactly the bytes request.py built, nothing re-encoded on the way.
    assert record.body == serialize_body(spec.json)
    assert record.headers["content-type"] == "application/json"
    body = record.json
    if pid == "segmind":
        assert record.path == f"/segmind/v1/{TEST_MODELS[pid]}"
        assert record.headers["x-api-key"] == wire.key
        assert "authorization" not in record.headers
        assert "model" not in body
        assert "stream" not in body
        assert [m["role"] for m in body["messages"]] == ["user"]  # system folded in
    else:
        assert record.path.endswith("/chat/completions")
        assert record.headers["authorization"] == f"Bearer {wire.key}"
        assert "x-api-key" not in record.headers
        assert body["model"] == TEST_MODELS[pid]
        assert body["stream"] is True
        if provider.stream_usage:
            assert body["stream_options"] == {"include_usage": True}
        else:
            assert "stream_options" not in body
    user = body["messages"][-1]
    image_url = {"url": IMAGE.url}
    if provider.image_pixel_limits == "image_url":
        # DashScope: the limits the image was prepared with, so it is not resized again.
        image_url.update(min_pixels=model.min_pixels(), max_pixels=model.max_pixels())
    assert {"type": "image_url", "image_url": image_url} in user["content"]
    if provider.accepts("temperature"):
        assert body["temperature"] == 0.7


def test_custom_endpoint_without_a_key_sends_no_authorization(wire: Wire) -> None:
    wire.server.enqueue(Script(content="local answer"))
    outcome = wire.turn(CUSTOM_ID, api_key="")
    assert outcome.error is None
    assert "".join(e.text for e in outcome.events if isinstance(e, ContentDelta)) == "local answer"
    [record] = wire.server.requests
    assert "authorization" not in record.headers
    assert record.json["model"] == CUSTOM_MODEL


def test_named_provider_without_key_fails_before_sending(wire: Wire) -> None:
    with pytest.raises(MissingKeyError) as info:
        wire.turn("ovh", api_key="")
    assert "OVH_AI_ENDPOINTS_ACCESS_TOKEN" in explain(info.value)
    assert wire.server.requests == []


def test_nebula_pretty_printed_objects_without_data_framing(wire: Wire) -> None:
    wire.server.enqueue(Script(content="Pretty {braces} and \"quotes\" survive", pretty=True))
    outcome = wire.turn("nebula")
    assert outcome.error is None
    text = "".join(e.text for e in outcome.events if isinstance(e, ContentDelta))
    assert text == "Pretty {braces} and \"quotes\" survive"


def test_ovh_server_refuses_bodies_over_two_megabytes(provider_server: ProviderServer) -> None:
    # The client refuses such bodies itself (request.py); the server must too, like OVH.
    body = b'{"model":"Qwen2.5-VL-72B-Instruct","messages":[{"role":"user","content":"' + (
        b"x" * 2_000_001) + b'"}]}'
    headers = {"Authorization": f"Bearer {provider_server.api_key}",
               "Content-Type": "application/json"}
    response = httpx.post(provider_server.base_url_for("ovh") + "/chat/completions",
                          content=body, headers=headers)
    assert response.status_code == 413
    assert "2 MB" in response.json()["error"]["message"]


# --- retries --------------------------------------------------------------------------------

def test_drop_after_text_is_never_retried(wire: Wire) -> None:
    wire.server.enqueue(Script(content=ANSWER_TEXT, drop_after=3), Script(content="second"))
    outcome = wire.turn("dashscope-intl")
    assert outcome.error is not None
    assert outcome.retries == []
    assert outcome.sleeps == []
    assert len(wire.server.requests) == 1
    assert outcome.error.partial_text == "".join(split_pieces(ANSWER_TEXT, None)[:3])


def test_retry_after_is_honoured(wire: Wire) -> None:
    wire.server.enqueue(Script(status=429, retry_after="7"), Script(content="after the wait"))
    outcome = wire.turn("aimlapi")
    assert outcome.error is None
    assert outcome.sleeps == [7.0]
    assert [(r.attempt, r.delay) for r in outcome.retries] == [(1, 7.0)]
    assert len(wire.server.requests) == 2


def test_retry_after_beyond_the_cap_gives_up_at_once(wire: Wire) -> None:
    wire.server.enqueue(Script(status=429, retry_after="3600"), Script(content="never"))
    outcome = wire.turn("ovh")
    err = outcome.error
    assert isinstance(err, RateLimitError)
    assert err.retry_after == 3600.0 > RETRY_AFTER_CAP
    assert "3600" in explain(err)
    assert outcome.sleeps == []
    assert len(wire.server.requests) == 1


def test_backoff_is_exponential_with_bounded_jitter(provider_server: ProviderServer,
                                                    wire: Wire) -> None:
    draws = iter([0.0, 1.0, 0.5])
    sleep = RecordingSleep()

    async def main() -> list[StreamEvent]:
        async with httpx.AsyncClient() as http:
            client = ChatClient(http, backoff_base=10.0, backoff_max=25.0, sleep=sleep,
                                random=lambda: next(draws))
            events = []
            async for event in client.stream_chat(wire.provider("nebula"), wire.model("nebula"),
                                                  QUESTION, ChatParams(), api_key=wire.key):
                events.append(event)
            return events

    provider_server.enqueue(Script(content="finally", fail_times=3, fail_status=502))
    asyncio.run(main())
    # ceilings 10, 20, min(40, 25); each delay in [ceiling/2, ceiling]
    assert sleep.delays == [5.0, 20.0, 18.75]
    assert len(provider_server.requests) == 4


def test_connection_refused_is_retried_then_reported(wire: Wire) -> None:
    port = closed_port()
    provider = wire.provider("ovh").with_base_url(f"http://127.0.0.1:{port}/v1")
    sleep = RecordingSleep()

    async def main() -> ProviderError:
        async with httpx.AsyncClient() as http:
            client = ChatClient(http, sleep=sleep, max_retries=2)
            with pytest.raises(NetworkError) as info:
                async for _ in client.stream_chat(provider, wire.model("ovh"), QUESTION,
                                                  ChatParams(), api_key=wire.key):
                    pass
            return info.value

    err = asyncio.run(main())
    assert len(sleep.delays) == 2
    assert "could not reach 127.0.0.1" in str(err)
    assert "network connection" in explain(err)


# --- the idle timeout is not a total timeout --------------------------------------------------

def test_slow_but_steady_stream_outlives_the_idle_timeout(wire: Wire) -> None:
    # 8 pieces 0.25 s apart take ~2 s in all; no gap reaches the 1 s idle timeout.
    wire.server.enqueue(Script(content="a b c d e f g h", delay=0.25))
    outcome = wire.turn("ovh", read_timeout=1.0)
    assert outcome.error is None, outcome.error
    assert "".join(e.text for e in outcome.events if isinstance(e, ContentDelta)) == (
        "a b c d e f g h")


# --- cancellation ---------------------------------------------------------------------------

def _stalled_turn(wire: Wire) -> tuple[Provider, Script]:
    script = Script(content=ANSWER_TEXT, stall=True, fault_after=3)
    wire.server.enqueue(script)
    return wire.provider("ovh"), script


def test_aclose_closes_the_connection_at_once(wire: Wire) -> None:
    provider, _ = _stalled_turn(wire)

    async def main() -> int:
        async with httpx.AsyncClient() as http:
            client = ChatClient(http, read_timeout=30.0)
            events = cast(AsyncGenerator[StreamEvent, None], client.stream_chat(
                provider, wire.model("ovh"), QUESTION, ChatParams(), api_key=wire.key))
            async for event in events:
                if isinstance(event, ContentDelta):
                    break
            await asyncio.to_thread(wire.server.wait_for_stall, 1, 5.0)
            await events.aclose()
            # Still inside the httpx client: only the response's own close can explain it.
            return await asyncio.to_thread(wire.server.wait_for_client_close, 1, 5.0)

    assert asyncio.run(main()) == 1


def test_cancelling_the_task_closes_the_connection(wire: Wire) -> None:
    provider, _ = _stalled_turn(wire)

    async def main() -> int:
        async with httpx.AsyncClient() as http:
            client = ChatClient(http, read_timeout=30.0)
            first_text = asyncio.Event()

            async def consume() -> None:
                async for event in client.stream_chat(provider, wire.model("ovh"), QUESTION,
                                                      ChatParams(), api_key=wire.key):
                    if isinstance(event, ContentDelta):
                        first_text.set()

            task = asyncio.create_task(consume())
            await first_text.wait()
            await asyncio.to_thread(wire.server.wait_for_stall, 1, 5.0)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            return await asyncio.to_thread(wire.server.wait_for_client_close, 1, 5.0)

    assert asyncio.run(main()) == 1


def test_server_stop_does_not_hang_on_a_stalled_stream() -> None:
    server = ProviderServer().start()
    server.enqueue(Script(content=ANSWER_TEXT, stall=True, fault_after=2))
    failures: list[BaseException] = []

    def reader() -> None:
        try:
            with httpx.Client(timeout=30.0) as http, http.stream(
                    "POST", server.base_url_for("custom") + "/chat/completions",
                    json={"model": "m", "messages": [{"role": "user", "content": "hi"}],
                          "stream": True}) as response:
                for _ in response.iter_bytes():
                    pass
        except httpx.HTTPError as err:
            failures.append(err)

    thread = threading.Thread(target=reader)
    thread.start()
    server.wait_for_stall(1, timeout=5.0)
    server.stop()
    thread.join(timeout=10.0)
    assert not thread.is_alive()
    assert failures
    # The body ended mid-stream: an incomplete chunked read (or a reset).
    assert isinstance(failures[0], httpx.RemoteProtocolError | httpx.ReadError)


# --- the other calls ------------------------------------------------------------------------

def test_complete_gathers_text_reasoning_usage_and_timings(wire: Wire) -> None:
    wire.server.enqueue(Script(content="Answer.", reasoning="Thinking first.", fail_times=1))

    async def main() -> object:
        async with httpx.AsyncClient() as http:
            client = ChatClient(http, sleep=RecordingSleep())
            return await client.complete(wire.provider("dashscope-intl"),
                                         wire.model("dashscope-intl"), QUESTION, ChatParams(),
                                         api_key=wire.key)

    result = asyncio.run(main())
    assert result.text == "Answer."  # type: ignore[attr-defined]
    assert result.reasoning == "Thinking first."  # type: ignore[attr-defined]
    assert result.finish_reason == "stop"  # type: ignore[attr-defined]
    assert result.retries == 1  # type: ignore[attr-defined]
    assert result.usage is not None  # type: ignore[attr-defined]
    assert result.model == TEST_MODELS["dashscope-intl"]  # type: ignore[attr-defined]
    assert 0 <= result.first_token_s <= result.total_s  # type: ignore[attr-defined]


@pytest.mark.parametrize("pid", ["dashscope-intl", "ovh", "aimlapi", "nebula", CUSTOM_ID])
def test_list_models(wire: Wire, pid: str) -> None:
    async def main() -> list[str]:
        async with httpx.AsyncClient() as http:
            return await ChatClient(http).list_models(wire.provider(pid), api_key=wire.key)

    models = asyncio.run(main())
    assert TEST_MODELS[pid] in models
    [record] = wire.server.requests
    assert record.method == "GET"
    assert record.path.endswith("/models")
    assert record.headers["authorization"] == f"Bearer {wire.key}"


def test_list_models_with_a_bad_key_is_an_authentication_error(wire: Wire) -> None:
    async def main() -> None:
        async with httpx.AsyncClient() as http:
            await ChatClient(http).list_models(wire.provider("ovh"), api_key="sk-wrong-000000")

    with pytest.raises(AuthenticationError):
        asyncio.run(main())


def test_check_key_success_costs_one_token(wire: Wire) -> None:
    async def main() -> str:
        async with httpx.AsyncClient() as http:
            return await ChatClient(http).check_key(wire.provider("ovh"), wire.model("ovh"),
                                                    api_key=wire.key)

    text = asyncio.run(main())
    assert text.startswith("OK")
    assert "OVHcloud" in text
    [record] = wire.server.requests
    assert record.json["max_tokens"] == 1


@pytest.mark.parametrize("pid", ["dashscope-us", "segmind"])
def test_check_key_with_a_bad_key_raises_the_mapped_error(wire: Wire, pid: str) -> None:
    async def main() -> str:
        async with httpx.AsyncClient() as http:
            return await ChatClient(http).check_key(wire.provider(pid), wire.model(pid),
                                                    api_key="sk-wrong-region-key-123")

    with pytest.raises(AuthenticationError) as info:
        asyncio.run(main())
    assert "sk-wrong-region-key-123" not in explain(info.value)
    assert len(wire.server.requests) == 1  # a 401 is not retried


# --- secrets --------------------------------------------------------------------------------

def test_the_key_never_appears_in_errors_or_logs(wire: Wire,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    wire.server.api_key = SECRET
    caplog.set_level(logging.DEBUG)
    # Providers that echo the key back: in a 401 body and inside a 200 stream.
    wire.server.enqueue(
        Script(status=401, error_message=f"Incorrect API key provided: {SECRET}"),
        Script(content="x y z", error_event=True, error_message=f"key {SECRET} revoked"),
        Script(status=500, error_message=f"upstream rejected Bearer {SECRET}"))
    errors: list[ProviderError] = []
    for _ in range(3):
        outcome = wire.turn("aimlapi", api_key=SECRET, max_retries=0)
        assert outcome.error is not None
        errors.append(outcome.error)
    port = closed_port()
    refused = wire.provider("ovh").with_base_url(f"http://127.0.0.1:{port}/v1")

    async def main() -> None:
        async with httpx.AsyncClient() as http:
            async for _ in ChatClient(http, max_retries=0).stream_chat(
                    refused, wire.model("ovh"), QUESTION, ChatParams(), api_key=SECRET):
                pass

    with pytest.raises(NetworkError) as info:
        asyncio.run(main())
    errors.append(info.value)

    assert [type(e) for e in errors] == [AuthenticationError, StreamErrorEvent, ServerError,
                                         NetworkError]
    for err in errors:
        for text in (str(err), explain(err), repr(err), err.partial_text):
            assert SECRET not in text
    assert SECRET not in caplog.text
    assert len(wire.server.requests) == 3
    assert all(r.headers["authorization"] == f"Bearer {SECRET}" for r in wire.server.requests)


def test_consumer_stopping_early_leaves_no_dangling_generator(wire: Wire) -> None:
    # aclosing() the stream after the first piece must close cleanly under asyncio.run
    # (filterwarnings=error turns any "never awaited"/GeneratorExit warning into a failure).
    wire.server.enqueue(Script(content=ANSWER_TEXT, delay=0.01))

    async def main() -> str:
        async with httpx.AsyncClient() as http:
            client = ChatClient(http)
            events = cast(AsyncGenerator[StreamEvent, None], client.stream_chat(
                wire.provider("aimlapi"), wire.model("aimlapi"), QUESTION, ChatParams(),
                api_key=wire.key))
            async with aclosing(events):
                async for event in events:
                    if isinstance(event, ContentDelta):
                        return event.text
        return ""

    assert asyncio.run(main()) == split_pieces(ANSWER_TEXT, None)[0]
