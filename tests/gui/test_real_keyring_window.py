"""The window against a real Secret Service (gnome-keyring): Settings › Keys stores the
key there, a send reads it back, a new window finds a key another program stored.

Run by `.ci/real_keyring.sh` inside a throwaway D-Bus session (see tests/conftest.py);
any other run deselects these tests and says so.
"""

from __future__ import annotations

import asyncio
from contextlib import closing

import pytest
from keyring.backend import KeyringBackend
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from window_harness import (  # noqa: F401 - fixtures are found by name
    close_window,
    make_services,
    open_window,
    provider_server_fixture,
    send,
    server_fixture,
    wait_answer,
)

from qwenvl_desktop.core.secrets import SERVICE
from qwenvl_desktop.testing.provider_server import DEFAULT_KEY, ProviderServer, Script
from qwenvl_desktop.ui.settings_dialog import SettingsDialog

pytestmark = pytest.mark.real_keyring

PROVIDER = "dashscope-intl"
SAVED = "✓ Saved in the keyring (SecretService Keyring)"


def stored_secrets(key_id: str = PROVIDER) -> list[bytes]:
    import secretstorage

    with closing(secretstorage.dbus_init()) as bus:
        collection = secretstorage.get_default_collection(bus)
        return [item.get_secret() for item in
                collection.search_items({"service": SERVICE, "username": key_id})]


def test_settings_keys_stores_in_the_secret_service_and_a_send_reads_it(
        qtbot: QtBot, qasync_loop: asyncio.AbstractEventLoop, server: ProviderServer,
        secret_service: KeyringBackend) -> None:
    services = make_services(server, keys=False)
    assert services.keystore.backend_label == "keyring.backends.SecretService.Keyring"
    window = open_window(qtbot, services)
    try:
        dialog = SettingsDialog(services, window, page="keys")
        dialog.keys_changed.connect(window.models.on_keys_changed)
        qtbot.addWidget(dialog)
        dialog.show()
        row = dialog.keys_page.rows[PROVIDER]
        qtbot.waitUntil(lambda: row.status.text().startswith("✗"))
        qtbot.keyClicks(row.edit, DEFAULT_KEY)
        qtbot.mouseClick(row.save_button, Qt.MouseButton.LeftButton)
        # A keyring slower than the window's wait answers late; the row then updates.
        qtbot.waitUntil(lambda: row.status.text() == SAVED, timeout=20000)
        assert stored_secrets() == [DEFAULT_KEY.encode()]
        assert not dialog.keys_page.banner.isVisibleTo(dialog)
        dialog.close()

        server.enqueue(Script(content="The key came from GNOME Keyring."))
        send(qtbot, window, "Where did the key come from?")
        answer = wait_answer(qtbot, window, timeout=20000)
        assert answer.status == "complete", answer.error
        assert server.requests[-1].headers["authorization"] == f"Bearer {DEFAULT_KEY}"

        dialog = SettingsDialog(services, window, page="keys")
        qtbot.addWidget(dialog)
        dialog.show()
        row = dialog.keys_page.rows[PROVIDER]
        qtbot.waitUntil(lambda: row.status.text() == SAVED, timeout=20000)
        qtbot.mouseClick(row.delete_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: row.status.text().startswith("✗"), timeout=20000)
        assert stored_secrets() == []
        dialog.close()
    finally:
        close_window(qtbot, window)


def test_a_new_window_finds_a_key_another_program_stored(
        qtbot: QtBot, qasync_loop: asyncio.AbstractEventLoop, server: ProviderServer,
        secret_service: KeyringBackend) -> None:
    secret_service.set_password(SERVICE, PROVIDER, DEFAULT_KEY)    # as `key set` would
    window = open_window(qtbot, make_services(server, keys=False))
    try:
        bar = window.model_bar
        qtbot.waitUntil(lambda: "✓" in bar.picker.provider_text(PROVIDER), timeout=20000)
        server.enqueue(Script(content="Found it."))
        send(qtbot, window, "Is the key there?")
        answer = wait_answer(qtbot, window, timeout=20000)
        assert answer.status == "complete", answer.error
        assert server.requests[-1].headers["authorization"] == f"Bearer {DEFAULT_KEY}"
    finally:
        close_window(qtbot, window)
