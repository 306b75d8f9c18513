"""The real-keyring tests never pass silently where there is no throwaway Secret Service:
a plain run leaves them out and says which and why; `-m real_keyring` without one fails.

Each case runs pytest itself in a subprocess on the real-keyring test module.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import qwenvl_desktop

REPO = Path(qwenvl_desktop.__file__).resolve().parent.parent
REAL = "tests/e2e/test_real_keyring.py"


def run_pytest(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("QWENVL_THROWAWAY_KEYRING", "PYTEST_ADDOPTS")}
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
                          check=False)


def test_a_plain_run_lists_the_real_keyring_tests_it_did_not_run() -> None:
    result = run_pytest(REAL, "tests/unit/test_paths.py")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 deselected" in result.stdout
    assert "real keyring: 4 tests NOT run here" in result.stdout
    assert "throwaway Secret Service" in result.stdout
    assert f"{REAL}::test_key_set_status_delete_through_the_secret_service" in result.stdout


def test_asking_for_them_without_a_throwaway_keyring_fails() -> None:
    result = run_pytest("-m", "real_keyring", REAL)
    assert result.returncode != 0, result.stdout
    assert "QWENVL_THROWAWAY_KEYRING=1 is not set" in result.stdout
    assert "real keyring: 0 tests passed" in result.stdout
