"""Rendering the page above the view before the person scrolls to it.

Markdown and Pygments are about half of what bringing in an earlier page of a long
conversation costs (a page of 20 answers with code and tables: ~330 of ~860 ms at a
load of 6 on two cores). The view stands still between pages, so the answers of the
next page up are rendered into the transcript's `RenderCache` beforehand, one answer
per timer tick (a few milliseconds each, so input and paint get their turn between
them); the page then costs only its insert. Nothing is rendered while an answer
streams: that time belongs to the stream.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer

from qwenvl_desktop.core.conversation import Message
from qwenvl_desktop.core.markdown_render import CodePalette

from .transcript_html import RenderCache

__all__ = ["RenderAhead"]

# After a conversation opens, wait this long before rendering ahead: the first screen
# and whatever else start-up does come first.
OPEN_DELAY_MS = 250


class RenderAhead(QObject):
    """Renders answers into a `RenderCache` in idle time, newest first."""

    def __init__(self, cache: RenderCache, busy: Callable[[], bool],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._cache = cache
        self._busy = busy                   # True while rendering must wait (streaming)
        self._queue: list[Message] = []
        self._palette: CodePalette | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._tick)

    def start(self, messages: list[Message], palette: CodePalette,
              delay_ms: int = 0) -> None:
        """Render these messages' markdown ahead, in the code colours of `palette` (the
        scheme's, which the cache keys on); any still queued are dropped."""
        self._queue = [m for m in messages if m.role == "assistant" and m.text]
        self._palette = palette
        if self._queue:
            self._timer.start(delay_ms)
        else:
            self._timer.stop()

    def stop(self) -> None:
        self._queue = []
        self._timer.stop()

    @property
    def pending(self) -> int:
        return len(self._queue)

    def _tick(self) -> None:
        if not self._queue or self._palette is None:
            return
        if self._busy():
            self._timer.start(OPEN_DELAY_MS)
            return
        self._cache.rendered(self._queue.pop(), self._palette)
        if self._queue:
            self._timer.start(0)
