"""The strip above the chat: the list and parameter toggles, a new conversation, the
conversation's title and Settings — icon buttons bound to the window's own actions (so
menu, shortcut and button are one thing, checked state included)."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QToolButton, QWidget

from ...core.i18n import _
from ..theme.icons import icon
from ..theme.tokens import ICON, SPACE

__all__ = ["HeaderBar"]


class HeaderBar(QWidget):
    def __init__(self, actions: dict[str, QAction], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("header")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self.buttons: dict[str, QToolButton] = {}
        self.title = QLabel(self)
        self.title.setProperty("role", "subtitle")
        self.title.setAccessibleName(_("Conversation title"))
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(SPACE.sm, SPACE.xs, SPACE.sm, SPACE.xs)
        layout.setSpacing(SPACE.xxs)
        for name, picture in (("toggle_list", "sidebar"), ("new", "new")):
            layout.addWidget(self._button(actions[name], picture))
        layout.addWidget(self.title, 1)
        for name, picture in (("toggle_params", "parameters"), ("settings", "settings")):
            layout.addWidget(self._button(actions[name], picture))

    def _button(self, action: QAction, picture: str) -> QToolButton:
        action.setIcon(icon(picture))
        button = QToolButton(self)
        button.setDefaultAction(action)
        button.setIconSize(QSize(ICON.large, ICON.large))
        button.setAutoRaise(True)
        # The action's words (without the menu's & marker), for tooltips and screen readers.
        words = action.text().replace("&", "")
        shortcut = action.shortcut().toString(action.shortcut().SequenceFormat.NativeText)
        button.setToolTip(f"{words} ({shortcut})" if shortcut else words)
        button.setAccessibleName(words)
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        self.buttons[action.objectName()] = button
        return button

    def set_title(self, title: str) -> None:
        self.title.setText(title)
        self.title.setToolTip(title)
