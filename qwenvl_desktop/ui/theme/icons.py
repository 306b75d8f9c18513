"""The interface icons: Lucide SVGs shipped in `assets/icons`, drawn in the scheme's colours.

Each SVG strokes with `currentColor`; an icon is rendered when Qt first asks for it at
a size, device pixel ratio and mode (normal, disabled, hover), with that colour put in,
so it is crisp at 1×, 1.5× and 2× and follows a light/dark switch on the next paint.
Nothing is read or rendered at start-up beyond what is painted; SVG sources and
rendered pixmaps are cached.
"""

from __future__ import annotations

import functools
from importlib import resources

from PySide6.QtCore import QByteArray, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QIcon, QIconEngine, QImage, QPainter, QPixmap

from .palette import scheme

__all__ = ["ICON_NAMES", "icon", "icon_image"]

# What each icon means in the app → its Lucide file name.
_FILES = {
    "attach": "paperclip", "screenshot": "scan", "paste": "clipboard-paste",
    "locate": "crosshair", "send": "arrow-up", "stop": "square", "copy": "copy",
    "edit": "pencil", "regenerate": "refresh-cw", "retry": "rotate-ccw",
    "previous": "chevron-left", "next": "chevron-right", "expand": "chevron-down",
    "collapse": "chevron-right", "settings": "settings", "new": "square-pen",
    "parameters": "sliders-horizontal", "sidebar": "panel-left", "search": "search",
    "delete": "trash-2", "key": "key-round", "vision": "eye", "thinking": "brain",
    "video": "video", "document": "file-text", "drop": "image-plus", "server": "server",
    "close": "x", "check": "check", "info": "info", "warning": "triangle-alert",
    "refresh": "refresh-cw",
}
ICON_NAMES = tuple(_FILES)


@functools.cache
def _source(name: str) -> str:
    path = resources.files("qwenvl_desktop").joinpath("assets", "icons", f"{_FILES[name]}.svg")
    return path.read_text(encoding="utf-8")


_rendered: dict[tuple[str, str, int, int], QImage] = {}


def _render(name: str, colour: str, width: int, height: int) -> QImage:
    """The icon at `width`×`height` device pixels in `colour` (cached)."""
    key = (name, colour, width, height)
    image = _rendered.get(key)
    if image is None:
        from PySide6.QtSvg import QSvgRenderer

        svg = _source(name).replace("currentColor", colour)
        renderer = QSvgRenderer(QByteArray(svg.encode("utf-8")))
        image = QImage(max(1, width), max(1, height), QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        side = min(width, height)
        renderer.render(painter, QRectF((width - side) / 2, (height - side) / 2, side, side))
        painter.end()
        _rendered[key] = image
    return image


class _ThemedSvgEngine(QIconEngine):
    """Renders one icon on demand in the colour of a token (by mode) of the scheme in
    force."""

    def __init__(self, name: str, role: str, active_role: str | None) -> None:
        super().__init__()
        self._name = name
        self._role = role
        self._active_role = active_role or role

    def _colour(self, mode: QIcon.Mode) -> str:
        current = scheme()
        if mode == QIcon.Mode.Disabled:
            return current.text_disabled
        if mode == QIcon.Mode.Active:
            return current.get(self._active_role)
        return current.get(self._role)

    def pixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State) -> QPixmap:
        del state     # one look for on and off
        return QPixmap.fromImage(_render(self._name, self._colour(mode), size.width(),
                                         size.height()))

    def scaledPixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State,
                     scale: float) -> QPixmap:
        # `size` is in device-independent pixels (Qt 6.8 and later): drawn at `scale`
        # times that, so the icon is crisp on a 1.5× or 2× screen.
        pixmap = self.pixmap(QSize(round(size.width() * scale), round(size.height() * scale)),
                             mode, state)
        pixmap.setDevicePixelRatio(scale)
        return pixmap

    def paint(self, painter: QPainter, rect: QRect, mode: QIcon.Mode,
              state: QIcon.State) -> None:
        del state
        ratio = painter.device().devicePixelRatioF() if painter.device() else 1.0
        image = _render(self._name, self._colour(mode), round(rect.width() * ratio),
                        round(rect.height() * ratio))
        image.setDevicePixelRatio(ratio)
        painter.drawImage(rect, image)

    def actualSize(self, size: QSize, mode: QIcon.Mode, state: QIcon.State) -> QSize:
        del mode, state
        return size

    def clone(self) -> QIconEngine:
        return _ThemedSvgEngine(self._name, self._role, self._active_role)

    def key(self) -> str:
        return "qwenvl-themed-svg"

    def isNull(self) -> bool:
        return False


def icon(name: str, role: str = "text_muted", active_role: str | None = "text") -> QIcon:
    """The icon called `name` (see `ICON_NAMES`), drawn in the colour token `role`
    (`active_role` under the pointer; disabled: the disabled text colour)."""
    if name not in _FILES:
        raise KeyError(name)
    return QIcon(_ThemedSvgEngine(name, role, active_role))


def icon_image(name: str, size: int, colour: str, ratio: float = 1.0) -> QImage:
    """The icon as an image `size` device-independent pixels square at `ratio` (for
    the transcript's HTML, which takes images, not icons)."""
    side = max(1, round(size * ratio))
    image = _render(name, colour, side, side).copy()
    image.setDevicePixelRatio(ratio)
    return image
