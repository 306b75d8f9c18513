"""The window's language: the product's catalog (core.i18n) and Qt's own for its dialogs.

Chosen once, before any widget is built (widgets take their words when they are made), so
a change in Settings applies on the next start.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QLocale, QTranslator
from PySide6.QtWidgets import QApplication

from qwenvl_desktop.core.i18n import LANGUAGES, resolve_language, use_language

__all__ = ["apply_language", "qt_translations_dirs"]


def qt_translations_dirs() -> list[Path]:
    """Where Qt's catalogs may be: Qt's own answer, then PySide6's folder (a frozen app
    keeps them there, and its Qt prefix may point elsewhere)."""
    import PySide6

    # Here, not at the top: the language is chosen before the first frame, and English
    # (no Qt catalog) never needs QLibraryInfo, whose type PySide builds on first use.
    from PySide6.QtCore import QLibraryInfo

    dirs = [Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)),
            Path(PySide6.__file__).resolve().parent / "Qt" / "translations"]
    return [d for i, d in enumerate(dirs) if d not in dirs[:i]]


def apply_language(app: QApplication, choice: str,
                   system_locales: list[str] | None = None) -> str:
    """Use the language of the setting `choice` ("system" or a language code) for the
    product's words, Qt's dialogs and number formats; returns the code in use."""
    if system_locales is None:
        system_locales = list(QLocale.system().uiLanguages())
    code = use_language(resolve_language(choice, system_locales))
    QLocale.setDefault(QLocale(code))
    catalog = LANGUAGES[code].qt_catalog
    if catalog:
        translator = QTranslator(app)
        for folder in qt_translations_dirs():
            if translator.load(catalog, str(folder)):
                app.installTranslator(translator)
                break
    return code
