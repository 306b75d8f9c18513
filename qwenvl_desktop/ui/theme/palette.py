"""Which scheme is in force, and the Qt palette and style that show it.

The person chooses "system" (the default: follow the desktop's light or dark setting,
and switch when it does), "light" or "dark" in Settings › General. Whatever the choice,
the window is drawn by Qt's Fusion style with a palette and a style sheet made from
the tokens, so it looks the same on every desktop; file dialogs, menus' keyboard
handling and accessibility stay Qt's own.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

from .tokens import DARK, LIGHT, Scheme

__all__ = ["FUSION_ARGUMENTS", "THEME_CHOICES", "ThemeState", "apply_theme", "is_dark",
           "qcolor", "scheme", "scheme_palette", "started_on_fusion", "theme_state"]

THEME_CHOICES = ("system", "light", "dark")

#: Given to QApplication when the window's process makes it, so Qt starts on Fusion.
#: Then applying the theme need not ask which style is in force: the first
#: `app.style()` of a process makes PySide build its QStyle type with eleven enums
#: (some 600 members), 12-15 ms measured here, before the first frame.
FUSION_ARGUMENTS = ("-style", "fusion")


def qcolor(colour: str) -> QColor:
    """A token's colour as a QColor (`#aarrggbb` keeps its alpha)."""
    return QColor(colour)


def scheme_palette(scheme: Scheme) -> QPalette:
    """The Qt palette of a scheme (Fusion draws frames, buttons and sliders from it)."""
    palette = QPalette()
    role, group = QPalette.ColorRole, QPalette.ColorGroup
    for r, token in (
        (role.Window, "window"), (role.WindowText, "text"), (role.Base, "base"),
        (role.AlternateBase, "sidebar"), (role.Text, "text"), (role.Button, "raised"),
        (role.ButtonText, "text"), (role.BrightText, "on_accent"),
        (role.ToolTipBase, "tooltip_bg"), (role.ToolTipText, "tooltip_text"),
        (role.Highlight, "accent"), (role.HighlightedText, "on_accent"),
        (role.Link, "link"), (role.LinkVisited, "link"), (role.PlaceholderText, "placeholder"),
        (role.Light, "base"), (role.Midlight, "border"), (role.Mid, "border_strong"),
        (role.Dark, "border_strong"), (role.Shadow, "border_strong"),
    ):
        palette.setColor(r, qcolor(scheme.get(token)))
    for r in (role.Text, role.WindowText, role.ButtonText, role.PlaceholderText):
        palette.setColor(group.Disabled, r, qcolor(scheme.text_disabled))
    palette.setColor(group.Disabled, role.Highlight, qcolor(scheme.border_strong))
    return palette


def is_dark(palette: QPalette | None = None) -> bool:
    """True when the window background is darker than its text."""
    palette = palette or QGuiApplication.palette()
    window = palette.color(QPalette.ColorRole.Window)
    text = palette.color(QPalette.ColorRole.WindowText)
    return window.lightness() < text.lightness()


class ThemeState(QObject):
    """The choice, the scheme it resolves to, and `changed` when that scheme changes."""

    changed = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.choice = "system"
        self.scheme: Scheme = LIGHT
        self._following = False
        self.platform_dark: bool | None = None
        # True once the application is known to be on Fusion (see FUSION_ARGUMENTS).
        self.on_fusion = False

    def resolve(self, choice: str) -> Scheme:
        if choice == "dark":
            return DARK
        if choice == "light":
            return LIGHT
        hints = QGuiApplication.styleHints()
        system = hints.colorScheme() if hints is not None else Qt.ColorScheme.Unknown
        if system == Qt.ColorScheme.Dark:
            return DARK
        if system == Qt.ColorScheme.Light:
            return LIGHT
        # The platform does not say: its own palette did (read before ours replaced it).
        return DARK if self.platform_dark else LIGHT

    def follow_system(self, app: QApplication) -> None:
        """Re-apply when the desktop switches between light and dark (choice "system")."""
        if self._following:
            return
        self._following = True
        hints = app.styleHints()
        if hints is not None:
            hints.colorSchemeChanged.connect(
                lambda _s: apply_theme(app, self.choice) if self.choice == "system" else None)


_state: ThemeState | None = None


def theme_state() -> ThemeState:
    """The process-wide theme state (made on first use, in the GUI thread)."""
    global _state
    if _state is None:
        _state = ThemeState()
    return _state


def started_on_fusion() -> None:
    """Record that QApplication was made with `FUSION_ARGUMENTS`."""
    theme_state().on_fusion = True


def scheme() -> Scheme:
    """The scheme in force (light until `apply_theme` chose one)."""
    return theme_state().scheme


def apply_theme(app: QApplication, choice: str) -> Scheme:
    """Draw the application in the scheme `choice` resolves to; returns it.

    `changed` is emitted when the scheme differs from the one in force, so views that
    wrote colours into HTML (the transcript) can write them again.
    """
    from .stylesheet import app_stylesheet

    state = theme_state()
    state.choice = choice if choice in THEME_CHOICES else "system"
    if state.platform_dark is None:
        state.platform_dark = is_dark(app.palette())
    chosen = state.resolve(state.choice)
    previous = state.scheme
    state.scheme = chosen
    if not state.on_fusion:
        if app.style().name().lower() != "fusion":
            app.setStyle("Fusion")
        state.on_fusion = True
    app.setPalette(scheme_palette(chosen))
    app.setStyleSheet(app_stylesheet(chosen, app.font().pointSizeF()))
    state.follow_system(app)
    if chosen is not previous:
        state.changed.emit()
    return chosen
