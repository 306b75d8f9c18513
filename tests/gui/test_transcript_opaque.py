"""The transcript paints its own background: redrawing it (each streamed batch does)
never repaints the widgets behind it, in either scheme and after a switch."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication, QWidget
from window_harness import (  # noqa: F401 - fixtures are found by name
    provider_server_fixture,
    server_fixture,
    window_fixture,
)

from qwenvl_desktop.ui.main_window import MainWindow
from qwenvl_desktop.ui.theme import apply_theme
from qwenvl_desktop.ui.theme.tokens import DARK, LIGHT


class PaintCounter(QObject):
    """Counts paint events per widget while installed on the application."""

    def __init__(self) -> None:
        super().__init__()
        self.painted: list[QWidget] = []

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and isinstance(watched, QWidget):
            self.painted.append(watched)
        return False


def painted_by_redraw(window: MainWindow) -> list[QWidget]:
    app = QApplication.instance()
    assert app is not None
    window.repaint()                    # whatever else was waiting to be drawn first
    QApplication.processEvents()
    counter = PaintCounter()
    app.installEventFilter(counter)
    try:
        window.transcript.viewport().repaint()
    finally:
        app.removeEventFilter(counter)
    return counter.painted


def test_redrawing_the_transcript_paints_only_the_transcript(
        qapp: QApplication, window: MainWindow) -> None:
    viewport = window.transcript.viewport()
    window.stack.setCurrentWidget(window.transcript)
    try:
        for name, colours in (("light", LIGHT), ("dark", DARK), ("light", LIGHT)):
            apply_theme(qapp, name)
            QApplication.processEvents()
            assert viewport.autoFillBackground(), name
            painted = painted_by_redraw(window)
            assert viewport in painted, name
            # What lies on top of it (the empty conversation's drop zone) is drawn
            # again with it; what lies behind it (its frame, the splitters, the window)
            # is not.
            behind = [w for w in painted if w is not viewport and w.isAncestorOf(viewport)]
            assert behind == [], (name, [type(w).__name__ for w in behind])
            corner = viewport.grab().toImage().pixelColor(2, viewport.height() - 3)
            assert corner.name() == colours.base, name
    finally:
        apply_theme(qapp, "light")
