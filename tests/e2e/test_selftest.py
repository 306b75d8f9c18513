"""`qwenvl-desktop --self-test` as a person (or CI, or the frozen bundle) runs it.

Each test runs the self-test in a fresh process, offscreen, the way CI runs the
bundle's. The keyring backend is pinned with PYTHON_KEYRING_BACKEND so the
keyring line does not depend on the machine running the tests. The failing runs
make the loopback server misbehave through `selftest.run(answer=...)`; the self-test
has to say FAIL, name the reason, skip what cannot run and still shut down.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

from qwenvl_desktop.selftest import GUI_CHECKS, Report, require

SENTINEL = "sk-SELFTEST-SENTINEL-must-not-be-used-0123456789"
NO_KEYRING = "keyring.backends.fail.Keyring"
SECURE_KEYRING = "qwenvl_desktop.testing.memory_keyring.MemoryKeyring"
WINDOWLESS_CHECKS = ("environment", "tls certificates", "image formats", "markdown renderer",
                  "pdf renderer", "video decoder", "text services", "translations")


def run_self_test(args: list[str], keyring_backend: str = NO_KEYRING,
                  extra: dict[str, str] | None = None) -> tuple[int, str]:
    env = dict(os.environ)          # QWENVL_DESKTOP_HOME is the test's isolated home
    env.pop("QWENVL_REQUIRE_SECURE_KEYRING", None)
    env.update(QT_QPA_PLATFORM="offscreen", PYTHON_KEYRING_BACKEND=keyring_backend,
               DASHSCOPE_API_KEY=SENTINEL, **(extra or {}))
    # timeout: a safety net only; the self-test's own watchdog is what is under test.
    done = subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True,
                          timeout=180, check=False)
    return done.returncode, done.stdout + done.stderr


def run_with_answer(script: str, timeout: float = 60.0) -> tuple[int, str]:
    code = ("import sys\n"
            "from qwenvl_desktop.selftest import run\n"
            "from qwenvl_desktop.testing.provider_server import Script\n"
            f"sys.exit(run(answer={script}, timeout={timeout}))\n")
    return run_self_test(["-c", code])


def line(output: str, tag: str, name: str) -> str:
    """The one line for check `name`, which must carry `tag` (ok / warn / FAIL)."""
    found = [ln for ln in output.splitlines() if re.match(rf"(ok|warn|FAIL) +{name}:", ln)]
    assert len(found) == 1, f"expected one line for {name!r} in:\n{output}"
    assert found[0].startswith(f"{tag} "), found[0]
    return found[0]


def test_self_test_passes_and_reports_every_check(isolated_home: Path) -> None:
    code, output = run_self_test(["-m", "qwenvl_desktop", "--self-test"])
    assert code == 0, output
    for name in (*WINDOWLESS_CHECKS, *GUI_CHECKS, "shutdown", "instance socket"):
        line(output, "ok", name)
    assert "PySide6" in line(output, "ok", "environment")
    for fmt in ("PNG", "JPEG", "WEBP", "GIF", "BMP", "TIFF"):
        assert fmt in line(output, "ok", "image formats")
    request = line(output, "ok", "request")
    assert "PNG" in request
    assert "pieces streamed" in request
    assert "highlighted" in line(output, "ok", "transcript")
    assert "reopened" in line(output, "ok", "save and reopen")
    assert "page 1 rendered at 800×608" in line(output, "ok", "pdf renderer")
    assert "h264 clip of 1.0 s: 4 frames at 448×320" in line(output, "ok", "video decoder")
    assert "7 legacy encodings, 3 time-zone names" in line(output, "ok", "text services")
    assert "zh_CN: the app's catalog and Qt's own" in line(output, "ok", "translations")
    # No secure keyring here: a warning that says it is not a failure.
    keyring_line = line(output, "warn", "keyring backend")
    assert NO_KEYRING in keyring_line
    assert "not a failure" in keyring_line
    assert output.rstrip().splitlines()[-1].startswith(
        "self-test passed: 16 checks ok, 1 warning")
    # The person's data is never used: nothing written to the home it was given,
    # its own temporary home is gone, and the key in the environment was not used.
    assert [p for p in isolated_home.rglob("*") if p.is_file()] == []
    used = re.search(r"temporary home (\S+)", output)
    assert used is not None
    assert not Path(used.group(1)).exists()
    assert SENTINEL not in output


def test_a_secure_keyring_backend_is_reported_ok() -> None:
    code, output = run_self_test(["-m", "qwenvl_desktop", "--self-test"], SECURE_KEYRING)
    assert code == 0, output
    keyring_line = line(output, "ok", "keyring backend")
    assert "MemoryKeyring" in keyring_line
    assert "secure" in keyring_line
    assert output.rstrip().splitlines()[-1].startswith("self-test passed: 17 checks ok (")


def test_a_server_error_fails_the_request_and_the_run() -> None:
    code, output = run_with_answer("Script(status=500)")
    assert code == 1, output
    for name in (*WINDOWLESS_CHECKS, "event loop", "window", "attach image"):
        line(output, "ok", name)
    failed = line(output, "FAIL", "request")
    assert "HTTP 500" in failed
    assert "internal error" in failed
    for name in ("transcript", "save and reopen"):
        assert "not run, because 'request' failed" in line(output, "FAIL", name)
    line(output, "ok", "shutdown")          # it still cleans up after itself
    assert output.rstrip().splitlines()[-1].startswith(
        "self-test FAILED: 3 of 16 checks failed (request, transcript, save and reopen)")


def test_a_stalled_answer_is_reported_instead_of_hanging() -> None:
    code, output = run_with_answer(
        "Script(content='one two three four', stall=True, fault_after=2)", timeout=3)
    assert code == 1, output
    failed = line(output, "FAIL", "request")
    assert re.search(r"did not finish within 3 s; \d+ piece\(s\) of the answer had arrived",
                     failed), failed
    assert "not run" in line(output, "FAIL", "transcript")
    # Closing the window stopped the stalled stream; nothing was left behind.
    assert "no task left" in line(output, "ok", "shutdown")


def test_report_lines_and_exit_status() -> None:
    out = io.StringIO()
    report = Report(out)

    def broken() -> str:
        require(False, "it is broken")
        return "unreachable"

    def crashing() -> str:
        raise ValueError("boom")

    assert report.check("fine", lambda: "all good")
    report.warn("soft", "only a warning")
    assert report.summary() == 0
    assert not report.check("broken", broken)
    assert not report.check("crashing", crashing)
    assert report.summary() == 1
    lines = out.getvalue().splitlines()
    assert lines[0] == "ok   fine: all good"
    assert lines[1] == "warn soft: only a warning"
    assert lines[2].startswith("self-test passed: 1 check ok, 1 warning")
    assert lines[3] == "FAIL broken: it is broken"
    assert lines[4] == "FAIL crashing: Unexpected error (ValueError): boom"
    assert lines[5] == "self-test FAILED: 2 of 3 checks failed (broken, crashing), 1 warning"



def test_a_required_keyring_that_is_missing_fails_the_run() -> None:
    code, output = run_self_test(["-m", "qwenvl_desktop", "--self-test"],
                                 extra={"QWENVL_REQUIRE_SECURE_KEYRING": "1"})
    assert code == 1, output
    failed = line(output, "FAIL", "keyring backend")
    assert NO_KEYRING in failed
    assert "QWENVL_REQUIRE_SECURE_KEYRING=1" in failed
    summary = output.rstrip().splitlines()[-1]
    assert summary.startswith("self-test FAILED:")
    assert "keyring backend" in summary


def test_a_required_keyring_is_written_read_and_cleaned() -> None:
    code, output = run_self_test(["-m", "qwenvl_desktop", "--self-test"], SECURE_KEYRING,
                                 extra={"QWENVL_REQUIRE_SECURE_KEYRING": "1"})
    assert code == 0, output
    line(output, "ok", "keyring backend")
    assert "deleted a throwaway entry" in line(output, "ok", "keyring round trip")
    oks = [ln for ln in output.splitlines() if ln.startswith("ok ")]
    assert output.rstrip().splitlines()[-1].startswith(f"self-test passed: {len(oks)} checks ok (")
