"""The words a person reads, in their language: one mechanism for the core and the window.

How translation works here (the decision, for whoever adds a sentence):

- Every user-visible sentence of the product — the window's labels, menus, tooltips and
  dialogs, and the core's own sentences such as the error explanations — is marked with
  `_("…")` (or `ngettext(singular, plural, n)` when a number decides the form) from this
  module. The catalogs are GNU gettext catalogs: `qwenvl_desktop/locale/<code>/LC_MESSAGES/
  qwenvl_desktop.po` is what translators edit, the `.mo` beside it is what runs. The
  standard library's `gettext` reads them, so the core needs neither Qt nor Babel at run
  time and stays Qt-free.
- Sentences built at import time (tables, dataclass defaults, module constants) are marked
  with `N_("…")`, which only marks them for extraction; they are translated with `_()`
  where they are shown, after the window chose the language.
- Placeholders are named (`_("Saved {name}").format(name=…)`), so a translator can move
  them; the catalog test checks every translation keeps exactly the same placeholders.
- The window picks the language once at start (`use_language`), from Settings › General ›
  Language or, when that is "system", from the system locale; a change applies on restart,
  because widgets take their words when they are built. The terminal command never calls
  `use_language`: it stays English, whatever the locale, so scripts can read it.
- Qt's own dialogs (file dialogs, standard buttons) are translated by Qt's catalogs; the
  window loads the one named in `LANGUAGES` for the chosen language.
- `packaging/translations.py` extracts the marked sentences, updates every `.po` and
  compiles the `.mo`; `tests/unit/test_translations.py` fails on an unmarked sentence in the
  window's code, a missing, unfinished or fuzzy translation, or a stale `.mo`.
"""

from __future__ import annotations

import gettext
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "DOMAIN",
    "LANGUAGES",
    "LOCALE_DIR",
    "N_",
    "SYSTEM",
    "Language",
    "_",
    "current_language",
    "format_integer",
    "ngettext",
    "resolve_language",
    "use_language",
]

DOMAIN = "qwenvl_desktop"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"


@dataclass(frozen=True, slots=True)
class Language:
    code: str
    #: The language's name in itself, as the language choice lists it.
    native_name: str
    #: Qt's catalog for its own dialogs ("" for English, which Qt speaks already).
    qt_catalog: str
    #: Thousands separator for whole numbers shown in sentences.
    group_separator: str


#: The languages the product ships, English first (the source language).
LANGUAGES: dict[str, Language] = {
    "en": Language("en", "English", "", ","),
    "zh_CN": Language("zh_CN", "简体中文", "qtbase_zh_CN", ","),
}
#: The setting's value that follows the system's locale.
SYSTEM = "system"

_translations: gettext.NullTranslations = gettext.NullTranslations()
_current = "en"


def resolve_language(choice: str, system_locales: list[str]) -> str:
    """The shipped language to use for a setting value and the system's preferred locales
    (e.g. ["zh-CN", "en-US"] or ["zh_CN.UTF-8"]): an exact match, then one on the
    language alone (any Chinese other than Traditional gets Simplified), else English."""
    if choice in LANGUAGES:
        return choice
    for raw in system_locales:
        name = raw.split(".")[0].split("@")[0].replace("-", "_")
        if name in LANGUAGES:
            return name
        lang, _sep, region = name.partition("_")
        if lang == "zh" and region.upper() not in {"TW", "HK", "MO", "HANT"}:
            return "zh_CN"
        if lang == "en":
            return "en"
    return "en"


def use_language(code: str, locale_dir: Path = LOCALE_DIR) -> str:
    """Translate from now on into `code` (a key of LANGUAGES); returns the language in use.

    A missing catalog falls back to English rather than failing start-up: the caller can
    tell by the returned code."""
    global _translations, _current
    if code not in LANGUAGES or code == "en":
        _translations, _current = gettext.NullTranslations(), "en"
        return _current
    try:
        _translations = gettext.translation(DOMAIN, str(locale_dir), languages=[code])
    except OSError:
        _translations, _current = gettext.NullTranslations(), "en"
        return _current
    _current = code
    return _current


def current_language() -> str:
    return _current


def _(message: str) -> str:
    """`message` in the current language (itself in English or when untranslated)."""
    return _translations.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form of a sentence that goes with the number `n` in the current language."""
    return _translations.ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Marks a sentence for translation without translating it (see the module's notes)."""
    return message


def format_integer(n: int) -> str:
    """A whole number grouped as the current language writes it in running text."""
    return f"{n:,}".replace(",", LANGUAGES[_current].group_separator)
