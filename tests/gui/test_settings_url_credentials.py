"""Settings › Endpoints with credentials typed into an address: split off, kept in the
keyring, sent with each request, and never written into settings.json."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from qwenvl_desktop.core.api.types import ChatMessage, ChatParams, ChatResult
from qwenvl_desktop.core.catalog import Provider
from qwenvl_desktop.core.secrets import SERVICE, KeyStore
from qwenvl_desktop.services import Services
from qwenvl_desktop.testing.memory_keyring import MemoryKeyring
from qwenvl_desktop.testing.provider_server import DEFAULT_KEY, ProviderServer, Script
from qwenvl_desktop.ui.settings_dialog import SettingsDialog

PASSWORD = "gw-pass-never-in-settings-0042"
SIGNATURE = "sig-never-in-settings-9913"


@pytest.fixture
def server() -> Iterator[ProviderServer]:
    with ProviderServer() as running:
        yield running


@pytest.fixture
def services(qasync_loop: asyncio.AbstractEventLoop, qtbot: QtBot,
             memory_keyring: MemoryKeyring) -> Iterator[Services]:
    svc = Services.create(keystore=KeyStore(memory_keyring))
    yield svc
    closing = qasync_loop.create_task(svc.aclose())
    qtbot.waitUntil(closing.done)


@pytest.fixture
def dialog(qtbot: QtBot, services: Services) -> SettingsDialog:
    widget = SettingsDialog(services, page="endpoints")
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def _ask(qtbot: QtBot, loop: asyncio.AbstractEventLoop, services: Services,
         provider: Provider) -> ChatResult:
    task = loop.create_task(services.client.complete(
        provider, provider.models[0], [ChatMessage(role="user", text="Hi")], ChatParams(),
        api_key=services.keystore.get(provider)))
    qtbot.waitUntil(task.done, timeout=10_000)
    return task.result()


def test_a_custom_endpoint_keeps_its_secret_parameter_in_the_keyring(
        dialog: SettingsDialog, qtbot: QtBot, services: Services, server: ProviderServer,
        memory_keyring: MemoryKeyring, qasync_loop: asyncio.AbstractEventLoop) -> None:
    page = dialog.endpoints_page
    clean = server.base_url_for("custom")
    page.name_edit.setText("signed-gw")
    page.url_edit.setText(f"{clean}?api_key={SIGNATURE}")
    qtbot.mouseClick(page.fetch_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(page.fetch_button.isEnabled)
    assert page.note.kind == "ok", page.note.text()
    assert f"api_key={SIGNATURE}" in server.requests[-1].path     # the form's URL was used

    with qtbot.waitSignal(dialog.catalog_changed):
        qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)
    assert page.url_edit.text() == clean
    assert "keyring" in page.note.text()
    assert SIGNATURE not in page.note.text()
    assert SIGNATURE not in services.settings_path.read_text("utf-8")
    assert SIGNATURE in memory_keyring.store[(SERVICE, "custom:signed-gw#url-credentials")]

    provider = services.catalog.get("signed-gw")
    assert provider.base_url == clean
    _ask(qtbot, qasync_loop, services, provider)
    assert f"api_key={SIGNATURE}" in server.requests[-1].path

    page.list.setCurrentRow(0)
    with qtbot.waitSignal(dialog.catalog_changed):
        qtbot.mouseClick(page.remove_button, Qt.MouseButton.LeftButton)
    assert (SERVICE, "custom:signed-gw#url-credentials") not in memory_keyring.store


def test_an_override_with_user_info_is_saved_clean_and_still_signs_requests(
        dialog: SettingsDialog, qtbot: QtBot, services: Services, server: ProviderServer,
        memory_keyring: MemoryKeyring, qasync_loop: asyncio.AbstractEventLoop) -> None:
    # Saved through the app: its key store reads the keyring once per session.
    services.keystore.set(services.catalog.get("segmind"), DEFAULT_KEY)
    page = dialog.endpoints_page
    clean = server.base_url_for("segmind")
    edit = page.override_edits["segmind"]
    edit.setText(clean.replace("http://", f"http://gw:{PASSWORD}@") + f"?sig={SIGNATURE}")
    with qtbot.waitSignal(dialog.catalog_changed):
        qtbot.mouseClick(page.override_save, Qt.MouseButton.LeftButton)
    assert page.override_note.kind == "ok", page.override_note.text()
    assert "keyring" in page.override_note.text()
    assert edit.text() == clean
    saved = services.settings_path.read_text("utf-8")
    assert PASSWORD not in saved
    assert SIGNATURE not in saved
    assert services.settings.base_url_overrides == {"segmind": clean}

    server.enqueue(Script(content="Signed and authorised."))
    result = _ask(qtbot, qasync_loop, services, services.catalog.get("segmind"))
    assert result.text == "Signed and authorised."
    request = server.requests[-1]
    assert f"sig={SIGNATURE}" in request.path
    assert request.headers["authorization"].startswith("Basic ")
    assert request.headers["x-api-key"] == DEFAULT_KEY
