"""Which shared libraries the Linux bundle carries, and which it takes from the system.

PyInstaller copies every library the bundled binaries link against from the build
machine, except a short list of its own (the C library, libGL, libxcb, Wayland …).
Two kinds of what it copies do not belong in the bundle:

- The libraries Qt's window needs from the desktop: X11/xcb, xkbcommon, fontconfig,
  FreeType, GLib, D-Bus (`HOST_SONAMES`: the list in qwenvl_desktop/ui/system_libraries.py,
  which is the README's install line). The window cannot start without the system's
  libGL, libEGL and libxcb anyway, and they come with these; the app checks for each of
  them before Qt loads and names the missing ones. Copies from the build machine only
  mix with the system's versions; AppImage's excludelist, made from such breakage on
  other distributions, leaves out the core of this family (libX11, libxcb, fontconfig,
  FreeType, GLib, Expat, libgpg-error, libGL/EGL) and glibc's libmvec. What only
  those libraries need (libsystemd, libgcrypt, libgpg-error, lz4, libcap, PCRE2, libpng,
  Brotli, Expat) is then unreachable and goes too; the system has its own, installed
  with the library that needs it. Measured on the .tar.gz (3.6 MB in all):
      X11 and xcb (16 libraries)                                          0.85 MB
      D-Bus, with libsystemd, libgcrypt, libgpg-error, lz4, libcap        1.14 MB
      GLib, with PCRE2                                                    0.73 MB
      FreeType, with libpng and Brotli                                    0.58 MB
      fontconfig, with Expat                                              0.20 MB
      xkbcommon                                                           0.13 MB
- Parts of glibc PyInstaller's list misses (`GLIBC_PARTS`): libmvec must match the
  system's libm and ld.so (it needs their GLIBC_PRIVATE symbols). 0.5 MB.

`prune` keeps what the bundle's extension modules, Qt plugins and the Python library
need, following each file's own DT_NEEDED entries (PyInstaller's walk uses ldd, which
also lists what system libraries need, so it would keep what only they use). A library
a bundled binary needs that is not on the host list is always kept, whoever else needs
it (libzstd for Qt Core, liblzma and libbz2 for Python). `unresolved` names what the
kept binaries need that is neither bundled, nor on the host list, nor one of
PyInstaller's system libraries: the build stops on it.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

__all__ = ["GLIBC_PARTS", "HOST_SONAMES", "Entry", "host_sonames", "needed", "prune",
           "unresolved"]

Entry = tuple[str, str, str]        # PyInstaller TOC entry: (dest name, source path, kind)
Needed = Callable[[str], list[str]]

_SYSTEM_LIBRARIES = (Path(__file__).resolve().parent.parent / "qwenvl_desktop" / "ui"
                     / "system_libraries.py")

# glibc's own libraries, always the system's: the dynamic loader, and libmvec (vector
# math; only x265 needs it, a stub in the bundle, yet ldd lists it and PyInstaller copied
# 1.0 MB of it, 0.5 MB of the .tar.gz, which works only with the ld.so and libm of the
# build machine: it needs their GLIBC_PRIVATE symbols).
GLIBC_PARTS = frozenset({"libmvec.so.1", "ld-linux-x86-64.so.2", "ld-linux-aarch64.so.1"})


def host_sonames(path: Path = _SYSTEM_LIBRARIES) -> frozenset[str]:
    """The sonames the app's start-up check looks for (loaded without importing Qt)."""
    name = "_qwenvl_system_libraries"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module          # dataclasses look their module up while defining
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[name]
    return frozenset(lib.soname for lib in module.XCB_LIBRARIES)


HOST_SONAMES = host_sonames()


def needed(path: str) -> list[str]:
    """The DT_NEEDED entries of a shared library or executable ([] for other files)."""
    if not Path(path).is_file():        # a SYMLINK entry's source is its target's name
        return []
    with open(path, "rb") as fh:
        if fh.read(4) != b"\x7fELF":
            return []
    out = subprocess.run(["readelf", "-dW", path], capture_output=True, text=True,
                         check=True).stdout
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out)


def _names(entry: Entry) -> set[str]:
    return {Path(entry[0]).name, Path(entry[1]).name}


def prune(binaries: list[Entry], is_root: Callable[[Entry], bool], *,
          read_needed: Needed | None = None, host: Iterable[str] = HOST_SONAMES
          ) -> tuple[list[Entry], list[Entry]]:
    """(kept, dropped): host libraries and glibc parts out, then what the roots reach."""
    read = read_needed or needed
    leave_out = set(host) | GLIBC_PARTS
    candidates = [e for e in binaries if Path(e[0]).name not in leave_out or is_root(e)]
    by_name: dict[str, list[Entry]] = {}
    for entry in candidates:
        for name in _names(entry):
            by_name.setdefault(name, []).append(entry)
    queue = [e for e in candidates if is_root(e)]
    seen = {id(e) for e in queue}
    while queue:
        entry = queue.pop()
        for name in read(entry[1]):
            for dep in by_name.get(name, []):
                if id(dep) not in seen:
                    seen.add(id(dep))
                    queue.append(dep)
    kept = [e for e in binaries if id(e) in seen]
    dropped = [e for e in binaries if id(e) not in seen]
    return kept, dropped


def unresolved(kept: list[Entry], system: Callable[[str], bool], *,
               read_needed: Needed | None = None, host: Iterable[str] = HOST_SONAMES
               ) -> dict[str, list[str]]:
    """{needed name: [who needs it]} for what is neither bundled, a host library, glibc's,
    nor something `system` says PyInstaller never bundles (libc, libGL, libxcb …)."""
    bundled = {name for entry in kept for name in _names(entry)}
    allowed = set(host) | GLIBC_PARTS
    read = read_needed or needed
    missing: dict[str, list[str]] = {}
    for entry in kept:
        for name in read(entry[1]):
            if name not in bundled and name not in allowed and not system(name):
                missing.setdefault(name, []).append(Path(entry[0]).name)
    return missing
