"""After a failed turn, the next request against the loopback server: two questions in a
row are joined for DashScope (whose server refuses them) and kept for a vLLM-style host."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import httpx
import pytest

from qwenvl_desktop.core.api.client import ChatClient
from qwenvl_desktop.core.api.types import ChatMessage, ChatParams
from qwenvl_desktop.core.catalog import Provider
from qwenvl_desktop.core.conversation import Conversation, Message
from qwenvl_desktop.core.errors import BadRequestError, ProviderError, explain
from qwenvl_desktop.core.turn import send_turn
from qwenvl_desktop.testing.provider_server import ProviderServer, Script

from .conftest import TEST_MODELS, point_at

MODELS = {**TEST_MODELS, "dashscope-intl": "qwen3-vl-plus"}


def ask(server: ProviderServer, provider: Provider, conversation: Conversation,
        text: str) -> Message:
    async def run() -> Message:
        async with httpx.AsyncClient() as http:
            client = ChatClient(http, connect_timeout=5.0, read_timeout=5.0, max_retries=0)
            try:
                return await send_turn(client, conversation, provider,
                                       provider.model(MODELS[provider.id]), ChatParams(),
                                       text, api_key=server.api_key)
            except ProviderError:
                return conversation.messages[-1]     # the failed answer, marked

    return asyncio.run(run())


def roles_and_texts(server: ProviderServer) -> list[tuple[str, str]]:
    def text(content: object) -> str:
        if isinstance(content, str):
            return content
        assert isinstance(content, list)
        return "".join(part.get("text", "") for part in content)

    return [(m["role"], text(m["content"])) for m in server.requests[-1].json["messages"]]


@pytest.mark.parametrize(("pid", "expected"), [
    ("dashscope-intl", [("user", "Q1"), ("assistant", "A1"), ("user", "Q2\n\nQ3")]),
    ("segmind", [("user", "Q1"), ("assistant", "A1"), ("user", "Q2\n\nQ3")]),
    ("ovh", [("user", "Q1"), ("assistant", "A1"), ("user", "Q2"), ("user", "Q3")]),
    ("nebula", [("user", "Q1"), ("assistant", "A1"), ("user", "Q2"), ("user", "Q3")]),
])
def test_the_question_after_a_failed_turn(provider_server: ProviderServer, pid: str,
                                          expected: list[tuple[str, str]]) -> None:
    provider = point_at(provider_server, pid)
    conv = Conversation()
    provider_server.enqueue(Script(content="A1"), Script(status=400),
                            Script(content="A3"))
    assert ask(provider_server, provider, conv, "Q1").status == "complete"
    failed = ask(provider_server, provider, conv, "Q2")
    assert failed.status == "error"
    answer = ask(provider_server, provider, conv, "Q3")
    assert answer.status == "complete", answer.error
    assert answer.text == "A3"
    assert roles_and_texts(provider_server) == expected
    assert provider_server.requests[-1].status == 200
    # Nothing changed in the conversation itself: each question is its own message.
    assert [(m.role, m.text) for m in conv.messages] == [
        ("user", "Q1"), ("assistant", "A1"), ("user", "Q2"), ("assistant", ""),
        ("user", "Q3"), ("assistant", "A3")]


def test_the_loopback_refuses_two_questions_in_a_row_as_dashscope_does(
        provider_server: ProviderServer) -> None:
    """Why DashScope merges: sent as they are, the server answers 400."""
    keeping = replace(point_at(provider_server, "dashscope-intl"),
                      consecutive_user_turns="keep")
    messages = [ChatMessage("user", "Q2"), ChatMessage("user", "Q3")]

    async def run() -> None:
        async with httpx.AsyncClient() as http:
            client = ChatClient(http, connect_timeout=5.0, read_timeout=5.0, max_retries=0)
            async for _event in client.stream_chat(keeping, keeping.model("qwen3-vl-plus"),
                                                   messages, ChatParams(),
                                                   api_key=provider_server.api_key):
                pass

    with pytest.raises(BadRequestError) as caught:
        asyncio.run(run())
    assert "alternately" in explain(caught.value)
    assert provider_server.requests[-1].status == 400

