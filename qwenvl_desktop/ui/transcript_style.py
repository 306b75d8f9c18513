"""How the transcript looks, apart from what it shows: a readable line length, the
action icons in the scheme's colours, thumbnails with rounded corners.

Kept out of `transcript.py`, which is about what is in the document and how it streams.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QRectF, Qt
from PySide6.QtGui import QImage, QPainter, QPainterPath
from PySide6.QtWidgets import QTextBrowser

from .theme import scheme
from .theme.icons import icon_image
from .theme.tokens import ICON, LAYOUT, SPACE

__all__ = ["TranscriptLook", "rounded"]


def rounded(image: QImage, radius: float) -> QImage:
    """`image` with its corners rounded (transparent outside), as a new image."""
    if radius <= 0 or image.isNull():
        return image
    out = QImage(image.size(), QImage.Format.Format_ARGB32_Premultiplied)
    out.fill(Qt.GlobalColor.transparent)
    painter = QPainter(out)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    path = QPainterPath()
    path.addRoundedRect(QRectF(0, 0, image.width(), image.height()), radius, radius)
    painter.setClipPath(path)
    painter.drawImage(0, 0, image)
    painter.end()
    return out


class TranscriptLook(QObject):
    """Keeps the text column at most `LAYOUT.reading_width` wide, centred, however wide
    the window (long lines are hard to read), and hands out the icon images."""

    def __init__(self, view: QTextBrowser) -> None:
        super().__init__(view)
        self._view = view
        self._margin = -1
        view.viewport().installEventFilter(self)
        self.apply_width(view.viewport().width())
        self._keep_opaque()

    def _keep_opaque(self) -> None:
        """Have the viewport fill its own background (the scheme's base colour).

        A style sheet giving the transcript a background leaves the viewport see-through
        and repaints every widget behind it up to the window (seven of them) on each
        streamed batch: 8.8 % of the GUI thread at 100 tokens/s against 6.1-6.5 % with
        an opaque viewport, with the same pixels on screen. Each re-polish (a theme
        change) makes it see-through again, hence the style-change hook below."""
        viewport = self._view.viewport()
        if not viewport.autoFillBackground():
            viewport.setAutoFillBackground(True)

    def apply_width(self, width: int) -> None:
        margin = max(SPACE.lg, (width - LAYOUT.reading_width) // 2)
        if margin == self._margin:
            return
        self._margin = margin
        root = self._view.document().rootFrame()
        frame = root.frameFormat()
        frame.setLeftMargin(margin)
        frame.setRightMargin(margin)
        frame.setTopMargin(SPACE.lg)
        frame.setBottomMargin(SPACE.lg)
        root.setFrameFormat(frame)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        del watched     # only the viewport is watched
        kind = event.type()
        if kind == QEvent.Type.Resize:
            self.apply_width(self._view.viewport().width())
        elif kind in (QEvent.Type.Polish, QEvent.Type.StyleChange, QEvent.Type.PaletteChange):
            self._keep_opaque()
        return False

    def reset(self) -> None:
        """After the document was cleared (its root frame format goes with it)."""
        self._margin = -1
        self.apply_width(self._view.viewport().width())

    @staticmethod
    def icon(name: str, ratio: float) -> QImage:
        """`name`, or `name@token` for an icon in another colour than the muted text's."""
        name, _, token = name.partition("@")
        try:
            colour = scheme().get(token or "text_muted")
            return icon_image(name, ICON.small - 2, colour, ratio)
        except KeyError:
            return QImage()
