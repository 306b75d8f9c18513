"""Settings: keys against a test keyring and the loopback provider server, endpoints, general."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pytest
from keyring.backends import fail
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QLineEdit
from pytestqt.qtbot import QtBot

from qwenvl_desktop.core.secrets import SERVICE, KeyStore
from qwenvl_desktop.core.settings import Settings
from qwenvl_desktop.services import Services
from qwenvl_desktop.testing.memory_keyring import MemoryKeyring
from qwenvl_desktop.testing.provider_server import DEFAULT_KEY, ProviderServer
from qwenvl_desktop.ui.settings_dialog import SettingsDialog

WRONG_KEY = "sk-wrong-region-key-0123456789"


@pytest.fixture
def server() -> Iterator[ProviderServer]:
    with ProviderServer() as running:
        yield running


def make_services(keystore: KeyStore, server: ProviderServer) -> Services:
    services = Services.create(keystore=keystore)
    services.settings.set_base_url_override("dashscope-intl", server.base_url_for("dashscope"))
    services.settings.set_base_url_override("segmind", server.base_url_for("segmind"))
    services.save_settings()
    return services


@pytest.fixture
def services(qasync_loop: asyncio.AbstractEventLoop, qtbot: QtBot, server: ProviderServer,
             memory_keyring: MemoryKeyring) -> Iterator[Services]:
    svc = make_services(KeyStore(memory_keyring), server)
    yield svc
    closing = qasync_loop.create_task(svc.aclose())
    qtbot.waitUntil(closing.done)


@pytest.fixture
def dialog(qtbot: QtBot, services: Services) -> SettingsDialog:
    widget = SettingsDialog(services)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def visible_texts(dialog: SettingsDialog) -> list[str]:
    texts = [label.text() for label in dialog.findChildren(QLabel)]
    texts += [edit.text() for edit in dialog.findChildren(QLineEdit)]
    return texts


# --- keys -------------------------------------------------------------------------------

def test_every_provider_has_a_key_box(dialog: SettingsDialog) -> None:
    assert list(dialog.keys_page.rows) == [
        "dashscope-intl", "dashscope-us", "dashscope-cn", "ovh", "aimlapi", "nebula",
        "segmind"]
    assert not dialog.keys_page.banner.isVisibleTo(dialog)
    assert dialog.current_page() == "keys"


def test_save_puts_the_key_in_the_keyring_and_clears_the_field(
        dialog: SettingsDialog, memory_keyring: MemoryKeyring, qtbot: QtBot) -> None:
    row = dialog.keys_page.rows["dashscope-intl"]
    assert row.status.text().startswith("✗")
    qtbot.keyClicks(row.edit, DEFAULT_KEY)
    with qtbot.waitSignal(dialog.keys_changed):
        qtbot.mouseClick(row.save_button, Qt.MouseButton.LeftButton)

    assert memory_keyring.store[(SERVICE, "dashscope-intl")] == DEFAULT_KEY
    assert row.edit.text() == ""
    assert row.status.text().startswith("✓")
    assert row.note.text() == "Key saved in the keyring."
    assert row.delete_button.isEnabled()
    assert not any(DEFAULT_KEY[-8:] in text for text in visible_texts(dialog))


def test_test_button_with_a_good_key_reports_ok(dialog: SettingsDialog, qtbot: QtBot,
                                                server: ProviderServer) -> None:
    row = dialog.keys_page.rows["dashscope-intl"]
    row.edit.setText(DEFAULT_KEY)
    qtbot.mouseClick(row.save_button, Qt.MouseButton.LeftButton)

    qtbot.mouseClick(row.test_button, Qt.MouseButton.LeftButton)
    assert not row.test_button.isEnabled()           # one test at a time
    qtbot.waitUntil(lambda: row.test_button.isEnabled())

    assert row.note.kind == "ok"
    assert row.note.text().startswith("OK — Alibaba Model Studio — Singapore accepted the key")
    request = server.requests[-1]
    assert request.headers["authorization"] == f"Bearer {DEFAULT_KEY}"


def test_test_button_with_a_wrong_key_explains_the_401(dialog: SettingsDialog,
                                                       qtbot: QtBot) -> None:
    row = dialog.keys_page.rows["dashscope-intl"]
    row.edit.setText(WRONG_KEY)          # tested before saving: the typed key is used
    qtbot.mouseClick(row.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: row.test_button.isEnabled())

    assert row.note.kind == "error"
    assert "HTTP 401" in row.note.text()
    assert "Incorrect API key provided" in row.note.text()
    assert "region" in row.note.text()               # DashScope keys are region-locked
    assert WRONG_KEY not in row.note.text()


def test_segmind_key_goes_in_its_own_header(dialog: SettingsDialog, qtbot: QtBot,
                                            server: ProviderServer) -> None:
    row = dialog.keys_page.rows["segmind"]
    row.edit.setText(DEFAULT_KEY)
    qtbot.mouseClick(row.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: row.test_button.isEnabled())
    assert row.note.kind == "ok", row.note.text()
    assert server.requests[-1].headers["x-api-key"] == DEFAULT_KEY


def test_test_without_any_key_says_so(dialog: SettingsDialog, qtbot: QtBot) -> None:
    row = dialog.keys_page.rows["nebula"]
    qtbot.mouseClick(row.test_button, Qt.MouseButton.LeftButton)
    assert row.note.kind == "error"
    assert "no key to test" in row.note.text()


def test_delete_forgets_the_key(dialog: SettingsDialog, memory_keyring: MemoryKeyring,
                                qtbot: QtBot) -> None:
    row = dialog.keys_page.rows["ovh"]
    row.edit.setText("ovh-token-abcdef0123456789")
    qtbot.mouseClick(row.save_button, Qt.MouseButton.LeftButton)
    assert (SERVICE, "ovh") in memory_keyring.store

    with qtbot.waitSignal(dialog.keys_changed):
        qtbot.mouseClick(row.delete_button, Qt.MouseButton.LeftButton)
    assert (SERVICE, "ovh") not in memory_keyring.store
    assert row.status.text().startswith("✗")
    assert not row.delete_button.isEnabled()


def test_insecure_keyring_shows_the_session_only_warning(
        qasync_loop: asyncio.AbstractEventLoop, qtbot: QtBot, server: ProviderServer) -> None:
    keystore = KeyStore(fail.Keyring())
    services = make_services(keystore, server)
    dialog = SettingsDialog(services)
    qtbot.addWidget(dialog)
    dialog.show()
    banner = dialog.keys_page.banner
    assert banner.isVisible()
    assert banner.kind == "warning"
    assert "kept for this session only" in banner.text()
    assert banner.text() == keystore.warning

    row = dialog.keys_page.rows["nebula"]
    row.edit.setText("nebula-key-0123456789abcdef")
    qtbot.mouseClick(row.save_button, Qt.MouseButton.LeftButton)
    assert row.note.text() == "Key saved for this session only."
    assert keystore.source(services.catalog.get("nebula")) == "session"
    assert row.status.text().startswith("✓ Kept for this session only")
    closing = qasync_loop.create_task(services.aclose())
    qtbot.waitUntil(closing.done)


# --- endpoints --------------------------------------------------------------------------

def test_add_a_local_endpoint_with_fetched_models(dialog: SettingsDialog, qtbot: QtBot,
                                                  server: ProviderServer,
                                                  services: Services) -> None:
    dialog.show_page("endpoints")
    page = dialog.endpoints_page
    page.name_edit.setText("loopback-vllm")
    page.url_edit.setText(server.base_url_for("custom"))
    qtbot.mouseClick(page.fetch_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.fetch_button.isEnabled())
    assert page.note.kind == "ok", page.note.text()
    assert page.models_edit.toPlainText() == "Qwen/Qwen3-VL-8B-Instruct"
    assert server.requests[-1].method == "GET"

    with qtbot.waitSignal(dialog.catalog_changed):
        qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)

    provider = services.catalog.get("loopback-vllm")
    assert provider.custom
    assert [m.id for m in provider.models] == ["Qwen/Qwen3-VL-8B-Instruct"]
    saved = json.loads(services.settings_path.read_text("utf-8"))
    assert saved["custom_endpoints"][0]["name"] == "loopback-vllm"
    assert "loopback-vllm" in dialog.keys_page.rows            # it now has a key box
    assert page.list.count() == 1


def test_plain_http_to_a_public_host_is_refused_with_the_reason(
        dialog: SettingsDialog, qtbot: QtBot, services: Services) -> None:
    page = dialog.endpoints_page
    page.name_edit.setText("public")
    page.url_edit.setText("http://example.com/v1")
    page.models_edit.setPlainText("some-model")
    with qtbot.assertNotEmitted(dialog.catalog_changed):
        qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)
    assert page.note.kind == "error"
    assert "plain http to a public host" in page.note.text()
    assert services.settings.custom_endpoints == []


def test_typed_models_key_and_removal(dialog: SettingsDialog, qtbot: QtBot,
                                      services: Services, memory_keyring: MemoryKeyring,
                                      server: ProviderServer) -> None:
    page = dialog.endpoints_page
    page.name_edit.setText("lan-box")
    page.url_edit.setText("http://192.168.1.20:8000/v1")
    page.models_edit.setPlainText("qwen2.5-vl-7b, llama3\nqwen2.5-vl-7b")
    page.key_edit.setText("lan-secret-0123456789")
    qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)
    provider = services.catalog.get("lan-box")
    assert [m.id for m in provider.models] == ["qwen2.5-vl-7b", "llama3"]
    assert memory_keyring.store[(SERVICE, "custom:lan-box")] == "lan-secret-0123456789"
    assert "lan-secret" not in services.settings_path.read_text("utf-8")
    assert page.key_edit.text() == ""

    page.list.setCurrentRow(0)
    assert page.url_edit.text() == "http://192.168.1.20:8000/v1"
    with qtbot.waitSignal(dialog.catalog_changed):
        qtbot.mouseClick(page.remove_button, Qt.MouseButton.LeftButton)
    assert services.settings.custom_endpoints == []
    assert "lan-box" not in services.catalog.providers
    assert (SERVICE, "custom:lan-box") not in memory_keyring.store
    assert "lan-box" not in dialog.keys_page.rows


def test_base_url_override_is_checked_and_saved(dialog: SettingsDialog, qtbot: QtBot,
                                                services: Services) -> None:
    page = dialog.endpoints_page
    edit = page.override_edits["nebula"]
    edit.setText("http://gateway.example.com/v1")
    qtbot.mouseClick(page.override_save, Qt.MouseButton.LeftButton)
    assert page.override_note.kind == "error"
    assert page.override_note.text().startswith("Nebula Block:")
    assert "nebula" not in services.settings.base_url_overrides

    edit.setText("https://gateway.example.com/nebula/v1")
    with qtbot.waitSignal(dialog.catalog_changed):
        qtbot.mouseClick(page.override_save, Qt.MouseButton.LeftButton)
    assert services.catalog.get("nebula").base_url == "https://gateway.example.com/nebula/v1"


# --- general ----------------------------------------------------------------------------

def test_general_settings_are_saved_atomically_on_change(services: Services,
                                                         qtbot: QtBot) -> None:
    dialog = SettingsDialog(services, page="general")
    qtbot.addWidget(dialog)
    assert dialog.current_page() == "general"
    page = dialog.general_page
    page.read_spin.setValue(300)
    page.retries_spin.setValue(1)
    page.drop_images.setChecked(True)

    loaded, warnings = Settings.load(services.settings_path)
    assert warnings == []
    assert loaded.read_timeout == 300
    assert loaded.max_retries == 1
    assert loaded.drop_old_images is True
    assert services.client.read_timeout == 300     # new requests use the new values
    assert services.client.max_retries == 1
    assert page.note.kind == "ok"


def test_an_endpoint_needs_at_least_one_model(dialog: SettingsDialog, qtbot: QtBot,
                                              services: Services) -> None:
    page = dialog.endpoints_page
    page.name_edit.setText("empty")
    page.url_edit.setText("http://localhost:11434/v1")
    qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)
    assert page.note.kind == "error"
    assert "at least one model" in page.note.text()
    assert services.settings.custom_endpoints == []
