"""Self-test check for what Qt asks ICU: collation, case mapping, encodings, zone names.

The Linux bundle carries ICU's data without the parts Qt never reads
(packaging/icu_data.py). Qt Core calls ICU for exactly four things; each is exercised
here with answers that come from ICU's data, so a bundle missing data Qt needs fails
this check instead of sorting, decoding or naming things wrongly in a person's hands.
"""

from __future__ import annotations

__all__ = ["check_text_services"]

# QCollator (file dialogs sort names with it): each locale's own order.
_WORDS = ("zoo", "Äpfel", "ñu", "nz", "hz", "ch", "中国", "汉字", "日本")
_COLLATION = {
    "de_DE": ("Äpfel", "ch", "hz", "ñu", "nz", "zoo", "中国", "日本", "汉字"),
    "sv_SE": ("ch", "hz", "ñu", "nz", "zoo", "Äpfel", "中国", "日本", "汉字"),   # Ä after Z
    "cs_CZ": ("Äpfel", "hz", "ch", "ñu", "nz", "zoo", "中国", "日本", "汉字"),   # ch after h
    "es_ES": ("Äpfel", "ch", "hz", "nz", "ñu", "zoo", "中国", "日本", "汉字"),   # ñ after n
    "zh_CN": ("汉字", "日本", "中国", "Äpfel", "ch", "hz", "ñu", "nz", "zoo"),   # pinyin
}
# QMimeData.html(): pasted or dropped HTML in a legacy encoding, named in its meta tag.
_ENCODINGS = (("Shift_JIS", "日本語のテキスト"), ("GBK", "中文文本"), ("Big5", "繁體中文"),
              ("EUC-KR", "한국어 텍스트"), ("KOI8-R", "Кириллица"),
              ("windows-1251", "Кириллица"), ("ISO-8859-7", "Ελληνικά"))
# QTimeZone.displayName(): ICU's names for zones.
_ZONES = (("Europe/Berlin", "de_DE", "Mitteleuropäische Normalzeit"),
          ("Asia/Tokyo", "ja_JP", "日本標準時"),
          ("Asia/Shanghai", "zh_CN", "中国标准时间"))


def check_text_services() -> str:
    from PySide6.QtCore import QCollator, QLocale, QMimeData, QTimeZone

    from .selftest import require

    for locale, expected in _COLLATION.items():
        got = tuple(sorted(_WORDS, key=QCollator(QLocale(locale)).sortKey))
        require(got == expected, f"{locale} collation gave {' '.join(got)}")
    upper = QLocale("tr_TR").toUpper("istanbul")
    require(upper == "İSTANBUL", f"Turkish upper case of 'istanbul' gave {upper!r}")
    for encoding, text in _ENCODINGS:
        mime = QMimeData()
        mime.setData("text/html", f'<meta charset="{encoding}"><p>'.encode("ascii")
                     + text.encode(encoding) + b"</p>")
        require(text in mime.html(), f"{encoding} HTML decoded as {mime.html()!r}")
    for zone, locale, name in _ZONES:
        shown = QTimeZone(zone.encode()).displayName(
            QTimeZone.TimeType.StandardTime, QTimeZone.NameType.LongName, QLocale(locale))
        require(shown == name, f"{zone} in {locale} is named {shown!r}, not {name!r}")
    return (f"collation ({', '.join(_COLLATION)}), Turkish case, "
            f"{len(_ENCODINGS)} legacy encodings, {len(_ZONES)} time-zone names")


def check_translations() -> str:
    """Each shipped language's catalog is in the package and translates, and Qt's own
    catalog for its dialogs is where the window looks for it."""
    from PySide6.QtCore import QTranslator

    from .core import i18n
    from .selftest import require
    from .ui.language import qt_translations_dirs

    found = []
    for code, language in i18n.LANGUAGES.items():
        if code == "en":
            continue
        try:
            require(i18n.use_language(code) == code, f"no {code} catalog in {i18n.LOCALE_DIR}")
            require(i18n._("Send") != "Send", f"the {code} catalog leaves 'Send' in English")
        finally:
            i18n.use_language("en")
        translator = QTranslator()
        require(any(translator.load(language.qt_catalog, str(folder))
                    for folder in qt_translations_dirs()),
                f"Qt's {language.qt_catalog}.qm is in none of "
                f"{', '.join(map(str, qt_translations_dirs()))}")
        found.append(code)
    return f"{', '.join(found)}: the app's catalog and Qt's own"
