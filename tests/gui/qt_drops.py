"""Simulated drag-and-drop, the way Qt delivers it: enter, move, drop.

PySide6 6.12 deprecates the QPoint constructors of QDragEnterEvent/QDragMoveEvent in
favour of QPointF ones that 6.11 does not have; with warnings as errors, tests must
pick whichever the installed version takes.
"""

from __future__ import annotations

import warnings

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QWidget

_ACTION = Qt.DropAction.CopyAction
_BUTTONS = Qt.MouseButton.LeftButton
_MODS = Qt.KeyboardModifier.NoModifier


def _drag_event(kind: type[QDragMoveEvent], pos: QPoint, mime: QMimeData) -> QDragMoveEvent:
    try:
        return kind(QPointF(pos), _ACTION, mime, _BUTTONS, _MODS)  # type: ignore[arg-type, call-overload, unused-ignore]
    except TypeError:                      # PySide6 < 6.12: QPoint only
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return kind(pos, _ACTION, mime, _BUTTONS, _MODS)


def simulate_drop(target: QWidget, mime: QMimeData) -> bool:
    """Drag `mime` onto the middle of `target` and drop it; True if the enter was accepted."""
    pos = target.rect().center()
    enter = _drag_event(QDragEnterEvent, pos, mime)
    QApplication.sendEvent(target, enter)
    if not enter.isAccepted():
        return False
    QApplication.sendEvent(target, _drag_event(QDragMoveEvent, pos, mime))
    QApplication.sendEvent(target, QDropEvent(QPointF(pos), _ACTION, mime, _BUTTONS, _MODS))
    return True
