"""`python -m qwenvl_desktop` and the `qwenvl-desktop` command."""

from __future__ import annotations

import sys


def main() -> int:
    """Console-script entry point: the window without arguments, else a terminal command."""
    from .cli import main as cli_main

    return cli_main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
