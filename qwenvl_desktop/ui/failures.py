"""Failures are seen: nothing that goes wrong in the window is lost silently.

Four places an unexpected failure can surface in a Qt + asyncio app, each routed to
the app's log file (which redacts keys, `core/logs.py`) and, for real errors, to a
message in the window that does not block it:

- an exception escaping a Qt slot or virtual method: PySide prints it through
  `sys.excepthook` and carries on;
- an exception in a thread without a handler of its own: `threading.excepthook`;
- an exception in an asyncio task or callback nobody awaited: the loop's exception
  handler;
- Qt's own warnings and errors (`qWarning`, `qCritical`): Qt's message handler. These
  are logged; only critical ones are shown, since Qt warns about harmless things too.

The window is told through a queued signal, so a failure on any thread is shown on
the GUI thread. Bursts are folded into one message box ("and 3 more").
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import threading
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QMessageLogContext,
    QObject,
    Qt,
    QtMsgType,
    Signal,
    qInstallMessageHandler,
)
from PySide6.QtWidgets import QWidget

from qwenvl_desktop.core import paths
from qwenvl_desktop.core.errors import explain, redact
from qwenvl_desktop.core.logs import LOG_NAME

from ..core.i18n import _

if TYPE_CHECKING:
    # Made when a failure is shown: the reporter is installed before the first frame.
    from PySide6.QtWidgets import QMessageBox

__all__ = ["FailureReporter"]

log = logging.getLogger("qwenvl_desktop.ui")
qt_log = logging.getLogger("qwenvl_desktop.ui.qt")

_QT_LEVELS = {
    QtMsgType.QtDebugMsg: logging.DEBUG,
    QtMsgType.QtInfoMsg: logging.INFO,
    QtMsgType.QtWarningMsg: logging.WARNING,
    QtMsgType.QtCriticalMsg: logging.ERROR,
    QtMsgType.QtFatalMsg: logging.CRITICAL,
}

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


class FailureReporter(QObject):
    """Logs unexpected failures and shows them in `window` without blocking it."""

    #: The sentence to show (emitted from any thread, shown on the GUI thread).
    failed = Signal(str)

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self._window = window
        self._box: QMessageBox | None = None
        self._more = 0
        self._installed = False
        self._previous_excepthook: Callable[..., Any] = sys.excepthook
        self._previous_threading_hook: Callable[..., Any] = threading.excepthook
        self._previous_qt_handler: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.failed.connect(self._show, Qt.ConnectionType.QueuedConnection)

    # --- installing ---------------------------------------------------------------------

    def install(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        """Route every kind of failure here (until `uninstall`)."""
        if self._installed:
            return
        self._installed = True
        self._previous_excepthook = sys.excepthook
        self._previous_threading_hook = threading.excepthook
        sys.excepthook = self.excepthook
        threading.excepthook = self._threading_hook
        self._previous_qt_handler = qInstallMessageHandler(self.qt_message)
        if loop is not None:
            self._loop = loop
            loop.set_exception_handler(self.asyncio_exception)

    def uninstall(self) -> None:
        if not self._installed:
            return
        self._installed = False
        sys.excepthook = self._previous_excepthook
        threading.excepthook = self._previous_threading_hook
        qInstallMessageHandler(self._previous_qt_handler)
        if self._loop is not None:
            self._loop.set_exception_handler(None)
            self._loop = None

    # --- the handlers -------------------------------------------------------------------

    def excepthook(self, kind: type[BaseException], exc: BaseException,
                   tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            self._previous_excepthook(kind, exc, tb)
            return
        self.report(exc, (kind, exc, tb), _("an exception escaped a Qt slot or event handler"))

    def _threading_hook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_value is None or issubclass(args.exc_type, SystemExit):
            return
        where = args.thread.name if args.thread is not None else _("a worker thread")
        self.report(args.exc_value, (args.exc_type, args.exc_value, args.exc_traceback),
                    _("in the thread {where}").format(where=where))

    def asyncio_exception(self, _loop: asyncio.AbstractEventLoop,
                          context: dict[str, Any]) -> None:
        exc = context.get("exception")
        message = str(context.get("message") or _("an asyncio task failed"))
        if isinstance(exc, BaseException):
            self.report(exc, (type(exc), exc, exc.__traceback__), _("asyncio: {message}").format(
                message=message))
        else:
            log.error("%s", redact(message))

    def qt_message(self, kind: QtMsgType, context: QMessageLogContext, text: str) -> None:
        level = _QT_LEVELS.get(kind, logging.WARNING)
        qt_log.log(level, "%s", text)
        # Still where Qt would have put it (the terminal, or a handler before ours).
        if self._previous_qt_handler is not None:
            self._previous_qt_handler(kind, context, text)
        elif level >= logging.WARNING:
            sys.stderr.write(f"{text}\n")
        if level >= logging.ERROR:
            self.failed.emit(_("Qt reported an error: {redact}").format(redact=redact(text)))

    def report(self, exc: BaseException, exc_info: ExcInfo, where: str) -> None:
        """Log `exc` with its traceback (redacted) and show it in the window; `where` says
        where it surfaced."""
        log.error("unexpected error (%s)", where, exc_info=exc_info)
        with contextlib.suppress(RuntimeError):      # the window is already gone
            self.failed.emit(_("{explain}\n\n(Where: {where}.)").format(
                explain=explain(exc), where=where))

    # --- showing ------------------------------------------------------------------------

    def _show(self, text: str) -> None:
        box = self._box
        if box is not None and box.isVisible():
            self._more += 1
            box.setInformativeText(_("…and {more} more since. {where_to_look}").format(
                more=self._more, where_to_look=_where_to_look()))
            return
        self._more = 0
        from PySide6.QtWidgets import QMessageBox

        box = QMessageBox(QMessageBox.Icon.Warning, _("Something went wrong"), text,
                          QMessageBox.StandardButton.Close, self._window)
        box.setObjectName("failureBox")
        box.setInformativeText(_where_to_look())
        box.setWindowModality(Qt.WindowModality.NonModal)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.destroyed.connect(self._forget_box)
        self._box = box
        box.show()

    def _forget_box(self) -> None:
        self._box = None


def _where_to_look() -> str:
    try:
        log_file = str(paths.log_dir() / LOG_NAME)
    except OSError:
        log_file = LOG_NAME
    return _("Your conversations are saved as you go. The details are in {log_file}.").format(
        log_file=log_file)
