"""Preparing the page above the view before the person scrolls to it.

Markdown and Pygments are about half of what bringing in an earlier page of a long
conversation costs (a page of 20 answers with code and tables: ~330 of ~860 ms at a
load of 6 on two cores), and writing the page's HTML into a scratch document is about
a third of what is left (transcript_page.py). The view stands still between pages, so
the next page up is prepared beforehand, a message per timer tick (rendered into the
transcript's `RenderCache` and written into a `ScratchPage`, a few milliseconds each,
so input and paint get their turn between them); the page then costs only its insert.
Nothing is prepared while an answer streams: that time belongs to the stream.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer

from qwenvl_desktop.core.conversation import Message

from .transcript_page import ScratchPage

__all__ = ["RenderAhead"]

# After a conversation opens, wait this long before preparing ahead: the first screen
# and whatever else start-up does come first.
OPEN_DELAY_MS = 250
# One tick prepares messages until it has taken this long (at least one message).
_TICK_BUDGET_S = 0.004


class RenderAhead(QObject):
    """Writes the next earlier page into a `ScratchPage` in idle time, oldest first."""

    def __init__(self, html_of: Callable[[Message], str], busy: Callable[[], bool],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._html_of = html_of             # the message's HTML, rendered or from cache
        self._busy = busy                   # True while preparing must wait (streaming)
        self._queue: list[Message] = []
        self._page: ScratchPage | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._tick)

    def start(self, messages: list[Message], delay_ms: int = 0) -> None:
        """Prepare these messages (the next page up, in order); a page still being
        prepared is dropped."""
        self._queue = list(reversed(messages))      # popped from the end: oldest first
        self._page = ScratchPage() if messages else None
        if self._queue:
            self._timer.start(delay_ms)
        else:
            self._timer.stop()

    def stop(self) -> None:
        self._queue = []
        self._page = None
        self._timer.stop()

    def take(self) -> ScratchPage | None:
        """The page prepared so far (maybe not all of it); preparing stops."""
        page = self._page
        self.stop()
        return page

    @property
    def pending(self) -> int:
        return len(self._queue)

    def _tick(self) -> None:
        page = self._page
        if page is None:
            return
        if self._busy():
            self._timer.start(OPEN_DELAY_MS)
            return
        if not self._queue:
            page.fragment()             # in a tick of its own, not when the page comes in
            return
        began = time.perf_counter()
        while self._queue and time.perf_counter() - began < _TICK_BUDGET_S:
            page.add(self._html_of(self._queue.pop()))
        self._timer.start(0)            # the rest, or the fragment
