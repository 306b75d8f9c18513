"""The main window's menu bar: every action, its standard shortcut, what it calls.

Built in `MainWindow.__init__`, before the panes exist (the frame shows before the
heavy imports), so the actions call through lambdas and stay disabled until `attach`
enables them; Quit and About work from the first moment.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QAction, QKeySequence

from ...core.i18n import _
from .. import accessibility_text as a11y

if TYPE_CHECKING:
    from ..main_window import MainWindow

__all__ = ["build_menus", "make_action"]

Shortcut = QKeySequence | QKeySequence.StandardKey | str | None


def make_action(window: MainWindow, name: str, text: str, slot: Callable[..., Any],
                shortcut: Shortcut = None, checkable: bool = False) -> QAction:
    """A window-wide action registered under `name` in `window.actions_by_name`."""
    action = QAction(text, window)
    action.setObjectName(name)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
    action.setCheckable(checkable)
    action.triggered.connect(slot)
    action.setEnabled(False)      # until the panes exist
    window.actions_by_name[name] = action
    window.addAction(action)
    return action


def _find(w: MainWindow) -> None:
    """Ctrl+F: show the conversation list if it was hidden, and type into its search."""
    w.actions_by_name["toggle_list"].setChecked(True)
    w.toggle_list(True)
    w.conversation_list.focus_search()


def build_menus(w: MainWindow) -> None:
    key = QKeySequence.StandardKey

    def add(menu: Any, *args: Any, **kwargs: Any) -> QAction:
        action = make_action(w, *args, **kwargs)
        menu.addAction(action)
        return action

    bar = w.menuBar()
    file_menu = bar.addMenu(_("&File"))
    add(file_menu, "new", _("&New Conversation"), lambda: w.chat.new_conversation(), key.New)
    add(file_menu, "open", _("&Open…"), lambda: w.files.open_dialog(), key.Open)
    add(file_menu, "save", _("&Save"), lambda: w.files.save(), key.Save)
    add(file_menu, "save_as", _("Save &As…"), lambda: w.files.save_as(), "Ctrl+Shift+S")
    file_menu.addSeparator()
    add(file_menu, "export_md", _("Export as &Markdown…"), lambda: w.files.export("markdown"),
        "Ctrl+E")
    add(file_menu, "export_html", _("Export as &HTML…"), lambda: w.files.export("html"),
        "Ctrl+Shift+E")
    file_menu.addSeparator()
    quit_action = add(file_menu, "quit", _("&Quit"), w.close, "Ctrl+Q")
    quit_action.setEnabled(True)
    quit_action.setMenuRole(QAction.MenuRole.QuitRole)

    edit_menu = bar.addMenu(_("&Edit"))
    # Ctrl+Z in a text field is still that field's own undo (it claims the shortcut).
    add(edit_menu, "undo_delete", _("&Undo Delete"), lambda: w.turns.undo_delete(), key.Undo)
    edit_menu.addSeparator()
    add(edit_menu, "copy", _("&Copy"), w.copy_selection, key.Copy)
    add(edit_menu, "paste", _("&Paste"), w.paste_into_composer, key.Paste)
    edit_menu.addSeparator()
    add(edit_menu, "find", _("&Find Conversations…"), lambda: _find(w), key.Find)
    edit_menu.addSeparator()
    settings = add(edit_menu, "settings", _("Se&ttings…"), lambda: w.open_settings("keys"),
                   "Ctrl+,")
    settings.setMenuRole(QAction.MenuRole.PreferencesRole)

    conv_menu = bar.addMenu(_("&Conversation"))
    add(conv_menu, "send", _("&Send"), lambda: w.composer.submit(), "Ctrl+Return")
    add(conv_menu, "stop", _("S&top"), lambda: w.turns.stop(), "Esc")
    add(conv_menu, "regenerate", _("&Regenerate Answer"), lambda: w.turns.regenerate_last(),
        "Ctrl+R")
    add(conv_menu, "branch_prev", _("Pre&vious Version"),
        lambda: w.turns.switch_deepest_branch(-1), "Alt+Left")
    add(conv_menu, "branch_next", _("Ne&xt Version"),
        lambda: w.turns.switch_deepest_branch(1), "Alt+Right")
    conv_menu.addSeparator()
    add(conv_menu, "attach", _("&Attach Images…"), lambda: w.composer.choose_files(),
        "Ctrl+Shift+A")
    add(conv_menu, "screenshot", _("Take Scree&nshot"), lambda: w.composer.capture_full_screen(),
        "Ctrl+Shift+X")
    add(conv_menu, "screenshot_region", _("Capture Screen &Region…"),
        lambda: w.composer.capture_region(), "Ctrl+Shift+R")
    conv_menu.addSeparator()
    add(conv_menu, "rename", _("Re&name…"), lambda: w.conversation_list.ask_rename(), "F2")
    add(conv_menu, "delete", _("&Delete Conversation"),
        lambda: w.conversation_list.request_delete(), "Ctrl+Shift+Delete")

    view_menu = bar.addMenu(_("&View"))
    add(view_menu, "toggle_list", _("&Conversation List"), w.toggle_list, "Ctrl+Shift+L",
        checkable=True)
    add(view_menu, "toggle_params", _("&Parameters"), w.toggle_params, "Ctrl+Shift+P",
        checkable=True)
    # Keyboard paths to what otherwise takes the mouse (keyboard_access.py).
    view_menu.addSeparator()
    add(view_menu, "model_picker", _(a11y.ACTION_CHOOSE_MODEL), lambda: w.access.open_picker(),
        "Ctrl+Shift+M")
    add(view_menu, "open_viewer", _(a11y.ACTION_OPEN_VIEWER), lambda: w.access.open_viewer(),
        "Ctrl+Shift+I")
    add(view_menu, "focus_message", _(a11y.ACTION_FOCUS_MESSAGE),
        lambda: w.access.focus_message(), "Ctrl+L")
    add(view_menu, "next_pane", _(a11y.ACTION_NEXT_PANE), lambda: w.access.next_pane(True), "F6")
    add(view_menu, "previous_pane", _(a11y.ACTION_PREVIOUS_PANE),
        lambda: w.access.next_pane(False), "Shift+F6")
    w.actions_by_name["toggle_list"].setChecked(True)
    # The parameter drawer starts closed: it costs no width until asked for.
    w.actions_by_name["toggle_params"].setChecked(False)

    help_menu = bar.addMenu(_("&Help"))
    add(help_menu, "shortcuts", _(a11y.ACTION_SHORTCUTS), lambda: w.access.show_shortcuts(),
        "Ctrl+/")
    about = add(help_menu, "about", _("&About Qwen-VL Desktop"), w.show_about, key.HelpContents)
    about.setMenuRole(QAction.MenuRole.AboutRole)
    about.setEnabled(True)
