"""The check that runs before Qt loads: which X11 libraries are missing, and what to install."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from qwenvl_desktop.ui import system_libraries as libs


@pytest.mark.parametrize(("environ", "platform", "expected"), [
    ({}, "linux", True),
    ({"DISPLAY": ":0"}, "linux", True),
    ({"QT_QPA_PLATFORM": "xcb"}, "linux", True),
    ({"QT_QPA_PLATFORM": "xcb:foo=bar"}, "linux", True),
    ({"QT_QPA_PLATFORM": "offscreen"}, "linux", False),
    ({"QT_QPA_PLATFORM": "wayland;xcb"}, "linux", False),
    ({"XDG_SESSION_TYPE": "wayland", "WAYLAND_DISPLAY": "wayland-0"}, "linux", False),
    # A Wayland session variable without a Wayland display: Qt falls back to xcb.
    ({"XDG_SESSION_TYPE": "wayland"}, "linux", True),
    ({}, "win32", False),
    ({}, "darwin", False),
])
def test_uses_xcb_follows_qts_choice(environ: dict[str, str], platform: str,
                                     expected: bool) -> None:
    assert libs.uses_xcb(environ, platform) is expected


def test_names_exactly_the_missing_libraries_with_install_lines() -> None:
    absent = {"libxcb-icccm.so.4", "libxcb-keysyms.so.1"}
    message = libs.check({"QT_QPA_PLATFORM": "xcb"}, load=lambda so: so not in absent)
    assert message is not None
    assert "libxcb-icccm.so.4, libxcb-keysyms.so.1" in message
    assert "sudo apt install libxcb-icccm4 libxcb-keysyms1\n" in message
    assert "sudo dnf install xcb-util-wm xcb-util-keysyms\n" in message
    # Only those two: an installed library is never named.
    assert "cursor" not in message


def test_a_package_shipping_several_libraries_is_named_once() -> None:
    absent = {"libxcb-randr.so.0", "libxcb-shape.so.0"}
    message = libs.check({"QT_QPA_PLATFORM": "xcb"}, load=lambda so: so not in absent)
    assert message is not None
    assert "sudo dnf install libxcb\n" in message
    assert "sudo apt install libxcb-randr0 libxcb-shape0\n" in message


def test_nothing_missing_or_no_xcb_means_no_message() -> None:
    assert libs.check({"QT_QPA_PLATFORM": "xcb", "DISPLAY": ":1"}, load=lambda _so: True) is None
    xcb_only = {lib.soname for lib in libs.XCB_LIBRARIES} - {
        lib.soname for lib in libs.QT_LIBRARIES}
    assert libs.check({"QT_QPA_PLATFORM": "offscreen"}, load=lambda so: so not in xcb_only) is None
    assert libs.check({}, load=lambda _so: False, platform="win32") is None


@pytest.mark.parametrize("environ", [
    {"QT_QPA_PLATFORM": "offscreen"},
    {"XDG_SESSION_TYPE": "wayland", "WAYLAND_DISPLAY": "wayland-0"},
])
def test_without_xcb_the_libraries_qt_itself_links_are_still_checked(
        environ: dict[str, str]) -> None:
    """The Linux bundle takes libxkbcommon, GLib, FreeType… from the system: on Wayland
    a missing one would stop Qt from loading, so it is named like the xcb ones."""
    message = libs.check(environ, load=lambda so: so != "libxkbcommon.so.0")
    assert message is not None
    assert message.startswith("qwenvl-desktop: the window can't start: Qt needs 1 system "
                              "library that is not installed: libxkbcommon.so.0.")
    assert "sudo apt install libxkbcommon0\n" in message
    # The xcb plugin's own libraries are not asked for outside xcb.
    assert libs.check(environ, load=lambda so: so != "libxcb-cursor.so.0") is None


def test_a_library_is_found_by_file_without_loading_it(tmp_path: object) -> None:
    from pathlib import Path

    folder = Path(str(tmp_path))
    (folder / "libfake-present.so.3").write_bytes(b"")
    assert libs._can_load("libfake-present.so.3", [str(folder)])
    assert not libs._can_load("libfake-absent.so.3", [str(folder)])


def test_the_window_command_exits_2_before_qt_is_imported() -> None:
    """Run in a fresh interpreter: with a library missing, run_gui returns 2, prints the
    message and never imports PySide6 (which is what would abort)."""
    script = textwrap.dedent("""
        import sys
        from qwenvl_desktop.ui import system_libraries
        real_check = system_libraries.check
        system_libraries.check = lambda: real_check(
            {"QT_QPA_PLATFORM": "xcb"}, load=lambda so: so != "libxcb-cursor.so.0")
        from qwenvl_desktop.ui import run_gui
        code = run_gui([])
        print("exit", code, "qt-imported", "PySide6" in sys.modules)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, check=False)
    assert "exit 2 qt-imported False" in done.stdout, done.stderr
    assert "libxcb-cursor.so.0" in done.stderr
    assert "sudo apt install libxcb-cursor0" in done.stderr


def test_the_readme_install_lines_name_every_package() -> None:
    from pathlib import Path

    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    assert f"sudo apt install {libs.packages('debian')}\n" in readme
    assert f"sudo dnf install {libs.packages('fedora')}\n" in readme


# Part of every Linux system (the C/C++ runtime, zlib, zstd): never reported missing.
_BASE_SYSTEM = {"libc.so.6", "libm.so.6", "libstdc++.so.6", "libgcc_s.so.1",
                "ld-linux-x86-64.so.2", "ld-linux-aarch64.so.1", "libz.so.1", "libzstd.so.1"}


def _needed(path: str) -> set[str]:
    """The direct dependencies (DT_NEEDED) of a 64-bit little-endian ELF shared library.

    Read here rather than with `readelf`, which a machine set up from the README lacks:
    the section headers give .dynamic (tag, value pairs) and the string table it uses.
    """
    import struct
    from pathlib import Path

    data = Path(path).read_bytes()
    assert data[:4] == b"\x7fELF", path
    assert (data[4], data[5]) == (2, 1), "a 64-bit little-endian ELF file is expected"
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize)
                for i in range(shnum)]
    sht_dynamic = 6
    names: set[str] = set()
    for _name, kind, _flags, _addr, offset, size, link, _info, _align, _entsize in sections:
        if kind != sht_dynamic:
            continue
        strtab_offset = sections[link][4]
        for pos in range(offset, offset + size, 16):
            tag, value = struct.unpack_from("<qQ", data, pos)
            if tag == 1:            # DT_NEEDED: value is an offset into the string table
                start = strtab_offset + value
                names.add(data[start:data.index(b"\0", start)].decode())
    return names


def test_the_list_covers_what_the_installed_xcb_plugin_links_against() -> None:
    from pathlib import Path

    import PySide6

    qt = Path(PySide6.__file__).parent / "Qt"
    shipped = {p.name for p in (qt / "lib").iterdir()}
    needed: set[str] = set()
    for library in (qt / "plugins" / "platforms" / "libqxcb.so",
                    qt / "lib" / "libQt6XcbQpa.so.6", qt / "lib" / "libQt6Gui.so.6"):
        needed |= _needed(str(library))
    system = needed - shipped - _BASE_SYSTEM
    assert system - {lib.soname for lib in libs.XCB_LIBRARIES} == set()


def test_the_every_platform_list_is_what_qt_itself_links_against() -> None:
    from pathlib import Path

    import PySide6

    qt = Path(PySide6.__file__).parent / "Qt"
    shipped = {p.name for p in (qt / "lib").iterdir()}
    needed: set[str] = set()
    for name in ("Core", "Gui", "Widgets", "DBus"):
        needed |= _needed(str(qt / "lib" / f"libQt6{name}.so.6"))
    assert needed - shipped - _BASE_SYSTEM == {lib.soname for lib in libs.QT_LIBRARIES}


def test_no_display_is_said_instead_of_qts_abort() -> None:
    message = libs.check({"QT_QPA_PLATFORM": "xcb"}, load=lambda _so: True)
    assert message is not None
    assert "no X display (DISPLAY is not set)" in message
