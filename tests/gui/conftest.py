"""GUI test set-up: offscreen Qt and ONE session-wide qasync loop.

pytest-qt has no qasync support: calling qtbot.waitUntil/qWait inside a coroutine that
runs on qasync loses task steps and hangs. What works: a single loop
created with already_running=True for the whole session, ordinary sync tests, and
qtbot.waitUntil / waitSignal from the test body, which spin Qt's event loop and with
it asyncio's. Never mix pytest-asyncio loops into this session.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# A desktop-sized screen (offscreen's own is 800×600): windows are tried at 1280 px and
# more, and a restored geometry larger than the screen would be cut down to it.
if os.environ["QT_QPA_PLATFORM"] == "offscreen":
    os.environ["QT_QPA_PLATFORM"] = (
        f"offscreen:configfile={os.path.join(os.path.dirname(__file__), 'offscreen_screen.json')}")

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from transcript_harness import shown_transcript

from qwenvl_desktop.ui.event_loop import AppEventLoop
from qwenvl_desktop.ui.theme import apply_theme
from qwenvl_desktop.ui.transcript import Transcript


@pytest.fixture(scope="session", autouse=True)
def _themed(qapp: QApplication) -> None:
    """The window as people see it: Fusion with the tokens' palette and style sheet
    (what `ui.app.run` applies), light unless a test switches."""
    apply_theme(qapp, "light")


@pytest.fixture(scope="session")
def qasync_loop(qapp: QApplication) -> Iterator[asyncio.AbstractEventLoop]:
    """The app-wide asyncio loop running on Qt's event loop (already running)."""
    # The app's own loop, with the app's own thread pool as its default executor.
    loop = AppEventLoop(qapp, already_running=True)
    asyncio.set_event_loop(loop)
    yield loop
    # Let pending callbacks (closed connections, finished tasks) run, then close.
    for task in asyncio.all_tasks(loop):
        task.cancel()
    qapp.processEvents()
    loop.shutdown_executor()
    asyncio.events._set_running_loop(None)
    asyncio.set_event_loop(None)


@pytest.fixture(autouse=True)
def _loop_running_only_during_gui_tests(
    qasync_loop: asyncio.AbstractEventLoop,
) -> Iterator[None]:
    """Mark the qasync loop as the running loop for this test only.

    A loop created with already_running=True stays registered as "running" on the main
    thread, and every later `asyncio.run` (in non-GUI tests collected after these) would
    fail with "cannot be called from a running event loop".
    """
    asyncio.events._set_running_loop(qasync_loop)
    yield
    asyncio.events._set_running_loop(None)


@pytest.fixture
def view(qtbot: QtBot) -> Transcript:
    """A transcript on its own, shown at 700×400 (tests that need another size define
    their own `view` with `shown_transcript`)."""
    return shown_transcript(qtbot)
