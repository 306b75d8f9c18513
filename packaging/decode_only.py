"""Keep only what decoding needs of the FFmpeg that PyAV's Linux wheel bundles.

PyAV's wheel links libavcodec against encoders (x264, x265, SVT-AV1, LAME, libvpx,
Opus, WebP, AMR), the TLS stack libavformat uses for network streams (GnuTLS with
Nettle, GMP and libunistring) and Intel's VPL dispatcher for hardware codecs. The app
only ever decodes local files with FFmpeg's own decoders (and dav1d for AV1, kept), yet
the dynamic loader refuses to load libavcodec unless every one of those libraries is
there: about 12 MB of the 25 MB the wheel's libraries add to the .tar.gz.

Every PyAV module also links libavfilter (filter graphs: av.filter, AudioResampler) and
libavdevice (capture devices: ALSA, X11 grab, V4L2, through ALSA's and xcb's libraries),
which the app never uses either: 2.1 MB and 0.5 MB of the .tar.gz with ALSA and xcb.
They are stubbed the same way, except that PyAV reads their version, configuration and
licence when it is imported (av._core.library_meta; a stub's NULL string crashed that
import): those three functions answer what the real library answers, read from it
with ctypes at build time.

So each of them is replaced in the bundle by a stub library built here: same file
name and SONAME, the same exported symbols and symbol versions, every function
returning 0 and every variable zero-filled. FFmpeg resolves the symbols when it loads
and calls none of them while decoding; the bundle's `--self-test` decodes an H.264
clip to prove it. The libraries only the stubbed ones needed (Nettle, GMP, libunistring,
SharpYUV, ALSA, xcb) are left out. Linux only; without a C compiler the real libraries are kept (a
bigger bundle that works the same).

The bundle can therefore not encode video, filter it, capture from devices or open
https:// streams with PyAV, which nothing in the app does.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

__all__ = ["STUBBED", "stub_for", "stubbed_binaries"]

STUBBED = ("libx264", "libx265", "libSvtAv1Enc", "libmp3lame", "libopencore-amrnb",
           "libopencore-amrwb", "libvpx", "libopus", "libwebp", "libwebpmux", "libgnutls",
           "libvpl", "libavfilter", "libavdevice")
_ALTERNATIVES = "|".join(map(re.escape, STUBBED))
_NAME = re.compile(rf"^({_ALTERNATIVES})-[0-9a-f]{{8}}\.so[.\d]*$")
_LIB_NAME = re.compile(r"^(lib[\w-]+?)(-[0-9a-f]{8})?\.so")
_SYMBOL = re.compile(r"^\s*\d+:\s+[0-9a-f]+\s+(\d+|0x[0-9a-f]+)\s+(\w+)\s+(\w+)\s+\w+\s+(\w+)"
                     r"\s+(\S+)")


def _readelf(*args: str) -> str:
    return subprocess.run(["readelf", "-W", *args], capture_output=True, text=True,
                          check=True).stdout


def _soname(lib: Path) -> str:
    match = re.search(r"\(SONAME\)\s+Library soname: \[([^\]]+)\]", _readelf("-d", str(lib)))
    return match.group(1) if match else lib.name


def _exports(lib: Path) -> list[tuple[str, str, str, int, bool]]:
    """(name, version, type, size, default version) of every symbol `lib` defines."""
    found = []
    for line in _readelf("--dyn-syms", str(lib)).splitlines():
        match = _SYMBOL.match(line)
        if not match:
            continue
        size_text, kind, bind, ndx, full = match.groups()
        if ndx == "UND" or bind == "LOCAL" or kind in ("SECTION", "FILE"):
            continue
        size = int(size_text, 0)
        default = "@@" in full
        name, _, version = full.partition("@@" if default else "@")
        found.append((name, version.lstrip("@"), kind, size, default or not version))
    return found


def _c_string(value: bytes) -> str:
    return '"' + "".join(chr(b) if 32 <= b < 127 and b not in b'"\\?' else f"\\{b:03o}"
                         for b in value) + '"'


def _answers(lib: Path, symbols: list[tuple[str, str, str, int, bool]]
             ) -> dict[str, int | bytes]:
    """What the real FFmpeg library answers to <name>_version, _configuration and _license
    (PyAV turns those into Python values at import time; a NULL string would crash it)."""
    match = _LIB_NAME.match(lib.name)
    if match is None:
        return {}
    prefix = match.group(1).removeprefix("lib")
    asked = {f"{prefix}_{what}" for what in ("version", "configuration", "license")}
    present = sorted(asked & {s[0] for s in symbols if s[2] == "FUNC"})
    if not present:
        return {}
    import ctypes

    real = ctypes.CDLL(str(lib))
    answers: dict[str, int | bytes] = {}
    for name in present:
        function = getattr(real, name)
        function.restype = ctypes.c_uint if name.endswith("_version") else ctypes.c_char_p
        answers[name] = function()
    return answers


def _source(symbols: list[tuple[str, str, str, int, bool]],
            answers: dict[str, int | bytes] | None = None) -> tuple[str, str]:
    """C source and linker version script for a stub defining `symbols`; the functions in
    `answers` return that value (an unsigned number or a string), every other one 0."""
    answers = answers or {}
    lines = ["/* Generated by packaging/decode_only.py: a stand-in that decodes nothing. */"]
    nodes: dict[str, list[str]] = {}
    for index, (name, version, kind, size, default) in enumerate(symbols):
        if version and not default:
            # An older, non-default version: defined under a private name, then bound.
            impl = f"qvl_stub_{index}"
            lines.append(f'__asm__(".symver {impl}, {name}@{version}");')
            nodes.setdefault(version, [])
        else:
            impl = name
            if version:
                nodes.setdefault(version, []).append(name)
        if kind in ("OBJECT", "TLS"):
            storage = "__thread " if kind == "TLS" else ""
            lines.append(f"{storage}char {impl}[{max(size, 1)}] "
                         '__attribute__((visibility("default")));')
        elif isinstance(answer := answers.get(name), bytes):
            lines.append(f'__attribute__((visibility("default"))) const char *{impl}(void) '
                         f"{{ return {_c_string(answer)}; }}")
        elif isinstance(answer, int):
            lines.append(f'__attribute__((visibility("default"))) unsigned {impl}(void) '
                         f"{{ return {answer}u; }}")
        else:
            lines.append(f'__attribute__((visibility("default"))) long {impl}(void) '
                         "{ return 0; }")
    script = "".join(f"{node} {{ global: {''.join(n + '; ' for n in names)}}};\n"
                     for node, names in nodes.items())
    return "\n".join(lines) + "\n", script


def _undefined(files: list[Path]) -> set[str]:
    """Names of the symbols these binaries need from other libraries."""
    needed = set()
    for file in files:
        for line in _readelf("--dyn-syms", str(file)).splitlines():
            match = _SYMBOL.match(line)
            if match and match.group(4) == "UND":
                needed.add(match.group(5).split("@")[0])
    return needed


def stub_for(lib: Path, out_dir: Path, cc: str, wanted: set[str] | None = None) -> Path:
    """Build the stub of `lib` in `out_dir` (same file name) and return its path: the
    symbols in `wanted` that `lib` defines (all of them when `wanted` is None)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    symbols = [s for s in _exports(lib) if wanted is None or s[0] in wanted]
    source, script = _source(symbols, _answers(lib, symbols))
    c_file = out_dir / f"{lib.name}.c"
    c_file.write_text(source, encoding="utf-8")
    command = [cc, "-shared", "-fPIC", "-O1", "-o", str(out_dir / lib.name),
               f"-Wl,-soname,{_soname(lib)}", str(c_file)]
    if script:
        map_file = out_dir / f"{lib.name}.map"
        map_file.write_text(script, encoding="utf-8")
        command.append(f"-Wl,--version-script={map_file}")
    subprocess.run(command, check=True, capture_output=True, text=True)
    return out_dir / lib.name


def _needed(lib: Path) -> list[str]:
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", _readelf("-d", str(lib)))


def _orphans(binaries: list[tuple[str, str, str]], swap: set[str]) -> set[str]:
    """Destinations of PyAV libraries that only the swapped ones needed (Nettle, GMP…).

    Worked out from each file's own NEEDED entries: PyInstaller's dependency walk uses
    ldd, whose transitive answer for libavformat still lists GnuTLS's dependencies.
    """
    pyav = {Path(dest).name: (dest, Path(src)) for dest, src, kind in binaries
            if kind == "BINARY" and "av.libs" in Path(src).parts}
    # From PyAV's own extension modules, never through a swapped library.
    roots = [Path(src) for dest, src, kind in binaries
             if "av" in Path(src).parts and "av.libs" not in Path(src).parts]
    reached: set[str] = set()
    queue = list(roots)
    while queue:
        for name in _needed(queue.pop()):
            if name in pyav and name not in reached:
                reached.add(name)
                dest, src = pyav[name]
                if dest not in swap:
                    queue.append(src)
    return {dest for name, (dest, _src) in pyav.items()
            if name not in reached and dest not in swap}


def stubbed_binaries(binaries: list[tuple[str, str, str]], out_dir: Path
                     ) -> list[tuple[str, str, str]]:
    """The TOC with PyAV's encoder, TLS and hardware libraries swapped for stubs, and
    the libraries only those needed left out."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None or shutil.which("readelf") is None:
        if any("av.libs" in Path(src).parts for _dest, src, _kind in binaries):
            print("decode_only: no C compiler or readelf; PyAV's libraries are kept whole")
        return binaries
    def from_pyav(src: str) -> bool:
        parts = Path(src).parts
        return "av.libs" in parts or "av" in parts

    swap = {dest for dest, src, kind in binaries if kind == "BINARY"
            and "av.libs" in Path(src).parts and _NAME.match(Path(dest).name)}
    if not swap:
        return binaries
    # Only what the kept PyAV binaries import from a stubbed library is defined in its
    # stub (x265 exports 4,617 symbols; libavcodec uses one).
    # PyAV's extension modules are EXTENSION entries, its libraries BINARY ones.
    wanted = _undefined([Path(src) for dest, src, kind in binaries
                         if kind in ("BINARY", "EXTENSION") and from_pyav(src)
                         and dest not in swap])
    orphans = _orphans(binaries, swap)
    result = []
    swapped = []
    for dest, src, kind in binaries:
        name = Path(dest).name
        match = _NAME.match(name)
        if dest in orphans:
            continue
        if dest in swap and match:
            result.append((dest, str(stub_for(Path(src), out_dir, cc, wanted)), kind))
            swapped.append(match.group(1))
        else:
            result.append((dest, src, kind))
    if swapped:
        print(f"decode_only: stubbed {len(swapped)} libraries: {', '.join(sorted(swapped))}; "
              f"left out {', '.join(sorted(Path(d).name.rsplit('-', 1)[0] for d in orphans))}")
    return result
