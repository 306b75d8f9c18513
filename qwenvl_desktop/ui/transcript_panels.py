"""What the transcript area shows besides messages: the first-start panel, the image
viewer and a dismissable banner for notices that must not block the window."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QSize, Qt, Signal
from PySide6.QtGui import QGuiApplication, QImage, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from qwenvl_desktop.core.conversation import StoredImage

from ..core.i18n import _
from .drop_zone import DropZone
from .theme.icons import icon
from .theme.tokens import ICON, SPACE

__all__ = ["Banner", "ImageViewer", "WelcomePanel"]


class WelcomePanel(QScrollArea):
    """The first screen while no provider has a key: what the app does in one line, and
    the three ways to start — bring a screenshot, add a key, use a local server.

    It scrolls rather than asking for height: a panel that needs 450 pixels would make
    the window taller than a small screen once images are attached below it."""

    keys_requested = Signal()
    endpoint_requested = Signal()
    attach_requested = Signal()
    dropped = Signal(QMimeData)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("welcomePanel")
        self.setAccessibleName(_("Getting started"))
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        content = QWidget(self)
        content.setObjectName("welcomeContent")
        self.setWidget(content)
        title = QLabel(_("Ask Qwen about anything you can see"), self)
        title.setProperty("role", "hero")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        title.setWordWrap(True)
        text = QLabel(_("Screenshots, photos, PDFs and clips: drop one in, ask, and read the "
                        "answer as it is written."), self)
        text.setProperty("role", "muted")
        text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        text.setWordWrap(True)
        self.drop_zone = DropZone(self)
        self.drop_zone.dropped.connect(self.dropped)
        self.drop_zone.attach_requested.connect(self.attach_requested)
        self.keys_button = QPushButton(_("Add an API key…"), self)
        self.keys_button.setProperty("role", "primary")
        self.keys_button.setAccessibleName(_("Add an API key"))
        self.keys_button.setDefault(True)
        self.endpoint_button = QPushButton(_("Use a local server…"), self)
        self.endpoint_button.setAccessibleName(_("Add a custom endpoint"))
        self.keys_button.clicked.connect(self.keys_requested.emit)
        self.endpoint_button.clicked.connect(self.endpoint_requested.emit)
        keys_card = _start_card(
            self, "key", _("Add an API key"),
            _("Alibaba Model Studio, OVHcloud, AI/ML API, Nebula Block or Segmind."),
            self.keys_button)
        local_card = _start_card(
            self, "server", _("Use a local server"),
            _("vLLM, Ollama, LM Studio, llama.cpp or any OpenAI-compatible endpoint."),
            self.endpoint_button)
        self.storage_note = QLabel(self)
        self.storage_note.setProperty("role", "caption")
        self.storage_note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.storage_note.setWordWrap(True)
        self.set_keyring_available(True)

        cards = QHBoxLayout()
        cards.setSpacing(SPACE.md)
        cards.addWidget(keys_card, 1)
        cards.addWidget(local_card, 1)
        box = QVBoxLayout()
        box.setSpacing(SPACE.md)
        box.addWidget(title)
        box.addWidget(text)
        box.addSpacing(SPACE.sm)
        box.addWidget(self.drop_zone)
        box.addLayout(cards)
        box.addWidget(self.storage_note)
        inner = QWidget(content)
        inner.setLayout(box)
        inner.setMaximumWidth(640)
        outer = QVBoxLayout(content)
        outer.setContentsMargins(SPACE.lg, SPACE.lg, SPACE.lg, SPACE.lg)
        outer.addStretch(1)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(inner, 20)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(2)

    def set_keyring_available(self, secure: bool) -> None:
        """Say truthfully where a key entered now will be kept."""
        self.storage_note.setText(
            _("Keys are kept in your system's keyring, never in a file.") if secure else
            _("No secure keyring was found: keys you enter are kept for this session only "
              "(never in a file). Set the provider's environment variable to keep one."))


def _start_card(parent: QWidget, picture: str, title: str, text: str,
                button: QPushButton) -> QFrame:
    """One way to start: an icon, a title, a line, and its button."""
    card = QFrame(parent)
    card.setObjectName("startCard")
    heading = QLabel(title, card)
    heading.setProperty("role", "subtitle")
    mark = QLabel(card)
    mark.setPixmap(icon(picture, "link").pixmap(QSize(ICON.large, ICON.large)))
    line = QLabel(text, card)
    line.setProperty("role", "muted")
    line.setWordWrap(True)
    top = QHBoxLayout()
    top.setSpacing(SPACE.sm)
    top.addWidget(mark)
    top.addWidget(heading, 1)
    layout = QVBoxLayout(card)
    layout.setContentsMargins(SPACE.lg, SPACE.md, SPACE.lg, SPACE.md)
    layout.setSpacing(SPACE.sm)
    layout.addLayout(top)
    layout.addWidget(line, 1)
    layout.addWidget(button, 0, Qt.AlignmentFlag.AlignLeft)
    return card


class Banner(QFrame):
    """A one-line notice above the composer with an optional action and a close button."""

    action_triggered = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.label = QLabel(self)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.action_button = QPushButton(self)
        self.close_button = QPushButton(_("Dismiss"), self)
        self.close_button.setAccessibleName(_("Dismiss notice"))
        self.close_button.clicked.connect(self.hide)
        self._action = ""
        self.action_button.clicked.connect(lambda: self.action_triggered.emit(self._action))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.action_button)
        layout.addWidget(self.close_button)
        self.hide()

    def show_notice(self, text: str, action: str = "", action_label: str = "",
                    dismissable: bool = True) -> None:
        """Show `text`; with an action, a button that emits `action_triggered(action)`.

        `dismissable=False` hides the Dismiss button: for a notice that describes a mode
        (editing an earlier message) which only its own action may end.
        """
        self._action = action
        self.label.setText(text)
        self.setAccessibleName(_("Notice: {text}").format(text=text))
        self.action_button.setText(action_label)
        self.action_button.setVisible(bool(action))
        self.close_button.setVisible(dismissable or not action)
        self.show()

    def text(self) -> str:
        return self.label.text()

    def action(self) -> str:
        """The action the shown notice offers ("" for none)."""
        return self._action


class ImageViewer(QDialog):
    """An image at full size (as it was sent), scrollable when larger than the screen."""

    def __init__(self, image: StoredImage, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        name = image.original_name or _("Image")
        self.setWindowTitle(f"{name} — {image.width}×{image.height}")
        self.setAccessibleName(_("Image viewer"))
        label = QLabel(self)
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        label.setPixmap(QPixmap.fromImage(QImage.fromData(image.data)))
        scroll = QScrollArea(self)
        scroll.setWidget(label)
        scroll.setWidgetResizable(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll)
        layout.addWidget(buttons)
        screen = QGuiApplication.primaryScreen()
        room = screen.availableGeometry().size() * 0.85 if screen else None
        width, height = image.width + 40, image.height + 80
        if room is not None:
            width, height = min(width, room.width()), min(height, room.height())
        self.resize(max(320, width), max(240, height))
