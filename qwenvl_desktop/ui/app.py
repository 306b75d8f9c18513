"""Application start-up and shutdown.

Fast start (BRIEF §7): the window frame is shown first — with its remembered geometry,
read from the small settings file — and everything heavy (httpx, Pillow, markdown and
Pygments, the keyring, the panes) is imported and built right after the first paint,
from a zero-delay timer. Shutdown is driven by the window's `closeEvent` (BRIEF §6):
it stops streams, autosaves and closes the HTTP client while the loop still runs; the
application quits when that window has closed.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QWidget

from .event_loop import AppEventLoop

__all__ = ["APP_NAME", "DESKTOP_FILE", "create_application", "run"]

APP_NAME = "Qwen-VL Desktop"
# Must match the .desktop file name so Wayland shells pair the window with its launcher.
DESKTOP_FILE = "io.github.qwenvl_desktop.QwenVLDesktop"


def app_icon() -> QIcon:
    """The window icon shipped with the package (an empty icon when missing)."""
    icon = QIcon()
    assets = resources.files("qwenvl_desktop").joinpath("assets")
    for name in ("qwenvl-desktop.svg", "qwenvl-desktop.png"):
        item = assets.joinpath(name)
        if item.is_file():
            icon.addFile(str(item))
    return icon


def create_application(argv: list[str]) -> QApplication:
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    app = QApplication([sys.argv[0] if sys.argv else "qwenvl-desktop", *argv])
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName(APP_NAME)
    app.setOrganizationName("qwenvl-desktop")
    app.setDesktopFileName(DESKTOP_FILE)
    app.setWindowIcon(app_icon())
    return app


def _open_argument(argv: list[str]) -> Path | None:
    for arg in argv:
        if not arg.startswith("-"):
            return Path(arg)
    return None


def run(argv: list[str]) -> int:
    """Start the window and run until it has closed."""
    from qwenvl_desktop.core.settings import Settings

    from .main_window import MainWindow
    from .theme import apply_theme

    app = create_application(argv)
    loop = AppEventLoop(app)
    asyncio.set_event_loop(loop)
    settings, _warnings = Settings.load()
    apply_theme(app, settings.theme)
    window = MainWindow(settings.ui)
    window.show()
    open_path = _open_argument(argv)

    def build() -> None:
        if window.services is None:
            from qwenvl_desktop.services import Services

            window.attach(Services.create(), open_path)

    # After the first paint: the frame is on screen before the heavy imports start.
    # (A fallback timer covers platforms that never paint an unexposed window.)
    first_paint = _FirstPaint(window, lambda: QTimer.singleShot(0, build))
    QTimer.singleShot(1000, build)
    window.shut_down.connect(app.quit)
    app.setQuitOnLastWindowClosed(True)
    with loop:
        loop.run_forever()
    del first_paint
    return 0


class _FirstPaint(QObject):
    """Calls `then` once, when `widget` is painted for the first time."""

    def __init__(self, widget: QWidget, then: Callable[[], None]) -> None:
        super().__init__(widget)
        self._then: Callable[[], None] | None = then
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and self._then is not None:
            then, self._then = self._then, None
            watched.removeEventFilter(self)
            then()
        return False
