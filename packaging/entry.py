"""Entry script PyInstaller freezes: the same `main()` the `qwenvl-desktop` command runs.

A script rather than `qwenvl_desktop/__main__.py` itself, because PyInstaller runs
its entry script as `__main__`, and the package's own `__main__` module must stay
importable under its real name for `python -m qwenvl_desktop` and the tests.
"""

from qwenvl_desktop.__main__ import main

if __name__ == "__main__":
    raise SystemExit(main())
