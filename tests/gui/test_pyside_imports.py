"""The quicker "does this module use PySide6?" check answers as PySide's own does."""

from __future__ import annotations

import importlib
import sys

import pytest

from qwenvl_desktop.ui.pyside_imports import quicken_pyside_imports


def test_the_quick_check_answers_like_pyside(monkeypatch: pytest.MonkeyPatch) -> None:
    feature = sys.modules["shibokensupport.feature"]
    original = feature._mod_uses_pyside
    monkeypatch.setattr(feature, "_mod_uses_pyside", original)
    assert quicken_pyside_imports()
    quick = feature._mod_uses_pyside
    assert quick is not original
    assert not quicken_pyside_imports()                # once is enough
    names = ["qwenvl_desktop.ui.transcript", "qwenvl_desktop.core.conversation",
             "json", "sys", "math", "PySide6", "qwenvl_desktop.ui.pyside_imports"]
    modules = [importlib.import_module(name) for name in names]
    assert [quick(m) for m in modules] == [original(m) for m in modules]
    assert quick(modules[0])
    assert not quick(modules[1])
