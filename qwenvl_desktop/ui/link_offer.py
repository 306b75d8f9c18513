""""Attach image from this link": the offer shown for links pasted or dropped as text.

Pasting a link used to send a GET from the person's machine at once (a one-time or
intranet link got used) and never inserted the text. Now the text goes in as text, and
this bar offers to fetch the image; nothing is downloaded until the person presses it.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QToolButton, QWidget

from ..core.i18n import _

__all__ = ["LinkOffer"]

_SHOWN = 70


def _short(url: str) -> str:
    """host/path, elided in the middle: enough to recognise the link."""
    try:
        parts = urlsplit(url)
        text = f"{parts.hostname or ''}{parts.path}"
    except ValueError:
        text = url
    if len(text) > _SHOWN:
        text = text[:_SHOWN // 2 - 1] + "…" + text[-(_SHOWN // 2):]
    return text


class LinkOffer(QFrame):
    """A slim bar: the link(s), "Attach image from this link", and ×."""

    attach_requested = Signal(list)     # the links, as strings

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("linkOffer")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAccessibleName(_("Offer to attach the image from a link"))
        self._urls: list[str] = []
        self.label = QLabel(self)
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.attach_button = QPushButton(_("Attach image from this link"), self)
        self.attach_button.setAutoDefault(False)
        self.close_button = QToolButton(self)
        self.close_button.setText("×")
        self.close_button.setAutoRaise(True)
        self.close_button.setToolTip(_("Keep it as text only"))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 2, 2, 2)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.attach_button)
        layout.addWidget(self.close_button)
        self.attach_button.clicked.connect(self._attach)
        self.close_button.clicked.connect(self.withdraw)
        self.hide()

    def offer(self, urls: list[str]) -> None:
        """Offer to fetch the images at `urls` (http(s) links the person pasted or dropped)."""
        self._urls = list(dict.fromkeys(urls))
        if not self._urls:
            self.withdraw()
            return
        many = len(self._urls) > 1
        first = _short(self._urls[0])
        more = _(" and {value} more").format(value=len(self._urls) - 1) if many else ""
        self.label.setText(_("Link: {first}{more} — not fetched unless you ask.").format(
            first=first, more=more))
        self.label.setToolTip("\n".join(self._urls))
        self.attach_button.setText(_("Attach images from these links") if many
                                   else _("Attach image from this link"))
        self.show()

    def urls(self) -> list[str]:
        return list(self._urls)

    def withdraw(self) -> None:
        self._urls = []
        self.hide()

    def _attach(self) -> None:
        urls = self._urls
        self.withdraw()
        if urls:
            self.attach_requested.emit(urls)
