"""Failures are seen: an exception in a Qt slot, a thread or an asyncio callback, and
Qt's own errors, reach the log file (keys redacted) and a message in the window that
does not block it."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QTimer, qCritical, qWarning
from PySide6.QtWidgets import QMainWindow, QMessageBox
from pytestqt.qtbot import QtBot

from qwenvl_desktop.core.errors import register_secret
from qwenvl_desktop.core.logs import LOG_NAME, setup_logging
from qwenvl_desktop.ui.failures import FailureReporter

KEY = "sk-FAILURE-TEST-7d1e0c55aa-never-logged-0123456789"


@pytest.fixture
def log_file(tmp_path: Path) -> Iterator[Path]:
    """The app's log file, as __main__ sets it up, in a temporary folder."""
    path = setup_logging(folder=tmp_path)
    yield path
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_qwenvl", False):
            root.removeHandler(handler)
            handler.close()


@pytest.fixture
def reporter(qtbot: QtBot, qasync_loop: asyncio.AbstractEventLoop,
             log_file: Path) -> Iterator[FailureReporter]:
    window = QMainWindow()
    qtbot.addWidget(window)
    window.show()
    failures = FailureReporter(window)
    failures.install(qasync_loop)
    yield failures
    failures.uninstall()


def _box(window_reporter: FailureReporter) -> QMessageBox | None:
    parent = window_reporter.parent()
    assert isinstance(parent, QMainWindow)
    boxes = [b for b in parent.findChildren(QMessageBox, "failureBox") if b.isVisible()]
    return boxes[0] if boxes else None


def _logged(log_file: Path) -> str:
    for handler in logging.getLogger().handlers:
        handler.flush()
    return log_file.read_text("utf-8") if log_file.exists() else ""


@pytest.mark.qt_no_exception_capture
def test_an_exception_in_a_slot_is_logged_and_shown(
        qtbot: QtBot, reporter: FailureReporter, log_file: Path) -> None:
    register_secret(KEY)

    def broken_slot() -> None:
        raise RuntimeError(f"the slot broke while holding {KEY}")

    QTimer.singleShot(0, broken_slot)
    qtbot.waitUntil(lambda: _box(reporter) is not None, timeout=5000)
    box = _box(reporter)
    assert box is not None
    assert not box.isModal()
    assert "RuntimeError" in box.text()
    assert "the slot broke" in box.text()
    assert KEY not in box.text()
    assert LOG_NAME in box.informativeText()
    logged = _logged(log_file)
    assert "Traceback" in logged
    assert "broken_slot" in logged
    assert KEY not in logged


def test_failures_on_other_threads_and_in_asyncio_are_shown_once(
        qtbot: QtBot, reporter: FailureReporter, log_file: Path,
        qasync_loop: asyncio.AbstractEventLoop) -> None:
    def worker() -> None:
        raise ValueError("a worker thread failed")

    thread = threading.Thread(target=worker, name="test-worker")
    thread.start()
    thread.join()
    qtbot.waitUntil(lambda: _box(reporter) is not None, timeout=5000)

    def callback() -> None:
        raise KeyError("an asyncio callback failed")

    qasync_loop.call_soon(callback)
    qtbot.waitUntil(lambda: "1 more" in (_box(reporter) or QMessageBox()).informativeText(),
                    timeout=5000)
    box = _box(reporter)
    assert box is not None
    assert "test-worker" in box.text()                 # the first one, the rest counted
    logged = _logged(log_file)
    assert "a worker thread failed" in logged
    assert "an asyncio callback failed" in logged


# Emitted on purpose below; they still reach pytest-qt's own handler, which is the point.
@pytest.mark.qt_log_ignore("^a harmless Qt warning$", "^a Qt error$", extend=True)
def test_qt_warnings_are_logged_and_qt_errors_shown(
        qtbot: QtBot, qtlog: Any, reporter: FailureReporter, log_file: Path) -> None:
    qWarning("a harmless Qt warning")
    qCritical("a Qt error")
    # Passed on to the handler installed before ours (Qt's default prints to stderr).
    assert [r.message for r in qtlog.records][-2:] == ["a harmless Qt warning", "a Qt error"]
    qtbot.waitUntil(lambda: _box(reporter) is not None, timeout=5000)
    box = _box(reporter)
    assert box is not None
    assert "a Qt error" in box.text()
    logged = _logged(log_file)
    assert "a harmless Qt warning" in logged
    assert "a Qt error" in logged


def test_uninstall_restores_the_previous_hooks(
        qtbot: QtBot, qasync_loop: asyncio.AbstractEventLoop) -> None:
    import sys

    window = QMainWindow()
    qtbot.addWidget(window)
    before = (sys.excepthook, threading.excepthook)
    failures = FailureReporter(window)
    failures.install(qasync_loop)
    assert sys.excepthook == failures.excepthook
    failures.uninstall()
    assert (sys.excepthook, threading.excepthook) == before
