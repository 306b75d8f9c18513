"""The start-up probe the benchmark relies on: `QWENVL_DESKTOP_STARTUP_PROBE=1` makes the
real app (a subprocess, `python -m qwenvl_desktop`) print when its first frame and its
ready, idle window happened, then close the normal way and exit 0.

No timing is asserted (figures come from tests/benchmarks/bench_startup.py).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qwenvl_desktop.core.paths import SETTINGS_NAME

_FIGURE = r"(\d+\.\d)"


def _run_app(home: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QWENVL_DESKTOP_")}
    env.update({
        "QT_QPA_PLATFORM": "offscreen",
        "QWENVL_DESKTOP_HOME": str(home),
        "QWENVL_DESKTOP_STARTUP_PROBE": "1",
        # A subprocess cannot see the tests' memory keyring; never touch the real one.
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        **extra,
    })
    return subprocess.run([sys.executable, "-m", "qwenvl_desktop"], env=env, cwd=home,
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.parametrize("with_t0", [True, False], ids=["t0-from-env", "since-process-start"])
def test_probe_prints_startup_figures_and_exits_cleanly(isolated_home: Path,
                                                        with_t0: bool) -> None:
    extra = {"QWENVL_DESKTOP_STARTUP_T0": repr(time.time())} if with_t0 else {}
    proc = _run_app(isolated_home, **extra)

    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = proc.stdout.splitlines()
    assert re.fullmatch(rf"startup-frame-ms {_FIGURE}", lines[0]), proc.stdout
    assert re.fullmatch(rf"startup-idle-ms {_FIGURE}", lines[1]), proc.stdout
    assert re.fullmatch(rf"startup-cpu-ms {_FIGURE}", lines[2]), proc.stdout
    frame, idle = (float(line.split()[1]) for line in lines[:2])
    assert 0 < frame <= idle          # an order, not a time: the panes follow the frame
    # Closed the normal way (closeEvent's shutdown), which saves the settings.
    assert (isolated_home / "config" / SETTINGS_NAME).is_file(), sorted(isolated_home.rglob("*"))
