"""Small widgets and helpers shared by the composer, the model bar and the settings pages."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, Literal, TypeVar

import shiboken6
from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

from ..core.catalog import Provider
from ..core.i18n import N_, _
from ..core.secrets import KeySource, KeyStore
from .theme import hint_color, scheme
from .theme.tokens import RADIUS, SPACE

__all__ = [
    "ElidedHintLabel", "HintLabel", "InlineNote", "NoteKind", "key_mark", "key_status_text",
    "start_task",
]

T = TypeVar("T")

NoteKind = Literal["info", "warning", "error", "ok"]

# Each kind's (accent, background) tokens; the text is the scheme's own text colour,
# which reads on every one of these backgrounds (tests/unit/test_design_tokens.py).
_KIND_TOKENS: dict[NoteKind, tuple[str, str]] = {
    "info": ("info", "info_bg"),
    "ok": ("success", "success_bg"),
    "warning": ("warning", "warning_bg"),
    "error": ("error", "error_bg"),
}


class InlineNote(QLabel):
    """A one-paragraph message shown in place (never a modal box): info, warning, error.

    Hidden while empty, so a page can keep one note per place and just set its text.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self._kind: NoteKind = "info"
        self.hide()

    @property
    def kind(self) -> NoteKind:
        return self._kind

    def show_message(self, text: str, kind: NoteKind = "info") -> None:
        self._kind = kind
        self.setText(text)
        self.setAccessibleName(f"{kind}: {text}")
        self._restyle()
        self.setVisible(bool(text))

    def _restyle(self) -> None:
        current = scheme()
        accent, background = (current.get(t) for t in _KIND_TOKENS[self._kind])
        self.setStyleSheet(
            f"QLabel {{ border-left: 3px solid {accent}; color: {current.text};"
            f" padding: {SPACE.xs}px {SPACE.sm}px; background: {background};"
            f" border-radius: {RADIUS.sm}px; }}")

    def changeEvent(self, event: QEvent) -> None:
        # The scheme changed (light ↔ dark): the note's colours follow.
        if event.type() == QEvent.Type.ApplicationPaletteChange and self.text():
            self._restyle()
        super().changeEvent(event)

    def clear_message(self) -> None:
        self.setText("")
        self.hide()


class HintLabel(QLabel):
    """Secondary text (a hint, a region note) in a muted colour that stays readable.

    Replaces the `setEnabled(False)` trick, whose disabled colour was too faint. The
    colour follows the application palette (light/dark switches).
    """

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setWordWrap(True)
        self._apply_colour()

    def _apply_colour(self) -> None:
        colour = hint_color()
        palette = self.palette()
        if palette.color(QPalette.ColorRole.WindowText) == colour:
            return      # also ends the PaletteChange our own setPalette causes
        for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive):
            palette.setColor(group, QPalette.ColorRole.WindowText, colour)
        self.setPalette(palette)

    def changeEvent(self, event: QEvent) -> None:
        # A new application palette reaches child widgets as PaletteChange.
        if event.type() in (QEvent.Type.ApplicationPaletteChange,
                            QEvent.Type.PaletteChange):
            self._apply_colour()
        super().changeEvent(event)


class ElidedHintLabel(HintLabel):
    """A one-line hint that ends in "…" when the row is too narrow for it, instead of
    being cut mid-letter; the full text stays in `text()` (and the tooltip says more)."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setWordWrap(False)
        self.setMinimumWidth(1)         # gives way first in a narrow row

    def shown_text(self) -> str:
        return self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight,
                                             self.contentsRect().width())

    def paintEvent(self, event: QPaintEvent) -> None:
        del event
        painter = QPainter(self)
        painter.setPen(self.palette().color(QPalette.ColorRole.WindowText))
        painter.drawText(self.contentsRect(),
                         int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                         self.shown_text())


_MARKS: dict[KeySource, str] = {
    "keyring": "✓",
    "session": N_("✓ session"),
    "env": N_("✓ env"),
    "none": N_("✗ no key"),
}


def key_mark(keystore: KeyStore, provider: Provider) -> tuple[str, str]:
    """A short mark for where `provider`'s key comes from, and the tooltip that explains it.

    Never includes any part of the key: only the source (keyring, session, environment).
    """
    source = keystore.source(provider)
    mark = _(_MARKS[source])
    if source == "none" and provider.key_optional:
        mark = _("○ no key (optional)")
    return mark, keystore.status_line(provider)


def key_status_text(keystore: KeyStore, provider: Provider) -> str:
    """One line for Settings › Keys: where the key comes from, never the key."""
    source = keystore.source(provider)
    if source == "keyring":
        return _("✓ Saved in the keyring ({backend_name})").format(
            backend_name=keystore.backend_name)
    if source == "session":
        return _("✓ Kept for this session only (forgotten when the app closes)")
    if source == "env":
        return _("✓ From the {key_env} environment variable").format(key_env=provider.key_env)
    if provider.key_optional:
        return _("○ No key (this endpoint may not need one)")
    hint = _(", or set {key_env}").format(key_env=provider.key_env) if provider.key_env else ""
    return _("✗ No key yet: paste one below{hint}").format(hint=hint)


def start_task(coro: Coroutine[Any, Any, T], owner: QObject,
               on_done: Callable[[T | None, BaseException | None], None]) -> asyncio.Task[T]:
    """Run `coro` on the app's (qasync) loop and call `on_done(result, error)` after.

    `on_done` is skipped when the task was cancelled or `owner` (the widget that shows
    the result) has been deleted meanwhile. Raises RuntimeError when no loop runs.
    """
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        coro.close()
        raise
    task = loop.create_task(coro)

    def finished(done: asyncio.Task[T]) -> None:
        if done.cancelled() or not shiboken6.isValid(owner):
            return
        error = done.exception()
        if error is not None:
            on_done(None, error)
        else:
            on_done(done.result(), None)

    task.add_done_callback(finished)
    return task
