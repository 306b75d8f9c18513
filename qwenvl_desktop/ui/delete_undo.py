"""Undo for deleted conversations: a status-bar button offered until the window closes.

Deleting moves the conversation's file to the library's trash (`ConversationLibrary.
delete`); this keeps the deletions of this window's session, last first, and the
button brings the last one back (`ConversationLibrary.restore`). It is a permanent
status-bar widget, so a passing status message does not take the offer away.
"""

from __future__ import annotations

import contextlib
import logging
from concurrent.futures import Future
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QStatusBar, QToolButton

from qwenvl_desktop.core.errors import QwenVLError, explain
from qwenvl_desktop.core.library import ConversationLibrary

from ..core.i18n import _

__all__ = ["DeleteUndo"]

log = logging.getLogger(__name__)

_TITLE_CHARS = 32


class DeleteUndo(QObject):
    """The deletions that can still be undone, and the button that undoes the last."""

    #: The id of a conversation brought back (it may differ from the deleted one).
    restored = Signal(str)
    #: A delete or a restore went wrong: a title and the explained reason.
    failed = Signal(str, str)
    #: From the library's writer thread: a move to the trash failed (id, reason).
    _move_failed = Signal(str, str)

    def __init__(self, library: ConversationLibrary, status_bar: QStatusBar,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._library = library
        self._deleted: list[tuple[str, str]] = []      # (id, title), the last one last
        self.button = QToolButton(status_bar)
        self.button.setObjectName("undoDeleteButton")
        self.button.clicked.connect(self.undo)
        status_bar.addPermanentWidget(self.button)
        self._move_failed.connect(self._on_move_failed)
        self._update()

    def offer(self, conv_id: str, title: str, moved: Future[Path | None]) -> None:
        """A conversation was deleted (`moved`: its move to the trash): offer its undo."""
        self._deleted.append((conv_id, title))
        moved.add_done_callback(lambda f: self._check_move(conv_id, f))
        self._update()

    def undo(self) -> str | None:
        """Bring back the last conversation deleted; its id, or None when it could not be."""
        if not self._deleted:
            return None
        conv_id, _title = self._deleted.pop()
        self._update()
        try:
            restored = self._library.restore(conv_id)
        except QwenVLError as err:
            self.failed.emit(_("Could not bring the conversation back"), explain(err))
            return None
        log.info("conversation %s restored from the trash as %s", conv_id, restored)
        self.restored.emit(restored)
        return restored

    def _check_move(self, conv_id: str, moved: Future[Path | None]) -> None:
        """On the writer thread: report a move that failed (queued to the GUI thread)."""
        err = moved.exception()
        if err is not None:
            reason = explain(err) if isinstance(err, QwenVLError) else str(err)
            with contextlib.suppress(RuntimeError):     # the window is already gone
                self._move_failed.emit(conv_id, reason)

    def _on_move_failed(self, conv_id: str, reason: str) -> None:
        # The conversation was not deleted after all: nothing to undo.
        self._deleted = [(cid, t) for cid, t in self._deleted if cid != conv_id]
        self._update()
        self.failed.emit(_("Could not delete the conversation"), reason)

    def _update(self) -> None:
        if not self._deleted:
            self.button.hide()
            return
        title = self._deleted[-1][1]
        short = title if len(title) <= _TITLE_CHARS else title[:_TITLE_CHARS - 1] + "…"
        self.button.setText(_("Undo delete of “{short}”").format(short=short))
        self.button.setToolTip(_("Bring back “{title}” from the trash ({count} deleted in this "
                                 "window)").format(title=title, count=len(self._deleted)))
        self.button.show()
