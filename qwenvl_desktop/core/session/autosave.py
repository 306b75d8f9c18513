"""The session's autosave policy: every conversation with messages is on disk, always.

One `Throttle` per conversation: a change is saved at once unless a save ran in the
last `delay` seconds, and then once when that time is up — so while an answer streams
the file is rewritten at most every two seconds and always ends with the last state.
A turn that ends, a delete, an undo or switching away saves at once.

Saving costs the calling (GUI) thread a snapshot; the library's writer thread does the
rest (see `ConversationLibrary.save_soon`). A failure comes back from the writer and is
handed to `on_failure` on the event loop's thread; so is another program's version of
the file, kept by the library as a conversation of its own (`on_other_version`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from concurrent.futures import Future

from ..conversation import Conversation
from ..errors import QwenVLError, explain
from ..i18n import N_
from ..library import ConversationLibrary, SaveResult
from ..throttle import Throttle

__all__ = ["AUTOSAVE_EVERY_S", "Autosaver"]

log = logging.getLogger(__name__)

AUTOSAVE_EVERY_S = 2.0
# Stored in files as the untitled marker, always in English (other code compares with it);
# the window shows it translated (N_ only marks it for extraction).
DEFAULT_TITLE = N_("New conversation")


class Autosaver:
    def __init__(self, library: ConversationLibrary, *, delay: float = AUTOSAVE_EVERY_S,
                 before_save: Callable[[Conversation], None] = lambda _conv: None,
                 on_failure: Callable[[str], None] = lambda _reason: None,
                 on_other_version: Callable[[str], None] = lambda _title: None) -> None:
        self.library = library
        self.delay = delay
        self._before_save = before_save
        self._on_failure = on_failure
        self._on_other_version = on_other_version
        self._throttles: dict[str, tuple[Conversation, Throttle]] = {}
        self._forgotten: set[str] = set()

    def changed(self, conv: Conversation) -> None:
        """The conversation changed: save it now, or when the interval is up."""
        held = self._throttles.get(conv.id)
        if held is None or held[0] is not conv:
            if held is not None:
                held[1].flush()
            held = (conv, Throttle(lambda: self._save(conv), self.delay))
            self._throttles[conv.id] = held
        held[1]()

    def save_now(self, conv: Conversation) -> None:
        held = self._throttles.get(conv.id)
        if held is not None:
            held[1].cancel()
        self._save(conv)

    def forget(self, conv_id: str) -> None:
        """The conversation was deleted: nothing may write it again (until `allow`)."""
        held = self._throttles.pop(conv_id, None)
        if held is not None:
            held[1].cancel()
        self._forgotten.add(conv_id)

    def allow(self, conv_id: str) -> None:
        self._forgotten.discard(conv_id)

    def flush_all(self) -> None:
        """Run every waiting save now (closing)."""
        for _conv, throttle in list(self._throttles.values()):
            throttle.flush()

    def _save(self, conv: Conversation) -> None:
        if conv.id in self._forgotten or not conv.all_messages():
            return                       # deleted, or new and empty: no file for it
        self._before_save(conv)
        if conv.title == DEFAULT_TITLE:
            conv.title = conv.auto_title()
        try:
            future = self.library.save_soon(conv)
        except QwenVLError as err:
            self._on_failure(explain(err))
            return
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None                  # closing without a loop: the caller waits
        future.add_done_callback(lambda done: self._report(done, loop))

    def _report(self, future: Future[SaveResult],
                loop: asyncio.AbstractEventLoop | None) -> None:
        """On the writer thread: hand a failure, or another program's version kept, to the
        loop's thread."""
        err = future.exception()
        if err is None:
            other = future.result().other_version
            if other is not None and loop is not None:
                with contextlib.suppress(RuntimeError):     # the loop is already closed
                    loop.call_soon_threadsafe(self._on_other_version, other.title)
            return
        reason = explain(err)
        if loop is None:
            log.warning("autosave failed while closing: %s", reason)
            return
        with contextlib.suppress(RuntimeError):         # the loop is already closed
            loop.call_soon_threadsafe(self._on_failure, reason)
