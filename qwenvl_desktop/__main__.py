"""`python -m qwenvl_desktop` and the `qwenvl-desktop` command: the window or a command.

This is the one module that knows both front ends. The terminal commands
(`qwenvl_desktop.cli`) never import the window, and the window never imports them; an
import-linter contract in pyproject.toml holds both to it. So the choice between
them is made here: no arguments, or only existing files (a conversation, images:
what a file manager's "Open with" passes), open the window; anything else is a
command. `--self-test` starts a window of its own, so it is dispatched from here too.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def _run_window(argv: list[str]) -> int:
    try:
        from .ui import run_gui
    except ImportError as err:
        sys.stderr.write(f"qwenvl-desktop: the window cannot start ({err}). Is PySide6 "
                         "installed? The terminal commands still work: see "
                         "`qwenvl-desktop --help`.\n")
        return 1
    return int(run_gui(argv) or 0)


def _run_self_test() -> int:
    from . import selftest

    return int(selftest.main() or 0)


def main(argv: Sequence[str] | None = None) -> int:
    """Console-script entry point; returns the exit status."""
    from . import cli
    from .core.logs import setup_logging

    args = list(sys.argv[1:] if argv is None else argv)
    try:
        setup_logging()
    except OSError as err:
        # A read-only or full disk must not stop the app; it only loses its log.
        sys.stderr.write(f"qwenvl-desktop: logging disabled: {err}\n")
    if cli.wants_window(args):
        return _run_window(args)
    return cli.main(args, self_test=_run_self_test)


if __name__ == "__main__":
    sys.exit(main())
