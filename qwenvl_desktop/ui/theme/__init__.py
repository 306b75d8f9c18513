"""The window's visual language: design tokens, the Qt palette and style sheet made from
them, themed icons, and the colours the transcript's HTML is written with.

    tokens.py      colours (light, dark), spacing, radii, font scale, sizes — plain data
    contrast.py    WCAG contrast of two colours
    palette.py     which scheme is in force (system / light / dark), QPalette, apply_theme
    stylesheet.py  the application style sheet
    icons.py       Lucide SVG icons recoloured per scheme
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtGui import QColor, QPalette

from . import contrast
from .contrast import AA_NORMAL, mix
from .palette import (
    THEME_CHOICES,
    apply_theme,
    is_dark,
    qcolor,
    scheme,
    scheme_palette,
    theme_state,
)
from .tokens import DARK, LIGHT, Scheme

if TYPE_CHECKING:
    # Imported where a palette is made: the theme is applied before the first frame,
    # and the markdown renderer's module (its patterns, its types) is not needed there.
    from qwenvl_desktop.core.markdown_render import CodePalette

__all__ = [
    "HINT_MIN_CONTRAST", "THEME_CHOICES", "TranscriptColors", "apply_theme", "code_palette",
    "contrast_ratio",
    "hint_color", "is_dark", "qcolor", "scheme", "scheme_palette", "theme_state",
    "transcript_colors",
]

#: WCAG AA for normal text.
HINT_MIN_CONTRAST = AA_NORMAL


def _dark_palette() -> QPalette:
    """The dark scheme's palette (tests compare hints against it)."""
    return scheme_palette(DARK)


def contrast_ratio(a: QColor | str, b: QColor | str) -> float:
    """WCAG 2 contrast ratio of two colours (QColor or `#rrggbb`)."""
    def as_hex(c: QColor | str) -> str:
        return c if isinstance(c, str) else c.name(QColor.NameFormat.HexRgb)
    return contrast.contrast_ratio(as_hex(a), as_hex(b))


def hint_color(palette: QPalette | None = None) -> QColor:
    """The muted text colour of the scheme in force (≥ 4.5:1 on every surface)."""
    del palette
    return qcolor(scheme().text_muted)


@dataclass(frozen=True)
class TranscriptColors:
    """The colours (CSS hex) the transcript's HTML is written with, from one scheme."""

    scheme: Scheme
    dark: bool
    text: str
    muted: str
    user_bg: str
    assistant_bg: str
    reasoning_bg: str
    reasoning_rule: str
    error: str
    error_bg: str
    link: str
    code: CodePalette


def code_palette(s: Scheme) -> CodePalette:
    """The colours of code blocks, inline code and tables in rendered markdown."""
    from qwenvl_desktop.core.markdown_render import CodePalette

    return CodePalette(s.pygments_style, s.code_bg, s.code_fg, s.inline_code_bg,
                       s.table_border, s.text_muted, s.link, s.table_header_bg,
                       table_cell_bg=s.base,
                       table_rule=QColor(s.table_border).lighter(150).name())


def transcript_colors(palette: QPalette | None = None) -> TranscriptColors:
    """The transcript's colours in the scheme in force."""
    del palette
    s = scheme()
    return TranscriptColors(
        scheme=s, dark=s.dark, text=s.text, muted=s.text_muted, user_bg=s.user_bubble,
        assistant_bg=s.base, reasoning_bg=s.reasoning_bg, reasoning_rule=s.reasoning_rule,
        error=s.error, error_bg=s.error_bg, link=s.link, code=code_palette(s))


# Kept for callers that mixed colours themselves.
__all__ += ["DARK", "LIGHT", "Scheme", "mix"]
