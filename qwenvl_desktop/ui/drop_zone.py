"""The first screen's invitation to bring an image: a dashed area to drop or paste a
screenshot on, with a button that opens the file picker — on the first-run panel, and
over an empty conversation's transcript."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QMimeData, QObject, QSize, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDragLeaveEvent, QDropEvent
from PySide6.QtWidgets import (
    QFrame,
    QLabel,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from ..core.i18n import _
from .theme.icons import icon
from .theme.tokens import ICON, SPACE

__all__ = ["DropZone", "EmptyConversationHint"]


class DropZone(QFrame):
    """`dropped(mime)` for anything dropped on it; `attach_requested()` for its button."""

    dropped = Signal(QMimeData)
    attach_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("dropZone")
        self.setAccessibleName(_("Drop an image here"))
        self.setAcceptDrops(True)
        picture = QLabel(self)
        picture.setPixmap(icon("drop", "link").pixmap(QSize(ICON.hero, ICON.hero)))
        picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        title = QLabel(_("Drop or paste a screenshot here"), self)
        title.setProperty("role", "subtitle")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        keys = QLabel(_("Ctrl+V pastes an image · Ctrl+Shift+X takes a screenshot · PDFs and "
                        "videos work too"), self)
        keys.setProperty("role", "caption")
        keys.setAlignment(Qt.AlignmentFlag.AlignCenter)
        keys.setWordWrap(True)
        self.choose_button = QPushButton(icon("attach"), _("Choose a file…"), self)
        self.choose_button.setAccessibleName(_("Choose a file to attach"))
        self.choose_button.clicked.connect(self.attach_requested.emit)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(SPACE.xl, SPACE.xl, SPACE.xl, SPACE.xl)
        layout.setSpacing(SPACE.sm)
        layout.addWidget(picture)
        layout.addWidget(title)
        layout.addWidget(keys)
        layout.addSpacing(SPACE.xs)
        layout.addWidget(self.choose_button, 0, Qt.AlignmentFlag.AlignHCenter)

    def _highlight(self, on: bool) -> None:
        self.setProperty("drop", on)
        self.style().unpolish(self)
        self.style().polish(self)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        event.acceptProposedAction()
        self._highlight(True)

    def dragMoveEvent(self, event: QEvent) -> None:
        assert hasattr(event, "acceptProposedAction")
        event.acceptProposedAction()

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:
        self._highlight(False)
        super().dragLeaveEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        self._highlight(False)
        mime = event.mimeData()
        if mime is not None:
            event.acceptProposedAction()
            self.dropped.emit(mime)


class EmptyConversationHint(QObject):
    """A drop zone in the middle of the transcript while its conversation is empty."""

    def __init__(self, view: QTextBrowser, zone: DropZone) -> None:
        super().__init__(view)
        self._view = view
        self.zone = zone
        zone.setParent(view.viewport())
        zone.setMaximumWidth(520)
        view.viewport().installEventFilter(self)
        view.document().contentsChanged.connect(self.update)
        self.update()

    def update(self) -> None:
        empty = self._view.document().characterCount() <= 1
        if empty:
            self._place()
        self.zone.setVisible(empty)

    def _place(self) -> None:
        area = self._view.viewport().rect()
        hint = self.zone.sizeHint()
        width = min(self.zone.maximumWidth(), area.width() - 2 * SPACE.lg)
        height = min(hint.height(), area.height() - 2 * SPACE.lg)
        self.zone.setGeometry(area.center().x() - width // 2, area.center().y() - height // 2,
                              width, height)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        del watched
        if event.type() == QEvent.Type.Resize and self.zone.isVisible():
            self._place()
        return False
