"""The chat session without Qt: send, retry, regenerate, edit, stop, branches, delete and
undo, autosave — on a plain asyncio loop against the loopback provider server.

Each scenario runs under `asyncio.run`; the session drives a real `ChatClient` over a
real socket, and the library writes real files that the tests read back.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from qwenvl_desktop.core.api.client import ChatClient
from qwenvl_desktop.core.api.types import ChatParams
from qwenvl_desktop.core.catalog import Provider, load_builtin
from qwenvl_desktop.core.conversation import Conversation, Message
from qwenvl_desktop.core.errors import BusyError, ConfigError, MissingKeyError
from qwenvl_desktop.core.library import ConversationLibrary
from qwenvl_desktop.core.session import ChatSession, Refusal, TurnTarget
from qwenvl_desktop.testing.provider_server import DEFAULT_KEY, ProviderServer, Script

PROVIDER = "dashscope-intl"
MODEL = "qwen3-vl-plus"


@dataclass
class Run:
    """A session on the loopback server, and everything it announced."""

    session: ChatSession
    library: ConversationLibrary
    target: TurnTarget
    server: ProviderServer
    seen: list[tuple[Any, ...]] = field(default_factory=list)

    @property
    def conv(self) -> Conversation:
        assert self.session.current is not None
        return self.session.current

    def names(self) -> list[str]:
        return [entry[0] for entry in self.seen]

    async def until(self, condition: Callable[[], bool]) -> None:
        """Until `condition()` holds (10 s at most): what it watches is changed by other
        threads too (the library's writer, the server), so there is no event to await."""
        async with asyncio.timeout(10):
            while not condition():  # noqa: ASYNC110
                await asyncio.sleep(0.01)

    async def finished(self) -> None:
        """Until the shown conversation answers no more."""
        await self.until(lambda: not self.session.streaming_ids())

    async def ask(self, text: str) -> Message:
        assert self.session.send(text, target=self.target)
        await self.finished()
        return self.conv.messages[-1]

    def saved_texts(self) -> list[str]:
        self.library.wait()
        doc = json.loads(self.library.path_for(self.conv.id).read_bytes())
        return [m["text"] for m in doc["conversation"]["messages"]]

    def texts(self) -> list[str]:
        return [m.text for m in self.conv.messages]

    def last_request(self) -> list[Any]:
        return [m["content"] for m in self.server.requests[-1].json["messages"]]


@asynccontextmanager
async def running(server: ProviderServer, tmp_path: Path, *, keys: bool = True,
                  autosave_delay: float = 2.0, prepare: Any = None) -> AsyncIterator[Run]:
    provider = load_builtin().get(PROVIDER).with_base_url(server.base_url_for(PROVIDER))
    target = TurnTarget(provider=provider, model=provider.model(MODEL), params=ChatParams())

    def api_key(chosen: Provider) -> str | None:
        if not keys:
            raise MissingKeyError(chosen.name, chosen.key_env)
        return DEFAULT_KEY

    library = ConversationLibrary(tmp_path / "library")
    async with httpx.AsyncClient() as http:
        client = ChatClient(http, connect_timeout=5.0, read_timeout=5.0, max_retries=0)
        extra = {} if prepare is None else {"prepare": prepare}
        session = ChatSession(library, client, api_key=api_key,
                              autosave_delay=autosave_delay, **extra)
        run = Run(session, library, target, server)
        events = session.events
        for name in ("turn_started", "turn_ended", "busy_changed", "refused",
                     "path_changed", "edit_changed", "deleted", "undo_changed",
                     "save_failed", "current_changed"):
            getattr(events, name).connect(
                lambda *args, name=name: run.seen.append((name, *args)))
        session.new_conversation()
        try:
            yield run
        finally:
            await session.aclose()
            session.save_all()


def scenario(coro: Callable[[], Any]) -> None:
    asyncio.run(coro())


# --- sending ---------------------------------------------------------------------------

def test_a_turn_announces_itself_streams_and_lands_in_the_library(
        server: ProviderServer, tmp_path: Path) -> None:
    server.enqueue(Script(content="A red square."))

    async def go() -> None:
        async with running(server, tmp_path) as run:
            deltas: list[str] = []
            run.session.events.content_delta.connect(lambda _c, _a, text: deltas.append(text))
            answer = await run.ask("What is this?")
            assert answer.text == "A red square."
            assert "".join(deltas) == "A red square."
            conv_id = run.conv.id
            assert [n for n in run.names() if n != "current_changed"] == [
                "busy_changed", "turn_started", "turn_ended", "busy_changed"]
            assert ("turn_started", conv_id, answer.id) in run.seen
            assert ("busy_changed", conv_id, False) == run.seen[-1]
            assert not run.session.is_unsaved(conv_id)
            assert run.conv.title == "What is this?"
            assert run.saved_texts() == ["What is this?", "A red square."]
            assert [s.id for s in run.library.list()] == [conv_id]

    scenario(go)


def test_a_missing_key_is_refused_with_its_kind_and_the_text_given_back(
        server: ProviderServer, tmp_path: Path) -> None:
    async def go() -> None:
        async with running(server, tmp_path, keys=False) as run:
            assert run.session.send("Hello there", target=run.target)
            await run.finished()
            refusals = [e for e in run.seen if e[0] == "refused"]
            assert len(refusals) == 1
            refusal = refusals[0][2]
            assert isinstance(refusal, Refusal)
            assert refusal.kind == "missing_key"
            assert refusal.given_back == ("Hello there", ())
            assert run.conv.all_messages() == []
            assert server.requests == []

    scenario(go)


def test_an_item_that_cannot_be_prepared_refuses_the_turn_and_is_given_back(
        server: ProviderServer, tmp_path: Path) -> None:
    from qwenvl_desktop.core.errors import DocumentError

    async def prepare(items: Any, _target: TurnTarget) -> list[Any]:
        raise DocumentError(items[0], "is encrypted")

    async def go() -> None:
        async with running(server, tmp_path, prepare=prepare) as run:
            assert run.session.send("Summarise", ["secret.pdf"], target=run.target)
            await run.finished()
            refusal = next(e[2] for e in run.seen if e[0] == "refused")
            assert refusal.kind == "input"
            assert "secret.pdf: is encrypted" in refusal.text
            assert refusal.given_back == ("Summarise", ["secret.pdf"])
            assert run.conv.all_messages() == []
            assert server.requests == []

    scenario(go)


def test_images_for_a_model_that_cannot_see_are_refused_before_anything_happens(
        server: ProviderServer, tmp_path: Path) -> None:
    @dataclass(frozen=True)
    class Picture:
        data: bytes = b"\x89PNG"
        name: str = "shot.png"
        source_url: str = ""

    async def go() -> None:
        async with running(server, tmp_path) as run:
            blind = dataclasses.replace(run.target.model, vision=False)
            with pytest.raises(ConfigError, match="cannot see images"):
                run.session.send("Look", [Picture()], target=TurnTarget(
                    run.target.provider, blind, ChatParams()))
            assert not run.session.streaming_ids()

    scenario(go)


# --- nothing is lost: retry, regenerate, edit --------------------------------------------

def test_retry_in_the_middle_keeps_the_later_turns_on_the_old_branch(
        server: ProviderServer, tmp_path: Path) -> None:
    """Finding 1: Q1 → answer; Q2 → HTTP 400; Q3 → answer; Retry on Q2."""
    server.enqueue(Script(content="Answer one."), Script(status=400),
                   Script(content="Answer three."), Script(content="Answer two."))

    async def go() -> None:
        async with running(server, tmp_path) as run:
            await run.ask("Question one")
            failed = await run.ask("Question two")
            assert failed.status == "error"
            await run.ask("Question three")
            assert run.session.retry(failed.id, target=run.target)
            await run.finished()
            assert run.last_request() == ["Question one", "Answer one.", "Question two"]
            assert run.texts() == ["Question one", "Answer one.", "Question two",
                                   "Answer two."]
            retried = run.conv.messages[-1]
            assert run.conv.branch_position(retried.id) == (2, 2)
            saved = run.saved_texts()
            assert "Question three" in saved
            assert "Answer three." in saved
            assert run.session.switch_branch(retried.id, -1) == failed.id
            assert run.texts()[3:] == ["", "Question three", "Answer three."]
            assert ("path_changed", run.conv.id, failed.id) in run.seen

    scenario(go)


def test_regenerate_keeps_the_first_answer_beside_the_new_one(
        server: ProviderServer, tmp_path: Path) -> None:
    server.enqueue(Script(content="First try."), Script(content="Second try."))

    async def go() -> None:
        async with running(server, tmp_path) as run:
            first = await run.ask("Describe it")
            assert run.session.regenerate(target=run.target)       # the last answer
            await run.finished()
            second = run.conv.messages[-1]
            assert second.text == "Second try."
            assert run.conv.siblings(second.id) == [first.id, second.id]
            assert run.last_request() == ["Describe it"]
            assert sorted(run.saved_texts()) == ["Describe it", "First try.", "Second try."]

    scenario(go)


def test_edit_and_resend_starts_a_branch_beside_the_question(
        server: ProviderServer, tmp_path: Path) -> None:
    server.enqueue(Script(content="One."), Script(content="Two."), Script(content="Edited."))

    async def go() -> None:
        async with running(server, tmp_path) as run:
            await run.ask("Question one")
            await run.ask("Question two")
            original = run.conv.messages[0]
            assert run.session.start_edit(original.id) is original
            assert run.session.editing is not None
            await run.ask("Question one, edited")
            assert run.texts() == ["Question one, edited", "Edited."]
            assert run.last_request() == ["Question one, edited"]
            assert run.session.editing is None
            edits = [e[1] for e in run.seen if e[0] == "edit_changed"]
            assert edits[0] is not None
            assert edits[-1] is None
            edited = run.conv.messages[0]
            assert run.conv.siblings(edited.id) == [original.id, edited.id]
            run.session.switch_branch(edited.id, -1)
            assert run.texts() == ["Question one", "One.", "Question two", "Two."]
            assert len(run.saved_texts()) == 6

    scenario(go)


def test_showing_another_conversation_ends_an_edit(
        server: ProviderServer, tmp_path: Path) -> None:
    server.enqueue(Script(content="One."))

    async def go() -> None:
        async with running(server, tmp_path) as run:
            await run.ask("Question one")
            run.session.start_edit(run.conv.messages[0].id)
            run.session.new_conversation()
            assert run.session.editing is None

    scenario(go)


# --- stop, and what waits for a stream ---------------------------------------------------

def test_stop_keeps_the_partial_answer_and_saves_it(
        server: ProviderServer, tmp_path: Path) -> None:
    server.enqueue(Script(content="first second third fourth", stall=True, fault_after=2))

    async def go() -> None:
        async with running(server, tmp_path) as run:
            assert run.session.send("Tell me", target=run.target)
            def two_words() -> bool:
                partial = run.session.partial_answer(run.conv.id)
                return partial is not None and "second" in partial.text

            await run.until(two_words)
            with pytest.raises(BusyError):
                run.session.send("Again", target=run.target)
            with pytest.raises(BusyError):
                run.session.delete_message(run.conv.messages[0].id)
            assert run.session.stop()
            await run.finished()
            answer = run.conv.messages[-1]
            assert answer.status == "stopped"
            assert answer.text == "first second"
            assert "first second" in run.saved_texts()
            assert server.wait_for_client_close(1) >= 1

    scenario(go)


def test_a_streaming_answer_is_saved_mid_answer_with_what_has_arrived(
        server: ProviderServer, tmp_path: Path) -> None:
    server.enqueue(Script(content="alpha beta gamma delta epsilon", stall=True,
                          fault_after=3))

    async def go() -> None:
        async with running(server, tmp_path, autosave_delay=0.05) as run:
            assert run.session.send("Go", target=run.target)

            def file_has_partial() -> bool:
                run.library.wait()
                path = run.library.path_for(run.conv.id)
                return path.exists() and "alpha beta gamma" in path.read_text("utf-8")

            await run.until(file_has_partial)
            doc = json.loads(run.library.path_for(run.conv.id).read_bytes())
            assert doc["conversation"]["messages"][-1]["status"] == "streaming"
            run.session.stop()
            await run.finished()

    scenario(go)


# --- delete and undo ---------------------------------------------------------------------

def test_delete_takes_what_followed_and_undo_brings_it_all_back(
        server: ProviderServer, tmp_path: Path) -> None:
    server.enqueue(Script(content="One."), Script(content="Two."), Script(content="Two b."))

    async def go() -> None:
        async with running(server, tmp_path) as run:
            await run.ask("Question one")
            await run.ask("Question two")
            run.session.regenerate(target=run.target)
            await run.finished()
            question_two = run.conv.messages[2]
            deleted = run.session.delete_message(question_two.id)
            assert deleted.count == 3
            assert deleted.summary() == "Deleted the question and 2 later messages " \
                                        "(on 2 branches)"
            assert run.texts() == ["Question one", "One."]
            assert run.saved_texts() == ["Question one", "One."]
            assert run.session.undo_count == 1
            assert ("undo_changed", 1) in run.seen
            assert run.session.undo_delete() is deleted
            assert run.texts() == ["Question one", "One.", "Question two", "Two b."]
            assert sorted(run.saved_texts()) == sorted(
                ["Question one", "One.", "Question two", "Two.", "Two b."])
            assert run.session.undo_count == 0
            assert run.session.undo_delete() is None

    scenario(go)


def test_undo_reopens_a_conversation_that_is_no_longer_shown(
        server: ProviderServer, tmp_path: Path) -> None:
    server.enqueue(Script(content="One."))

    async def go() -> None:
        async with running(server, tmp_path) as run:
            await run.ask("Question one")
            first = run.conv
            run.session.delete_message(first.messages[1].id)
            run.session.new_conversation()
            assert first.id not in run.session.open_ids()        # released from memory
            run.session.undo_delete()
            assert run.conv.id == first.id
            assert run.texts() == ["Question one", "One."]
            assert run.saved_texts() == ["Question one", "One."]

    scenario(go)


def test_a_forgotten_conversation_is_never_saved_again(
        server: ProviderServer, tmp_path: Path) -> None:
    server.enqueue(Script(content="slow words here", stall=True, fault_after=1))

    async def go() -> None:
        async with running(server, tmp_path) as run:
            assert run.session.send("Go", target=run.target)
            conv_id = run.conv.id
            await run.until(lambda: run.library.path_for(conv_id).exists())
            run.library.wait()
            run.library.delete(conv_id)
            run.session.forget(conv_id)
            await run.finished()
            run.library.wait()
            assert not run.library.path_for(conv_id).exists()
            assert run.session.current is None

    scenario(go)


def test_a_failed_autosave_is_reported(server: ProviderServer, tmp_path: Path) -> None:
    server.enqueue(Script(content="Kept in memory."))

    async def go() -> None:
        async with running(server, tmp_path) as run:
            run.library.folder.parent.mkdir(parents=True, exist_ok=True)
            run.library.folder.write_text("a file where the folder should be")
            await run.ask("Save me")
            await run.until(lambda: any(e[0] == "save_failed" for e in run.seen))
            reason = next(e[1] for e in run.seen if e[0] == "save_failed")
            assert "could not be saved" in reason
            assert run.texts() == ["Save me", "Kept in memory."]
            run.library.folder.unlink()

    scenario(go)
