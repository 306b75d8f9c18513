"""The window with keyrings in the states a desktop's keyring gets into (fake backends).

The window must never wait for the keyring on its own thread beyond the key store's
bounded wait, must say what is wrong in words, and must pick up an answer that comes
late (an unlock prompt answered after the window gave up waiting).
"""

from __future__ import annotations

import asyncio
import threading

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot
from window_harness import (  # noqa: F401 - fixtures are found by name
    PROVIDERS,
    close_window,
    open_window,
    provider_server_fixture,
    send,
    server_fixture,
    wait_answer,
)

from qwenvl_desktop.core.secrets import SERVICE, KeyStore
from qwenvl_desktop.core.settings import Settings
from qwenvl_desktop.services import Services
from qwenvl_desktop.testing.fault_keyrings import (
    HangingKeyring,
    LockedKeyring,
    RecordingKeyring,
)
from qwenvl_desktop.testing.provider_server import DEFAULT_KEY, ProviderServer, Script
from qwenvl_desktop.ui.main_window import MainWindow
from qwenvl_desktop.ui.settings_dialog import SettingsDialog

PROVIDER = "dashscope-intl"


def services_with(keystore: KeyStore, server: ProviderServer) -> Services:
    settings, _warnings = Settings.load()
    for pid in PROVIDERS:
        settings.set_base_url_override(pid, server.base_url_for(pid))
    settings.last_provider, settings.last_model = PROVIDER, "qwen3-vl-plus"
    settings.max_retries = 0
    settings.save()
    return Services.create(keystore=keystore)


def keys_dialog(qtbot: QtBot, window: MainWindow) -> SettingsDialog:
    assert window.services is not None
    dialog = SettingsDialog(window.services, window, page="keys")
    dialog.keys_changed.connect(window.models.on_keys_changed)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_the_window_never_asks_the_keyring_on_its_own_thread(
        qtbot: QtBot, qasync_loop: asyncio.AbstractEventLoop, server: ProviderServer) -> None:
    backend = RecordingKeyring()
    for pid in PROVIDERS:
        backend.store[(SERVICE, pid)] = DEFAULT_KEY
    store = KeyStore(backend, environ={})
    window = open_window(qtbot, services_with(store, server))
    try:
        # The app re-reads every entry (in the background) when it becomes active: let
        # that happen first (the signal comes with the state change, and the re-read is
        # queued from it); then wait until the start-up reads and that re-read are done.
        window.activateWindow()
        qtbot.waitUntil(lambda: QGuiApplication.applicationState()
                        == Qt.ApplicationState.ApplicationActive)
        assert store.wait_idle(30)
        before = len(backend.calls)
        assert before, "the keyring was never read"
        for question in ("First?", "Second?", "Third?"):
            server.enqueue(Script(content=f"Answer to {question}"))
            send(qtbot, window, question)
            assert wait_answer(qtbot, window).status == "complete"
        assert server.requests[-1].headers["authorization"] == f"Bearer {DEFAULT_KEY}"
        # Sends read keys from memory: not one keyring call for three sends.
        assert backend.calls[before:] == []
        gui_thread = threading.current_thread().name
        assert all(thread != gui_thread for _method, thread in backend.calls)
    finally:
        close_window(qtbot, window)


def test_a_hanging_keyring_never_freezes_the_window_and_a_late_save_lands(
        qtbot: QtBot, qasync_loop: asyncio.AbstractEventLoop, server: ProviderServer) -> None:
    backend = HangingKeyring()
    window: MainWindow | None = None
    try:
        window = open_window(qtbot, services_with(
            KeyStore(backend, environ={}, wait=0.05), server))
        dialog = keys_dialog(qtbot, window)
        assert "did not answer within 0.05 s" in dialog.keys_page.banner.text()
        row = dialog.keys_page.rows[PROVIDER]
        qtbot.keyClicks(row.edit, DEFAULT_KEY)
        qtbot.mouseClick(row.save_button, Qt.MouseButton.LeftButton)
        assert row.note.kind == "warning"
        assert "did not answer" in row.note.text()
        assert "saved then" in row.note.text()
        assert row.status.text().startswith("✓ Kept for this session only")
        assert DEFAULT_KEY not in row.note.text()

        # The person answers the unlock prompt: everything queued lands, in order.
        backend.release()
        qtbot.waitUntil(lambda: row.status.text().startswith("✓ Saved in the keyring"),
                        timeout=10000)
        assert row.note.kind == "ok"
        assert "answered" in row.note.text()
        qtbot.waitUntil(lambda: not dialog.keys_page.banner.isVisibleTo(dialog))
        assert backend.store[(SERVICE, PROVIDER)] == DEFAULT_KEY
        picker = window.model_bar.picker
        qtbot.waitUntil(lambda: "✓" in picker.provider_text(PROVIDER) and "session" not in
                        picker.provider_text(PROVIDER))
        dialog.close()

        server.enqueue(Script(content="Sent with the key saved late."))
        send(qtbot, window, "Does it work now?")
        assert wait_answer(qtbot, window).status == "complete"
    finally:
        backend.release()
        if window is not None:
            close_window(qtbot, window)


def test_a_locked_keyring_says_locked_and_keys_work_for_the_session(
        qtbot: QtBot, qasync_loop: asyncio.AbstractEventLoop, server: ProviderServer) -> None:
    backend = LockedKeyring()
    window = open_window(qtbot, services_with(KeyStore(backend, environ={}), server))
    try:
        dialog = keys_dialog(qtbot, window)
        banner = dialog.keys_page.banner
        assert banner.isVisibleTo(dialog)
        assert "The keyring is locked" in banner.text()
        assert "Unlock it" in banner.text()
        row = dialog.keys_page.rows[PROVIDER]
        qtbot.keyClicks(row.edit, DEFAULT_KEY)
        qtbot.mouseClick(row.save_button, Qt.MouseButton.LeftButton)
        assert "locked" in row.note.text()
        assert row.status.text().startswith("✓ Kept for this session only")
        dialog.close()

        server.enqueue(Script(content="Sent with the session key."))
        send(qtbot, window, "Hello?")
        assert wait_answer(qtbot, window).status == "complete"
        assert backend.store == {}            # nothing reached the locked keyring
    finally:
        close_window(qtbot, window)
