"""Which libraries the Linux bundle takes from the desktop (packaging/host_libraries.py).

The rule under test: the bundle leaves out the libraries on the README's install line
(the app's start-up check names them when missing) and what only those need, and never
a library that something it carries needs and that is not on that line.
"""

from __future__ import annotations

import re
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from qwenvl_desktop.ui import system_libraries

PACKAGING = Path(__file__).resolve().parents[2] / "packaging"
sys.path.insert(0, str(PACKAGING))
import host_libraries  # noqa: E402
from host_libraries import GLIBC_PARTS, HOST_SONAMES, prune, unresolved  # noqa: E402

GRAPH = {
    "/b/ext.so": ["libpng16.so.16", "libQt6Gui.so.6", "libc.so.6"],
    "/b/libQt6Gui.so.6": ["libX11.so.6", "libfreetype.so.6", "libzstd.so.1", "libGL.so.1"],
    "/b/libX11.so.6": ["libxcb.so.1", "libXau.so.6"],
    "/b/libfreetype.so.6": ["libpng16.so.16", "libbrotlidec.so.1"],
    "/b/libbrotlidec.so.1": ["libbrotlicommon.so.1"],
}


def entry(name: str, kind: str = "BINARY") -> tuple[str, str, str]:
    return (name, f"/b/{name}", kind)


TOC = [entry("ext.so", "EXTENSION"), entry("libQt6Gui.so.6"), entry("libX11.so.6"),
       entry("libXau.so.6"), entry("libfreetype.so.6"), entry("libpng16.so.16"),
       entry("libbrotlidec.so.1"), entry("libbrotlicommon.so.1"), entry("libzstd.so.1"),
       entry("libmvec.so.1"), entry("libunused.so.1")]


def _graph(path: str) -> list[str]:
    return GRAPH.get(path, [])


def _is_root(item: tuple[str, str, str]) -> bool:
    return item[2] != "BINARY"


def test_the_host_list_is_the_start_up_checks_list() -> None:
    assert {lib.soname for lib in system_libraries.XCB_LIBRARIES} == HOST_SONAMES
    assert {"libX11.so.6", "libglib-2.0.so.0", "libfreetype.so.6", "libdbus-1.so.3",
            "libfontconfig.so.1"} <= HOST_SONAMES
    # Never anything Python or Qt needs that the README does not install.
    assert not {"libstdc++.so.6", "libgcc_s.so.1", "libz.so.1", "libzstd.so.1",
                "libssl.so.3", "libcrypto.so.3", "libffi.so.8"} & HOST_SONAMES


def test_host_libraries_and_what_only_they_need_are_left_out() -> None:
    kept, dropped = prune(TOC, _is_root, read_needed=_graph)
    assert {e[0] for e in kept} == {"ext.so", "libQt6Gui.so.6", "libpng16.so.16",
                                    "libzstd.so.1"}
    assert {e[0] for e in dropped} == {
        "libX11.so.6", "libfreetype.so.6",                       # on the README's list
        "libXau.so.6", "libbrotlidec.so.1", "libbrotlicommon.so.1",  # only they need these
        "libmvec.so.1",                                          # glibc's
        "libunused.so.1"}                                        # nothing needs it


def test_a_library_an_extension_needs_is_kept_even_if_a_host_library_needs_it_too() -> None:
    graph = {**GRAPH, "/b/ext.so": ["libQt6Gui.so.6", "libbrotlidec.so.1"]}
    kept, _ = prune(TOC, _is_root, read_needed=lambda path: graph.get(path, []))
    assert {"libbrotlidec.so.1", "libbrotlicommon.so.1"} <= {e[0] for e in kept}
    assert "libpng16.so.16" not in {e[0] for e in kept}     # now only FreeType needs it


def test_a_root_is_never_left_out() -> None:
    toc = [*TOC, entry("libX11-plugin.so", "EXTENSION")]
    kept, _ = prune(toc, _is_root, read_needed=_graph)
    assert "libX11-plugin.so" in {e[0] for e in kept}


def test_what_is_neither_bundled_nor_the_desktops_is_reported() -> None:
    kept, _ = prune(TOC, _is_root, read_needed=_graph)
    system = {"libc.so.6", "libGL.so.1", "libxcb.so.1"}.__contains__
    assert unresolved(kept, system, read_needed=_graph) == {}
    graph = {**GRAPH, "/b/libzstd.so.1": ["liblz4.so.1"]}
    missing = unresolved(kept, system, read_needed=lambda path: graph.get(path, []))
    assert missing == {"liblz4.so.1": ["libzstd.so.1"]}


def test_needed_reads_the_dynamic_section(tmp_path: Path) -> None:
    import PySide6

    gui = Path(PySide6.__file__).parent / "Qt" / "lib" / "libQt6Gui.so.6"
    assert {"libX11.so.6", "libQt6Core.so.6", "libGL.so.1"} <= set(host_libraries.needed(str(gui)))
    text = tmp_path / "notes.txt"
    text.write_text("not a library", encoding="utf-8")
    assert host_libraries.needed(str(text)) == []
    assert host_libraries.needed("PySide6/Qt/lib/libQt6Gui.so.6") == []     # a link's target


# --- the real libraries this machine would bundle -------------------------------------------

def _ldconfig() -> dict[str, str]:
    out = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True, check=True).stdout
    found: dict[str, str] = {}
    for name, path in re.findall(r"^\s*(\S+) \(libc6,x86-64[^)]*\) => (\S+)$", out, re.M):
        found.setdefault(name, path)
    return found


def _wheel_binaries() -> list[tuple[str, str, str]]:
    """Roots as PyInstaller lists them: the extension modules and libraries of the wheels
    the bundle carries, and the Qt libraries and plugins the spec keeps."""
    import av
    import cryptography
    import PIL
    import PySide6

    qt = Path(PySide6.__file__).parent / "Qt"
    files = [qt / "lib" / f"libQt6{name}.so.6"
             for name in ("Core", "Gui", "Widgets", "DBus", "Svg", "XcbQpa", "WaylandClient")]
    files += [qt / "plugins" / "platforms" / f"libq{name}.so"
              for name in ("xcb", "wayland", "offscreen", "minimal")]
    files += [Path(PySide6.__file__).parent / f"Qt{name}.abi3.so"
              for name in ("Core", "Gui", "Widgets", "DBus")]
    for package in (av, PIL, cryptography):
        files += Path(package.__file__).parent.rglob("*.so")
    files += Path(sysconfig.get_config_var("DESTSHARED")).glob("*.so")     # lib-dynload
    toc = [(f.name, str(f), "EXTENSION" if ".abi3." in f.name or "cpython" in f.name
            or "plugins" in f.parts else "BINARY") for f in files]
    for libs in (Path(av.__file__).parent.parent / "av.libs",
                 Path(PIL.__file__).parent.parent / "pillow.libs"):
        toc += [(f.name, str(f), "BINARY") for f in libs.iterdir()]
    import shiboken6

    for lib in [*(qt / "lib").glob("libicu*.so.*"),
                *Path(PySide6.__file__).parent.glob("libpyside6.abi3.so.*"),
                *Path(shiboken6.__file__).parent.glob("libshiboken6.abi3.so.*")]:
        toc.append((lib.name, str(lib), "BINARY"))
    return toc


def test_on_the_real_libraries_nothing_a_bundled_binary_needs_goes_missing() -> None:
    """Collect like PyInstaller (every library the wheels' binaries need, from this
    system, except its own system list), prune, and check the result is closed."""
    from PyInstaller.depend import dylib

    system_paths = _ldconfig()
    toc = _wheel_binaries()
    have = {e[0] for e in toc}
    queue = [e[1] for e in toc]
    while queue:
        for name in host_libraries.needed(queue.pop()):
            if name not in have and dylib.include_library(name) and name in system_paths:
                have.add(name)
                toc.append((name, system_paths[name], "BINARY"))
                queue.append(system_paths[name])
    kept, dropped = prune(toc, _is_root)
    assert unresolved(kept, lambda name: not dylib.include_library(name)) == {}
    kept_names, dropped_names = {e[0] for e in kept}, {e[0] for e in dropped}
    # What Qt's window needs from the desktop, and what only that needs, is gone ...
    assert {"libX11.so.6", "libglib-2.0.so.0", "libfreetype.so.6"} <= dropped_names
    assert "libpcre2-8.so.0" in dropped_names              # only GLib needs it
    # ... and what Python or Qt themselves need stays, though host libraries need it too.
    assert {"libzstd.so.1", "liblzma.so.5", "libz.so.1", "libstdc++.so.6"} <= kept_names
    assert not kept_names & (HOST_SONAMES | GLIBC_PARTS)
    # Every library left out that a kept binary needs is one the README installs, or
    # glibc's (libmvec: the real x265 needs it; the bundle's x265 is a stub).
    needed_by_kept = {n for e in kept for n in host_libraries.needed(e[1])}
    assert needed_by_kept & dropped_names <= HOST_SONAMES | GLIBC_PARTS


@pytest.mark.parametrize("soname", sorted(HOST_SONAMES))
def test_every_host_library_is_installed_by_the_readme_line(soname: str) -> None:
    debian = {lib.soname: lib.debian for lib in system_libraries.XCB_LIBRARIES}
    assert debian[soname] in system_libraries.packages("debian").split()
