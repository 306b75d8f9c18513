"""What the transcript area shows besides messages: the first-start panel, the image
viewer and a dismissable banner for notices that must not block the window."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
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

__all__ = ["Banner", "ImageViewer", "WelcomePanel"]


class WelcomePanel(QWidget):
    """Shown instead of the transcript while no provider has a key: two clicks to start."""

    keys_requested = Signal()
    endpoint_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("welcomePanel")
        self.setAccessibleName("Getting started")
        title = QLabel("<h2>Add an API key to start</h2>", self)
        title.setTextFormat(Qt.TextFormat.RichText)
        text = QLabel(
            "Qwen-VL Desktop talks to Qwen vision-language models served by Alibaba Model "
            "Studio (DashScope), OVHcloud AI Endpoints, AI/ML API, Nebula Block and Segmind, "
            "or to your own OpenAI-compatible server (vLLM, Ollama, LM Studio…).", self)
        text.setWordWrap(True)
        self.storage_note = QLabel(self)
        self.storage_note.setWordWrap(True)
        self.set_keyring_available(True)
        self.keys_button = QPushButton("Add an API key…", self)
        self.keys_button.setAccessibleName("Add an API key")
        self.keys_button.setDefault(True)
        self.endpoint_button = QPushButton("Use a custom endpoint…", self)
        self.endpoint_button.setAccessibleName("Add a custom endpoint")
        self.keys_button.clicked.connect(self.keys_requested.emit)
        self.endpoint_button.clicked.connect(self.endpoint_requested.emit)

        buttons = QHBoxLayout()
        buttons.addWidget(self.keys_button)
        buttons.addWidget(self.endpoint_button)
        buttons.addStretch(1)
        box = QVBoxLayout()
        box.addWidget(title)
        box.addWidget(text)
        box.addWidget(self.storage_note)
        box.addSpacing(8)
        box.addLayout(buttons)
        inner = QWidget(self)
        inner.setLayout(box)
        inner.setMaximumWidth(560)
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(inner)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(2)

    def set_keyring_available(self, secure: bool) -> None:
        """Say truthfully where a key entered now will be kept."""
        self.storage_note.setText(
            "Keys are kept in your system's keyring, never in a file." if secure else
            "No secure keyring was found: keys you enter are kept for this session only "
            "(never in a file). Set the provider's environment variable to keep one.")


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
        self.close_button = QPushButton("Dismiss", self)
        self.close_button.setAccessibleName("Dismiss notice")
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
        self.setAccessibleName(f"Notice: {text}")
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
        name = image.original_name or "Image"
        self.setWindowTitle(f"{name} — {image.width}×{image.height}")
        self.setAccessibleName("Image viewer")
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
