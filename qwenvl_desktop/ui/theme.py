"""Colours for the window and the transcript, derived from the system palette.

The app follows the desktop's light/dark palette by default ("system"). The person may
force "light" or "dark" in settings; then Qt's Fusion style gets a matching palette.
The transcript's HTML needs concrete colours, so `TranscriptColors` turns the current
palette into the handful of values its markup uses.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

__all__ = [
    "TranscriptColors", "apply_theme", "contrast_ratio", "hint_color", "is_dark",
    "transcript_colors",
]


def is_dark(palette: QPalette | None = None) -> bool:
    """True when the window background is darker than its text."""
    palette = palette or QGuiApplication.palette()
    window = palette.color(QPalette.ColorRole.Window)
    text = palette.color(QPalette.ColorRole.WindowText)
    return window.lightness() < text.lightness()


def _dark_palette() -> QPalette:
    palette = QPalette()
    base = QColor(30, 31, 34)
    window = QColor(43, 45, 48)
    text = QColor(223, 225, 229)
    for role, color in (
        (QPalette.ColorRole.Window, window),
        (QPalette.ColorRole.WindowText, text),
        (QPalette.ColorRole.Base, base),
        (QPalette.ColorRole.AlternateBase, window),
        (QPalette.ColorRole.Text, text),
        (QPalette.ColorRole.Button, window),
        (QPalette.ColorRole.ButtonText, text),
        (QPalette.ColorRole.ToolTipBase, window),
        (QPalette.ColorRole.ToolTipText, text),
        (QPalette.ColorRole.Highlight, QColor(53, 116, 240)),
        (QPalette.ColorRole.HighlightedText, QColor(255, 255, 255)),
        (QPalette.ColorRole.Link, QColor(110, 160, 255)),
        (QPalette.ColorRole.PlaceholderText, QColor(140, 143, 150)),
    ):
        palette.setColor(role, color)
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor(120, 122, 128))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText,
                     QColor(120, 122, 128))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.WindowText,
                     QColor(120, 122, 128))
    return palette


def apply_theme(app: QApplication, theme: str) -> None:
    """Use the system palette ("system"), or force "light" / "dark" with Fusion."""
    if theme == "dark":
        app.setStyle("Fusion")
        app.setPalette(_dark_palette())
    elif theme == "light":
        app.setStyle("Fusion")
        app.setPalette(app.style().standardPalette())


@dataclass(frozen=True)
class TranscriptColors:
    """Concrete colours (CSS hex) the transcript's HTML is written with."""

    dark: bool
    text: str
    muted: str
    user_bg: str
    user_border: str
    assistant_bg: str
    reasoning_bg: str
    error: str
    error_bg: str
    link: str


def _hex(color: QColor) -> str:
    return color.name(QColor.NameFormat.HexRgb)


def _mix(a: QColor, b: QColor, amount: float) -> QColor:
    """`a` moved `amount` (0..1) of the way towards `b`."""
    return QColor(
        round(a.red() + (b.red() - a.red()) * amount),
        round(a.green() + (b.green() - a.green()) * amount),
        round(a.blue() + (b.blue() - a.blue()) * amount),
    )


def _luminance(color: QColor) -> float:
    """WCAG 2 relative luminance."""
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    return (0.2126 * channel(color.red()) + 0.7152 * channel(color.green())
            + 0.0722 * channel(color.blue()))


def contrast_ratio(a: QColor, b: QColor) -> float:
    """WCAG 2 contrast ratio of two colours (1 … 21)."""
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


#: WCAG AA for normal text.
HINT_MIN_CONTRAST = 4.5


def hint_color(palette: QPalette | None = None) -> QColor:
    """A muted text colour for hints that still reads: ≥ 4.5:1 against the window.

    Qt's disabled text colour (what `setEnabled(False)` labels used) is about 1.6:1 on
    Fusion's light window — too faint to read, as people reported.
    """
    palette = palette or QGuiApplication.palette()
    text = palette.color(QPalette.ColorRole.WindowText)
    window = palette.color(QPalette.ColorRole.Window)
    amount = 0.5
    color = _mix(text, window, amount)
    while amount > 0 and contrast_ratio(color, window) < HINT_MIN_CONTRAST:
        amount = max(0.0, amount - 0.05)
        color = _mix(text, window, amount)
    return color


def transcript_colors(palette: QPalette | None = None) -> TranscriptColors:
    """The transcript's colours for the current (or given) palette."""
    palette = palette or QGuiApplication.palette()
    dark = is_dark(palette)
    base = palette.color(QPalette.ColorRole.Base)
    text = palette.color(QPalette.ColorRole.Text)
    highlight = palette.color(QPalette.ColorRole.Highlight)
    error = QColor(255, 120, 110) if dark else QColor(176, 32, 24)
    return TranscriptColors(
        dark=dark,
        text=_hex(text),
        muted=_hex(_mix(text, base, 0.45)),
        user_bg=_hex(_mix(base, highlight, 0.12 if dark else 0.08)),
        user_border=_hex(_mix(base, highlight, 0.35)),
        assistant_bg=_hex(base),
        reasoning_bg=_hex(_mix(base, text, 0.06)),
        error=_hex(error),
        error_bg=_hex(_mix(base, error, 0.10)),
        link=_hex(palette.color(QPalette.ColorRole.Link)),
    )
