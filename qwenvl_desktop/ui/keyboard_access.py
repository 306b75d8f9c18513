"""Keyboard and screen-reader access for the main window, put on it once its panes exist.

* Tab order by pane, in reading order: conversation list → header → notices →
  parameters (when open) → conversation → message field (with its row of actions) →
  status bar; inside a pane, top to bottom and left to right. Computed at each Tab from
  what is visible, because the drawers move the list and the parameters between the
  splitter and an overlay and a fixed chain would go stale. F6 / Shift+F6 jump a pane.
* The transcript's links (Copy, Edit, Regenerate, Delete, ‹ ›, images…) are reached
  with Tab (QTextBrowser's own keyboard link navigation) and followed with Enter; the
  focused link's meaning is the transcript's accessible description; the Menu key lists
  the actions of the message at the cursor (`transcript_keys.py`).
* A screen reader hears an answer once, when it has ended (`Announcer`), not each
  piece as it streams.
* Controls Qt makes without a name (a line edit's clear button) are named; tooltips of
  icon buttons name their keys.

Every sentence is in `accessibility_text.py`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QPoint, Qt, Signal
from PySide6.QtGui import QAccessible, QAccessibleAnnouncementEvent, QKeyEvent, QKeySequence
from PySide6.QtWidgets import QApplication, QLineEdit, QToolButton, QWidget
from shiboken6 import isValid

from ..core.i18n import _
from . import accessibility_text as text
from .transcript_keys import TranscriptKeys

if TYPE_CHECKING:
    from qwenvl_desktop.core.conversation import Message

    from .main_window import MainWindow
    from .window.drawers import Drawer

__all__ = ["Announcer", "KeyboardAccess", "name_clear_buttons"]


def name_clear_buttons(root: QWidget) -> None:
    """Give the clear button Qt puts in a line edit (`setClearButtonEnabled`) a name."""
    for edit in root.findChildren(QLineEdit):
        for button in edit.findChildren(QToolButton):
            if not button.accessibleName():
                button.setAccessibleName(_(text.CLEAR_TEXT))


def _keys(sequence: QKeySequence) -> str:
    return sequence.toString(QKeySequence.SequenceFormat.NativeText)


def _reading_order(stops: list[tuple[int, int, int, QWidget]]) -> list[QWidget]:
    """Pane by pane; inside one, row by row, left to right. A control belongs to the row
    its vertical middle falls in (a tall Send button and the small icons beside it are
    one row, though their tops differ)."""
    stops.sort(key=lambda s: s[:3])
    ordered: list[QWidget] = []
    row: list[tuple[int, QWidget]] = []
    row_key: tuple[int, int, int] | None = None       # pane, top, bottom
    for pane, top, left, widget in stops:
        middle = top + widget.height() // 2
        if row_key is not None and pane == row_key[0] and row_key[1] <= middle <= row_key[2]:
            row.append((left, widget))
            continue
        ordered.extend(w for _x, w in sorted(row, key=lambda r: r[0]))
        row, row_key = [(left, widget)], (pane, top, top + widget.height())
    ordered.extend(w for _x, w in sorted(row, key=lambda r: r[0]))
    return ordered


class Announcer(QObject):
    """Speaks a sentence through the screen reader (Qt's announcement event) and keeps
    what it said, so a test can count it."""

    announced = Signal(str)

    def __init__(self, speaker: QWidget) -> None:
        super().__init__(speaker)
        self._speaker = speaker
        self.said: list[str] = []

    def announce(self, sentence: str) -> None:
        self.said.append(sentence)
        event = QAccessibleAnnouncementEvent(self._speaker, sentence)
        QAccessible.updateAccessibility(event)
        self.announced.emit(sentence)


def _outcome(message: Message) -> str:
    if message.status == "stopped":
        return _(text.ANSWER_STOPPED)
    if message.status in ("error", "interrupted"):
        return _(text.ANSWER_FAILED)
    return _(text.ANSWER_FINISHED)


class KeyboardAccess(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.w = window
        self.announcer = Announcer(window.transcript)
        self.transcript_keys = TranscriptKeys(window.transcript)
        window.transcript.setAccessibleDescription(_(text.TRANSCRIPT_DESCRIPTION))
        events = window.session.events
        events.turn_started.connect(self._on_started)
        events.turn_ended.connect(self._on_ended)
        name_clear_buttons(window)
        name_clear_buttons(window.model_bar.picker)
        self._add_keys_to_tooltips()
        for drawer in window.drawers.drawers:
            drawer.action.toggled.connect(
                lambda shown, d=drawer: self._drawer_toggled(d, shown))
            drawer.panel.installEventFilter(self)
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.focusChanged.connect(self._on_focus_changed)

    # --- drawers over the chat -------------------------------------------------------------

    def _drawer_toggled(self, drawer: Drawer, shown: bool) -> None:
        """A drawer laid over the chat takes the focus (it covers what had it)."""
        if shown and drawer.overlaid:
            first = next((w for w in self.focus_order() if drawer.panel.isAncestorOf(w)), None)
            if first is not None:
                first.setFocus(Qt.FocusReason.OtherFocusReason)

    def _on_focus_changed(self, old: QWidget | None, new: QWidget | None) -> None:
        """The message field's frame shows the focus like any text field; a drawer closed
        with the focus in it gives it to the message field (Qt would pass it to whatever
        control comes next in its chain)."""
        if not isValid(self.w):     # (the app outlives a closed window)
            return
        frame = self.w.composer.frame
        typing = new is self.w.composer.input
        if bool(frame.property("focus")) != typing:
            frame.setProperty("focus", typing)
            frame.style().unpolish(frame)       # the style sheet reads the property
            frame.style().polish(frame)
        if old is None:
            return
        for drawer in self.w.drawers.drawers:
            if drawer.panel.isAncestorOf(old) and not drawer.panel.isVisible():
                self.w.composer.focus_input()
                return

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Tooltips name their keys; Esc in a drawer over the chat closes it (before Esc's
        window-wide Stop)."""
        if event.type() == QEvent.Type.ToolTip and isinstance(watched, QWidget):
            self._key_tooltip(watched)
            return False
        drawer = next((d for d in self.w.drawers.drawers if d.panel is watched), None)
        if (drawer is None or not drawer.overlaid or not isinstance(event, QKeyEvent)
                or event.key() != Qt.Key.Key_Escape or event.modifiers()):
            return False
        if event.type() == QEvent.Type.ShortcutOverride:
            event.accept()              # deliver Esc here as a key press
            return True
        if event.type() == QEvent.Type.KeyPress:
            self.w.drawers.close_overlay(drawer)
            return True
        return False

    # --- announcements -----------------------------------------------------------------

    def _shown(self, conv_id: str) -> bool:
        current = self.w.session.current
        return current is not None and current.id == conv_id

    def _on_started(self, conv_id: str, _answer_id: str) -> None:
        if self._shown(conv_id):
            self.w.transcript.setAccessibleDescription(_(text.TRANSCRIPT_WRITING))

    def _on_ended(self, conv_id: str, answer_id: str) -> None:
        if not self._shown(conv_id):
            return
        self.w.transcript.setAccessibleDescription(_(text.TRANSCRIPT_DESCRIPTION))
        conv = self.w.session.current
        if conv is None or answer_id not in conv:
            return
        answer = conv.message(answer_id)
        model = answer.provenance.model if answer.provenance else ""
        self.announcer.announce(text.answer_announcement(
            _outcome(answer), model, len(answer.text.split())))

    # --- tooltips ------------------------------------------------------------------------

    def _add_keys_to_tooltips(self) -> None:
        """Icon buttons whose action has keys name them in their tooltip — added when the
        tooltip is shown, since their owners rewrite it (the model chip, per model)."""
        w, composer = self.w, self.w.composer
        pairs: list[tuple[QWidget, str]] = [
            (composer.attach_button, "attach"), (composer.screenshot_button, "screenshot"),
            (w.model_bar.chip, "model_picker")]
        self._keyed: dict[QWidget, str] = {}
        for widget, name in pairs:
            self._keyed[widget] = _keys(w.action(name).shortcut())
            widget.installEventFilter(self)
            self._key_tooltip(widget)
        # A tool button bound to an action takes the action's tooltip again whenever the
        # action changes (enabled, checked): the keys go on the action itself.
        for button in w.header.buttons.values():
            action = button.defaultAction()
            keys = _keys(action.shortcut()) if action is not None else ""
            if keys:
                action.setToolTip(text.with_shortcut(action.text().replace("&", ""), keys))

    def _key_tooltip(self, widget: QWidget) -> None:
        keys = self._keyed.get(widget, "")
        if keys and keys not in widget.toolTip():
            widget.setToolTip(text.with_shortcut(widget.toolTip(), keys))

    # --- panes ---------------------------------------------------------------------------

    def panes(self) -> list[QWidget]:
        """The window's panes in the order Tab and F6 visit them (visible ones only)."""
        w = self.w
        order = [w.conversation_list, w.header, w.banner, w.model_bar.note, w.param_panel,
                 w.stack.currentWidget(), w.composer, w.statusBar()]
        return [pane for pane in order if pane is not None and pane.isVisible()]

    def _pane_of(self, widget: QWidget | None, panes: list[QWidget]) -> int:
        while widget is not None:
            if widget in panes:
                return panes.index(widget)
            widget = widget.parentWidget()
        return len(panes)

    def focus_order(self) -> list[QWidget]:
        """Every control Tab stops at now, in order."""
        panes = self.panes()
        window = self.w
        stops: list[tuple[int, int, int, QWidget]] = []
        for widget in window.findChildren(QWidget):
            if (not widget.isVisible() or not widget.isEnabled()
                    or widget.focusProxy() is not None
                    or not widget.focusPolicy() & Qt.FocusPolicy.TabFocus
                    or widget.window() is not window):
                continue
            pane = self._pane_of(widget, panes)
            if pane == len(panes) and widget.parentWidget() is window.menuBar():
                continue
            spot = widget.mapTo(window, QPoint(0, 0))
            stops.append((pane, spot.y(), spot.x(), widget))
        return _reading_order(stops)

    def move_focus(self, forward: bool) -> bool:
        """Tab / Shift+Tab from the focused control; False leaves it to Qt."""
        order = self.focus_order()
        if not order:
            return False
        focus = QApplication.focusWidget()
        index = -1
        while focus is not None and index < 0:
            if focus in order:
                index = order.index(focus)
            focus = focus.parentWidget()
        if index < 0:
            target = order[0] if forward else order[-1]
        else:
            target = order[(index + (1 if forward else -1)) % len(order)]
        reason = (Qt.FocusReason.TabFocusReason if forward
                  else Qt.FocusReason.BacktabFocusReason)
        target.setFocus(reason)
        return True

    def next_pane(self, forward: bool = True) -> None:
        """F6 / Shift+F6: the first control of the next (previous) pane."""
        panes = self.panes()
        order = self.focus_order()
        if not panes or not order:
            return
        current = self._pane_of(QApplication.focusWidget(), panes)
        count = len(panes)
        for step in range(1, count + 1):
            pane = (current + (step if forward else -step)) % count if current < count \
                else (0 if forward else count - 1)
            first = next((w for w in order if self._pane_of(w, panes) == pane), None)
            if first is not None:
                first.setFocus(Qt.FocusReason.OtherFocusReason)
                return

    # --- actions -------------------------------------------------------------------------

    def focus_message(self) -> None:
        self.w.composer.focus_input()

    def open_picker(self) -> None:
        self.w.model_bar.open_picker()

    def open_viewer(self) -> None:
        """The viewer of what the last answer located, or the last image at full size."""
        w = self.w
        conv = w.current_conversation()
        if conv is None:
            return
        located = w.transcript.located
        for message in reversed(conv.messages):
            if message.role == "assistant" and located.grounding_for(conv, message.id):
                w.answer_tools.open_viewer(message.id)
                return
        for message in reversed(conv.messages):
            if message.images:
                w.turns.show_image(message.images[-1])
                return
        w.show_status(_(text.NO_IMAGE_TO_VIEW), 4000)

    def show_shortcuts(self) -> None:
        from .shortcuts_dialog import ShortcutsDialog

        dialog = ShortcutsDialog(self.w)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
