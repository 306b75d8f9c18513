"""The translation mechanism of core.i18n, on a catalog compiled here."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo

from qwenvl_desktop.core import i18n


@pytest.fixture
def locale_dir(tmp_path: Path) -> Iterator[Path]:
    catalog = Catalog(locale="zh_CN", domain=i18n.DOMAIN)
    catalog.add("Send", "发送")
    catalog.add(("{n} image", "{n} images"), ("{n} 张图片",))
    folder = tmp_path / "zh_CN" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    with (folder / f"{i18n.DOMAIN}.mo").open("wb") as fh:
        write_mo(fh, catalog)
    yield tmp_path
    i18n.use_language("en")


@pytest.mark.parametrize(("choice", "system", "expected"), [
    ("zh_CN", ["en-US"], "zh_CN"),           # the setting wins over the system
    ("en", ["zh-CN"], "en"),
    ("system", ["zh-CN", "en-US"], "zh_CN"),  # Qt's form
    ("system", ["zh_CN.UTF-8"], "zh_CN"),    # the environment's form
    ("system", ["zh-Hans-CN"], "zh_CN"),
    ("system", ["zh"], "zh_CN"),
    ("system", ["zh-TW", "en-US"], "en"),     # Traditional: no catalog, English
    ("system", ["de-DE", "fr-FR"], "en"),
    ("system", ["de-DE", "zh-CN"], "zh_CN"),  # the first shipped one of the list
    ("system", [], "en"),
    ("klingon", ["en-US"], "en"),             # an unknown setting follows the system
])
def test_language_resolution(choice: str, system: list[str], expected: str) -> None:
    assert i18n.resolve_language(choice, system) == expected


def test_chosen_language_translates_words_and_plurals(locale_dir: Path) -> None:
    assert i18n.use_language("zh_CN", locale_dir) == "zh_CN"
    assert i18n.current_language() == "zh_CN"
    assert i18n._("Send") == "发送"
    # Chinese has one form for every number.
    assert i18n.ngettext("{n} image", "{n} images", 1).format(n=1) == "1 张图片"
    assert i18n.ngettext("{n} image", "{n} images", 5).format(n=5) == "5 张图片"
    # A sentence nobody translated yet reads in English rather than vanishing.
    assert i18n._("Stop") == "Stop"


def test_english_is_the_source_and_needs_no_catalog(locale_dir: Path) -> None:
    i18n.use_language("zh_CN", locale_dir)
    assert i18n.use_language("en", locale_dir) == "en"
    assert i18n._("Send") == "Send"
    assert i18n.ngettext("{n} image", "{n} images", 1) == "{n} image"
    assert i18n.ngettext("{n} image", "{n} images", 2) == "{n} images"


def test_a_missing_catalog_falls_back_to_english(tmp_path: Path) -> None:
    assert i18n.use_language("zh_CN", tmp_path) == "en"
    assert i18n._("Send") == "Send"


def test_marker_only_marks() -> None:
    assert i18n.N_("Send") == "Send"


def test_whole_numbers_are_grouped() -> None:
    assert i18n.format_integer(1234567) == "1,234,567"


def test_every_shipped_language_has_a_catalog_in_the_package() -> None:
    for code in i18n.LANGUAGES:
        if code != "en":
            assert (i18n.LOCALE_DIR / code / "LC_MESSAGES" / f"{i18n.DOMAIN}.mo").is_file(), code
