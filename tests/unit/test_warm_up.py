"""The warm-up imports its modules on a thread of its own, and a module that fails is
logged and named, never raised."""

from __future__ import annotations

import logging
import sys
import threading
from pathlib import Path

import pytest

from qwenvl_desktop.core.warm_up import WARM_MODULES, start_warm_up


def test_modules_are_imported_on_the_warm_up_thread_and_failures_are_named(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "qv_warm_probe.py").write_text(
        "import threading\nTHREAD = threading.current_thread().name\n", encoding="utf-8")
    (tmp_path / "qv_warm_broken.py").write_text("raise RuntimeError('broken on purpose')\n",
                                                encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("qv_warm_probe", "qv_warm_broken"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    caplog.set_level(logging.WARNING, logger="qwenvl_desktop.core.warm_up")

    warm = start_warm_up(["qv_warm_broken", "qv_warm_missing_module", "qv_warm_probe"])

    assert warm.done.wait(30)
    warm.thread.join(30)
    # The modules after a failure are still imported, on the warm-up thread.
    assert sys.modules["qv_warm_probe"].THREAD == "warm-up"
    assert warm.thread is not threading.main_thread()
    assert warm.thread.daemon
    assert warm.failed == ["qv_warm_broken", "qv_warm_missing_module"]
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "qv_warm_broken" in logged
    assert "broken on purpose" in logged
    assert "qv_warm_missing_module" in logged


def test_only_libraries_outside_the_product_are_warmed() -> None:
    # The product's own modules are imported by the GUI thread; importing them here too
    # could make the two threads wait on each other's module locks.
    assert WARM_MODULES
    assert not [name for name in WARM_MODULES if name.startswith("qwenvl_desktop")]
