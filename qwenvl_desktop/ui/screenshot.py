"""Screenshots of the whole virtual desktop (every monitor) or of a dragged region.

The app's own window is hidden while the shot is taken, so it is not in the picture.
Hiding is asynchronous in every window system: `hide()` returns at once, the window
manager unmaps the window later, and a compositor repaints what was under it on its
next frame. So we wait on the event loop (never a blind sleep) until the window is no
longer exposed, then for two refresh periods of the slowest screen — the time a
compositor needs to present the frame without our window. Only then is each screen
grabbed and the pictures stitched by their places in the virtual desktop.
"""

from __future__ import annotations

import time
from datetime import datetime

from PySide6.QtCore import QEventLoop, QPoint, QRect, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QGuiApplication,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
)
from PySide6.QtWidgets import QWidget

from ..core.i18n import _
from .theme.tokens import OVERLAY

__all__ = [
    "RegionOverlay",
    "ScreenshotUnavailable",
    "capture_full",
    "capture_region",
    "grab_virtual_desktop",
    "screenshot_name",
    "virtual_geometry",
]

# Upper bound on waiting for the window system to unmap our window. Reached only if
# the window manager never reports it (then the shot may include the window).
_HIDE_TIMEOUT_S = 1.0


class ScreenshotUnavailable(Exception):
    """No screen could be grabbed (e.g. a Wayland session without a portal)."""


def screenshot_name(when: datetime | None = None) -> str:
    """The file name a screenshot gets in the tray: screenshot-YYYYmmdd-HHMMSS.png."""
    return f"screenshot-{(when or datetime.now()):%Y%m%d-%H%M%S}.png"


def virtual_geometry() -> QRect:
    """The bounding rectangle of every screen, in logical (device-independent) pixels."""
    rect = QRect()
    for screen in QGuiApplication.screens():
        rect = rect.united(screen.geometry())
    return rect


def grab_virtual_desktop() -> QImage:
    """One image of every screen, each placed where it sits in the virtual desktop.

    Screens with different scale factors are drawn at the highest one, so no screen
    loses detail; areas no screen covers stay black. Raises `ScreenshotUnavailable`
    when the window system hands out no picture at all (Wayland does not let apps
    read the screen this way).
    """
    screens = QGuiApplication.screens()
    virtual = virtual_geometry()
    scale = max((s.devicePixelRatio() for s in screens), default=1.0)
    size = QSize(round(virtual.width() * scale), round(virtual.height() * scale))
    canvas = QImage(size, QImage.Format.Format_RGB32)
    canvas.fill(QColor(OVERLAY.canvas))
    painter = QPainter(canvas)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    grabbed = 0
    try:
        for screen in screens:
            geometry = screen.geometry()
            pixmap = screen.grabWindow(0)
            if pixmap.isNull():
                continue
            source = QRectF(0, 0, pixmap.width(), pixmap.height())
            dpr = screen.devicePixelRatio()
            # Some window systems hand back the whole virtual desktop for window 0.
            if (len(screens) > 1 and geometry.width() != virtual.width()
                    and round(pixmap.width() / dpr) == virtual.width()):
                source = QRectF((geometry.x() - virtual.x()) * dpr,
                                (geometry.y() - virtual.y()) * dpr,
                                geometry.width() * dpr, geometry.height() * dpr)
            target = QRectF((geometry.x() - virtual.x()) * scale,
                            (geometry.y() - virtual.y()) * scale,
                            geometry.width() * scale, geometry.height() * scale)
            painter.drawPixmap(target, pixmap, source)
            grabbed += 1
    finally:
        painter.end()
    if not grabbed:
        platform = QGuiApplication.platformName()
        raise ScreenshotUnavailable(
            _("This desktop ({platform}) does not let apps capture the screen. Take the "
              "screenshot with your system's tool and paste it here with Ctrl+V.").format(
                  platform=platform))
    return canvas


def _wait_until_hidden(window: QWidget) -> None:
    """Run the event loop until the window system has taken `window` off the screen.

    A 10 ms timer checks `QWindow.isExposed()`, which Qt clears when the window
    system reports the unmap; then two refresh periods pass for the compositor.
    """
    handle = window.windowHandle()
    deadline = time.monotonic() + _HIDE_TIMEOUT_S
    loop = QEventLoop()

    def check() -> None:
        if handle is None or not handle.isExposed() or time.monotonic() >= deadline:
            poll.stop()
            refresh = min((s.refreshRate() for s in QGuiApplication.screens()), default=60.0)
            QTimer.singleShot(round(2 * 1000 / max(refresh, 1.0)), loop.quit)

    poll = QTimer()
    poll.setInterval(10)
    poll.timeout.connect(check)
    poll.start()
    check()
    loop.exec()


def _hidden_while(window: QWidget | None) -> tuple[bool, bool]:
    """Hide `window` (and wait for it); returns (was visible, was maximised)."""
    if window is None or not window.isVisible():
        return False, False
    maximised = window.isMaximized()
    window.hide()
    _wait_until_hidden(window)
    return True, maximised


def _restore(window: QWidget | None, visible: bool, maximised: bool) -> None:
    if window is None or not visible:
        return
    if maximised:
        window.showMaximized()
    else:
        window.show()
    # A window shown again after hide() is mapped on top; activating gives it focus.
    window.activateWindow()


def capture_full(window: QWidget | None) -> QImage | None:
    """A screenshot of every monitor, taken with `window` hidden.

    Raises `ScreenshotUnavailable` when the screen cannot be read at all.
    """
    visible, maximised = _hidden_while(window)
    try:
        image = grab_virtual_desktop()
    finally:
        _restore(window, visible, maximised)
    return None if image.isNull() else image


def capture_region(window: QWidget | None) -> QImage | None:
    """Let the person drag a rectangle over a frozen shot of all monitors; None on Esc.

    Raises `ScreenshotUnavailable` when the screen cannot be read at all.
    """
    visible, maximised = _hidden_while(window)
    try:
        desktop = grab_virtual_desktop()
        overlay = RegionOverlay(desktop, virtual_geometry())
        loop = QEventLoop()
        overlay.finished.connect(loop.quit)
        overlay.show_over_desktop()
        if not overlay.is_done():
            loop.exec()
        result = overlay.result_image()
        overlay.close()
        overlay.deleteLater()
        return result
    finally:
        _restore(window, visible, maximised)


def _span(a: QPoint, b: QPoint) -> QRect:
    """The rectangle between two pointer positions (a drag of 100 px is 100 px wide)."""
    return QRect(min(a.x(), b.x()), min(a.y(), b.y()), abs(a.x() - b.x()), abs(a.y() - b.y()))


class RegionOverlay(QWidget):
    """A frameless window over the whole virtual desktop showing a frozen screenshot.

    Drag a rectangle to choose the region; Esc or a right click cancels; Enter takes
    the whole desktop. `finished` fires once, whatever the outcome.
    """

    finished = Signal()

    _MIN_SIDE = 4  # a click without a drag is not a region

    def __init__(self, desktop: QImage, geometry: QRect) -> None:
        super().__init__(None, Qt.WindowType.FramelessWindowHint
                         | Qt.WindowType.WindowStaysOnTopHint | Qt.WindowType.Tool)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
        self.setAccessibleName(_("Screenshot region: drag to select, Esc to cancel"))
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setMouseTracking(True)
        self._desktop = desktop
        self._area = geometry
        self._origin: QPoint | None = None
        self._selection = QRect()
        self._result: QImage | None = None
        self._done = False

    def show_over_desktop(self) -> None:
        self.setGeometry(self._area)
        self.show()  # on top: WindowStaysOnTopHint
        self.activateWindow()
        self.setFocus(Qt.FocusReason.ActiveWindowFocusReason)

    def is_done(self) -> bool:
        return self._done

    def result_image(self) -> QImage | None:
        return self._result

    def selection(self) -> QRect:
        return QRect(self._selection)

    # --- finishing ---------------------------------------------------------------------

    def _finish(self, region: QRect | None) -> None:
        if self._done:
            return
        self._done = True
        if region is not None and region.width() >= self._MIN_SIDE \
                and region.height() >= self._MIN_SIDE:
            self._result = self._desktop.copy(self._to_image(region))
        self.hide()
        self.finished.emit()

    def _to_image(self, region: QRect) -> QRect:
        """Map a rectangle in widget coordinates to pixels of the stitched image."""
        sx = self._desktop.width() / max(1, self.width())
        sy = self._desktop.height() / max(1, self.height())
        return QRect(round(region.x() * sx), round(region.y() * sy),
                     round(region.width() * sx), round(region.height() * sy))

    # --- events ------------------------------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self._finish(None)
        elif event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self._finish(self._selection if self._selection.isValid() else self.rect())
        else:
            super().keyPressEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.RightButton:
            self._finish(None)
            return
        if event.button() == Qt.MouseButton.LeftButton:
            self._origin = event.position().toPoint()
            self._selection = QRect(self._origin, self._origin)
            self.update()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._origin is not None:
            self._selection = _span(self._origin, event.position().toPoint())
            self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self._origin is not None:
            self._selection = _span(self._origin, event.position().toPoint())
            self._origin = None
            self._finish(self._selection)

    def closeEvent(self, event: object) -> None:  # the window manager closed it
        self._finish(None)
        super().closeEvent(event)  # type: ignore[arg-type]

    def paintEvent(self, event: QPaintEvent) -> None:
        del event
        painter = QPainter(self)
        try:
            painter.drawImage(QRectF(self.rect()), self._desktop)
            shade = QColor(OVERLAY.shade)
            if self._selection.isValid():
                outside = QRect(self.rect())
                sel = self._selection
                painter.fillRect(QRect(0, 0, outside.width(), sel.top()), shade)
                painter.fillRect(QRect(0, sel.bottom() + 1, outside.width(),
                                       outside.height() - sel.bottom() - 1), shade)
                painter.fillRect(QRect(0, sel.top(), sel.left(), sel.height()), shade)
                painter.fillRect(QRect(sel.right() + 1, sel.top(),
                                       outside.width() - sel.right() - 1, sel.height()), shade)
                painter.setPen(QPen(QColor(OVERLAY.frame), 2))
                painter.drawRect(sel)
                image_rect = self._to_image(sel)
                painter.setPen(QColor(OVERLAY.label_text))
                painter.drawText(sel.topLeft() + QPoint(4, -6),
                                 f"{image_rect.width()} × {image_rect.height()}")
            else:
                painter.fillRect(self.rect(), shade)
                painter.setPen(QColor(OVERLAY.label_text))
                painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter,
                                 _("Drag to select a region · Enter: everything · Esc: cancel"))
        finally:
            painter.end()
