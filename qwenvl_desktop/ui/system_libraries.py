"""Before Qt loads on Linux: are the X11 libraries Qt's xcb platform needs installed?

Why: without, say, `libxcb-icccm4`, Qt aborts with "Could not load the Qt platform
plugin xcb … xcb-cursor0 or libxcb-cursor0 is needed" — naming a library that may well
be installed, and never the one that is missing. So before the QApplication exists we
try to load each library the xcb plugin links against (the sonames below are the direct
dependencies of PySide6's `libqxcb.so`, `libQt6XcbQpa.so.6` and `libQt6Gui.so.6` that
PySide6 does not ship itself, less the C and C++ runtimes; a test keeps the list in step
with the installed PySide6), and name exactly the missing ones with the command that installs them.
On other platforms (Wayland, offscreen) only the libraries Qt Core, Gui, Widgets and
D-Bus themselves link against are checked: the Linux bundle takes those from the
system too, and without one Qt would not load at all.

This module imports neither Qt nor anything heavy: it runs first, on the window path only.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass

__all__ = ["QT_LIBRARIES", "XCB_LIBRARIES", "Library", "missing_libraries", "missing_message",
           "packages", "uses_xcb"]


@dataclass(frozen=True)
class Library:
    soname: str
    debian: str     # Debian and Ubuntu package
    fedora: str     # Fedora package
    every_platform: bool = False    # linked by Qt Core/Gui/Widgets/D-Bus, not just xcb


XCB_LIBRARIES: tuple[Library, ...] = (
    Library("libxcb.so.1", "libxcb1", "libxcb"),
    Library("libX11.so.6", "libx11-6", "libX11", every_platform=True),
    Library("libX11-xcb.so.1", "libx11-xcb1", "libX11-xcb"),
    Library("libxcb-cursor.so.0", "libxcb-cursor0", "xcb-util-cursor"),
    Library("libxcb-icccm.so.4", "libxcb-icccm4", "xcb-util-wm"),
    Library("libxcb-util.so.1", "libxcb-util1", "xcb-util"),
    Library("libxcb-image.so.0", "libxcb-image0", "xcb-util-image"),
    Library("libxcb-keysyms.so.1", "libxcb-keysyms1", "xcb-util-keysyms"),
    Library("libxcb-render-util.so.0", "libxcb-render-util0", "xcb-util-renderutil"),
    Library("libxcb-randr.so.0", "libxcb-randr0", "libxcb"),
    Library("libxcb-render.so.0", "libxcb-render0", "libxcb"),
    Library("libxcb-shape.so.0", "libxcb-shape0", "libxcb"),
    Library("libxcb-shm.so.0", "libxcb-shm0", "libxcb"),
    Library("libxcb-sync.so.1", "libxcb-sync1", "libxcb"),
    Library("libxcb-xfixes.so.0", "libxcb-xfixes0", "libxcb"),
    Library("libxcb-xkb.so.1", "libxcb-xkb1", "libxcb"),
    Library("libxkbcommon.so.0", "libxkbcommon0", "libxkbcommon", every_platform=True),
    Library("libxkbcommon-x11.so.0", "libxkbcommon-x11-0", "libxkbcommon-x11"),
    Library("libGL.so.1", "libgl1", "libglvnd-glx", every_platform=True),
    Library("libEGL.so.1", "libegl1", "libglvnd-egl", every_platform=True),
    Library("libfontconfig.so.1", "libfontconfig1", "fontconfig", every_platform=True),
    Library("libdbus-1.so.3", "libdbus-1-3", "dbus-libs", every_platform=True),
    # Needed by QtCore/QtGui themselves (present on nearly every desktop).
    Library("libglib-2.0.so.0", "libglib2.0-0", "glib2", every_platform=True),
    Library("libgthread-2.0.so.0", "libglib2.0-0", "glib2", every_platform=True),
    Library("libfreetype.so.6", "libfreetype6", "freetype", every_platform=True),
)

QT_LIBRARIES: tuple[Library, ...] = tuple(lib for lib in XCB_LIBRARIES if lib.every_platform)

Loader = Callable[[str], bool]


_STANDARD_DIRS = ("/lib64", "/usr/lib64", "/lib", "/usr/lib", "/usr/local/lib")


def _library_dirs() -> list[str]:
    """Where the dynamic loader looks: LD_LIBRARY_PATH, ld.so.conf(.d), the usual dirs."""
    dirs = [d for d in os.environ.get("LD_LIBRARY_PATH", "").split(":") if d]
    conf_files = ["/etc/ld.so.conf"]
    with contextlib.suppress(OSError):
        conf_files += sorted(os.path.join("/etc/ld.so.conf.d", name)
                             for name in os.listdir("/etc/ld.so.conf.d"))
    for conf in conf_files:
        try:
            with open(conf, encoding="utf-8", errors="replace") as fh:
                dirs += [line.strip() for line in fh
                         if line.strip().startswith("/")]
        except OSError:
            continue
    bundle = getattr(sys, "_MEIPASS", None)     # a frozen app may carry its own copies
    return [*([bundle] if bundle else []), *dirs, *_STANDARD_DIRS]


def _can_load(soname: str, dirs: list[str] | None = None) -> bool:
    """Found as a file where the loader looks (a stat each: well under a millisecond for
    the whole list), else confirmed by loading it (costs ≈ 45 ms for all of them, so only
    for the ones not found, e.g. on systems with unusual library layouts)."""
    for folder in _library_dirs() if dirs is None else dirs:
        if os.path.exists(os.path.join(folder, soname)):
            return True
    import ctypes  # ≈ 20 ms to import: only on this rare path

    try:
        ctypes.CDLL(soname)
    except OSError:
        return False
    return True


def uses_xcb(environ: Mapping[str, str], platform: str = sys.platform) -> bool:
    """Will Qt pick its xcb platform plugin in this environment?

    An explicit QT_QPA_PLATFORM decides (only its first choice counts: "wayland;xcb"
    falls back on its own). Unset, Qt 6 prefers Wayland in a Wayland session and xcb
    everywhere else on Linux.
    """
    if not platform.startswith("linux"):
        return False
    chosen = environ.get("QT_QPA_PLATFORM", "").strip()
    if chosen:
        return chosen.split(";")[0].split(":")[0].strip() == "xcb"
    wayland = environ.get("XDG_SESSION_TYPE") == "wayland" and environ.get("WAYLAND_DISPLAY")
    return not wayland


def missing_libraries(load: Loader | None = None,
                      wanted: tuple[Library, ...] = XCB_LIBRARIES) -> list[Library]:
    if load is None:
        dirs = _library_dirs()

        def load(soname: str) -> bool:
            return _can_load(soname, dirs)

    return [lib for lib in wanted if not load(lib.soname)]


def missing_message(missing: list[Library], xcb: bool = True) -> str:
    """What to print: the missing libraries, and one install line per distribution."""
    debian = " ".join(dict.fromkeys(lib.debian for lib in missing))
    fedora = " ".join(dict.fromkeys(lib.fedora for lib in missing))
    names = ", ".join(lib.soname for lib in missing)
    who = "Qt's X11 (xcb) platform" if xcb else "Qt"
    return (
        f"qwenvl-desktop: the window can't start: {who} needs "
        f"{len(missing)} system librar{'y' if len(missing) == 1 else 'ies'} that "
        f"{'is' if len(missing) == 1 else 'are'} not installed: {names}.\n"
        f"  Debian/Ubuntu: sudo apt install {debian}\n"
        f"  Fedora:        sudo dnf install {fedora}\n"
        "The terminal commands (qwenvl-desktop ask, providers, key …) work without them.\n")


def check(environ: Mapping[str, str] | None = None, load: Loader | None = None,
          platform: str = sys.platform) -> str | None:
    """The message to print and exit with, or None when the window can start."""
    env = os.environ if environ is None else environ
    if not platform.startswith("linux"):
        return None
    xcb = uses_xcb(env, platform)
    missing = missing_libraries(load, XCB_LIBRARIES if xcb else QT_LIBRARIES)
    if missing:
        return missing_message(missing, xcb)
    if xcb and not env.get("DISPLAY"):
        # Qt would abort with "could not connect to display" and a plugin list.
        return ("qwenvl-desktop: the window can't start: no X display (DISPLAY is not set). "
                "Start it from a desktop session, or use the terminal commands "
                "(qwenvl-desktop ask, providers, key …).\n")
    return None


def packages(distribution: str) -> str:
    """The install list for "debian" or "fedora" (CI and the README use the same list)."""
    field = {"debian": "debian", "fedora": "fedora"}[distribution]
    return " ".join(dict.fromkeys(getattr(lib, field) for lib in XCB_LIBRARIES))


if __name__ == "__main__":      # `python3 system_libraries.py debian`: CI's apt list
    sys.stdout.write(packages(sys.argv[1] if len(sys.argv) > 1 else "debian") + "\n")
