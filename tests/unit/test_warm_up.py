"""The warm-up imports its modules on a thread of its own, and a module that fails is
logged and named, never raised."""

from __future__ import annotations

import logging
import sys
import threading
from pathlib import Path

import pytest

from qwenvl_desktop.core.warm_up import (
    OWN_MODULES,
    WARM_LEXERS,
    WARM_MODULES,
    import_next,
    start_warm_up,
)


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
    caplog.set_level(logging.INFO, logger="qwenvl_desktop.core.warm_up")

    handed_back: list[str] = []

    def on_done() -> None:
        handed_back.append(threading.current_thread().name)
        raise RuntimeError("loop closed")      # a quitting app's loop: logged, not raised

    warm = start_warm_up(["qv_warm_broken", "qv_warm_missing_module", "qv_warm_probe"],
                         lexers=["no-such-language-qv"], on_done=on_done)

    assert warm.done.wait(30)
    warm.thread.join(30)
    # The modules after a failure are still imported, on the warm-up thread.
    assert sys.modules["qv_warm_probe"].THREAD == "warm-up"
    assert warm.thread is not threading.main_thread()
    assert warm.thread.daemon
    assert warm.failed == ["qv_warm_broken", "qv_warm_missing_module",
                           "lexer:no-such-language-qv"]
    assert handed_back == ["warm-up"]
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "qv_warm_broken" in logged
    assert "broken on purpose" in logged
    assert "qv_warm_missing_module" in logged
    assert "3 libraries and 1 highlighters ready" in caplog.text
    assert "(3 failed)" in caplog.text


def test_only_libraries_outside_the_product_are_warmed_on_the_thread() -> None:
    # The product's own modules are imported by the GUI thread; importing them here too
    # could make the two threads wait on each other's module locks.
    assert WARM_MODULES
    assert not [name for name in WARM_MODULES if name.startswith("qwenvl_desktop")]
    assert all(name.startswith("qwenvl_desktop.") for name in OWN_MODULES)


def test_the_highlighters_are_made_ahead(monkeypatch: pytest.MonkeyPatch) -> None:
    from pygments.lexers import find_lexer_class_by_name, get_lexer_by_name

    for name in WARM_LEXERS:     # as in a new process: patterns not compiled yet
        monkeypatch.delattr(find_lexer_class_by_name(name), "_tokens", raising=False)
    assert not any("_tokens" in find_lexer_class_by_name(n).__dict__ for n in WARM_LEXERS)

    warm = start_warm_up([], lexers=WARM_LEXERS)

    assert warm.done.wait(30)
    assert warm.failed == []
    # A Pygments highlighter class keeps its compiled patterns once one was made.
    assert all("_tokens" in type(get_lexer_by_name(n)).__dict__ for n in WARM_LEXERS)


def test_import_next_takes_one_module_a_call_and_logs_a_failure(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "qv_next_one.py").write_text("X = 1\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "qv_next_one", raising=False)
    names = ["qv_next_missing", "qv_next_one"]

    assert import_next(names) is True
    assert names == ["qv_next_one"]
    assert "qv_next_missing" in caplog.text
    assert "qv_next_one" not in sys.modules
    assert import_next(names) is False
    assert "qv_next_one" in sys.modules
    assert import_next(names) is False
