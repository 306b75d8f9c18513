"""Today's providers over real sockets: the 2026 request fields and every real error and
stream shape the loopback server can now produce, each ending in what a person should see.
"""

from __future__ import annotations

import asyncio
import io
import json
from dataclasses import dataclass, field

import httpx
import pytest
from PIL import Image

from qwenvl_desktop.cli.advice import terminal_advice
from qwenvl_desktop.core.api.client import ChatClient
from qwenvl_desktop.core.api.types import (
    ChatMessage,
    ChatParams,
    ContentDelta,
    ReasoningDelta,
    StreamEvent,
)
from qwenvl_desktop.core.catalog import CustomEndpoint, Model, Provider, load_builtin
from qwenvl_desktop.core.conversation import Conversation
from qwenvl_desktop.core.error_facts import facts
from qwenvl_desktop.core.errors import (
    AuthenticationError,
    ContentFilterError,
    ModelRetiredError,
    NotFoundError,
    ProviderError,
    RateLimitError,
    ServerError,
    StreamErrorEvent,
    explain,
)
from qwenvl_desktop.core.images import prepare_image
from qwenvl_desktop.core.tokens import smart_resize, target_size
from qwenvl_desktop.core.turn import send_turn
from qwenvl_desktop.testing.provider_server import ProviderServer, Script
from qwenvl_desktop.ui.error_advice import window_advice

from .conftest import RecordingSleep

CATALOG = load_builtin()
QUESTION = [ChatMessage(role="user", text="What is in the picture?")]


@dataclass
class Result:
    events: list[StreamEvent] = field(default_factory=list)
    error: ProviderError | None = None
    sleeps: list[float] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(e.text for e in self.events if isinstance(e, ContentDelta))

    @property
    def reasoning(self) -> str:
        return "".join(e.text for e in self.events if isinstance(e, ReasoningDelta))


def builtin(server: ProviderServer, pid: str) -> Provider:
    dialect = "dashscope" if pid.startswith("dashscope") else pid
    return CATALOG.get(pid).with_base_url(server.base_url_for(dialect))


def gateway(server: ProviderServer, *models: str, name: str = "office-gateway",
            output_cap_field: str = "") -> Provider:
    return CATALOG.make_custom(CustomEndpoint(
        name=name, base_url=server.base_url_for("custom"), models=models,
        output_cap_field=output_cap_field))


def turn(server: ProviderServer, provider: Provider, model: Model | str,
         params: ChatParams | None = None, messages: list[ChatMessage] | None = None,
         max_retries: int = 2) -> Result:
    chosen = provider.model(model) if isinstance(model, str) else model
    result = Result()

    async def run() -> None:
        sleep = RecordingSleep()
        result.sleeps = sleep.delays
        async with httpx.AsyncClient() as http:
            client = ChatClient(http, connect_timeout=5, read_timeout=5, sleep=sleep,
                                random=lambda: 0.5, max_retries=max_retries)
            try:
                async for event in client.stream_chat(provider, chosen, messages or QUESTION,
                                                      params or ChatParams(),
                                                      api_key=server.api_key):
                    result.events.append(event)
            except ProviderError as err:
                result.error = err

    asyncio.run(run())
    return result


# --- what is sent --------------------------------------------------------------------------

@pytest.mark.parametrize(("pid", "model", "field_name"), [
    ("dashscope-intl", "qwen3-vl-plus", "max_completion_tokens"),
    ("dashscope-us", "qwen3-vl-flash-us", "max_completion_tokens"),
    ("aimlapi", "alibaba/qwen3-vl-32b-instruct", "max_completion_tokens"),
    ("ovh", "Qwen2.5-VL-72B-Instruct", "max_tokens"),
    ("nebula", "Qwen/Qwen2.5-VL-7B-Instruct", "max_tokens"),
])
def test_the_output_cap_reaches_each_provider_in_its_field(
        fresh_server: ProviderServer, pid: str, model: str, field_name: str) -> None:
    result = turn(fresh_server, builtin(fresh_server, pid), model, ChatParams(max_tokens=300))
    assert result.error is None, result.error
    body = fresh_server.requests[-1].json
    assert body[field_name] == 300
    assert {"max_tokens", "max_completion_tokens"} - {field_name} & set(body) == set()


def test_dashscope_refuses_the_deprecated_field_with_a_readable_error(
        fresh_server: ProviderServer) -> None:
    """What an app still sending max_tokens meets (the loopback's DashScope refuses it)."""
    url = builtin(fresh_server, "dashscope-intl").chat_url("qwen3-vl-plus")
    reply = httpx.post(url, json={"model": "qwen3-vl-plus", "max_tokens": 5,
                                  "messages": [{"role": "user", "content": "Hi"}]},
                       headers={"Authorization": f"Bearer {fresh_server.api_key}"})
    assert reply.status_code == 400
    assert "max_completion_tokens" in reply.text


def test_custom_endpoints_switch_the_output_cap_field_per_endpoint(
        fresh_server: ProviderServer) -> None:
    default = gateway(fresh_server, "m1")
    switched = gateway(fresh_server, "m1", name="new-gateway",
                       output_cap_field="max_completion_tokens")
    turn(fresh_server, default, "m1", ChatParams(max_tokens=20))
    turn(fresh_server, switched, "m1", ChatParams(max_tokens=20))
    first, second = (r.json for r in fresh_server.requests)
    assert first["max_tokens"] == 20
    assert "max_completion_tokens" not in first
    assert second["max_completion_tokens"] == 20
    assert "max_tokens" not in second


def _png(width: int, height: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (200, 40, 40)).save(buf, "PNG")
    return buf.getvalue()


@pytest.mark.parametrize(("model_id", "high"), [
    ("qwen3-vl-plus", False), ("qwen3-vl-plus", True), ("qwen2.5-vl-72b-instruct", False),
    ("qwen3.5-plus", False), ("qwen-vl-ocr", False), ("qvq-max", False),
])
def test_dashscope_sees_the_image_at_the_size_recorded_with_the_conversation(
        fresh_server: ProviderServer, model_id: str, high: bool) -> None:
    provider = builtin(fresh_server, "dashscope-intl")
    model = provider.model(model_id)
    image = prepare_image(_png(3840, 2160), name="screen.png", model=model, provider=provider,
                          high_resolution=high, max_bytes=None)
    conversation = Conversation()
    fresh_server.enqueue(Script(content="A red screen.", reasoning="Looking."))

    async def run() -> None:
        async with httpx.AsyncClient() as http:
            await send_turn(ChatClient(http), conversation, provider, model,
                            ChatParams(high_resolution=high), "Describe", [image],
                            api_key=fresh_server.api_key)

    asyncio.run(run())
    part = fresh_server.requests[-1].json["messages"][-1]["content"][0]
    limits = part["image_url"]
    stored = next(iter(conversation.images.values()))
    assert (stored.width, stored.height) == (image.width, image.height)
    # What the server's own smart_resize makes of what it received, given these limits,
    # is exactly the size the app computes from the stored image (its token estimate,
    # and the size grounding boxes refer to) — no second, different resize.
    seen = smart_resize(stored.height, stored.width, model.patch_factor,
                        limits["min_pixels"], limits["max_pixels"])
    assert seen[::-1] == target_size(stored.width, stored.height, model, high)
    assert image.tokens == (seen[0] // model.patch_factor) * (seen[1] // model.patch_factor) + 2
    assert limits["max_pixels"] == model.max_pixels(high)


def test_qwen35_thinks_by_default_without_being_asked(fresh_server: ProviderServer) -> None:
    fresh_server.enqueue(Script(content="A bicycle.", reasoning="The user shows a picture."))
    result = turn(fresh_server, builtin(fresh_server, "dashscope-intl"), "qwen3.5-plus")
    body = fresh_server.requests[-1].json
    assert body["stream"] is True
    assert "enable_thinking" not in body
    assert (result.reasoning, result.text) == ("The user shows a picture.", "A bicycle.")
    turn(fresh_server, builtin(fresh_server, "dashscope-intl"), "qwen3.5-plus",
         ChatParams(thinking=False))
    assert fresh_server.requests[-1].json["enable_thinking"] is False


# --- error shapes --------------------------------------------------------------------------

MODERATION_TEXT = "Input text data may contain inappropriate content."


def test_a_400_whose_body_is_an_sse_line_is_a_moderation_refusal(
        fresh_server: ProviderServer) -> None:
    fresh_server.enqueue(Script(status=400, error_sse_framed=True,
                                error_code="data_inspection_failed",
                                error_type="data_inspection_failed",
                                error_message=MODERATION_TEXT))
    result = turn(fresh_server, builtin(fresh_server, "dashscope-intl"), "qwen3-vl-plus")
    err = result.error
    assert type(err) is ContentFilterError
    assert err.subject == "input text"
    words = explain(err)
    assert MODERATION_TEXT in words
    assert "data:" not in words
    assert "check the parameters" not in words
    assert "refused the question's text" in words
    assert len(fresh_server.requests) == 1              # never retried


def test_output_moderation_mid_stream_keeps_what_arrived(fresh_server: ProviderServer) -> None:
    fresh_server.enqueue(Script(content="One two three four five", error_event=True,
                                fault_after=2, error_code="data_inspection_failed",
                                error_message="Output data may contain inappropriate content."))
    result = turn(fresh_server, builtin(fresh_server, "dashscope-intl"), "qwen3-vl-plus")
    err = result.error
    assert type(err) is StreamErrorEvent
    assert err.kind == "moderation"
    assert err.partial_text == "One two"
    assert "stopped the answer" in explain(err)
    assert not explain(err).startswith("HTTP")


def test_llama_cpp_error_lines_in_a_stream_are_the_servers_own_words(
        fresh_server: ProviderServer) -> None:
    fresh_server.enqueue(Script(content="Partial answer here", error_field_line=True,
                                fault_after=2))
    result = turn(fresh_server, gateway(fresh_server, "qwen3-vl:8b"), "qwen3-vl:8b")
    err = result.error
    assert type(err) is StreamErrorEvent
    assert err.message == ("the request exceeds the available context size. try increasing "
                           "the context size or enable context shift")
    assert err.partial_text == "Partial answer"
    words = explain(err)
    assert "neither SSE nor JSON" not in words
    assert "interrupted" not in words
    assert words.startswith("Error 400 from office-gateway: the request exceeds")
    assert "too long for this model" in words


def test_an_error_event_in_a_200_stream_is_not_labelled_http(
        fresh_server: ProviderServer) -> None:
    fresh_server.enqueue(Script(error_event=True, fault_after=1, error_code="400",
                                numeric_code=True, error_message="model overloaded"))
    result = turn(fresh_server, gateway(fresh_server, "qwen3-vl:8b"), "qwen3-vl:8b")
    err = result.error
    assert type(err) is StreamErrorEvent
    assert err.status == 0
    assert err.code == "400"
    assert explain(err).startswith("Error 400 from office-gateway: model overloaded")


def test_a_gateways_wrapped_upstream_reason_is_shown(fresh_server: ProviderServer) -> None:
    raw = json.dumps({"error": {"code": 429, "message": "qwen3-vl-plus is temporarily "
                                                        "rate-limited upstream"}})
    fresh_server.enqueue(Script(status=502, error_message="Provider returned error",
                                error_metadata={"provider_name": "Alibaba", "raw": raw}))
    result = turn(fresh_server, gateway(fresh_server, "qwen3-vl-plus"), "qwen3-vl-plus",
                  max_retries=0)
    err = result.error
    assert type(err) is ServerError
    assert "Alibaba said: qwen3-vl-plus is temporarily rate-limited upstream" in explain(err)


@pytest.mark.parametrize(("status", "message", "error_type"), [
    (400, "Authentication Error, No api key passed in.", "auth_error"),
    (401, "Authentication Error, Invalid proxy server token passed.", "token_not_found_in_db"),
])
def test_a_gateways_key_refusal_reads_as_a_key_problem(
        fresh_server: ProviderServer, status: int, message: str, error_type: str) -> None:
    fresh_server.enqueue(Script(status=status, error_message=message, error_type=error_type,
                                error_code=str(status)))
    result = turn(fresh_server, gateway(fresh_server, "m"), "m")
    assert type(result.error) is AuthenticationError
    assert "replace the key in Settings › Keys" in explain(result.error, window_advice)


@pytest.mark.parametrize(("headers", "wait"), [
    ({"x-ratelimit-reset-requests": "2s", "x-ratelimit-reset-tokens": "500ms"}, 2.0),
    ({"llm_provider-retry-after": "3"}, 3.0),
    ({"retry-after-ms": "1500"}, 1.5),
])
def test_rate_limit_waits_come_from_the_gateway_headers(
        fresh_server: ProviderServer, headers: dict[str, str], wait: float) -> None:
    fresh_server.enqueue(Script(status=429, error_headers=headers), times=3)
    result = turn(fresh_server, gateway(fresh_server, "m"), "m", max_retries=2)
    assert result.sleeps == [wait, wait]                 # the client waited as asked
    err = result.error
    assert type(err) is RateLimitError
    assert err.retry_after == wait
    assert f"wait {wait:g} s" in explain(err)


def test_the_providers_long_message_is_shown_whole(fresh_server: ProviderServer) -> None:
    message = ("The image at index 3 is too large for this model: its decoded size exceeds "
               "the per-image limit. " * 8).strip()
    fresh_server.enqueue(Script(status=400, error_message=message))
    err = turn(fresh_server, builtin(fresh_server, "dashscope-intl"), "qwen3-vl-plus").error
    assert err is not None
    assert message in explain(err)


def test_segmind_retired_and_unknown_models(fresh_server: ProviderServer) -> None:
    segmind = builtin(fresh_server, "segmind")
    fresh_server.retired["segmind"] = {"qwen2p5-vl-32b-instruct"}
    gone = turn(fresh_server, segmind, "qwen2p5-vl-32b-instruct").error
    assert type(gone) is ModelRetiredError
    assert "This model was retired; pick another." in explain(gone)
    assert "Nothing was charged" in explain(gone)
    unknown_model = segmind.model("qwen2p5-vl-32b-instruct")
    from dataclasses import replace
    unknown = turn(fresh_server, segmind, replace(unknown_model, id="qwen9-vl-instruct")).error
    assert type(unknown) is NotFoundError
    assert facts(unknown).kind == "model_not_found"
    assert "does not know this model; pick another" in explain(unknown)
    assert "-m" in explain(unknown, terminal_advice)


def test_messages_name_the_endpoint_as_the_person_named_it(fresh_server: ProviderServer) -> None:
    fresh_server.enqueue(Script(html_status=502), times=3)
    result = turn(fresh_server, gateway(fresh_server, "m"), "m", max_retries=0)
    assert result.error is not None
    assert "office-gateway returned an HTML error page" in explain(result.error)
    proxied = builtin(fresh_server, "ovh")
    fresh_server.enqueue(Script(html_status=502))
    result = turn(fresh_server, proxied, "Qwen2.5-VL-72B-Instruct", max_retries=0)
    assert f"OVHcloud AI Endpoints at {proxied.base_url}" in explain(result.error)  # type: ignore[arg-type]


# --- <think> in the answer text ----------------------------------------------------------

REASONING = "The user asks how many bicycles. I count two by the wall."
ANSWER = "There are two bicycles."


@pytest.mark.parametrize("chunks", [None, 7, 23, 61])
@pytest.mark.parametrize(("model_id", "preopened"), [
    ("Qwen/Qwen3-8B", False),          # a hybrid template: the model writes <think> itself
    ("Qwen/QwQ-32B", True),            # a thinking template opened the tag already
    ("Qwen/Qwen3.5-27B", True),        # thinking on by default
])
def test_think_tags_in_content_become_reasoning(fresh_server: ProviderServer, chunks: int | None,
                                                model_id: str, preopened: bool) -> None:
    fresh_server.enqueue(Script(content=ANSWER, reasoning=REASONING, think_in_content=True,
                                think_preopened=preopened, chunks=chunks))
    result = turn(fresh_server, gateway(fresh_server, model_id), model_id)
    assert result.error is None, result.error
    assert result.reasoning.strip() == REASONING
    assert result.text == ANSWER
    assert "think>" not in result.text


def test_think_tags_in_a_blocking_answer(fresh_server: ProviderServer) -> None:
    fresh_server.enqueue(Script(content=ANSWER, reasoning=REASONING, think_in_content=True))
    result = turn(fresh_server, builtin(fresh_server, "segmind"), "qwen2p5-vl-32b-instruct")
    assert (result.reasoning.strip(), result.text) == (REASONING, ANSWER)


def test_a_stream_cut_inside_the_reasoning_keeps_it_as_reasoning(
        fresh_server: ProviderServer) -> None:
    fresh_server.enqueue(Script(content=ANSWER, reasoning=REASONING, think_in_content=True,
                                drop_after=4))
    err = turn(fresh_server, gateway(fresh_server, "Qwen/Qwen3-8B"), "Qwen/Qwen3-8B").error
    assert err is not None
    assert err.partial_text == ""
    assert err.partial_reasoning
    assert "<think>" not in err.partial_reasoning
    assert REASONING.startswith(err.partial_reasoning.strip())
