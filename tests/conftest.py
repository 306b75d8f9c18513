"""Fixtures every test shares: an isolated home directory and a test keyring.

No test may touch the real config, data or keyring of the machine it runs on.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import keyring
import pytest

from qwenvl_desktop.testing.memory_keyring import MemoryKeyring

# A key that must never appear in any file, log or output (see test_secrets_leak).
SENTINEL_KEY = "sk-SENTINEL-7f3a9c2e-never-write-me-0123456789"


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point QWENVL_DESKTOP_HOME at a fresh folder and clear provider key variables."""
    home = tmp_path / "qwenvl-home"
    home.mkdir()
    monkeypatch.setenv("QWENVL_DESKTOP_HOME", str(home))
    for var in ("DASHSCOPE_API_KEY", "OVH_AI_ENDPOINTS_ACCESS_TOKEN", "AIML_API_KEY",
                "NEBULA_API_KEY", "SEGMIND_API_KEY", "QWENVL_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    return home


@pytest.fixture(autouse=True)
def core_voice() -> Iterator[None]:
    """Errors are explained in the core's own words unless a test picks a front end's
    (the window sets its voice when it is built; the CLI for the length of a command)."""
    from qwenvl_desktop.core.errors import use_advice

    use_advice(None)
    yield
    use_advice(None)


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[MemoryKeyring]:
    """Every test gets an empty in-memory keyring as the process-wide backend."""
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture(scope="session")
def report_line(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """Write a line past pytest's output capture, so tallies show in every CI log."""
    plugins = request.config.pluginmanager

    def write(line: str) -> None:
        reporter = plugins.get_plugin("terminalreporter")
        capture = plugins.get_plugin("capturemanager")
        if reporter is None or capture is None:
            sys.stderr.write(line + "\n")
            return
        with capture.global_and_fixture_disabled():
            reporter.write_line("")
            reporter.write_line(line)

    return write
