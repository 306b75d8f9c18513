""""Locate…": ask what to find and put the grounding prompt of the model's family into
the composer, where the person sees it and can change it before sending.

The prompt differs by family (JSON for Qwen2.5-VL, QVQ and Qwen3-VL; tags for Qwen2-VL,
which has no points); `core.grounding.prompts` holds the words.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from qwenvl_desktop.core.catalog import Model
from qwenvl_desktop.core.grounding import LocateKind, locate_prompt, supports_points

from ..core.i18n import _
from .widgets import HintLabel

__all__ = ["LocateDialog", "insert_prompt"]


class LocateDialog(QDialog):
    """What to find, boxes or points, and a preview of the words that will be inserted."""

    def __init__(self, model: Model, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.setWindowTitle(_("Locate in the image"))
        self.setAccessibleName(_("Locate in the image"))
        self.what = QLineEdit(self)
        self.what.setPlaceholderText(_("e.g. the Save button, every car, all faces"))
        self.what.setAccessibleName(_("What to find"))
        self.boxes = QRadioButton(_("Boxes"), self)
        self.points = QRadioButton(_("Points"), self)
        self.boxes.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.boxes)
        group.addButton(self.points)
        if not supports_points(model):
            self.points.setEnabled(False)
            self.points.setToolTip(_("{id} answers with boxes only.").format(id=model.id))
        self.preview = QPlainTextEdit(self)
        self.preview.setReadOnly(True)
        self.preview.setAccessibleName(_("Prompt to insert"))
        self.preview.setMaximumHeight(90)
        hint = HintLabel(_("The grounding prompt documented for {id}'s family. It goes into "
                           "the message box: change it as you like before sending.").format(
                               id=model.id), self)
        hint.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.insert_button = self.buttons.addButton(_("Insert"),
                                                    QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(_("What should be found?"), self))
        layout.addWidget(self.what)
        layout.addWidget(self.boxes)
        layout.addWidget(self.points)
        layout.addWidget(QLabel(_("Prompt:"), self))
        layout.addWidget(self.preview)
        layout.addWidget(hint)
        layout.addWidget(self.buttons)
        self.what.textChanged.connect(self._update)
        self.boxes.toggled.connect(self._update)
        self.resize(520, 320)
        self._update()

    @property
    def kind(self) -> LocateKind:
        return "points" if self.points.isChecked() else "boxes"

    def prompt(self) -> str:
        return locate_prompt(self.model, self.what.text(), self.kind)

    def _update(self) -> None:
        self.preview.setPlainText(self.prompt() if self.what.text().strip() else "")
        self.insert_button.setEnabled(bool(self.what.text().strip()))


def insert_prompt(current: str, prompt: str) -> str:
    """The composer's text with the prompt added (on its own line after any text)."""
    if not current.strip():
        return prompt
    return current.rstrip("\n") + "\n" + prompt
