"""Desktop-integration files: icons, .desktop entry, AppStream metainfo, MIME type, spec.

These files are only ever read by other programs (icon themes, software centres,
shared-mime-info, PyInstaller), so a typo in them fails silently on a user's
machine. The checks here are the cheap part of what desktop-file-validate,
appstreamcli and update-mime-database would say.
"""

from __future__ import annotations

import configparser
import io
import re
import struct
import sys
import types
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PIL import Image

import qwenvl_desktop

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "packaging"))
import host_libraries  # noqa: E402

ICONS = ROOT / "resources" / "icons"
LINUX = ROOT / "resources" / "linux"
APP_ID = "io.github.qwenvl_desktop.QwenVLDesktop"
MIME_TYPE = "application/x-qwenvl-conversation"
FORMAT_ID = "qwenvl-desktop/conversation"
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


@pytest.mark.parametrize("size", PNG_SIZES)
def test_hicolor_png_has_its_size(size: int) -> None:
    path = ICONS / "hicolor" / f"{size}x{size}" / "apps" / "qwenvl-desktop.png"
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert image.size == (size, size)
        assert image.mode == "RGBA"
        # Transparent corners: the rounded square must not be drawn as a full square.
        assert image.getchannel("A").getpixel((0, 0)) == 0


def test_ico_holds_every_windows_size() -> None:
    with Image.open(ICONS / "qwenvl-desktop.ico") as ico:
        assert {(16, 16), (32, 32), (48, 48), (256, 256)} <= set(ico.info["sizes"])


def test_icns_holds_every_macos_slot() -> None:
    data = (ICONS / "qwenvl-desktop.icns").read_bytes()
    assert data[:4] == b"icns"
    assert struct.unpack(">I", data[4:8])[0] == len(data)
    slots = {}
    offset = 8
    while offset < len(data):
        kind = data[offset : offset + 4].decode("ascii")
        length = struct.unpack(">I", data[offset + 4 : offset + 8])[0]
        with Image.open(io.BytesIO(data[offset + 8 : offset + length])) as image:
            slots[kind] = image.size[0]
        offset += length
    # 1x 16, 32, 128, 256, 512 and the 2x variants up to 1024 px.
    expected = {
        "icp4": 16,
        "icp5": 32,
        "ic07": 128,
        "ic08": 256,
        "ic09": 512,
        "ic10": 1024,
        "ic11": 32,
        "ic12": 64,
        "ic13": 256,
        "ic14": 512,
    }
    assert expected.items() <= slots.items()


def test_svg_source_is_square_svg() -> None:
    root = ET.parse(ICONS / "qwenvl-desktop.svg").getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("viewBox") == "0 0 512 512"


def test_runtime_icon_copies_match_resources() -> None:
    """The app loads its window icon from package data (installed or frozen)."""
    assets = Path(qwenvl_desktop.__file__).parent / "assets"
    svg = (ICONS / "qwenvl-desktop.svg").read_bytes()
    assert (assets / "qwenvl-desktop.svg").read_bytes() == svg
    png_256 = ICONS / "hicolor" / "256x256" / "apps" / "qwenvl-desktop.png"
    assert (assets / "qwenvl-desktop.png").read_bytes() == png_256.read_bytes()


def _desktop_entry() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read(LINUX / f"{APP_ID}.desktop", encoding="utf-8")
    return parser["Desktop Entry"]


def test_desktop_entry_has_required_keys() -> None:
    entry = _desktop_entry()
    assert entry["Type"] == "Application"
    assert entry["Name"] == "Qwen-VL Desktop"
    assert entry["Icon"] == "qwenvl-desktop"
    # The app takes the file to open as its argument.
    assert entry["Exec"].split()[0] == "qwenvl-desktop"
    assert re.search(r"%[fFuU]\b", entry["Exec"])
    assert entry["Categories"].endswith(";")


def test_desktop_entry_opens_conversations_and_images() -> None:
    types = _desktop_entry()["MimeType"].rstrip(";").split(";")
    assert MIME_TYPE in types
    assert {"image/png", "image/jpeg", "image/webp"} <= set(types)
    assert "image/svg+xml" not in types  # the app refuses SVG attachments


def test_metainfo_describes_the_app() -> None:
    root = ET.parse(LINUX / f"{APP_ID}.metainfo.xml").getroot()
    assert root.tag == "component"
    assert root.get("type") == "desktop-application"
    assert root.findtext("id") == APP_ID
    assert root.findtext("launchable") == f"{APP_ID}.desktop"
    assert root.findtext("provides/binary") == "qwenvl-desktop"
    assert root.findtext("provides/mediatype") == MIME_TYPE
    assert root.find("content_rating") is not None
    assert root.findtext("name")
    assert root.findtext("summary")
    assert root.find("description/p") is not None
    releases = [r.get("version") for r in root.iterfind("releases/release")]
    assert qwenvl_desktop.__version__ in releases
    images = [i.text or "" for i in root.iterfind("screenshots/screenshot/image")]
    assert images
    assert all(i.startswith("https://") and "/resources/screenshots/" in i for i in images)


def test_mime_package_declares_conversation_type() -> None:
    ns = {"m": "http://www.freedesktop.org/standards/shared-mime-info"}
    root = ET.parse(LINUX / "qwenvl-desktop-mime.xml").getroot()
    mime = root.find(f"m:mime-type[@type='{MIME_TYPE}']", ns)
    assert mime is not None
    assert [g.get("pattern") for g in mime.iterfind("m:glob", ns)] == ["*.qwenvl"]
    assert mime.find("m:sub-class-of", ns).get("type") == "application/json"  # type: ignore[union-attr]
    matches = [m.get("value") for m in mime.iterfind("m:magic/m:match", ns)]
    assert FORMAT_ID in matches


def test_spec_compiles_and_names_the_bundle() -> None:
    spec = ROOT / "packaging" / "qwenvl-desktop.spec"
    source = spec.read_text(encoding="utf-8")
    compile(source, str(spec), "exec")
    assert APP_ID in source
    assert (ROOT / "packaging" / "entry.py").is_file()
    for script in ("build.py", "bundle_check.py", "make_icons.py", "entry.py"):
        path = ROOT / "packaging" / script
        compile(path.read_text(encoding="utf-8"), str(path), "exec")


def test_spec_reads_the_package_version() -> None:
    """The spec parses __version__ from the source; the pattern must keep matching it."""
    text = (ROOT / "qwenvl_desktop" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r'^__version__\s*=\s*["\']([^"\']+)["\']', text, re.MULTILINE)
    assert match is not None
    assert match.group(1) == qwenvl_desktop.__version__


def test_metainfo_screenshots_exist_in_the_repository() -> None:
    root = ET.parse(LINUX / f"{APP_ID}.metainfo.xml").getroot()
    for image in root.iterfind("screenshots/screenshot/image"):
        name = (image.text or "").rsplit("/", 1)[-1]
        assert (ROOT / "resources" / "screenshots" / name).is_file(), name


# --- the spec's platform branches, run without PyInstaller ---------------------------------

_SAMPLE_TOCS: dict[str, tuple[list[tuple[str, str, str]], set[str]]] = {
    # platform: (binaries + datas TOC, destinations that must survive)
    "linux": (
        [
            ("PySide6/Qt/lib/libQt6Widgets.so.6", "/x/libQt6Widgets.so.6", "BINARY"),
            ("PySide6/Qt/lib/libQt6Sql.so.6", "/x/libQt6Sql.so.6", "BINARY"),
            ("PySide6/Qt/lib/libQt6QmlModels.so.6", "/x/libQt6QmlModels.so.6", "BINARY"),
            ("PySide6/Qt/plugins/platforms/libqxcb.so", "/x/libqxcb.so", "BINARY"),
            ("PySide6/Qt/plugins/platforms/libqoffscreen.so", "/x/libqoffscreen.so", "BINARY"),
            ("PySide6/Qt/plugins/platforms/libqeglfs.so", "/x/libqeglfs.so", "BINARY"),
            ("PySide6/Qt/plugins/platformthemes/libqgtk3.so", "/x/libqgtk3.so", "BINARY"),
            ("PySide6/Qt/plugins/imageformats/libqjpeg.so", "/x/libqjpeg.so", "BINARY"),
            ("PySide6/Qt/plugins/imageformats/libqpdf.so", "/x/libqpdf.so", "BINARY"),
            ("PySide6/Qt/translations/qtbase_de.qm", "/x/qtbase_de.qm", "DATA"),
            ("libQt6Sql.so.6", "PySide6/Qt/lib/libQt6Sql.so.6", "SYMLINK"),
            ("libQt6Widgets.so.6", "PySide6/Qt/lib/libQt6Widgets.so.6", "SYMLINK"),
            # The desktop's libraries (the README's list), what only they need, glibc's
            # libmvec, and libraries an extension needs itself (see _LINUX_NEEDED).
            ("libX11.so.6", "/x/libX11.so.6", "BINARY"),
            ("libXau.so.6", "/x/libXau.so.6", "BINARY"),
            ("libfreetype.so.6", "/x/libfreetype.so.6", "BINARY"),
            ("libpng16.so.16", "/x/libpng16.so.16", "BINARY"),
            ("libbrotlidec.so.1", "/x/libbrotlidec.so.1", "BINARY"),
            ("libglib-2.0.so.0", "/x/libglib-2.0.so.0", "BINARY"),
            ("libpcre2-8.so.0", "/x/libpcre2-8.so.0", "BINARY"),
            ("libzstd.so.1", "/x/libzstd.so.1", "BINARY"),
            ("libmvec.so.1", "/x/libmvec.so.1", "BINARY"),
            ("PIL/_imaging.so", "/x/_imaging.so", "EXTENSION"),
        ],
        {
            "PySide6/Qt/lib/libQt6Widgets.so.6",
            "PySide6/Qt/plugins/platforms/libqxcb.so",
            "PySide6/Qt/plugins/platforms/libqoffscreen.so",
            "PySide6/Qt/plugins/imageformats/libqjpeg.so",
            "libQt6Widgets.so.6",
            "PIL/_imaging.so",
            "libpng16.so.16",       # PIL needs it too: kept, though FreeType goes
            "libzstd.so.1",         # Qt needs it and it is not on the README's list
        },
    ),
    "win32": (
        [
            ("PySide6\\Qt6Widgets.dll", "C:\\x\\Qt6Widgets.dll", "BINARY"),
            ("PySide6\\Qt6Sql.dll", "C:\\x\\Qt6Sql.dll", "BINARY"),
            ("PySide6\\opengl32sw.dll", "C:\\x\\opengl32sw.dll", "BINARY"),
            ("PySide6\\d3dcompiler_47.dll", "C:\\x\\d3dcompiler_47.dll", "BINARY"),
            ("PySide6\\plugins\\platforms\\qwindows.dll", "C:\\x\\qwindows.dll", "BINARY"),
            ("PySide6\\plugins\\styles\\qmodernwindowsstyle.dll", "C:\\x\\s.dll", "BINARY"),
            ("PySide6\\plugins\\tls\\qschannelbackend.dll", "C:\\x\\t.dll", "BINARY"),
            ("PySide6\\translations\\qtbase_fr.qm", "C:\\x\\qtbase_fr.qm", "DATA"),
        ],
        {
            "PySide6\\Qt6Widgets.dll",
            "PySide6\\plugins\\platforms\\qwindows.dll",
            "PySide6\\plugins\\styles\\qmodernwindowsstyle.dll",
        },
    ),
    "darwin": (
        [
            ("PySide6/Qt/lib/QtWidgets.framework/Versions/A/QtWidgets", "/x/QtWidgets", "BINARY"),
            ("PySide6/Qt/lib/QtSql.framework/Versions/A/QtSql", "/x/QtSql", "BINARY"),
            ("PySide6/Qt/lib/QtSql.framework/Resources/Info.plist", "/x/Info.plist", "DATA"),
            ("PySide6/Qt/plugins/platforms/libqcocoa.dylib", "/x/libqcocoa.dylib", "BINARY"),
            ("PySide6/Qt/plugins/styles/libqmacstyle.dylib", "/x/libqmacstyle.dylib", "BINARY"),
            ("PySide6/Qt/plugins/imageformats/libqtga.dylib", "/x/libqtga.dylib", "BINARY"),
        ],
        {
            "PySide6/Qt/lib/QtWidgets.framework/Versions/A/QtWidgets",
            "PySide6/Qt/plugins/platforms/libqcocoa.dylib",
            "PySide6/Qt/plugins/styles/libqmacstyle.dylib",
        },
    ),
}


# Linux DT_NEEDED entries of the sample files (the rest need nothing bundled).
_LINUX_NEEDED = {
    "/x/libqxcb.so": ["libQt6Widgets.so.6", "libX11.so.6", "libxcb.so.1", "libc.so.6"],
    "/x/libQt6Widgets.so.6": ["libglib-2.0.so.0", "libfreetype.so.6", "libzstd.so.1",
                              "libGL.so.1"],
    "/x/libX11.so.6": ["libxcb.so.1", "libXau.so.6"],
    "/x/libfreetype.so.6": ["libpng16.so.16", "libbrotlidec.so.1"],
    "/x/libglib-2.0.so.0": ["libpcre2-8.so.0"],
    "/x/_imaging.so": ["libpng16.so.16", "libm.so.6"],
}
_PYINSTALLER_SYSTEM = {"libc.so.6", "libm.so.6", "libxcb.so.1", "libGL.so.1"}


class _Recorder:
    """Stands in for one of PyInstaller's spec classes and remembers how it was called."""

    def __init__(self, kind: str, calls: list[tuple[str, tuple[object, ...], dict[str, object]]]):
        self.kind, self.calls = kind, calls

    def __call__(self, *args: object, **kwargs: object) -> object:
        self.calls.append((self.kind, args, kwargs))
        if self.kind != "Analysis":
            return types.SimpleNamespace(kind=self.kind, kwargs=kwargs)
        toc = _SAMPLE_TOCS[sys.platform][0]
        return types.SimpleNamespace(
            binaries=[e for e in toc if e[2] != "DATA" and e[2] != "SYMLINK"],
            datas=[e for e in toc if e[2] in ("DATA", "SYMLINK")],
            pure=[],
            scripts=[],
        )


@pytest.mark.parametrize("platform", sorted(_SAMPLE_TOCS))
@pytest.mark.parametrize("onefile", [False, True])
def test_spec_builds_the_right_things_per_platform(
    platform: str, onefile: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run the spec with stand-ins for PyInstaller, pretending to be each OS."""
    spec = ROOT / "packaging" / "qwenvl-desktop.spec"
    fake_hooks = types.ModuleType("PyInstaller.utils.hooks")
    fake_hooks.collect_submodules = lambda name, **_: [name]  # type: ignore[attr-defined]
    fake_hooks.collect_data_files = lambda name, **_: []  # type: ignore[attr-defined]
    fake_hooks.collect_dynamic_libs = lambda name, **_: []  # type: ignore[attr-defined]
    fake_dylib = types.ModuleType("PyInstaller.depend.dylib")
    fake_dylib.include_library = (  # type: ignore[attr-defined]
        lambda name: name not in _PYINSTALLER_SYSTEM)
    for name, module in {
        "PyInstaller": types.ModuleType("PyInstaller"),
        "PyInstaller.utils": types.ModuleType("PyInstaller.utils"),
        "PyInstaller.utils.hooks": fake_hooks,
        "PyInstaller.depend": types.ModuleType("PyInstaller.depend"),
        "PyInstaller.depend.dylib": fake_dylib,
    }.items():
        monkeypatch.setitem(sys.modules, name, module)
    sys.modules["PyInstaller.depend"].dylib = fake_dylib  # type: ignore[attr-defined]
    # Only the xcb plugin links Widgets here: what nothing links is pruned on Linux.
    monkeypatch.setattr(host_libraries, "needed", lambda path: _LINUX_NEEDED.get(path, []))
    monkeypatch.setattr(sys, "platform", platform)
    monkeypatch.setattr(sys, "argv", [str(spec), *(["--onefile"] if onefile else [])])
    for var in ("QWENVL_ONEFILE", "QWENVL_BUNDLE_CHECK", "QWENVL_NO_SLIM"):
        monkeypatch.delenv(var, raising=False)

    calls: list[tuple[str, tuple[object, ...], dict[str, object]]] = []
    namespace: dict[str, object] = {"SPECPATH": str(spec.parent), "__name__": "__main__"}
    for kind in ("Analysis", "PYZ", "EXE", "COLLECT", "BUNDLE"):
        namespace[kind] = _Recorder(kind, calls)
    exec(compile(spec.read_text(encoding="utf-8"), str(spec), "exec"), namespace)

    kinds = [kind for kind, _, _ in calls]
    exes = [kwargs for kind, _, kwargs in calls if kind == "EXE"]
    names = [e["name"] for e in exes]
    assert names[0] == "qwenvl-desktop"
    # Windowed on Windows and macOS; one console binary on Linux; a console twin on Windows.
    assert exes[0]["console"] is (platform == "linux")
    if platform == "win32" and not onefile:
        assert names == ["qwenvl-desktop", "qwenvl-desktop-cli"]
        assert exes[1]["console"] is True
    assert exes[0]["strip"] is (platform != "win32")
    assert exes[0]["upx"] is False
    if platform == "win32":
        assert str(exes[0]["icon"]).endswith(".ico")
    if platform == "darwin":
        assert str(exes[0]["icon"]).endswith(".icns")
    assert ("COLLECT" in kinds) is not onefile
    bundles = [kwargs for kind, _, kwargs in calls if kind == "BUNDLE"]
    if platform == "darwin" and not onefile:
        (bundle,) = bundles
        assert bundle["bundle_identifier"] == APP_ID
        assert bundle["version"] == qwenvl_desktop.__version__
        plist = bundle["info_plist"]
        assert isinstance(plist, dict)
        (conversation,) = plist["UTExportedTypeDeclarations"]
        assert conversation["UTTypeTagSpecification"]["public.filename-extension"] == ["qwenvl"]
    else:
        assert bundles == []

    analysis = namespace["app"]
    kept = {e[0] for e in [*analysis.binaries, *analysis.datas]}  # type: ignore[attr-defined]
    assert kept == _SAMPLE_TOCS[platform][1]
