"""The bundle's trimmed ICU data (packaging/icu_data.py): Qt answers exactly as with the
full data, in every locale, converter and time zone; and the self-test notices when data
Qt needs is missing.

Runs the real trimmer on the installed PySide6's libicudata and loads the result in a
fresh interpreter with LD_PRELOAD (Qt Core then links the preloaded library, which has
the same SONAME), next to a run with PySide6's own library.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import PySide6
import pytest

PACKAGING = Path(__file__).resolve().parents[2] / "packaging"
sys.path.insert(0, str(PACKAGING))
import icu_data  # noqa: E402

QT_LIB = Path(PySide6.__file__).resolve().parent / "Qt" / "lib"
ICU = next(QT_LIB.glob("libicudata.so.*"))
PROBE = Path(__file__).with_name("icu_probe.py")
CC = shutil.which("cc") or shutil.which("gcc") or "cc"


def _run(code_or_script: list[str], preload: Path | None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    if preload is not None:
        env["LD_PRELOAD"] = str(preload)
    return subprocess.run([sys.executable, *code_or_script], capture_output=True, text=True,
                          env=env, timeout=300, check=False)


@pytest.fixture(scope="module")
def trimmed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return icu_data.trim_library(ICU, tmp_path_factory.mktemp("icu"), CC)


def _without(tmp: Path, extra: tuple[str, ...]) -> Path:
    original = icu_data.DROPPED
    icu_data.DROPPED = (*original, *extra)
    try:
        return icu_data.trim_library(ICU, tmp, CC)
    finally:
        icu_data.DROPPED = original


def test_the_package_is_rebuilt_byte_for_byte() -> None:
    """Parsing and writing back PySide6's own package gives the same bytes: the layout
    (sorted TOC, names, 16-byte aligned items, padding) is ICU's."""
    _symbol, blob = icu_data._data_symbol(ICU)
    package = icu_data.Package.parse(blob)
    assert len(package.items) > 3000
    assert package.build() == blob


def test_the_trimmed_library_keeps_everything_but_the_dropped_families(trimmed: Path) -> None:
    _symbol, full_blob = icu_data._data_symbol(ICU)
    symbol, blob = icu_data._data_symbol(trimmed)
    assert symbol == "icudt73_dat"
    full = dict(icu_data.Package.parse(full_blob).items)
    kept = dict(icu_data.Package.parse(blob).items)
    assert set(kept) < set(full)
    assert all(kept[name] == full[name] for name in kept)     # copied byte for byte
    inner = {name.split("/", 1)[1] for name in set(full) - set(kept)}
    assert {n.split("/")[0] for n in inner if "/" in n} == {
        "brkitr", "unit", "curr", "lang", "region", "translit", "rbnf"}
    assert {n for n in inner if "/" not in n} >= {"unames.icu", "uts46.nrm", "confusables.cfu"}
    # Collation, converters, time zones and the locales themselves are all still there.
    names = {name.split("/", 1)[1] for name in kept}
    assert {"coll/zh.res", "coll/ucadata.icu", "zone/de.res", "zoneinfo64.res", "metaZones.res",
            "cnvalias.icu", "ibm-943_P15A-2003.cnv", "gb18030.cnv", "de.res", "root.res",
            "supplementalData.res"} <= names
    # Half the size, the same SONAME.
    assert trimmed.stat().st_size < ICU.stat().st_size * 0.55
    assert icu_data._soname(trimmed) == ICU.name


def test_qt_answers_the_same_with_the_trimmed_data(trimmed: Path) -> None:
    full = _run([str(PROBE)], None)
    assert full.returncode == 0, full.stderr
    cut = _run([str(PROBE)], trimmed)
    assert cut.returncode == 0, cut.stderr
    before, after = json.loads(full.stdout), json.loads(cut.stdout)
    assert before.pop("icu") == [str(ICU)]
    assert after.pop("icu") == [str(trimmed)]            # the trimmed data was the one used
    assert len(before["collation"]) > 600                 # every locale Qt knows
    assert len(before["converters"]) > 200
    assert len(before["time zones"]) > 400
    for part in before:
        differ = [key for key in before[part] if before[part][key] != after[part].get(key)]
        assert differ == [], f"{part}: {differ[:10]}"


@pytest.mark.parametrize(("dropped", "reason"), [
    (("coll/",), "de_DE collation gave"),
    (("zone/",), "Europe/Berlin in de_DE is named ''"),
    (("ibm-943_P15A-2003.cnv",), "Shift_JIS HTML decoded as"),
])
def test_the_self_test_fails_when_data_qt_needs_is_missing(
        tmp_path: Path, dropped: tuple[str, ...], reason: str) -> None:
    broken = _without(tmp_path, dropped)
    code = ("from qwenvl_desktop.selftest_text import check_text_services\n"
            "print(check_text_services())\n")
    done = _run(["-c", code], broken)
    assert done.returncode != 0
    assert reason in done.stderr


def test_a_qt_calling_other_icu_functions_keeps_the_data_whole(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    core = QT_LIB / "libQt6Core.so.6"
    toc = [("PySide6/Qt/lib/libQt6Core.so.6", str(core), "BINARY"),
           (f"PySide6/Qt/lib/{ICU.name}", str(ICU), "BINARY")]
    assert icu_data.trimmed_binaries(toc, tmp_path)[1][1] != str(ICU)
    real = icu_data.qt_icu_functions
    monkeypatch.setattr(icu_data, "qt_icu_functions",
                        lambda lib: {*real(lib), "ubrk_open_73"})
    assert icu_data.trimmed_binaries(toc, tmp_path) == toc


def test_only_the_functions_qt_imports_are_allowed() -> None:
    found = icu_data.qt_icu_functions(QT_LIB / "libQt6Core.so.6")
    assert {"ucol_open_73", "ucnv_open_73", "ucal_getTimeZoneDisplayName_73",
            "u_strToUpper_73"} <= found
    assert all(icu_data.QT_ICU_FAMILIES.match(name) for name in found)
    assert not icu_data.QT_ICU_FAMILIES.match("ubrk_open_73")


def test_a_file_that_is_not_a_package_is_refused() -> None:
    with pytest.raises(ValueError, match="not an ICU common data package"):
        icu_data.Package.parse(struct.pack("<HBB", 32, 0, 0) + b"\0" * 64)
