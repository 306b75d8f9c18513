"""Application start-up and shutdown.

One window per home (`single_instance.py`): a launch on a home whose window is
already running hands its files to that window and exits 0 before building anything.

Fast start: the window frame is shown first — with its remembered geometry,
read from the small settings file — and everything heavy (httpx, Pillow, markdown and
Pygments, the keyring, the panes) is imported and built right after the first paint,
from a zero-delay timer. Shutdown is driven by the window's `closeEvent`:
it stops streams, autosaves and closes the HTTP client while the loop still runs; the
application quits when that window has closed.

Start-up probe (for tests/benchmarks/bench_startup.py): with
`QWENVL_DESKTOP_STARTUP_PROBE=1` the app prints `startup-frame-ms <ms>` at its first
frame and `startup-idle-ms <ms>` once the panes are built, painted and the event queue
worked through (first paint after `attach`, then a zero-delay timer), and the CPU time
used until then (`startup-cpu-ms`); then it closes the window the normal way and exits.
Milliseconds count from `QWENVL_DESKTOP_STARTUP_T0` (a `time.time()` value) when set,
else from the process's start. With `QWENVL_DESKTOP_STARTUP_SHOT=<file.png>` it also
saves what the screen shows at that moment (CI's smoke test on a real X server).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import sys
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QWidget

from .event_loop import AppEventLoop

if TYPE_CHECKING:
    from .main_window import MainWindow

__all__ = ["APP_NAME", "DESKTOP_FILE", "PROBE_ENV", "PROBE_T0_ENV", "create_application",
           "open_files", "run"]

log = logging.getLogger(__name__)

APP_NAME = "Qwen-VL Desktop"
# Must match the .desktop file name so Wayland shells pair the window with its launcher.
DESKTOP_FILE = "io.github.qwenvl_desktop.QwenVLDesktop"
PROBE_ENV = "QWENVL_DESKTOP_STARTUP_PROBE"
PROBE_T0_ENV = "QWENVL_DESKTOP_STARTUP_T0"
PROBE_SHOT_ENV = "QWENVL_DESKTOP_STARTUP_SHOT"
# After the ready window's first paint, the wait before the warm-up thread starts (ms).
WARM_UP_DELAY_MS = 300


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
    from .theme.palette import FUSION_ARGUMENTS, started_on_fusion

    # Ours last: the window is always drawn by Fusion, whatever `-style` came before.
    app = QApplication([sys.argv[0] if sys.argv else "qwenvl-desktop", *argv,
                        *FUSION_ARGUMENTS])
    started_on_fusion()
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName(APP_NAME)
    app.setOrganizationName("qwenvl-desktop")
    app.setDesktopFileName(DESKTOP_FILE)
    app.setWindowIcon(app_icon())
    return app


def _file_arguments(argv: list[str]) -> list[Path]:
    return [Path(arg) for arg in argv if not arg.startswith("-")]


def open_files(window: MainWindow, paths: list[Path]) -> None:
    """Bring the window forward and open what a launch was given: conversation files
    as they are, images as a new question about them."""
    from qwenvl_desktop.core.storage import FILE_SUFFIX

    if window.isMinimized():
        window.showNormal()
    window.show()
    window.raise_()
    window.activateWindow()
    conversations = [p for p in paths if p.suffix.lower() == FILE_SUFFIX]
    images = [p for p in paths if p.suffix.lower() != FILE_SUFFIX]
    for path in conversations:
        window.files.open_path(path)
    if images:
        window.chat.new_conversation()
        window.composer.add_files(images)


def run(argv: list[str]) -> int:
    """Start the window and run until it has closed, or hand the files in `argv` to
    the window already running on this home and return at once."""
    from qwenvl_desktop.core import paths as app_paths
    from qwenvl_desktop.core.settings import Settings

    from .failures import FailureReporter
    from .language import apply_language
    from .main_window import MainWindow
    from .single_instance import InstanceBusyError, claim_or_hand_off
    from .theme import apply_theme

    app = create_application(argv)
    files = _file_arguments(argv)
    try:
        instance = claim_or_hand_off(app_paths.data_dir(), files)
    except InstanceBusyError as err:
        log.error("%s", err)
        sys.stderr.write(f"qwenvl-desktop: {err}\n")
        return 1
    if instance is None:
        return 0                        # the running window has them
    loop = AppEventLoop(app)
    asyncio.set_event_loop(loop)
    settings, _warnings = Settings.load()
    apply_language(app, settings.language)
    apply_theme(app, settings.theme)
    window = MainWindow(settings.ui)
    # From here on, an unexpected exception anywhere is logged and shown, never lost.
    failures = FailureReporter(window)
    failures.install(loop)
    probe = _StartupProbe(window) if os.environ.get(PROBE_ENV) == "1" else None
    window.show()
    # One file goes to attach() (shown instead of the last conversation); several, and
    # whatever other launches hand over before the panes exist, wait until they do.
    open_path = files[0] if len(files) == 1 else None
    waiting: list[Path] = files if len(files) > 1 else []

    def handed_over(paths: list[str]) -> None:
        if window.services is None:
            waiting.extend(Path(p) for p in paths)
        else:
            open_files(window, [Path(p) for p in paths])

    instance.files_received.connect(handed_over)

    def build() -> None:
        if window.services is None:
            if probe is not None:
                probe.first_frame()
            from qwenvl_desktop.services import Services

            window.attach(Services.create(), open_path)
            log.info("window ready (pid %d)", os.getpid())
            if waiting:
                open_files(window, list(waiting))
                waiting.clear()
            # The launch's objects (modules, Qt wrappers, catalog, the reopened
            # conversation) live as long as the window; left in the collector's
            # generations, each full collection walks them all again and stalled a
            # streaming answer by 11-22 ms. Frozen, collections walk only what is new.
            gc.freeze()
            if probe is not None:
                probe.panes_attached()
            # A beat after the window is ready and idle (its first paint with the panes),
            # the libraries of the first send, attachment and answer are imported on a
            # background thread; the beat leaves the person's first click uncontended.
            _NextPaint(window, lambda: QTimer.singleShot(WARM_UP_DELAY_MS, warm_up),
                       any_widget=True)

    def warm_up() -> None:
        if window.is_closing():
            return
        from qwenvl_desktop.core import warm_up as warming

        own = list(warming.OWN_MODULES)

        def import_own() -> None:       # on the GUI thread, a module per event-loop turn
            if not window.is_closing() and warming.import_next(own):
                QTimer.singleShot(0, import_own)

        warming.start_warm_up(on_done=lambda: loop.call_soon_threadsafe(import_own))

    # After the first paint: the frame is on screen before the heavy imports start.
    # (A fallback timer covers platforms that never paint an unexposed window.)
    first_paint = _NextPaint(window, lambda: QTimer.singleShot(0, build))
    QTimer.singleShot(1000, build)
    window.shut_down.connect(app.quit)
    app.setQuitOnLastWindowClosed(True)
    with loop:
        loop.run_forever()
    failures.uninstall()
    instance.close()
    del first_paint
    return 0


class _NextPaint(QObject):
    """Calls `then` once, at the next paint of `window` itself or, with `any_widget`, of
    any widget in it.

    `any_widget` watches the whole application, and PySide makes a Python wrapper (and,
    the first time, the Python type) of every object an event goes to, styles and
    dialogs' parts included: for the "Loading…" frame only the window itself is watched.
    """

    def __init__(self, window: QWidget, then: Callable[[], None], *,
                 any_widget: bool = False) -> None:
        super().__init__(window)
        self._window = window
        self._then: Callable[[], None] | None = then
        self._watched: QObject | None = QApplication.instance() if any_widget else window
        if self._watched is not None:
            self._watched.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (event.type() == QEvent.Type.Paint and self._then is not None
                and isinstance(watched, QWidget) and watched.window() is self._window):
            then, self._then = self._then, None
            if self._watched is not None:
                self._watched.removeEventFilter(self)
            then()
        return False


def _process_start() -> float:
    """When this process started, as a `time.time()` value (Linux: from /proc, to 10 ms;
    elsewhere the import of this module, a little late)."""
    try:
        with open("/proc/self/stat", encoding="ascii") as fh:
            ticks = int(fh.read().rpartition(")")[2].split()[19])
        since_boot = time.clock_gettime(time.CLOCK_BOOTTIME)
        return time.time() - (since_boot - ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError, AttributeError):
        return _IMPORTED_AT


_IMPORTED_AT = time.time()


class _StartupProbe(QObject):
    """Prints when the first frame and the ready, idle window happened, then closes it.

    "First frame": the first paint of the "Loading…" frame and the zero-delay timer
    queued from it (where the panes start being built). "Ready and idle": the panes
    are attached, a paint of the window (any of its widgets) has followed, and a
    zero-delay timer queued from that paint has fired, i.e. the events posted up to
    then have been handled.
    """

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self._window = window
        self._armed = False
        try:
            self._t0 = float(os.environ[PROBE_T0_ENV])
        except (KeyError, ValueError):
            self._t0 = _process_start()

    def _print(self, name: str) -> None:
        sys.stdout.write(f"{name} {(time.time() - self._t0) * 1000:.1f}\n")
        sys.stdout.flush()

    def first_frame(self) -> None:
        self._print("startup-frame-ms")

    def panes_attached(self) -> None:
        self._armed = True
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (self._armed and event.type() == QEvent.Type.Paint
                and isinstance(watched, QWidget) and watched.window() is self._window):
            self._armed = False
            QTimer.singleShot(0, self._idle)
        return False

    def _idle(self) -> None:
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
        self._print("startup-idle-ms")
        shot = os.environ.get(PROBE_SHOT_ENV)
        screen = QApplication.primaryScreen()
        if shot and screen is not None:
            saved = screen.grabWindow(0).save(shot)
            sys.stdout.write(f"startup-screenshot {shot if saved else 'failed'}\n")
        # User + system CPU of this process and of any child it waited for.
        cpu = sum(os.times()[:4])
        sys.stdout.write(f"startup-cpu-ms {cpu * 1000:.1f}\n")
        sys.stdout.flush()
        self._window.close()
