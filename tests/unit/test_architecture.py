"""The layers hold at run time: the core pulls in no Qt and no front end, and the
terminal commands pull in no Qt and no window.

import-linter checks the same rules statically (pyproject.toml, run by .ci/run); these
tests import every module for real, in a fresh interpreter so that imports made by
other tests cannot hide a violation, and so also catch imports made by name at run
time (importlib), which a static check cannot see.
"""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from types import ModuleType

import qwenvl_desktop.cli
import qwenvl_desktop.core

FORBIDDEN = ("PySide6", "shiboken6", "qasync", "qwenvl_desktop.ui", "qwenvl_desktop.cli",
             "qwenvl_desktop.services", "qwenvl_desktop.testing")
NOT_IN_CLI = ("PySide6", "shiboken6", "qasync", "qwenvl_desktop.ui")


def _modules(package: ModuleType, prefix: str) -> list[str]:
    return sorted(info.name for info in pkgutil.walk_packages(package.__path__, prefix))


def core_modules() -> list[str]:
    return _modules(qwenvl_desktop.core, "qwenvl_desktop.core.")


def cli_modules() -> list[str]:
    return ["qwenvl_desktop.cli", *_modules(qwenvl_desktop.cli, "qwenvl_desktop.cli.")]


def _imported_after(modules: list[str], forbidden: tuple[str, ...]) -> str:
    """Import `modules` in a fresh interpreter; the forbidden modules that came along."""
    script = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        f"bad = sorted(m for m in sys.modules "
        f"if any(m == f or m.startswith(f + '.') for f in {forbidden!r}))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            check=True)
    return result.stdout.strip()


def test_core_has_modules() -> None:
    names = core_modules()
    assert "qwenvl_desktop.core.catalog" in names
    assert "qwenvl_desktop.core.errors" in names


def test_core_never_imports_qt_or_a_front_end() -> None:
    bad = _imported_after(core_modules(), FORBIDDEN)
    assert bad == "", f"core imports forbidden modules: {bad}"


def test_cli_runs_without_importing_qt_or_the_window() -> None:
    """Every terminal command's module is Qt-free: `qwenvl-desktop providers` must not
    load Qt at all, and the terminal front end never reaches for the window."""
    assert "qwenvl_desktop.cli.ask" in cli_modules()
    bad = _imported_after(cli_modules(), NOT_IN_CLI)
    assert bad == "", f"the terminal commands import: {bad}"


def test_the_checker_sees_a_forbidden_import() -> None:
    """The helper is not vacuous: importing the window is reported."""
    assert "qwenvl_desktop.ui.app" in _imported_after(["qwenvl_desktop.ui.app"], NOT_IN_CLI)


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
