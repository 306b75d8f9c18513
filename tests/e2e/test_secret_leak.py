"""A sentinel key used through a whole session must never leave the keyring.

The session: `key set` from stdin, `ask` with `--save`, `--continue`, `--json`, export to
Markdown and HTML, and the error paths where a key is most likely to slip out — a 401
body that echoes the key back, an error event that does the same, a base URL that
carries the key, an image URL that carries it. Afterwards no file under the test's
folder (QWENVL_DESKTOP_HOME, saved and exported files), no output and no log record
may contain it. The in-process runs use the test's MemoryKeyring, as the app would use
the OS keyring; one run is a real subprocess with the key in the environment.
"""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

import qwenvl_desktop
from qwenvl_desktop import cli
from qwenvl_desktop.core import paths
from qwenvl_desktop.core.settings import Settings
from qwenvl_desktop.core.storage import load_conversation
from qwenvl_desktop.testing import SENTINEL_KEY
from qwenvl_desktop.testing.memory_keyring import MemoryKeyring
from qwenvl_desktop.testing.provider_server import ProviderServer, Script

REPO = Path(qwenvl_desktop.__file__).resolve().parent.parent
ECHO = f"Incorrect API key {SENTINEL_KEY} for this region"
# Credentials people put into gateway URLs: never registered as keys anywhere, so
# nothing but the splitting of base URLs keeps them out of files.
GATEWAY_PASSWORD = "gw-SENTINEL-3e1f9a-never-write-me"
SIGNATURE = "sig-SENTINEL-88aa0c-never-write-me"


@pytest.fixture
def server(fresh_server: ProviderServer, monkeypatch: pytest.MonkeyPatch,
           isolated_home: Path) -> ProviderServer:
    """The loopback server accepting only the sentinel key, with DashScope pointed at it."""
    monkeypatch.setattr(fresh_server, "api_key", SENTINEL_KEY)
    settings = Settings(max_retries=0)
    settings.set_base_url_override("dashscope-intl", fresh_server.base_url_for("dashscope"))
    settings.save()
    return fresh_server


def _cli(capfd: pytest.CaptureFixture[str], outputs: list[str], *args: str,
         stdin: str = "") -> int:
    sys.stdin = io.StringIO(stdin)
    try:
        code = cli.main(list(args))
    finally:
        sys.stdin = sys.__stdin__
    captured = capfd.readouterr()
    outputs.extend([captured.out, captured.err])
    return code


def _files_containing(folder: Path, secret: str) -> list[Path]:
    needle = secret.encode()
    return [p for p in folder.rglob("*") if p.is_file() and needle in p.read_bytes()]


def test_sentinel_key_never_leaves_the_keyring(
    server: ProviderServer, memory_keyring: MemoryKeyring, tmp_path: Path,
    capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    outputs: list[str] = []
    conv = tmp_path / "session.qwenvl"
    image = tmp_path / "shot.png"
    Image.new("RGB", (80, 60), (10, 120, 200)).save(image)

    assert _cli(capfd, outputs, "key", "set", "dashscope-intl", stdin=SENTINEL_KEY + "\n") == 0
    assert memory_keyring.store[("qwenvl-desktop", "dashscope-intl")] == SENTINEL_KEY

    server.enqueue(Script(content="A blue rectangle.", reasoning="Looking at it."))
    assert _cli(capfd, outputs, "ask", "-i", str(image), "--save", str(conv), "What?") == 0
    assert server.requests[-1].headers["authorization"] == f"Bearer {SENTINEL_KEY}"

    server.enqueue(Script(content="Still blue."))
    assert _cli(capfd, outputs, "ask", "--json", "--continue", str(conv), "Sure?") == 0

    # Error paths, each saved back into the conversation.
    server.enqueue(Script(status=401, error_message=ECHO))
    assert _cli(capfd, outputs, "ask", "--continue", str(conv), "Again?") == 3
    server.enqueue(Script(content="one two three", error_event=True, error_message=ECHO))
    assert _cli(capfd, outputs, "ask", "--json", "--continue", str(conv), "Once more") == 5
    assert _cli(capfd, outputs, "ask", "-p", "dashscope-intl", "--base-url",
                f"http://user:{SENTINEL_KEY}@127.0.0.1:1/v1?key={SENTINEL_KEY}",
                "--continue", str(conv), "Elsewhere") == 6
    assert _cli(capfd, outputs, "ask", "-i",
                f"http://127.0.0.1:1/img.png?token={SENTINEL_KEY}", "Fetch it") == 7

    assert _cli(capfd, outputs, "export", str(conv), "--to", "md") == 0
    assert _cli(capfd, outputs, "export", str(conv), "--to", "html") == 0
    assert _cli(capfd, outputs, "key", "status", "dashscope-intl") == 0
    assert _cli(capfd, outputs, "providers") == 0

    # The session really happened: every turn and every failure is in the file.
    saved = load_conversation(conv)
    assert [m.status for m in saved.messages if m.role == "assistant"] == [
        "complete", "complete", "error", "error", "interrupted"]
    assert "[redacted]" in saved.messages[5].error
    assert (tmp_path / "session.md").is_file()
    assert (tmp_path / "session.html").is_file()

    assert _files_containing(tmp_path, SENTINEL_KEY) == []
    for text in outputs:
        assert SENTINEL_KEY not in text
    _assert_no_key_in_logs(caplog)


def _assert_no_key_in_logs(caplog: pytest.LogCaptureFixture) -> None:
    leaks = [f"{r.name}: {r.getMessage()}" for r in caplog.records
             if SENTINEL_KEY in r.getMessage()]
    assert leaks == [], "log records carry the key"


def test_log_records_never_carry_the_key(
    server: ProviderServer, memory_keyring: MemoryKeyring, tmp_path: Path,
    capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture,
) -> None:
    """Even when the person puts the key into the base URL (user info or query)."""
    caplog.set_level(logging.DEBUG)
    memory_keyring.store[("qwenvl-desktop", "dashscope-intl")] = SENTINEL_KEY
    outputs: list[str] = []
    server.enqueue(Script(content="Fine."))
    assert _cli(capfd, outputs, "ask", "Hi") == 0
    assert _cli(capfd, outputs, "ask", "-p", "dashscope-intl", "--base-url",
                f"http://user:{SENTINEL_KEY}@127.0.0.1:1/v1?key={SENTINEL_KEY}", "Hi") == 6
    for text in outputs:
        assert SENTINEL_KEY not in text
    _assert_no_key_in_logs(caplog)


def test_credentials_in_base_urls_never_reach_a_file_an_output_or_a_log(
    server: ProviderServer, memory_keyring: MemoryKeyring, tmp_path: Path,
    capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture,
) -> None:
    """User info and secret query parameters in base URLs: in an older settings file,
    and typed into --base-url. The requests carry them; nothing written does."""
    caplog.set_level(logging.DEBUG)
    memory_keyring.store[("qwenvl-desktop", "dashscope-intl")] = SENTINEL_KEY
    memory_keyring.store[("qwenvl-desktop", "segmind")] = SENTINEL_KEY
    outputs: list[str] = []
    conv = tmp_path / "gateway.qwenvl"
    settings_file = paths.settings_file()
    data = json.loads(settings_file.read_text(encoding="utf-8"))
    clean = data["base_url_overrides"]["dashscope-intl"]
    data["base_url_overrides"]["dashscope-intl"] = f"{clean}?sig={SIGNATURE}&token={SIGNATURE}"
    settings_file.write_text(json.dumps(data), encoding="utf-8")

    # 1. The settings file is cleaned on load, with a notice; the request still signs.
    server.enqueue(Script(content="Signed."))
    assert _cli(capfd, outputs, "ask", "--save", str(conv), "Hi") == 0
    assert f"sig={SIGNATURE}" in server.requests[-1].path
    assert "keyring" in outputs[-1]                           # the notice, on stderr
    assert json.loads(settings_file.read_text())["base_url_overrides"] == {
        "dashscope-intl": clean}
    server.enqueue(Script(content="Still signed."))
    assert _cli(capfd, outputs, "ask", "--continue", str(conv), "Again") == 0
    assert f"sig={SIGNATURE}" in server.requests[-1].path

    # 2. --base-url with user info and a secret parameter: sent, recorded clean.
    segmind = server.base_url_for("segmind").replace("http://", "")
    server.enqueue(Script(content="Through the gateway."))
    assert _cli(capfd, outputs, "ask", "-p", "segmind", "--save", str(tmp_path / "s.qwenvl"),
                "--base-url", f"http://gw:{GATEWAY_PASSWORD}@{segmind}?key={SIGNATURE}",
                "Hi") == 0
    request = server.requests[-1]
    assert f"key={SIGNATURE}" in request.path
    assert request.headers["authorization"].startswith("Basic ")
    # 3. A failing one: the error text and the log hold neither.
    assert _cli(capfd, outputs, "ask", "-p", "dashscope-intl", "--base-url",
                f"http://gw:{GATEWAY_PASSWORD}@127.0.0.1:1/v1?signature={SIGNATURE}",
                "--continue", str(conv), "Elsewhere") == 6

    assert _cli(capfd, outputs, "export", str(conv), "--to", "md") == 0
    assert _cli(capfd, outputs, "export", str(conv), "--to", "html") == 0
    saved = load_conversation(conv)
    assert [m.provenance.base_url for m in saved.messages if m.provenance] == [
        clean, clean, "http://127.0.0.1:1/v1"]
    for secret in (GATEWAY_PASSWORD, SIGNATURE):
        assert _files_containing(tmp_path, secret) == []
        for text in outputs:
            assert secret not in text
        assert [r.getMessage() for r in caplog.records if secret in r.getMessage()] == []


def test_subprocess_with_env_key_never_prints_or_saves_it(
    server: ProviderServer, isolated_home: Path, tmp_path: Path
) -> None:
    conv = tmp_path / "sub.qwenvl"
    env = {k: v for k, v in os.environ.items() if not k.startswith("QWENVL")}
    env.update({
        "QWENVL_DESKTOP_HOME": str(isolated_home),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])),
        "PYTHONIOENCODING": "utf-8",
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        "DASHSCOPE_API_KEY": SENTINEL_KEY,
    })

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "qwenvl_desktop", *args],
                              capture_output=True, text=True, encoding="utf-8", env=env,
                              timeout=120, check=False)

    server.enqueue(Script(content="Fine."))
    ok = run("ask", "--save", str(conv), "Hi")
    server.enqueue(Script(status=401, error_message=ECHO))
    denied = run("ask", "--json", "--continue", str(conv), "Hi again")
    status = run("key", "status", "dashscope-intl")
    assert (ok.returncode, denied.returncode, status.returncode) == (0, 3, 0)
    assert "DASHSCOPE_API_KEY" in status.stdout
    assert json.loads(denied.stdout)["exit_code"] == 3
    for result in (ok, denied, status):
        assert SENTINEL_KEY not in result.stdout
        assert SENTINEL_KEY not in result.stderr
    assert _files_containing(tmp_path, SENTINEL_KEY) == []
