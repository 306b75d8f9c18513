"""What earlier turns' images add to the next request, and the choice to stop resending them.

Every earlier image is sent again with each new message (the model has no memory of
them otherwise); on a long visual chat that is most of the bill and the reason requests
fail for length. The row under the attachment tray says what the history
costs on the chosen model and lets the person drop older images, showing the saving.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QWidget

from ..core.i18n import _, ngettext


@dataclass(frozen=True)
class HistoryImages:
    """Images in the conversation's earlier turns, as the chosen model will count them."""

    count: int = 0
    tokens: int = 0
    last_turn_count: int = 0        # the most recent earlier turn that has images
    last_turn_tokens: int = 0
    drop_old: bool = False

    def resent(self, has_new_images: bool) -> tuple[int, int]:
        """(images, tokens) the next request resends from history.

        With drop_old only the newest turn that has images keeps them: the new message
        if it has any, otherwise the latest earlier one (Conversation.to_wire's rule).
        """
        if not self.drop_old:
            return self.count, self.tokens
        if has_new_images:
            return 0, 0
        return self.last_turn_count, self.last_turn_tokens


def _images(n: int) -> str:
    return ngettext("{count} image", "{count} images", n).format(count=n)


class HistoryRow(QWidget):
    """"Earlier turns resend 3 images ≈ 7,400 tokens  [x] Resend images from earlier turns"."""

    resend_toggled = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel(self)
        self.label.setAccessibleName(_("Image tokens resent from earlier turns"))
        self.resend_box = QCheckBox(_("Resend images from earlier turns"), self)
        self.resend_box.setToolTip(
            _("On: the model sees every earlier image again with each message (best answers, "
              "most tokens). Off: only the newest images are sent."))
        self.resend_box.toggled.connect(self._on_toggled)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.resend_box)
        self._history = HistoryImages()
        self._has_new_images = False
        self.hide()

    def set_history(self, history: HistoryImages) -> None:
        self._history = history
        self.resend_box.blockSignals(True)
        self.resend_box.setChecked(not history.drop_old)
        self.resend_box.blockSignals(False)
        self.show_cost(self._has_new_images)

    def text(self) -> str:
        return self.label.text() if self.isVisibleTo(self.parentWidget() or self) else ""

    def show_cost(self, has_new_images: bool) -> None:
        self._has_new_images = has_new_images
        history = self._history
        if not history.count:
            self.hide()
            return
        resent_count, resent_tokens = history.resent(has_new_images)
        saved = history.tokens - resent_tokens
        if not history.drop_old:
            text = _("Earlier turns resend {images} ≈ {tokens:,} tokens").format(
                images=_images(history.count), tokens=history.tokens)
        elif resent_count:
            text = (_("Resending only the latest earlier {images} ≈ {resent_tokens:,} tokens "
                      "(saves ≈ {saved:,})").format(
                          images=_images(resent_count), resent_tokens=resent_tokens, saved=saved))
        else:
            text = _("Earlier images not resent (saves ≈ {saved:,} tokens)").format(saved=saved)
        self.label.setText(text)
        self.show()

    def _on_toggled(self, resend: bool) -> None:
        self._history = replace(self._history, drop_old=not resend)
        self.show_cost(self._has_new_images)
        self.resend_toggled.emit(resend)
