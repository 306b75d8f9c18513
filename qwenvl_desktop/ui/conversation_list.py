"""The list of saved conversations: new, rename, delete and search by text.

It shows `ConversationLibrary` summaries and asks the window to act; the window owns
the conversations (some may be streaming) and the library calls. A conversation that
exists only in memory (new, nothing sent yet) can be listed too via `set_entries`.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from PySide6.QtCore import QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QInputDialog,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ..core.i18n import _
from .theme.icons import icon
from .theme.tokens import SPACE
from .widgets import HintLabel

__all__ = ["ConversationList", "ListEntry", "plain_preview"]

_ID_ROLE = Qt.ItemDataRole.UserRole


@dataclass(frozen=True)
class ListEntry:
    """One row: a conversation's id, title, last change and a preview line."""

    id: str
    title: str
    updated: float
    preview: str = ""
    streaming: bool = False


def _when(timestamp: float) -> str:
    if time.time() - timestamp < 20 * 3600:
        return time.strftime("%H:%M", time.localtime(timestamp))
    return time.strftime("%d %b", time.localtime(timestamp))


_MARKDOWN_MARKS = re.compile(r"(\*\*|__|`+|^#+\s*|^>\s*)", re.MULTILINE)


def plain_preview(text: str) -> str:
    """A preview without markdown marks: the list shows text, not `**bold**` source."""
    return _MARKDOWN_MARKS.sub("", text).strip()


class ConversationList(QWidget):
    """Search box, list and New / Rename / Delete buttons."""

    new_requested = Signal()
    open_requested = Signal(str)
    rename_requested = Signal(str, str)   # id, new title
    delete_requested = Signal(str)
    search_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("conversationList")
        self.search_edit = QLineEdit(self)
        self.search_edit.setPlaceholderText(_("Search conversations"))
        self.search_edit.setAccessibleName(_("Search conversations"))
        self.search_edit.setClearButtonEnabled(True)
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self.list_widget = QListWidget(self)
        self.list_widget.setObjectName("conversationView")
        self.list_widget.setAccessibleName(_("Conversations"))
        self.list_widget.setUniformItemSizes(True)
        self.list_widget.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.list_widget.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list_widget.setWordWrap(False)
        self.empty_label = HintLabel("", self)
        self.empty_label.setAccessibleName(_("No matches"))
        self.empty_label.hide()
        self.new_button = QPushButton(icon("new", "on_accent", "on_accent"),
                                      _("New conversation"), self)
        self.new_button.setProperty("role", "primary")
        self.new_button.setAccessibleName(_("New conversation"))
        self.rename_button = QPushButton(icon("edit"), _("Rename"), self)
        self.rename_button.setAccessibleName(_("Rename conversation"))
        self.delete_button = QPushButton(icon("delete"), _("Delete"), self)
        self.delete_button.setAccessibleName(_("Delete conversation"))
        self.search_edit.addAction(icon("search"), QLineEdit.ActionPosition.LeadingPosition)

        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        buttons.setSpacing(SPACE.xs)
        for button in (self.rename_button, self.delete_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(SPACE.sm, SPACE.sm, SPACE.sm, SPACE.sm)
        layout.setSpacing(SPACE.sm)
        layout.addWidget(self.new_button)
        layout.addWidget(self.search_edit)
        layout.addWidget(self.empty_label)
        layout.addWidget(self.list_widget, 1)
        layout.addLayout(buttons)

        # Searching reads files on a large library: wait for a pause in typing.
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(200)
        self._search_timer.timeout.connect(
            lambda: self.search_changed.emit(self.search_edit.text()))
        self.search_edit.textChanged.connect(lambda _t: self._search_timer.start())
        self.list_widget.currentItemChanged.connect(self._on_current)
        self.new_button.clicked.connect(self.new_requested.emit)
        self.rename_button.clicked.connect(self.ask_rename)
        self.delete_button.clicked.connect(self._on_delete)
        self._update_buttons()

    # --- public ---------------------------------------------------------------------

    def set_entries(self, entries: list[ListEntry], current_id: str | None) -> None:
        """Show these rows (already sorted) and select `current_id` without signalling."""
        with QSignalBlocker(self.list_widget):
            self.list_widget.clear()
            for entry in entries:
                mark = "● " if entry.streaming else ""
                preview = plain_preview(entry.preview)
                item = QListWidgetItem(f"{mark}{entry.title}\n{_when(entry.updated)}"
                                       f"{'  ·  ' + preview if preview else ''}")
                item.setData(_ID_ROLE, entry.id)
                item.setToolTip(preview or entry.title)
                self.list_widget.addItem(item)
                if entry.id == current_id:
                    self.list_widget.setCurrentItem(item)
        query = self.search_edit.text().strip()
        # An empty list after a search looked like lost conversations: say why.
        self.empty_label.setText(_("No conversations contain “{query}”.").format(
            query=query) if query else "")
        self.empty_label.setVisible(bool(query) and not entries)
        self._update_buttons()

    def current_id(self) -> str | None:
        item = self.list_widget.currentItem()
        return str(item.data(_ID_ROLE)) if item is not None else None

    def ids(self) -> list[str]:
        return [str(self.list_widget.item(i).data(_ID_ROLE))
                for i in range(self.list_widget.count())]

    def search_text(self) -> str:
        return self.search_edit.text()

    def focus_search(self) -> None:
        """Put the cursor in the search box, its text selected (Ctrl+F)."""
        self.search_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search_edit.selectAll()

    def request_delete(self) -> None:
        """Ask the window to delete the selected conversation (to the trash; the status
        bar offers Undo)."""
        self._on_delete()

    def ask_rename(self) -> None:
        item = self.list_widget.currentItem()
        if item is None:
            return
        old = item.text().split("\n", 1)[0].removeprefix("● ")
        title, ok = QInputDialog.getText(self, _("Rename conversation"), _("Title:"), text=old)
        if ok and title.strip():
            self.rename_requested.emit(str(item.data(_ID_ROLE)), title.strip())

    # --- internals ------------------------------------------------------------------

    def _on_current(self, current: QListWidgetItem | None,
                    _previous: QListWidgetItem | None) -> None:
        self._update_buttons()
        if current is not None:
            self.open_requested.emit(str(current.data(_ID_ROLE)))

    def _on_delete(self) -> None:
        conv_id = self.current_id()
        if conv_id is not None:
            self.delete_requested.emit(conv_id)

    def _update_buttons(self) -> None:
        has = self.list_widget.currentItem() is not None
        self.rename_button.setEnabled(has)
        self.delete_button.setEnabled(has)
