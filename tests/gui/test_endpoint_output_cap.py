"""Settings › Endpoints: the output cap's field is switchable per custom endpoint, and what
is chosen is what the endpoint is sent."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import httpx
import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from qwenvl_desktop.core.api.client import ChatClient
from qwenvl_desktop.core.api.types import ChatMessage, ChatParams
from qwenvl_desktop.core.secrets import KeyStore
from qwenvl_desktop.services import Services
from qwenvl_desktop.testing.memory_keyring import MemoryKeyring
from qwenvl_desktop.testing.provider_server import ProviderServer
from qwenvl_desktop.ui.settings_dialog import SettingsDialog


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


def test_the_output_cap_field_is_chosen_per_endpoint(
        qtbot: QtBot, services: Services, server: ProviderServer,
        qasync_loop: asyncio.AbstractEventLoop) -> None:
    dialog = SettingsDialog(services)
    qtbot.addWidget(dialog)
    dialog.show_page("endpoints")
    page = dialog.endpoints_page
    assert not page.cap_check.isChecked()
    page.name_edit.setText("gateway")
    page.url_edit.setText(server.base_url_for("custom"))
    page.models_edit.setPlainText("qwen3-vl-plus")
    page.cap_check.setChecked(True)
    with qtbot.waitSignal(dialog.catalog_changed):
        qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)
    saved = json.loads(services.settings_path.read_text("utf-8"))
    assert saved["custom_endpoints"][0]["output_cap_field"] == "max_completion_tokens"
    provider = services.catalog.get("gateway")
    assert provider.output_cap_field == "max_completion_tokens"

    async def ask() -> None:
        async with httpx.AsyncClient() as http:
            await ChatClient(http).complete(provider, provider.models[0],
                                            [ChatMessage("user", "Hi")],
                                            ChatParams(max_tokens=32), api_key=None)

    task = qasync_loop.create_task(ask())
    qtbot.waitUntil(task.done, timeout=10000)
    assert task.exception() is None
    body = server.requests[-1].json
    assert body["max_completion_tokens"] == 32
    assert "max_tokens" not in body
    # Selecting it again shows the choice; a new endpoint starts with max_tokens.
    page.new_endpoint()
    assert not page.cap_check.isChecked()
    page.list.setCurrentRow(-1)
    page.list.setCurrentRow(0)
    assert page.cap_check.isChecked()
