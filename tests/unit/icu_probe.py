"""What Qt answers from ICU, as JSON: run by test_icu_data.py with the full and the
trimmed ICU data (packaging/icu_data.py) and compared.

Covers every family of ICU functions Qt Core imports: collation (QCollator) in every
locale Qt knows, case mapping in a locale (QLocale.toUpper/toLower), every converter
(QStringEncoder/QStringDecoder by name) and time-zone IDs and display names.
"""

from __future__ import annotations

import itertools
import json
import sys

from PySide6.QtCore import (
    QCollator,
    QDate,
    QDateTime,
    QLocale,
    QMimeData,
    QStringConverter,
    QStringDecoder,
    Qt,
    QTime,
    QTimeZone,
)

WORDS = ["peach", "Péché", "péché", "pêche", "côte", "coté", "Äpfel", "apple", "Zebra",
         "zoo", "ähnlich", "Öl", "ovum", "Ångström", "cz", "čaj", "ch", "Chimera", "dz", "ll",
         "llama", "luz", "ñandú", "nube", "ı", "i", "İ", "I",
         "日本", "中国", "汉字", "漢字", "한국", "가나다",
         "Москва", "ёлка", "елка", "ไทย", "ฉัน", "١٢٣", "123", "12", "file10", "file2", "ǆ",
         "ß", "ss", "œuvre", "oeuvre", "a-b", "ab", "a b", "Ωμέγα", "ωμεγα", "אבג", "देवनागरी"]
TEXT = "Grüße, Ünïcödé — 日本語のテキスト, 中文文本, 한국어, Ελληνικά, Кириллица, עברית, €½"
CASE_TEXT = "iıİI ǆ ß Σίσυφος ĳ i̇ Istanbul ÎLE"
ZONE_LOCALES = ["en_US", "de_DE", "fr_FR", "es_ES", "pt_BR", "ru_RU", "zh_CN", "zh_TW", "ja_JP",
                "ko_KR", "ar_EG", "hi_IN", "tr_TR", "sv_SE", "fa_IR"]


def collation() -> dict[str, list[object]]:
    out: dict[str, list[object]] = {}
    everything = QLocale.matchingLocales(QLocale.Language.AnyLanguage,
                                         QLocale.Script.AnyScript,
                                         QLocale.Country.AnyCountry)
    for locale in sorted({loc.name() for loc in everything}):
        collator = QCollator(QLocale(locale))
        runs: list[object] = []
        for numeric, case, punctuation in ((False, True, False), (True, False, True)):
            collator.setNumericMode(numeric)
            collator.setCaseSensitivity(Qt.CaseSensitivity.CaseSensitive if case
                                        else Qt.CaseSensitivity.CaseInsensitive)
            collator.setIgnorePunctuation(punctuation)
            ordered = sorted(WORDS, key=collator.sortKey)
            ties = [collator.compare(a, b) for a, b in itertools.pairwise(ordered)]
            runs.append([ordered, ties])
        out[locale] = runs
    return out


def case_mapping() -> dict[str, list[str]]:
    return {name: [QLocale(name).toUpper(CASE_TEXT), QLocale(name).toLower(CASE_TEXT)]
            for name in ("en_US", "tr_TR", "az_AZ", "lt_LT", "el_GR", "nl_NL", "de_DE")}


def converters() -> dict[str, list[object]]:
    """Decoding as the app meets it: HTML (pasted, dropped) naming its charset is decoded
    by QMimeData.html() through QStringDecoder, which asks ICU for any legacy encoding.
    (PySide6 binds no encode/decode call of QStringEncoder/QStringDecoder.)"""
    out: dict[str, list[object]] = {}
    for name in QStringConverter.availableCodecs():
        decoder = QStringDecoder(name)
        try:
            body = TEXT.encode(name, errors="replace")
        except LookupError:     # a codec Python does not know: bytes it must map
            body = bytes(range(128, 256))
        mime = QMimeData()
        mime.setData("text/html", f'<html><head><meta charset="{name}"></head><body>'
                     .encode("ascii") + body + bytes(range(128, 256)) + b"</body></html>")
        out[name] = [decoder.isValid(), decoder.name(), mime.html()]
    return out


def time_zones() -> dict[str, list[object]]:
    out: dict[str, list[object]] = {}
    winter = QDateTime(QDate(2024, 1, 15), QTime(12, 0), QTimeZone.utc())
    summer = QDateTime(QDate(2024, 7, 15), QTime(12, 0), QTimeZone.utc())
    kinds = [(QTimeZone.TimeType.StandardTime, QTimeZone.NameType.LongName),
             (QTimeZone.TimeType.DaylightTime, QTimeZone.NameType.LongName),
             (QTimeZone.TimeType.GenericTime, QTimeZone.NameType.LongName),
             (QTimeZone.TimeType.StandardTime, QTimeZone.NameType.ShortName),
             (QTimeZone.TimeType.DaylightTime, QTimeZone.NameType.ShortName),
             (QTimeZone.TimeType.StandardTime, QTimeZone.NameType.OffsetName)]
    for raw in QTimeZone.availableTimeZoneIds():
        zone_id = bytes(raw).decode()
        zone = QTimeZone(raw)
        names = [zone.displayName(kind, name, QLocale(loc))
                 for loc in ZONE_LOCALES for kind, name in kinds]
        names += [zone.displayName(when, QTimeZone.NameType.LongName, QLocale(loc))
                  for loc in ZONE_LOCALES[:3] for when in (winter, summer)]
        out[zone_id] = [zone.isValid(), zone.comment(), zone.territory().name,
                        zone.abbreviation(winter), zone.abbreviation(summer),
                        zone.offsetFromUtc(winter), zone.offsetFromUtc(summer), names]
    return out


def main() -> None:
    with open("/proc/self/maps", encoding="utf-8") as maps:
        icu = sorted({line.split()[-1] for line in maps if "libicudata" in line})
    report = {"collation": collation(), "case": case_mapping(),
              "converters": converters(), "time zones": time_zones(), "icu": icu}
    json.dump(report, sys.stdout, ensure_ascii=False, sort_keys=True)


if __name__ == "__main__":
    main()
