"""Help › Keyboard Shortcuts: every window action with its keys, menu by menu, then the
keys that act inside one pane (the conversation, the message field, the picker, the
image viewer). Read from the actions themselves, so the list cannot drift from them."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QMainWindow,
    QMenu,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
)

from ..core.i18n import _
from . import accessibility_text as text

__all__ = ["ShortcutsDialog", "shortcut_rows"]


def shortcut_rows(window: QMainWindow) -> list[tuple[str, list[tuple[str, str]]]]:
    """(group, [(action, keys)]) for each menu of `window` with keyed actions, then the
    in-pane keys."""
    groups: list[tuple[str, list[tuple[str, str]]]] = []
    for top in window.menuBar().actions():
        menu = top.menu()
        if not isinstance(menu, QMenu):
            continue
        rows = []
        for action in menu.actions():
            keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            if keys and not action.isSeparator():
                rows.append((action.text().replace("&", ""), keys))
        if rows:
            groups.append((top.text().replace("&", ""), rows))
    groups.extend((_(title), [(_(what), _(keys)) for what, keys in rows])
                  for title, rows in text.SHORTCUT_GROUPS)
    return groups


class ShortcutsDialog(QDialog):
    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self.setWindowTitle(_(text.SHORTCUTS_TITLE))
        self.setAccessibleName(_(text.SHORTCUTS_TITLE))
        self.tree = QTreeWidget(self)
        self.tree.setAccessibleName(_(text.SHORTCUTS_TITLE))
        self.tree.setColumnCount(2)
        self.tree.setHeaderLabels([_(column) for column in text.SHORTCUTS_COLUMNS])
        self.tree.setRootIsDecorated(False)
        for title, rows in shortcut_rows(window):
            group = QTreeWidgetItem(self.tree, [title])
            font = group.font(0)
            font.setBold(True)
            group.setFont(0, font)
            group.setFirstColumnSpanned(True)
            # The empty Keys cell of a heading row still reaches a screen reader.
            group.setData(1, Qt.ItemDataRole.AccessibleTextRole, title)
            for words, keys in rows:
                QTreeWidgetItem(group, [words, keys])
        self.tree.expandAll()
        self.tree.resizeColumnToContents(0)
        hint = QLabel(_(text.SHORTCUTS_HINT), self)
        hint.setWordWrap(True)
        hint.setProperty("role", "muted")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tree, 1)
        layout.addWidget(hint)
        layout.addWidget(buttons)
        self.resize(620, 640)
        self.tree.setFocus()
