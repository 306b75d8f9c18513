"""Runs chat turns and reports them as Qt signals, a few times a second at most.

The turn itself is `services.send_turn` (Qt-free, shared with the terminal command).
This controller starts it as an asyncio task on the GUI (qasync) loop — one per
conversation, so several conversations can stream at once — and turns its callbacks
into signals the window connects to. `send_turn` keeps every change to the
`Conversation` on the GUI thread; only its event source is elsewhere: the stream is read
by a `StreamWorker` (stream_worker.py) on its own thread and loop, which hands the GUI
batches of events at most once a frame, consecutive deltas joined into one. So the GUI
sees one `content_delta` / `reasoning_delta` signal per frame and conversation, never
one per token. Stopping cancels the task, which closes the HTTP stream at once.

Signals carry ids, not objects: the window owns the conversations and looks them up.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import QObject, Signal

from qwenvl_desktop.core.api.types import (
    ChatMessage,
    ChatParams,
    ContentDelta,
    ReasoningDelta,
    Retrying,
    StreamEvent,
)
from qwenvl_desktop.core.catalog import Model, Provider
from qwenvl_desktop.core.conversation import Conversation, Message
from qwenvl_desktop.core.errors import QwenVLError, explain

if TYPE_CHECKING:
    from qwenvl_desktop.core.images import PreparedImage
    from qwenvl_desktop.core.media import PreparedMedia
    from qwenvl_desktop.services import Services

    from .stream_worker import StreamWorker

__all__ = ["ChatController", "EventSource", "PrepareImages", "retry_notice"]

PrepareImages = Callable[[], Awaitable[Sequence["PreparedImage | PreparedMedia"]]]


@dataclass
class _Turn:
    conversation: Conversation
    task: asyncio.Task[None] | None = None
    user: Message | None = None
    answer: Message | None = None
    stopping: bool = False
    # What has streamed so far, for showing the turn again after switching away.
    text: list[str] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)


class EventSource(Protocol):
    """What `send_turn` needs of a chat client: `ChatClient` or `StreamWorker`."""

    def stream_chat(self, provider: Provider, model: Model, messages: Sequence[ChatMessage],
                    params: ChatParams, *, api_key: str | None
                    ) -> AsyncIterator[StreamEvent]: ...


class _StartNotifier:
    """Stands in for the chat client to learn the moment `send_turn` has appended the
    person's message and the (empty) answer — right before the request goes out."""

    def __init__(self, client: EventSource, on_start: Callable[[], None]) -> None:
        self._client = client
        self._on_start = on_start

    def stream_chat(self, provider: Provider, model: Model, messages: Sequence[ChatMessage],
                    params: ChatParams, *, api_key: str | None) -> AsyncIterator[StreamEvent]:
        self._on_start()
        return self._client.stream_chat(provider, model, messages, params, api_key=api_key)


def retry_notice(delay: float, attempt: int, reason: str) -> str:
    """The status-bar line while a request waits to be retried ("0.302421 s" read badly)."""
    when = f"{delay:.1f} s" if delay < 10 else f"{delay:.0f} s"
    return f"Retrying in {when} (attempt {attempt}): {reason}"


class ChatController(QObject):
    """One asyncio task per streaming conversation; Qt signals for what happens."""

    #: conversation id, user message id, answer message id
    turn_started = Signal(str, str, str)
    #: conversation id, answer message id, text
    reasoning_delta = Signal(str, str, str)
    content_delta = Signal(str, str, str)
    #: conversation id, answer message id, what is happening ("Retrying in 2 s: ...")
    retrying = Signal(str, str, str)
    #: conversation id, answer message id — the answer ended however it ended (see status)
    turn_ended = Signal(str, str)
    #: conversation id, explained reason: the turn was refused before anything was sent
    refused = Signal(str, str)
    #: conversation id: the partial answer should be autosaved now
    progress = Signal(str)
    #: conversation id, streaming?
    busy_changed = Signal(str, bool)

    def __init__(self, services: Services, parent: QObject | None = None, *,
                 source: EventSource | None = None) -> None:
        """`source` reads the streams; by default a `StreamWorker` with its own HTTP
        client made like the app's (`make_http_client`), closed by `aclose()`."""
        super().__init__(parent)
        self._services = services
        self._turns: dict[str, _Turn] = {}
        self._worker: StreamWorker | None = None
        if source is None:
            from qwenvl_desktop.services import make_http_client

            from .stream_worker import StreamWorker

            self._worker = StreamWorker(lambda: services.client,
                                        lambda: make_http_client(services.settings))
            source = self._worker
        self._source = source

    # --- queries ----------------------------------------------------------------------

    def is_streaming(self, conversation_id: str) -> bool:
        return conversation_id in self._turns

    def streaming_ids(self) -> list[str]:
        return list(self._turns)

    def answer_for(self, conversation_id: str) -> Message | None:
        """The answer being streamed in a conversation (None when idle or not started)."""
        turn = self._turns.get(conversation_id)
        return turn.answer if turn else None

    def partial_answer(self, conversation_id: str) -> Message | None:
        """A snapshot of the answer being streamed, holding everything received so far."""
        turn = self._turns.get(conversation_id)
        if turn is None or turn.answer is None:
            return None
        return dataclasses.replace(turn.answer, text="".join(turn.text),
                                   reasoning="".join(turn.reasoning))

    # --- commands ---------------------------------------------------------------------

    def send(self, conversation: Conversation, provider: Provider, model: Model,
             params: ChatParams, text: str, prepare: PrepareImages | None = None) -> bool:
        """Start a turn; False when that conversation is already streaming."""
        if conversation.id in self._turns:
            return False
        turn = _Turn(conversation=conversation)
        self._turns[conversation.id] = turn
        turn.task = asyncio.ensure_future(
            self._run(turn, provider, model, params, text, prepare))
        self.busy_changed.emit(conversation.id, True)
        return True

    def stop(self, conversation_id: str) -> bool:
        """Cancel the conversation's turn; the partial answer stays, marked stopped."""
        turn = self._turns.get(conversation_id)
        if turn is None or turn.task is None or turn.task.done():
            return False
        turn.stopping = True
        turn.task.cancel()
        return True

    async def aclose(self) -> None:
        """Stop every turn, wait until each has ended, then stop the stream worker's
        thread (used on shutdown)."""
        tasks = [t.task for t in self._turns.values() if t.task is not None]
        for turn in self._turns.values():
            turn.stopping = True
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._worker is not None:
            self._worker.close()

    # --- the task ---------------------------------------------------------------------

    async def _run(self, turn: _Turn, provider: Provider, model: Model, params: ChatParams,
                   text: str, prepare: PrepareImages | None) -> None:
        from qwenvl_desktop.core.turn import Turn, send_turn

        conv = turn.conversation
        try:
            try:
                self._services.api_key(provider)     # refuse early: no key, nothing sent
                images = list(await prepare()) if prepare is not None else []
            except QwenVLError as err:
                self.refused.emit(conv.id, explain(err))
                return
            except asyncio.CancelledError:
                return

            def started(core_turn: Turn) -> None:
                turn.user, turn.answer = core_turn.question, core_turn.answer
                self.turn_started.emit(conv.id, turn.user.id, turn.answer.id)

            def on_event(event: StreamEvent) -> None:
                # Deltas arrive already joined, one per kind and frame (see StreamWorker).
                answer_id = turn.answer.id if turn.answer else ""
                if isinstance(event, ContentDelta):
                    turn.text.append(event.text)
                    self.content_delta.emit(conv.id, answer_id, event.text)
                elif isinstance(event, ReasoningDelta):
                    turn.reasoning.append(event.text)
                    self.reasoning_delta.emit(conv.id, answer_id, event.text)
                elif isinstance(event, Retrying):
                    self.retrying.emit(conv.id, answer_id, retry_notice(
                        event.delay, event.attempt, event.reason))

            try:
                await send_turn(
                    self._source, conv, provider, model, params, text, images,
                    api_key=self._services.api_key(provider),
                    drop_old_images=self._services.settings.drop_old_images,
                    on_start=started, on_event=on_event)
            except asyncio.CancelledError:
                pass            # send_turn marked the answer stopped; nothing to add
            except Exception:
                pass
        finally:
            self._turns.pop(conv.id, None)
            if turn.answer is not None:
                self.turn_ended.emit(conv.id, turn.answer.id)
            self.busy_changed.emit(conv.id, False)
