"""The core stands alone: nothing under qwenvl_desktop.core may pull in Qt or the UI.

The terminal command proves it in use; this test proves it for every module, in a
fresh interpreter so that imports made by other tests cannot hide a violation.
"""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import qwenvl_desktop.core

FORBIDDEN = ("PySide6", "shiboken6", "qasync", "qwenvl_desktop.ui")


def core_modules() -> list[str]:
    return sorted(
        info.name
        for info in pkgutil.walk_packages(qwenvl_desktop.core.__path__, "qwenvl_desktop.core.")
    )


def test_core_has_modules() -> None:
    names = core_modules()
    assert "qwenvl_desktop.core.catalog" in names
    assert "qwenvl_desktop.core.errors" in names


def test_core_never_imports_qt_or_ui() -> None:
    script = (
        "import importlib, sys\n"
        f"for name in {core_modules()!r}:\n"
        "    importlib.import_module(name)\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r} "
        f"or any(m == f or m.startswith(f + '.') for f in {FORBIDDEN!r}))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "", f"core imports forbidden modules: {result.stdout}"


def test_cli_runs_without_importing_qt() -> None:
    """`qwenvl-desktop providers` is pure core: it must not load Qt at all."""
    script = (
        "import sys\n"
        "from qwenvl_desktop import cli\n"
        "print(','.join(m for m in sys.modules if m.startswith(('PySide6', 'qasync'))))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == ""


def test_the_window_starts_without_loading_pdfium_or_ffmpeg() -> None:
    """PDFium and FFmpeg take about half a second to load: only a document or a video
    in the tray may load them, never the window's start."""
    import subprocess
    import sys

    code = ("import sys\n"
            "import qwenvl_desktop.ui.main_window, qwenvl_desktop.ui.composer\n"
            "import qwenvl_desktop.services, qwenvl_desktop.cli\n"
            "print(sorted(m for m in ('av', 'pypdfium2') if m in sys.modules))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, check=True)
    assert result.stdout.strip() == "[]"
