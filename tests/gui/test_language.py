"""The window's language: the product's catalog and Qt's own for its standard dialogs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QLocale, QTranslator
from PySide6.QtWidgets import QApplication, QDialogButtonBox
from pytestqt.qtbot import QtBot

from qwenvl_desktop.core import i18n
from qwenvl_desktop.ui.language import apply_language


@pytest.fixture
def restore_language(qapp: QApplication) -> Iterator[None]:
    before = QLocale()
    yield
    for translator in qapp.findChildren(QTranslator):
        qapp.removeTranslator(translator)
        translator.setParent(None)
    i18n.use_language("en")
    QLocale.setDefault(before)


def _cancel_text() -> str:
    box = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
    button = box.button(QDialogButtonBox.StandardButton.Cancel)
    assert button is not None
    return button.text().replace("&", "")


def test_chinese_system_gets_chinese_qt_dialogs_and_numbers(
        qapp: QApplication, restore_language: None) -> None:
    assert _cancel_text() == "Cancel"
    assert apply_language(qapp, "system", ["zh-CN", "en-US"]) == "zh_CN"
    assert i18n.current_language() == "zh_CN"
    assert _cancel_text() == "取消"
    assert QLocale().name() == "zh_CN"


def test_the_setting_wins_over_a_chinese_system(
        qapp: QApplication, restore_language: None) -> None:
    assert apply_language(qapp, "en", ["zh-CN"]) == "en"
    assert _cancel_text() == "Cancel"
    assert not qapp.findChildren(QTranslator)


def test_settings_general_keeps_the_language_choice_for_the_next_start(
        qapp: QApplication, qtbot: QtBot) -> None:
    from qwenvl_desktop.core.settings import Settings
    from qwenvl_desktop.services import Services
    from qwenvl_desktop.ui.settings_dialog import SettingsDialog

    services = Services.create()
    dialog = SettingsDialog(services, page="general")
    qtbot.addWidget(dialog)
    page = dialog.general_page
    labels = [page.language_combo.itemText(i) for i in range(page.language_combo.count())]
    assert labels == ["Same as the system", "English", "简体中文"]
    assert page.language_combo.currentData() == "system"
    page.language_combo.setCurrentIndex(page.language_combo.findData("zh_CN"))
    assert Settings.load()[0].language == "zh_CN"
    assert "next started" in page.note.text()
    # The window's words do not change before a restart.
    assert i18n.current_language() == "en"
    assert dialog.windowTitle() == "Settings — Qwen-VL Desktop"
