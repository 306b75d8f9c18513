"""What a person tripped on when using the window under Xvfb, each pinned by a test."""

from __future__ import annotations

import asyncio

from keyring.backends import fail
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from window_harness import (  # noqa: F401 - fixtures are found by name
    close_window,
    conversation,
    make_services,
    open_window,
    provider_server_fixture,
    send,
    server_fixture,
    wait_answer,
    window_fixture,
)

from qwenvl_desktop.core.secrets import KeyStore
from qwenvl_desktop.core.session import retry_notice
from qwenvl_desktop.testing.provider_server import ProviderServer, Script
from qwenvl_desktop.ui.conversation_list import plain_preview
from qwenvl_desktop.ui.main_window import MainWindow
from qwenvl_desktop.ui.settings_dialog import SettingsDialog
from qwenvl_desktop.ui.settings_keys import keys_intro
from qwenvl_desktop.ui.theme import HINT_MIN_CONTRAST, apply_theme, contrast_ratio, hint_color
from qwenvl_desktop.ui.widgets import HintLabel

# --- first start: from no key to an answer ----------------------------------------------


def test_adding_an_endpoint_on_first_start_selects_it_and_the_send_works(
        qtbot: QtBot, qasync_loop: asyncio.AbstractEventLoop, server: ProviderServer) -> None:
    win = open_window(qtbot, make_services(server, keys=False))
    try:
        assert win.model_bar.provider().id == "dashscope-intl"        # no key
        qtbot.mouseClick(win.welcome.endpoint_button, Qt.MouseButton.LeftButton)
        dialog = win.findChild(SettingsDialog)
        assert dialog is not None
        page = dialog.endpoints_page
        page.name_edit.setText("Loopback")
        page.url_edit.setText(server.base_url_for("custom"))
        page.models_edit.setPlainText("Qwen/Qwen3-VL-8B-Instruct")
        with qtbot.waitSignal(dialog.catalog_changed):
            qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)
        assert page.note.text() == "Saved “Loopback” (1 model)."
        dialog.close()

        # The endpoint that just became usable is chosen: the first send goes out.
        assert win.model_bar.provider().id == "Loopback"
        assert win.stack.currentWidget() is win.transcript
        send(qtbot, win, "Hello?")
        answer = wait_answer(qtbot, win)
        assert answer.status == "complete"
        assert server.requests[-1].path.startswith("/custom/")
    finally:
        close_window(qtbot, win)


def test_a_key_for_another_provider_is_chosen_and_the_missing_key_notice_goes(
        qtbot: QtBot, qasync_loop: asyncio.AbstractEventLoop, server: ProviderServer) -> None:
    win = open_window(qtbot, make_services(server, keys=False))
    try:
        send(qtbot, win, "Anyone there?")
        qtbot.waitUntil(lambda: win.banner.isVisible())
        assert "No API key" in win.banner.text()
        services = win.services
        assert services is not None
        services.keystore.set(services.catalog.get("ovh"), "ovh-key-0123456789abcdef")
        win.models.on_keys_changed()
        assert win.model_bar.provider().id == "ovh"
        assert not win.banner.isVisible()
        assert win.composer.text() == "Anyone there?"              # given back, not lost
    finally:
        close_window(qtbot, win)


def test_without_a_keyring_no_page_claims_keys_go_to_the_keyring(
        qtbot: QtBot, qasync_loop: asyncio.AbstractEventLoop, server: ProviderServer) -> None:
    keystore = KeyStore(fail.Keyring())
    assert "keyring" not in keys_intro(keystore).split("(")[0]
    assert "session only" in keys_intro(keystore)
    services = make_services(server, keys=False)
    services.keystore = keystore
    win = open_window(qtbot, services)
    try:
        assert "session only" in win.welcome.storage_note.text()
        assert "kept in your system's keyring" not in win.welcome.storage_note.text()
        win.open_settings("endpoints")
        dialog = win.findChild(SettingsDialog)
        assert dialog is not None
        assert "session only" in dialog.endpoints_page.key_edit.placeholderText()
        assert dialog.keys_page.banner.text() == keystore.warning
        dialog.close()
    finally:
        close_window(qtbot, win)


# --- readable hints ----------------------------------------------------------------------


def test_hint_texts_reach_aa_contrast_in_light_and_dark(window: MainWindow) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    hints = [window.param_panel.hint, window.model_bar.region_label]
    assert all(isinstance(h, HintLabel) for h in hints)
    assert all(h.isEnabled() for h in hints)       # not the faint disabled colour
    try:
        for choice in ("light", "dark"):
            apply_theme(app, choice)
            QApplication.processEvents()
            palette = QGuiApplication.palette()
            for hint in hints:
                colour = hint.palette().color(QPalette.ColorRole.WindowText)
                window_colour = palette.color(QPalette.ColorRole.Window)
                assert colour == hint_color(palette)
                assert contrast_ratio(colour, window_colour) >= HINT_MIN_CONTRAST
    finally:
        apply_theme(app, "light")


# --- menus -------------------------------------------------------------------------------


def test_every_menu_action_has_a_shortcut(window: MainWindow) -> None:
    missing = [action.text() for menu in window.menuBar().actions()
               for action in menu.menu().actions()
               if not action.isSeparator() and action.shortcut().isEmpty()]
    assert missing == []
    assert window.action("export_md").shortcut().toString() == "Ctrl+E"
    assert window.action("export_html").shortcut().toString() == "Ctrl+Shift+E"
    assert window.action("find").shortcut().toString() == "Ctrl+F"


def test_find_shows_the_list_and_puts_the_cursor_in_search(window: MainWindow,
                                                           qtbot: QtBot) -> None:
    window.action("toggle_list").trigger()
    assert not window.conversation_list.isVisible()
    window.action("find").trigger()
    assert window.conversation_list.isVisible()
    assert window.action("toggle_list").isChecked()
    qtbot.waitUntil(lambda: window.conversation_list.search_edit.hasFocus())


def test_delete_conversation_from_the_menu(window: MainWindow, qtbot: QtBot) -> None:
    send(qtbot, window, "Keep me?")
    wait_answer(qtbot, window)
    conv_id = conversation(window).id
    assert conv_id in window.conversation_list.ids()
    window.action("delete").trigger()
    assert conv_id not in window.conversation_list.ids()


# --- editing, searching, files -----------------------------------------------------------


def test_the_edit_notice_cannot_be_dismissed_only_cancelled(window: MainWindow,
                                                            qtbot: QtBot) -> None:
    send(qtbot, window, "First question")
    wait_answer(qtbot, window)
    question = conversation(window).messages[0]
    window.turns.edit(question.id)
    assert window.banner.isVisible()
    assert window.banner.action_button.isVisible()
    assert not window.banner.close_button.isVisible()
    # Showing another conversation ends the edit and its notice.
    window.chat.new_conversation()
    assert window.turns.editing() is None
    assert not window.banner.isVisible()
    window.banner.show_notice("An ordinary notice")
    assert window.banner.close_button.isVisible()


def test_an_empty_search_says_nothing_matches(window: MainWindow, qtbot: QtBot) -> None:
    send(qtbot, window, "About cats")
    wait_answer(qtbot, window)
    listing = window.conversation_list
    listing.search_edit.setText("zebra-that-is-nowhere")
    qtbot.waitUntil(lambda: listing.empty_label.isVisible())
    assert "zebra-that-is-nowhere" in listing.empty_label.text()
    listing.search_edit.setText("cats")
    qtbot.waitUntil(lambda: not listing.empty_label.isVisible())
    assert listing.ids()


def test_opening_a_save_as_copy_shows_the_conversation_without_a_duplicate(
        window: MainWindow, qtbot: QtBot, tmp_path: object) -> None:
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    send(qtbot, window, "Save me")
    wait_answer(qtbot, window)
    conv = conversation(window)
    path = tmp_path / "copy.qwenvl"
    window.files.save_to(path)
    before = window.conversation_list.ids()
    assert window.files.open_path(path)
    assert window.conversation_list.ids() == before
    assert window.conversation_list.current_id() == conv.id
    assert window.conversation_list.rename_button.isEnabled()


def test_an_opened_different_copy_is_listed_and_selected(
        window: MainWindow, qtbot: QtBot, tmp_path: object) -> None:
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    send(qtbot, window, "Version one")
    wait_answer(qtbot, window)
    path = tmp_path / "v1.qwenvl"
    window.files.save_to(path)
    send(qtbot, window, "Version two")
    wait_answer(qtbot, window)
    assert window.files.open_path(path)
    shown = conversation(window)
    assert len(shown.messages) == 2
    assert window.conversation_list.current_id() == shown.id
    assert len(window.conversation_list.ids()) == 2


# --- small texts -------------------------------------------------------------------------


def test_retry_notice_rounds_the_delay() -> None:
    assert retry_notice(0.302421, 1, "HTTP 502") == "Retrying in 0.3 s (attempt 1): HTTP 502"
    assert retry_notice(12.7, 2, "x") == "Retrying in 13 s (attempt 2): x"


def test_list_previews_show_text_not_markdown() -> None:
    assert plain_preview("Short answer with **bold** and `code`.") == (
        "Short answer with bold and code.")
    assert plain_preview("## Title") == "Title"


def test_status_bar_exists_before_the_first_message(window: MainWindow) -> None:
    assert window.statusBar().isVisible()


def test_provider_change_does_not_move_the_splitter(window: MainWindow,
                                                    qtbot: QtBot) -> None:
    window.resize(1280, 800)
    qtbot.waitUntil(lambda: window.width() == 1280)
    before = window.splitter.sizes()
    for provider_id in ("ovh", "segmind", "dashscope-intl"):
        window.model_bar.set_selection(provider_id, "")
        QApplication.processEvents()
        assert window.splitter.sizes() == before
    assert Script is not None
