"""`core.turn.send_turn`, the chat turn both front ends use, against the loopback server.

Real sockets, real httpx, the real chat client: what the server sends and what it
received are the evidence. Each turn runs under `asyncio.run` in an ordinary test
(no pytest-asyncio). Timings come from a stepping clock, so they are
checked for what they mean, not for how long a test machine took.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Sequence
from typing import Any

import httpx
import pytest
from PIL import Image

from qwenvl_desktop.core.api import request as request_module
from qwenvl_desktop.core.api.client import ChatClient
from qwenvl_desktop.core.api.types import ChatParams, ContentDelta, ReasoningDelta, StreamEvent
from qwenvl_desktop.core.catalog import Model, Provider, load_builtin
from qwenvl_desktop.core.conversation import Conversation, Message, MessageStatus
from qwenvl_desktop.core.errors import AuthenticationError, InterruptedStream
from qwenvl_desktop.core.images import PreparedImage, prepare_image
from qwenvl_desktop.core.turn import Turn, send_turn
from qwenvl_desktop.testing.provider_server import DEFAULT_KEY, ProviderServer, Script

PROVIDER = "dashscope-intl"
MODEL = "qwen3-vl-plus"
WRONG_KEY = "sk-wrong-key-for-this-test-5f1e9d"


class SteppingClock:
    """A monotonic clock that moves on by a quarter second each time it is read."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        self.now += 0.25
        return self.now


def target(server: ProviderServer, provider_id: str = PROVIDER,
           model_id: str = MODEL) -> tuple[Provider, Model]:
    provider = load_builtin().get(provider_id).with_base_url(server.base_url_for(provider_id))
    return provider, provider.model(model_id)


def image(colour: tuple[int, int, int], provider: Provider, model: Model) -> PreparedImage:
    picture = Image.new("RGB", (96, 64), colour)
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    return prepare_image(buffer.getvalue(), name=f"{colour}.png", model=model,
                         provider=provider)


async def ask(server: ProviderServer, conversation: Conversation, text: str,
              images: Sequence[PreparedImage] = (), *, provider_id: str = PROVIDER,
              model_id: str = MODEL, api_key: str | None = DEFAULT_KEY,
              params: ChatParams | None = None, **options: Any) -> Message:
    provider, model = target(server, provider_id, model_id)
    async with httpx.AsyncClient() as http:
        client = ChatClient(http, connect_timeout=5.0, read_timeout=5.0, max_retries=0)
        return await send_turn(client, conversation, provider, model, params or ChatParams(),
                               text, images, api_key=api_key, **options)


def image_urls(content: Any) -> list[str]:
    if not isinstance(content, list):
        return []
    return [part["image_url"]["url"] for part in content if part.get("type") == "image_url"]


# --- a complete answer ---------------------------------------------------------------------

def test_a_complete_answer_with_its_provenance(server: ProviderServer) -> None:
    server.enqueue(Script(content="A red square on white.", reasoning="Look at the colours.",
                          usage={"prompt_tokens": 120, "completion_tokens": 7,
                                 "total_tokens": 127}))
    provider, model = target(server)
    picture = image((200, 30, 30), provider, model)
    conv = Conversation()
    events: list[StreamEvent] = []
    answer = asyncio.run(ask(server, conv, "What is this?", [picture],
                             params=ChatParams(temperature=0.3, seed=7),
                             on_event=events.append, clock=SteppingClock()))

    assert conv.messages[-1] is answer
    user = conv.messages[0]
    assert (user.role, user.text, user.images) == ("user", "What is this?", [picture.sha256])
    assert user.image_tokens == {picture.sha256: picture.tokens}
    assert conv.images[picture.sha256].data == picture.data
    assert (conv.provider_id, conv.model_id) == (PROVIDER, MODEL)

    assert answer.role == "assistant"
    assert answer.status == "complete"
    assert answer.error == ""
    assert answer.text == "A red square on white."
    assert "".join(e.text for e in events if isinstance(e, ContentDelta)) == answer.text
    prov = answer.provenance
    assert prov is not None
    assert (prov.provider, prov.model, prov.region) == (PROVIDER, MODEL, provider.region)
    assert prov.base_url == server.base_url_for(PROVIDER)
    assert prov.params == {"temperature": 0.3, "seed": 7}
    assert prov.usage is not None
    assert (prov.usage.prompt_tokens, prov.usage.completion_tokens) == (120, 7)
    assert prov.finish_reason == "stop"
    assert prov.first_token_s is not None
    assert prov.total_s is not None
    assert 0 < prov.first_token_s < prov.total_s
    assert prov.retries == 0

    sent = server.requests[-1].json
    assert sent["model"] == MODEL
    assert image_urls(sent["messages"][-1]["content"]) == [picture.data_uri()]


@pytest.mark.parametrize(("provider_id", "model_id"), [
    ("dashscope-intl", "qwen3-vl-8b-thinking"),   # reasoning_content
    ("ovh", "Qwen2.5-VL-72B-Instruct"),           # delta.reasoning
])
def test_reasoning_is_kept_apart_from_the_answer(
        server: ProviderServer, provider_id: str, model_id: str) -> None:
    server.enqueue(Script(content="The answer is four.", reasoning="Two plus two, so four."))
    conv = Conversation()
    events: list[StreamEvent] = []
    answer = asyncio.run(ask(server, conv, "2+2?", provider_id=provider_id, model_id=model_id,
                             on_event=events.append))
    assert answer.status == "complete"
    assert answer.text == "The answer is four."
    assert answer.reasoning == "Two plus two, so four."
    assert "".join(e.text for e in events if isinstance(e, ReasoningDelta)) == answer.reasoning
    # The next turn sends the answer back without its reasoning.
    wire = conv.to_wire()
    assert [m.text for m in wire] == ["2+2?", "The answer is four."]


# --- when it goes wrong, the turn stays -----------------------------------------------------

@pytest.mark.parametrize(("script", "cause"), [
    (Script(content="one two three four five six", drop_after=3), "broke mid-answer"),
    (Script(content="one two three four five six", no_finish=True, fault_after=3),
     "without saying it was complete"),
])
def test_an_interrupted_stream_keeps_the_turn_and_the_partial_answer(
        server: ProviderServer, script: Script, cause: str) -> None:
    server.enqueue(script)
    conv = Conversation()
    ended: list[tuple[MessageStatus, str]] = []

    def on_end(turn: Turn) -> None:
        ended.append((turn.answer.status, turn.answer.text))

    with pytest.raises(InterruptedStream):
        asyncio.run(ask(server, conv, "Count to six", on_end=on_end))
    user, answer = conv.messages
    assert (user.role, user.text) == ("user", "Count to six")
    assert answer.status == "interrupted"
    assert answer.text == "one two three"
    assert cause in answer.error
    assert "what arrived is kept" in answer.error
    assert ended == [("interrupted", "one two three")]
    # The partial answer is history the person saw: it is sent with the next turn.
    assert [m.text for m in conv.to_wire()] == ["Count to six", "one two three"]


def test_a_rejected_key_is_explained_without_the_key(server: ProviderServer) -> None:
    server.enqueue(Script(content="never sent"))
    conv = Conversation()
    with pytest.raises(AuthenticationError) as caught:
        asyncio.run(ask(server, conv, "Hello", api_key=WRONG_KEY))
    user, answer = conv.messages
    assert user.text == "Hello"
    assert answer.status == "error"
    assert answer.text == ""
    assert "HTTP 401" in answer.error
    assert "Incorrect API key provided" in answer.error
    assert "Check the key" in answer.error
    assert WRONG_KEY not in answer.error
    assert WRONG_KEY not in str(caught.value)
    assert answer.provenance is not None
    assert answer.provenance.first_token_s is None     # nothing ever arrived
    # The failed answer is not sent back to the model on the next turn.
    assert [m.text for m in conv.to_wire()] == ["Hello"]


def test_cancelling_stops_the_turn_keeps_the_partial_answer_and_closes_the_stream(
        server: ProviderServer) -> None:
    server.enqueue(Script(content="first second third fourth", stall=True, fault_after=2))
    conv = Conversation()
    ended: list[MessageStatus] = []

    async def scenario() -> None:
        two_pieces = asyncio.Event()
        pieces: list[str] = []

        def on_event(event: StreamEvent) -> None:
            if isinstance(event, ContentDelta):
                pieces.append(event.text)
                if len(pieces) == 2:
                    two_pieces.set()

        task = asyncio.create_task(ask(
            server, conv, "Tell me", on_event=on_event,
            on_end=lambda turn: ended.append(turn.answer.status)))
        await two_pieces.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(scenario())
    user, answer = conv.messages
    assert user.text == "Tell me"
    assert answer.status == "stopped"
    assert answer.text == "first second"
    assert answer.error == ""                          # stopping is not an error
    assert ended == ["stopped"]
    assert server.wait_for_client_close(1) >= 1        # the connection was closed


# --- hooks ---------------------------------------------------------------------------------

def test_start_comes_before_the_request_and_end_once_after_the_answer(
        server: ProviderServer) -> None:
    server.enqueue(Script(content="alpha beta gamma delta"))
    conv = Conversation()
    seen: list[str] = []

    def on_start(turn: Turn) -> None:
        assert turn.conversation is conv
        assert turn.asked
        assert conv.messages[-2:] == [turn.question, turn.answer]
        assert turn.answer.status == "streaming"
        assert server.requests == []                   # not sent yet
        seen.append("start")

    def on_event(event: StreamEvent) -> None:
        if isinstance(event, ContentDelta):
            seen.append("delta")

    def on_end(turn: Turn) -> None:
        seen.append(f"end:{turn.answer.status}:{turn.answer.text}")

    answer = asyncio.run(ask(server, conv, "Go", on_start=on_start, on_event=on_event,
                             on_end=on_end))
    assert seen[0] == "start"
    assert seen[-1] == "end:complete:alpha beta gamma delta"
    assert seen.count("delta") >= 2
    assert answer.text == "alpha beta gamma delta"


def test_sync_puts_what_has_arrived_into_the_message_mid_answer(
        server: ProviderServer) -> None:
    server.enqueue(Script(content="alpha beta gamma delta"))
    conv = Conversation()
    synced: list[str] = []
    turns: list[Turn] = []

    def on_event(event: StreamEvent) -> None:
        if isinstance(event, ContentDelta):
            turns[0].sync()
            synced.append(turns[0].answer.text)

    asyncio.run(ask(server, conv, "Go", on_start=turns.append, on_event=on_event))
    assert synced[-1] == "alpha beta gamma delta"
    assert synced == sorted(synced, key=len)
    assert all("alpha beta gamma delta".startswith(text) for text in synced)


def test_the_request_body_is_serialised_once_with_images_spliced_in(
        server: ProviderServer, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = request_module.body_chunks

    def counting(body: dict[str, Any], verbatim: Any = ()) -> tuple[bytes, ...]:
        calls.append(len(verbatim))
        return real(body, verbatim)

    monkeypatch.setattr(request_module, "body_chunks", counting)
    provider, model = target(server)
    picture = image((9, 9, 9), provider, model)
    server.enqueue(Script(content="Seen."))
    asyncio.run(ask(server, Conversation(), "What?", [picture]))
    assert calls == [1]                            # once, the image spliced in as it is
    record = server.requests[-1]
    assert record.body == request_module.serialize_body(record.json)
    assert image_urls(record.json["messages"][-1]["content"]) == [picture.data_uri()]
    assert record.headers["content-length"] == str(len(record.body))
    assert "transfer-encoding" not in record.headers


# --- branches ------------------------------------------------------------------------------

def test_answering_again_adds_a_branch_and_sends_the_history_up_to_the_question(
        server: ProviderServer) -> None:
    from qwenvl_desktop.core.turn import answer_again

    server.enqueue(Script(content="One."), Script(content="Two."), Script(content="One again."))
    conv = Conversation()
    asyncio.run(ask(server, conv, "First"))
    asyncio.run(ask(server, conv, "Second"))
    first_question = conv.messages[0]
    provider, model = target(server)

    async def again() -> Message:
        async with httpx.AsyncClient() as http:
            client = ChatClient(http, connect_timeout=5.0, read_timeout=5.0, max_retries=0)
            return await answer_again(client, conv, first_question.id, provider, model,
                                      ChatParams(), api_key=DEFAULT_KEY)

    answer = asyncio.run(again())
    assert [m.text for m in conv.messages] == ["First", "One again."]
    assert conv.branch_position(answer.id) == (2, 2)
    assert [m["content"] for m in server.requests[-1].json["messages"]] == ["First"]
    conv.switch_branch(answer.id, -1)
    assert [m.text for m in conv.messages] == ["First", "One.", "Second", "Two."]


def test_an_edited_question_goes_beside_the_original(server: ProviderServer) -> None:
    server.enqueue(Script(content="One."), Script(content="Two."), Script(content="Edited."))
    conv = Conversation()
    asyncio.run(ask(server, conv, "First"))
    asyncio.run(ask(server, conv, "Second"))
    second = conv.messages[2]
    asyncio.run(ask(server, conv, "Second, edited", sibling_of=second.id))
    assert [m.text for m in conv.messages] == ["First", "One.", "Second, edited", "Edited."]
    assert conv.siblings(second.id)[0] == second.id
    assert [m["content"] for m in server.requests[-1].json["messages"]] == [
        "First", "One.", "Second, edited"]


# --- images in a long conversation ---------------------------------------------------------

def sent_images(server: ProviderServer) -> list[list[str]]:
    """Image URLs of each user message in the last request."""
    return [image_urls(m["content"]) for m in server.requests[-1].json["messages"]
            if m["role"] == "user"]


def two_image_turns(server: ProviderServer, *, drop_old_images: bool,
                    second_has_image: bool = True) -> tuple[PreparedImage, PreparedImage]:
    provider, model = target(server)
    red, blue = image((220, 0, 0), provider, model), image((0, 0, 220), provider, model)
    conv = Conversation()
    server.enqueue(Script(content="A red picture."), Script(content="A blue picture."))
    asyncio.run(ask(server, conv, "First?", [red]))
    asyncio.run(ask(server, conv, "Second?", [blue] if second_has_image else [],
                    drop_old_images=drop_old_images))
    return red, blue


def test_full_history_resends_every_image(server: ProviderServer) -> None:
    red, blue = two_image_turns(server, drop_old_images=False)
    assert sent_images(server) == [[red.data_uri()], [blue.data_uri()]]


def test_drop_old_images_sends_images_only_on_the_last_image_turn(
        server: ProviderServer) -> None:
    _red, blue = two_image_turns(server, drop_old_images=True)
    assert sent_images(server) == [[], [blue.data_uri()]]
    texts = [m["content"] for m in server.requests[-1].json["messages"]]
    assert len(texts) == 3                     # the earlier turn itself is still sent


def test_drop_old_images_keeps_the_last_turn_that_had_images(server: ProviderServer) -> None:
    red, _blue = two_image_turns(server, drop_old_images=True, second_has_image=False)
    assert sent_images(server) == [[red.data_uri()], []]
