"""The window built in Simplified Chinese shows no English sentence anywhere.

Walks every widget (visible or not yet shown), every menu and action, the Settings
dialog's pages, and reads each text, tooltip, placeholder, accessible name, list and
combo item. A word of two or more Latin letters fails the test unless it is a product,
provider or model name or a technical term Chinese users of these apps read in English
(API Key, Token, JSON, PDF, …). A sentence someone forgets to mark shows up here even
when it is passed through a variable, which the source check cannot see.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QLocale, QTranslator
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QComboBox,
    QGroupBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QMenu,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)
from pytestqt.qtbot import QtBot
from window_harness import (  # noqa: F401 - fixtures are found by name
    close_window,
    make_services,
    open_window,
    provider_server_fixture,
    server_fixture,
)

from qwenvl_desktop.core import i18n
from qwenvl_desktop.core.catalog import load_builtin
from qwenvl_desktop.testing.provider_server import ProviderServer
from qwenvl_desktop.ui.language import apply_language
from qwenvl_desktop.ui.main_window import MainWindow
from qwenvl_desktop.ui.settings_dialog import SettingsDialog

#: Words a Chinese interface keeps in Latin letters: names and technical terms.
ALLOWED = {
    "Qwen", "VL", "Desktop", "DashScope", "OVHcloud", "AI", "ML", "API", "Key", "Token",
    "JSON", "PDF", "CSV", "TSV", "URL", "HTTP", "HTTPS", "http", "https", "Markdown", "HTML",
    "vLLM", "Ollama", "LM", "Studio", "Model", "Alibaba", "Nebula", "Block", "Segmind",
    "OpenAI", "llama", "cpp", "Ctrl", "Shift", "Alt", "Enter", "Esc", "Tab", "PNG", "JPEG", "WebP",
    "GIF", "BMP", "TIFF", "AVIF", "SVG", "MIT", "UTC", "GET", "kB", "fps", "Qt", "English",
    "Base", "Top", "ID", "QVQ",
    # The test keyring's name (real ones: Secret Service, KWallet, Windows, macOS).
    "memory", "keyring", "MemoryKeyring",
}
_WORD = re.compile(r"[A-Za-z]{2,}")
# Identifiers, addresses, file names, key sequences and env variables: technical, kept.
_TECHNICAL = re.compile(r"\S*[-_./:@+0-9]\S*|\b[A-Z][A-Z0-9_]{2,}\b|&\w+;|<[^>]*>")


@pytest.fixture
def chinese(qapp: QApplication) -> Iterator[None]:
    before = QLocale()
    assert apply_language(qapp, "zh_CN") == "zh_CN"
    yield
    for translator in qapp.findChildren(QTranslator):
        qapp.removeTranslator(translator)
        translator.setParent(None)
    i18n.use_language("en")
    QLocale.setDefault(before)


def _names_in_catalog() -> set[str]:
    """Provider and model names as the catalog spells them (data, not the window's words)."""
    words: set[str] = set()
    for provider in load_builtin().providers.values():
        for text in (provider.name, provider.endpoint_label,
                     *(m.label for m in provider.models), *(m.id for m in provider.models)):
            words.update(_WORD.findall(text))
    return words


def english_words(text: str, allowed: set[str]) -> list[str]:
    stripped = _TECHNICAL.sub(" ", text)
    return [w for w in _WORD.findall(stripped) if w not in allowed]


def _texts(root: QWidget) -> Iterator[tuple[str, str]]:
    widgets = [root, *root.findChildren(QWidget)]
    for w in widgets:
        where = f"{type(w).__name__}({w.objectName() or w.accessibleName()!r})"
        yield where + ".toolTip", w.toolTip()
        yield where + ".accessibleName", w.accessibleName()
        yield where + ".accessibleDescription", w.accessibleDescription()
        yield where + ".windowTitle", w.windowTitle()
        if isinstance(w, QLabel | QAbstractButton):
            yield where + ".text", w.text()
        if isinstance(w, QLineEdit | QPlainTextEdit | QTextEdit):
            yield where + ".placeholder", w.placeholderText()
        if isinstance(w, QGroupBox):
            yield where + ".title", w.title()
        if isinstance(w, QComboBox):
            for i in range(w.count()):
                yield f"{where}.item[{i}]", w.itemText(i)
        if isinstance(w, QListWidget):
            for i in range(w.count()):
                item = w.item(i)
                yield f"{where}.item[{i}]", item.text()
                yield f"{where}.item[{i}].toolTip", item.toolTip()
        for action in w.actions():
            yield from _action_texts(action)


def _action_texts(action: QAction) -> Iterator[tuple[str, str]]:
    where = f"action({action.text()!r})"
    yield where + ".text", action.text()
    yield where + ".toolTip", action.toolTip() if action.toolTip() != action.text().replace(
        "&", "") else ""
    yield where + ".statusTip", action.statusTip()
    menu = action.menu()
    if isinstance(menu, QMenu):
        yield f"menu({menu.title()!r}).title", menu.title()
        for sub in menu.actions():
            yield from _action_texts(sub)


def _english(root: QWidget, allowed: set[str]) -> list[str]:
    found = []
    for where, text in _texts(root):
        words = english_words(text.replace("&", ""), allowed) if text else []
        if words:
            found.append(f"{where}: {text[:90]!r} ({', '.join(words)})")
    return sorted(set(found))


def test_the_check_sees_english_and_allows_names() -> None:
    allowed = ALLOWED | {"qwen"}
    assert english_words("发送 (Enter)", allowed) == []
    assert english_words("添加 API Key…", allowed) == []
    assert english_words("在 https://example.com/v1 上 qwen3-vl-plus", allowed) == []
    assert english_words("Send the message", allowed) == ["Send", "the", "message"]
    assert english_words("图片 tokens 估计", allowed) == ["tokens"]


def test_the_window_in_chinese_has_no_english_sentence(
        qtbot: QtBot, qasync_loop: asyncio.AbstractEventLoop, server: ProviderServer,
        chinese: None) -> None:
    allowed = ALLOWED | _names_in_catalog()
    window: MainWindow = open_window(qtbot, make_services(server))
    try:
        found = _english(window, allowed)
        for action in window.menuBar().actions():
            for where, text in _action_texts(action):
                words = english_words(text.replace("&", ""), allowed) if text else []
                if words:
                    found.append(f"{where}: {text!r} ({', '.join(words)})")
        services = window.services
        assert services is not None
        dialog = SettingsDialog(services, window)
        try:
            found += [f"Settings › {line}" for line in _english(dialog, allowed)]
        finally:
            dialog.deleteLater()
        assert not found, f"{len(found)} English texts in the Chinese window:\n" + "\n".join(
            found)
    finally:
        close_window(qtbot, window)
