"""The Qt window. `run_gui(argv)` starts it; nothing here is imported by the core.

Only `run_gui` is defined at package level, and it imports the rest lazily, so that
`import qwenvl_desktop.ui` costs nothing until the window really starts.
"""

from __future__ import annotations

__all__ = ["run_gui"]


def run_gui(argv: list[str]) -> int:
    """Open the window (with the conversation or image files `argv` names), or hand
    them to the window already running on this home; the exit status.

    Exit status 2 without starting Qt when the X11 libraries Qt needs are missing
    (Qt itself would abort with a misleading message).
    """
    import sys

    from .system_libraries import check

    problem = check()
    if problem is not None:
        sys.stderr.write(problem)
        return 2
    from .pyside_imports import quicken_pyside_imports

    quicken_pyside_imports()
    from .app import run

    return run(argv)
