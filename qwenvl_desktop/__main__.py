"""`python -m qwenvl_desktop` and the `qwenvl-desktop` command."""

from __future__ import annotations

import sys


def main() -> int:
    """Console-script entry point: the window without arguments, else a terminal command."""
    from .cli import main as cli_main
    from .core.logs import setup_logging

    try:
        setup_logging()
    except OSError as err:
        # A read-only or full disk must not stop the app; it only loses its log.
        sys.stderr.write(f"qwenvl-desktop: logging disabled: {err}\n")
    return cli_main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
