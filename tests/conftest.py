"""Fixtures every test shares: an isolated home directory and a test keyring.

No test may touch the real config, data or keyring of the machine it runs on.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

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


# --- the real keyring subset ---------------------------------------------------------------
#
# Tests marked `real_keyring` talk to a real Secret Service and write to it, so they run
# only where one was made for them: `.ci/real_keyring.sh` starts gnome-keyring under
# dbus-run-session with a throwaway password and sets QWENVL_THROWAWAY_KEYRING=1, then
# runs `pytest -m real_keyring`. Any other run deselects them and says so at the end;
# a `-m real_keyring` run fails when none of them passed.

REAL_KEYRING = "real_keyring"
THROWAWAY_VARIABLE = "QWENVL_THROWAWAY_KEYRING"
SECRET_SERVICE = "keyring.backends.SecretService.Keyring"
_NOT_RUN = pytest.StashKey[list[str]]()


def _real_keyring_run(config: pytest.Config) -> bool:
    return REAL_KEYRING in (config.getoption("markexpr", "") or "")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if _real_keyring_run(config):
        return
    real = [item for item in items if item.get_closest_marker(REAL_KEYRING)]
    config.stash[_NOT_RUN] = [item.nodeid for item in real]
    if real:
        config.hook.pytest_deselected(items=real)
        items[:] = [item for item in items if not item.get_closest_marker(REAL_KEYRING)]


# Real-keyring tests that passed in this run (pytest_runtest_logreport has no config).
_ran_list: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" and report.passed and REAL_KEYRING in report.keywords:
        _ran_list.append(report.nodeid)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter,
                            config: pytest.Config) -> None:
    not_run = config.stash.get(_NOT_RUN, [])
    if not_run:
        terminalreporter.write_line(
            f"real keyring: {len(not_run)} tests NOT run here — they need a real, throwaway "
            f"Secret Service (`dbus-run-session -- bash .ci/real_keyring.sh` makes one and "
            f"runs them; CI does):", yellow=True)
        for nodeid in not_run:
            terminalreporter.write_line(f"    {nodeid}")
    if _real_keyring_run(config):
        terminalreporter.write_line(
            f"real keyring: {len(_ran_list)} tests passed against {_backend_label()}")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _real_keyring_run(session.config) and not _ran_list and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _backend_label() -> str:
    from qwenvl_desktop.core.keyring_backend import backend_label, default_backend

    return backend_label(default_backend())


@pytest.fixture(scope="session")
def _secret_service_backend() -> KeyringBackend:
    """The process's own keyring backend, which must be a throwaway Secret Service."""
    if os.environ.get(THROWAWAY_VARIABLE) != "1":
        pytest.fail(f"{THROWAWAY_VARIABLE}=1 is not set: these tests write to the keyring, "
                    "and only a throwaway one made for them may be used "
                    "(`dbus-run-session -- bash .ci/real_keyring.sh`).")
    from qwenvl_desktop.core.keyring_backend import backend_label, default_backend

    backend = default_backend()
    if backend_label(backend) != SECRET_SERVICE:
        pytest.fail(f"the keyring backend is {backend_label(backend)}, not the Secret Service "
                    f"({SECRET_SERVICE}); is gnome-keyring running on this D-Bus session?")
    return backend


@pytest.fixture
def secret_service(_secret_service_backend: KeyringBackend) -> Iterator[KeyringBackend]:
    """The real Secret Service as the process-wide keyring, emptied of our entries
    before and after the test."""
    from qwenvl_desktop.core.catalog import load_builtin
    from qwenvl_desktop.core.secrets import SERVICE

    key_ids = [p.key_id for p in load_builtin().providers.values()]

    def clear() -> None:
        for key_id in key_ids:
            for _ in range(16):
                try:
                    _secret_service_backend.delete_password(SERVICE, key_id)
                except PasswordDeleteError:
                    break

    previous = keyring.get_keyring()
    clear()
    keyring.set_keyring(_secret_service_backend)
    yield _secret_service_backend
    keyring.set_keyring(previous)
    clear()
