"""Importing modules after PySide6 without PySide re-reading each one's source.

Once PySide6 is loaded it hooks every later import, to learn whether the module might
use its optional `from __feature__ import ...` switches: it asks `inspect.getsource`
for the module's whole text (through linecache, decoded and split into lines) and looks
for "PySide6" in it. The window imports some 220 modules after PySide6; that lookup was
~140 ms of start-up under the profiler. The same question is answered here from the
file's bytes, for what `inspect` would read from a `.py` file; anything else still goes
to PySide's own check. The answer, and so PySide's behaviour, is the same.
"""

from __future__ import annotations

import sys
from types import ModuleType

__all__ = ["quicken_pyside_imports"]

_FEATURE_MODULE = "shibokensupport.feature"   # where PySide keeps the check (6.4 to 6.11)


def quicken_pyside_imports() -> bool:
    """Install the faster check; False when this PySide has no such check to replace."""
    import shiboken6  # noqa: F401  (loading it installs PySide's import hook)

    feature = sys.modules.get(_FEATURE_MODULE)
    original = getattr(feature, "_mod_uses_pyside", None)
    if feature is None or original is None or getattr(original, "quickened", False):
        return False

    def uses_pyside(module: ModuleType) -> bool:
        path = getattr(module, "__file__", None)
        if isinstance(path, str) and path.endswith(".py"):
            try:
                with open(path, "rb") as source:
                    return b"PySide6" in source.read()
            except OSError:
                pass
        return bool(original(module))

    uses_pyside.quickened = True  # type: ignore[attr-defined]
    feature._mod_uses_pyside = uses_pyside  # type: ignore[attr-defined]
    return True
