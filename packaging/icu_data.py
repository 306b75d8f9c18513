"""Keep only the ICU data Qt can ask for: a smaller libicudata for the Linux bundle.

PySide6 ships ICU 73 for Qt Core; its data library, libicudata.so.73, is 31 MB (12 MB
of the bundle's .tar.gz). Qt Core calls ICU for four things only — the functions
libQt6Core.so.6 imports from ICU, read with readelf:

- case mapping in a locale (`u_strToUpper`, `u_strToLower`: QLocale::toUpper); its
  tables are compiled into libicuuc, not read from this data;
- collation (`ucol_*`: QCollator, and the file dialog's name sorting);
- converters (`ucnv_*`: QStringDecoder/QStringEncoder for any named encoding, legacy
  encodings in pasted or dropped HTML and text);
- calendars and time zones (`ucal_*`: QTimeZone's canonical IDs and display names).

The data ICU keeps for its other services is reachable only through functions Qt never
calls, and is left out (`DROPPED`, with what reads it and the measured size). Every other
item — locales, collation, converters, time zones, supplemental data — is copied byte
for byte. `qt_icu_functions` refuses (the library is then bundled whole) if a Qt build
ever imports an ICU function outside those families.

How: the data is linked into libicudata as one symbol, `icudt73_dat`, holding ICU's
"common data" package (a header, a table of contents sorted by item name, the items,
each 16-byte aligned). The package is rewritten without the dropped items and assembled
into a library with the same file name, SONAME and symbol. Linux only; without a C
compiler or readelf the original library is kept (a bigger bundle that works the same).
The bundle's `--self-test` checks collation, case mapping, converters and time-zone
names (selftest_text.py); tests/unit/test_icu_data.py compares Qt's answers with the
full and the trimmed data across every locale, zone and codec.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
from collections.abc import Iterable
from pathlib import Path

__all__ = ["DROPPED", "QT_ICU_FAMILIES", "Package", "qt_icu_functions", "trim_library",
           "trimmed_binaries"]

# Items (paths inside the package, after "icudt73l/") Qt cannot reach, with the ICU
# service that reads them and their size in ICU 73 (KB; the package holds 31,278 KB).
DROPPED = (
    "brkitr/",          # 3,299 KB: break iteration (ubrk, title case): dictionaries, rules
    "unit/",            # 3,247 KB: unit display names (MeasureFormat)
    "curr/",            # 2,883 KB: currency names (NumberFormat)
    "lang/",            # 2,668 KB: language and script names (LocaleDisplayNames)
    "region/",          # 1,117 KB: region names (LocaleDisplayNames; generic time-zone
                        #           names "Germany Time", a style Qt never asks ucal for)
    "translit/",        # 1,061 KB: transliteration (utrans)
    "rbnf/",            #   592 KB: spelled-out numbers (RuleBasedNumberFormat)
    "unames.icu",       #   289 KB: character names (u_charName)
    "uts46.nrm",        #    58 KB: IDNA (uidna; Qt converts host names itself)
    "confusables.cfu",  #    45 KB: spoof checks (uspoof)
    "*.spp",            #   188 KB: StringPrep profiles (usprep)
)

# ICU functions Qt Core may import: the families the kept data serves. Anything else
# (a new Qt using break iteration, say) keeps the whole library.
QT_ICU_FAMILIES = re.compile(
    r"^(ucol_\w+|ucnv_\w+|UCNV_\w+|ucal_\w+|u_strToUpper|u_strToLower)_\d+$")

_MAGIC = b"\xda\x27"
_ALIGN = 16
_PAD = b"\xaa"      # what ICU's own packager fills gaps with


def _readelf(*args: str) -> str:
    return subprocess.run(["readelf", "-W", *args], capture_output=True, text=True,
                          check=True).stdout


class Package:
    """An ICU common-data package: header bytes and (name, item bytes) in TOC order."""

    def __init__(self, header: bytes, items: list[tuple[str, bytes]]) -> None:
        self.header = header
        self.items = items

    @classmethod
    def parse(cls, blob: bytes) -> Package:
        header_size, = struct.unpack_from("<H", blob, 0)
        if blob[2:4] != _MAGIC or blob[12:16] != b"CmnD":
            raise ValueError("not an ICU common data package (little-endian, CmnD)")
        toc = header_size
        count, = struct.unpack_from("<I", blob, toc)
        entries = [struct.unpack_from("<II", blob, toc + 4 + 8 * i) for i in range(count)]
        starts = [toc + data for _name, data in entries]
        ends = [*sorted(starts)[1:], len(blob)]
        end_of = dict(zip(sorted(starts), ends, strict=True))
        items = []
        for (name_offset, _data), start in zip(entries, starts, strict=True):
            name_start = toc + name_offset
            name = blob[name_start:blob.index(b"\0", name_start)].decode("ascii")
            items.append((name, blob[start:end_of[start]]))
        return cls(blob[:header_size], items)

    def build(self) -> bytes:
        """The package bytes: TOC sorted by name (ICU binary-searches it), items aligned."""
        items = sorted(self.items, key=lambda item: item[0].encode("ascii"))
        count = len(items)
        names = b"".join(name.encode("ascii") + b"\0" for name, _ in items)
        toc_size = 4 + 8 * count
        data_start = _padded(toc_size + len(names))
        entries = []
        name_offset, data_offset = toc_size, data_start
        body = []
        for name, data in items:
            entries.append(struct.pack("<II", name_offset, data_offset))
            name_offset += len(name) + 1
            padded = data + _PAD * (_padded(len(data)) - len(data))
            body.append(padded)
            data_offset += len(padded)
        toc = struct.pack("<I", count) + b"".join(entries) + names
        toc += _PAD * (data_start - len(toc))
        return self.header + toc + b"".join(body)

    def without(self, patterns: Iterable[str]) -> Package:
        rules = list(patterns)
        kept = [(n, d) for n, d in self.items if not _dropped(n, rules)]
        return Package(self.header, kept)


def _padded(size: int) -> int:
    return (size + _ALIGN - 1) // _ALIGN * _ALIGN


def _dropped(name: str, rules: list[str]) -> bool:
    inner = name.split("/", 1)[1] if "/" in name else name
    for rule in rules:
        if rule.endswith("/") and inner.startswith(rule):
            return True
        if rule.startswith("*") and inner.endswith(rule[1:]) and "/" not in inner:
            return True
        if inner == rule:
            return True
    return False


def _data_symbol(lib: Path) -> tuple[str, bytes]:
    """The name and bytes of the one data symbol (icudtNN_dat) libicudata exports."""
    symbols = _readelf("--dyn-syms", str(lib))
    match = re.search(r"^\s*\d+:\s+([0-9a-f]+)\s+(0x[0-9a-f]+|\d+)\s+OBJECT\s+GLOBAL\s+"
                      r"DEFAULT\s+\d+\s+(icudt\d+_dat)\s*$", symbols, re.MULTILINE)
    if not match:
        raise ValueError(f"{lib.name} exports no icudt*_dat symbol")
    address, size, name = int(match.group(1), 16), int(match.group(2), 0), match.group(3)
    for line in _readelf("-S", str(lib)).splitlines():
        section = re.match(r"\s*\[\s*\d+\]\s+\S+\s+\S+\s+([0-9a-f]+)\s+([0-9a-f]+)\s+"
                           r"([0-9a-f]+)", line)
        if section:
            start, offset, length = (int(g, 16) for g in section.groups())
            if start <= address < start + length:
                with lib.open("rb") as fh:
                    fh.seek(offset + address - start)
                    return name, fh.read(size)
    raise ValueError(f"{name} lies in no section of {lib.name}")


def _soname(lib: Path) -> str:
    match = re.search(r"\(SONAME\)\s+Library soname: \[([^\]]+)\]", _readelf("-d", str(lib)))
    return match.group(1) if match else lib.name


def qt_icu_functions(qt_core: Path) -> set[str]:
    """The ICU functions (versioned names, e.g. ucol_open_73) Qt Core imports."""
    names = set()
    for line in _readelf("--dyn-syms", str(qt_core)).splitlines():
        fields = line.split()
        if len(fields) >= 8 and fields[6] == "UND" and re.search(r"_\d+(@|$)", fields[7]):
            names.add(fields[7].split("@")[0])
    return {n for n in names if re.match(r"^(u|U)[a-zA-Z]*_\w+_\d+$", n)}


def trim_library(lib: Path, out_dir: Path, cc: str) -> Path:
    """Write the trimmed twin of `lib` (libicudata.so.NN) into `out_dir`; return its path."""
    symbol, blob = _data_symbol(lib)
    package = Package.parse(blob).without(DROPPED)
    out_dir.mkdir(parents=True, exist_ok=True)
    data_file = out_dir / f"{symbol}.dat"
    data_file.write_bytes(package.build())
    # Assembly, so the 15 MB of data are copied by the assembler, not compiled as C.
    source = out_dir / f"{symbol}.S"
    source.write_text(
        "/* Generated by packaging/icu_data.py: ICU data without what Qt never reads. */\n"
        '\t.section .rodata\n'
        f"\t.globl {symbol}\n"
        f"\t.type {symbol}, @object\n"
        f"\t.balign {_ALIGN}\n"
        f"{symbol}:\n"
        f'\t.incbin "{data_file}"\n'
        f"\t.size {symbol}, . - {symbol}\n"
        '\t.section .note.GNU-stack,"",@progbits\n', encoding="utf-8")
    target = out_dir / lib.name
    subprocess.run([cc, "-shared", "-nostdlib", "-o", str(target),
                    f"-Wl,-soname,{_soname(lib)}", str(source)],
                   check=True, capture_output=True, text=True)
    return target


def trimmed_binaries(binaries: list[tuple[str, str, str]], out_dir: Path
                     ) -> list[tuple[str, str, str]]:
    """The TOC with PySide6's libicudata replaced by the trimmed one (when it is safe)."""
    icu = [e for e in binaries if re.match(r"^libicudata\.so\.\d+$", Path(e[0]).name)]
    core = [e for e in binaries if Path(e[0]).name == "libQt6Core.so.6"]
    cc = shutil.which("cc") or shutil.which("gcc")
    if not icu or not core:
        return binaries
    if cc is None or shutil.which("readelf") is None:
        print("icu_data: no C compiler or readelf; ICU's data is kept whole")
        return binaries
    unknown = sorted(f for f in qt_icu_functions(Path(core[0][1]))
                     if not QT_ICU_FAMILIES.match(f))
    if unknown:
        print(f"icu_data: Qt Core calls {', '.join(unknown)}; ICU's data is kept whole")
        return binaries
    dest, src, kind = icu[0]
    trimmed = trim_library(Path(src), out_dir, cc)
    before, after = Path(src).stat().st_size, trimmed.stat().st_size
    print(f"icu_data: {Path(dest).name} trimmed from {before / 2**20:.1f} MB "
          f"to {after / 2**20:.1f} MB")
    return [(d, str(trimmed), k) if (d, s, k) == (dest, src, kind) else (d, s, k)
            for d, s, k in binaries]
