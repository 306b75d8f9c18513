"""Shared set-up for the main-window tests: the real window on real services, pointed
at the loopback provider server, with keys in the test keyring.

Import the fixtures into a test module (`from window_harness import server, window`)
— pytest finds fixtures by name in the module's namespace.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from qwenvl_desktop.core.conversation import Conversation, Message
from qwenvl_desktop.core.settings import Settings
from qwenvl_desktop.services import Services
from qwenvl_desktop.testing.provider_server import DEFAULT_KEY, ProviderServer
from qwenvl_desktop.ui.main_window import MainWindow

PROVIDERS = ("dashscope-intl", "dashscope-us", "dashscope-cn", "ovh", "aimlapi", "nebula",
             "segmind")
DEFAULT_PROVIDER = "dashscope-intl"
DEFAULT_MODEL = "qwen3-vl-plus"

__all__ = [
    "close_window", "conversation", "last_answer", "make_services", "open_window",
    "provider_server_fixture", "send", "server_fixture",
    "transcript_text", "wait_answer", "window_fixture",
]


@pytest.fixture(name="provider_server", scope="session")
def provider_server_fixture() -> Iterator[ProviderServer]:
    with ProviderServer() as srv:
        yield srv


@pytest.fixture(name="server")
def server_fixture(provider_server: ProviderServer) -> Iterator[ProviderServer]:
    provider_server.reset()
    yield provider_server
    provider_server.reset()


def make_services(server: ProviderServer, *, keys: bool = True,
                  provider: str = DEFAULT_PROVIDER, model: str = DEFAULT_MODEL,
                  read_timeout: float = 10.0, max_retries: int = 0) -> Services:
    """Services built from the settings file (kept: the window's saved state is in it),
    changed to send every provider to the server."""
    settings, _warnings = Settings.load()
    for pid in PROVIDERS:
        settings.set_base_url_override(pid, server.base_url_for(pid))
    settings.last_provider, settings.last_model = provider, model
    settings.read_timeout = read_timeout
    settings.connect_timeout = 5.0
    settings.max_retries = max_retries
    settings.save()
    services = Services.create()
    if keys:
        for pid in PROVIDERS:
            services.keystore.set(services.catalog.get(pid), DEFAULT_KEY)
    return services


def open_window(qtbot: QtBot, services: Services) -> MainWindow:
    window = MainWindow.build(services)
    window.show()
    qtbot.waitExposed(window)
    return window


def close_window(qtbot: QtBot, window: MainWindow) -> None:
    """Close through closeEvent (stops streams, autosaves) and wait for the shutdown."""
    if not window.is_shut_down:
        window.close()
        qtbot.waitUntil(lambda: window.is_shut_down and not window.isVisible(), timeout=10000)
    window.deleteLater()


@pytest.fixture(name="window")
def window_fixture(qtbot: QtBot, qasync_loop: asyncio.AbstractEventLoop,
           server: ProviderServer) -> Iterator[MainWindow]:
    win = open_window(qtbot, make_services(server))
    yield win
    close_window(qtbot, win)


# --- driving it ------------------------------------------------------------------------

def send(qtbot: QtBot, window: MainWindow, text: str) -> None:
    """Type into the composer and press Enter, as a person would."""
    composer = window.composer
    composer.set_text(text)
    composer.input.setFocus()
    qtbot.keyClick(composer.input, Qt.Key.Key_Return)


def last_answer(window: MainWindow) -> Message | None:
    conv = window.current_conversation()
    if conv is None:
        return None
    return next((m for m in reversed(conv.messages) if m.role == "assistant"), None)


def wait_answer(qtbot: QtBot, window: MainWindow, timeout: int = 10000) -> Message:
    """Wait until the shown conversation's last answer has ended (however it ended)."""
    conv = window.current_conversation()
    assert conv is not None

    def done() -> bool:
        answer = last_answer(window)
        return (answer is not None and answer.status != "streaming"
                and not window.session.is_streaming(conv.id)
                and window.transcript.streaming_message_id is None)

    qtbot.waitUntil(done, timeout=timeout)
    answer = last_answer(window)
    assert answer is not None
    return answer


def transcript_text(window: MainWindow) -> str:
    return window.transcript.toPlainText()


def conversation(window: MainWindow) -> Conversation:
    conv = window.current_conversation()
    assert conv is not None
    return conv
