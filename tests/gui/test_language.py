"""The window's language: the product's catalog and Qt's own for its standard dialogs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QLocale, QTranslator
from PySide6.QtWidgets import QApplication, QDialogButtonBox

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
