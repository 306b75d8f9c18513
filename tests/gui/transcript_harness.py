"""A transcript widget on its own, for the tests that drive one without a window."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from qwenvl_desktop.ui.transcript import Transcript


def shown_transcript(qtbot: QtBot, width: int = 700, height: int = 400) -> Transcript:
    """A transcript on its own, shown (and exposed) at `width`×`height`."""
    widget = Transcript()
    widget.resize(width, height)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    return widget
