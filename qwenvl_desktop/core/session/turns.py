"""Running chat turns as asyncio tasks: one per conversation, several at once.

Each task checks for a key, prepares what was attached (the injected `prepare`, on
worker threads), encodes the images the request will carry (also on a worker thread),
then runs `core.turn.send_turn` or `answer_again` on whatever loop is running — qasync
in the window, a plain loop in tests — and turns the turn's hooks into session events.
Stopping cancels the task, which closes the stream at once; the partial answer stays,
marked stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..api.types import ContentDelta, ReasoningDelta, Retrying, StreamEvent
from ..catalog import Provider
from ..conversation import Conversation
from ..errors import ProviderError, QwenVLError, explain
from ..turn import ChatSource, Turn, answer_again, send_turn
from .autosave import Autosaver
from .events import SessionEvents
from .state import Attachment, PrepareItems, Refusal, TurnTarget, retry_notice

if TYPE_CHECKING:
    from ..images import PreparedImage
    from ..media import PreparedMedia

__all__ = ["TurnRunner", "prepare_attachments"]

log = logging.getLogger(__name__)


@dataclass
class _Running:
    conversation: Conversation
    task: asyncio.Task[None] | None = None
    turn: Turn | None = None


class TurnRunner:
    def __init__(self, source: ChatSource, events: SessionEvents, autosave: Autosaver, *,
                 api_key: Callable[[Provider], str | None],
                 drop_old_images: Callable[[], bool],
                 prepare: PrepareItems,
                 on_started: Callable[[Conversation, Turn], None],
                 on_finished: Callable[[Conversation], None]) -> None:
        self._source = source
        self._prepare = prepare
        self._events = events
        self._autosave = autosave
        self._api_key = api_key
        self._drop_old_images = drop_old_images
        self._on_started = on_started
        self._on_finished = on_finished
        self._running: dict[str, _Running] = {}

    # --- queries ----------------------------------------------------------------------

    def is_streaming(self, conv_id: str) -> bool:
        return conv_id in self._running

    def streaming_ids(self) -> list[str]:
        return list(self._running)

    def turn_for(self, conv_id: str) -> Turn | None:
        running = self._running.get(conv_id)
        return running.turn if running else None

    # --- commands ---------------------------------------------------------------------

    def send(self, conv: Conversation, text: str, attachments: Sequence[Any],
             target: TurnTarget, sibling_of: str | None) -> None:
        async def run(running: _Running) -> None:
            try:
                api_key = self._api_key(target.provider)   # refuse early: nothing sent
                images = list(await self._prepare(attachments, target)) if attachments \
                    else []
            except QwenVLError as err:
                self._events.refused.emit(conv.id, Refusal(
                    err.kind, explain(err), given_back=(text, attachments)))
                return
            await _encode(conv, images)
            on_start, on_event = self._hooks(running)
            await send_turn(self._source, conv, target.provider, target.model,
                            target.params, text, images, api_key=api_key,
                            sibling_of=sibling_of,
                            drop_old_images=self._drop_old_images(),
                            on_start=on_start, on_event=on_event)

        self._start(conv, run)

    def answer_again(self, conv: Conversation, question_id: str, target: TurnTarget) -> None:
        async def run(running: _Running) -> None:
            try:
                api_key = self._api_key(target.provider)
            except QwenVLError as err:
                self._events.refused.emit(conv.id, Refusal(err.kind, explain(err)))
                return
            await _encode(conv, [])
            on_start, on_event = self._hooks(running)
            await answer_again(self._source, conv, question_id, target.provider,
                               target.model, target.params, api_key=api_key,
                               drop_old_images=self._drop_old_images(),
                               on_start=on_start, on_event=on_event)

        self._start(conv, run)

    def stop(self, conv_id: str) -> bool:
        """Cancel the conversation's turn; the partial answer stays, marked stopped."""
        running = self._running.get(conv_id)
        if running is None or running.task is None or running.task.done():
            return False
        running.task.cancel()
        return True

    async def aclose(self) -> None:
        """Stop every turn and wait until each has ended."""
        tasks = [r.task for r in self._running.values() if r.task is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # --- the task ---------------------------------------------------------------------

    def _start(self, conv: Conversation,
               run: Callable[[_Running], Awaitable[None]]) -> None:
        running = _Running(conversation=conv)
        self._running[conv.id] = running
        running.task = asyncio.get_running_loop().create_task(self._guard(running, run))
        self._events.busy_changed.emit(conv.id, True)

    async def _guard(self, running: _Running,
                     run: Callable[[_Running], Awaitable[None]]) -> None:
        conv = running.conversation
        try:
            await run(running)
        except asyncio.CancelledError:
            pass                    # stopped: the answer (if any) is marked stopped
        except ProviderError:
            pass                    # the answer shows the explained error
        except Exception:
            # Not a provider's failure: a bug. The answer says "Unexpected error"; the
            # log gets the traceback.
            log.exception("a chat turn failed unexpectedly")
        finally:
            self._running.pop(conv.id, None)
            turn = running.turn
            if turn is not None:
                self._autosave.save_now(conv)
                self._events.turn_ended.emit(conv.id, turn.answer.id)
            self._events.busy_changed.emit(conv.id, False)
            self._on_finished(conv)

    def _hooks(self, running: _Running
               ) -> tuple[Callable[[Turn], None], Callable[[StreamEvent], None]]:
        conv = running.conversation

        def on_start(turn: Turn) -> None:
            running.turn = turn
            # Saved first: a new conversation's first save puts it in the library's
            # list, which `_on_started` has the window show (it was missing from the
            # list until its first answer ended).
            self._autosave.changed(conv)
            self._on_started(conv, turn)
            self._events.turn_started.emit(conv.id, turn.answer.id)

        def on_event(event: StreamEvent) -> None:
            # From the stream worker, deltas come joined: one per kind and frame.
            answer_id = running.turn.answer.id if running.turn else ""
            if isinstance(event, ContentDelta):
                self._events.content_delta.emit(conv.id, answer_id, event.text)
            elif isinstance(event, ReasoningDelta):
                self._events.reasoning_delta.emit(conv.id, answer_id, event.text)
            elif isinstance(event, Retrying):
                self._events.retrying.emit(conv.id, answer_id, retry_notice(
                    event.delay, event.attempt, event.reason))
            self._autosave.changed(conv)

        return on_start, on_event


async def prepare_attachments(items: Sequence[Any],
                              target: TurnTarget) -> list[PreparedImage | PreparedMedia]:
    """The default `prepare`: images given as data (see `Attachment`), each checked,
    resized and encoded for the model on a worker thread."""
    from ..images import image_byte_budget, prepare_image_async

    attachments: Sequence[Attachment] = items
    budget = image_byte_budget(target.provider, len(attachments))
    return [await prepare_image_async(
        item.data, name=item.name, model=target.model, provider=target.provider,
        high_resolution=target.high_resolution, max_bytes=budget, source_url=item.source_url)
        for item in attachments]


async def _encode(conv: Conversation, new: Sequence[PreparedImage | PreparedMedia]) -> None:
    """Make the data URIs of the conversation's images and of the new ones on a worker
    thread, once: the request then only refers to them (20 × 1 MB made on the GUI
    thread: a stall of tens of milliseconds at the first send after opening)."""
    from ..media import PreparedMedia

    stored = [image for image in conv.images.values() if image.data]
    for item in new:
        frames = item.frames if isinstance(item, PreparedMedia) else (item,)
        stored += [frame.to_stored() for frame in frames]     # the very objects sent
    if stored:
        await asyncio.to_thread(lambda: [image.data_uri() for image in stored])
