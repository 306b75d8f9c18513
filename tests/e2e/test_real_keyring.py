"""The terminal command against a real Secret Service (gnome-keyring), as a person uses it.

Run by `.ci/real_keyring.sh` inside a throwaway D-Bus session (see tests/conftest.py);
any other run deselects these tests and says so. Every command is a real subprocess
with the machine's own keyring backend (no PYTHON_KEYRING_BACKEND), and what it wrote
is checked independently through SecretStorage.
"""

from __future__ import annotations

import os
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest
from keyring.backend import KeyringBackend

import qwenvl_desktop
from qwenvl_desktop.core.secrets import SERVICE
from qwenvl_desktop.core.settings import Settings
from qwenvl_desktop.testing import SENTINEL_KEY
from qwenvl_desktop.testing.provider_server import ProviderServer, Script

pytestmark = pytest.mark.real_keyring

REPO = Path(qwenvl_desktop.__file__).resolve().parent.parent
PROVIDER = "dashscope-intl"
BACKEND_NAME = "SecretService Keyring"


def entries(key_id: str = PROVIDER) -> list[tuple[dict[str, str], bytes]]:
    """Every item in the default collection for our service and `key_id`."""
    import secretstorage

    with closing(secretstorage.dbus_init()) as bus:
        collection = secretstorage.get_default_collection(bus)
        return [(dict(item.get_attributes()), item.get_secret())
                for item in collection.search_items({"service": SERVICE,
                                                     "username": key_id})]


def add_foreign_entry(secret: str, key_id: str = PROVIDER) -> None:
    """An entry as `secret-tool store service qwenvl-desktop username <id>` (or an older
    keyring release) makes it: no `application` attribute, stdin's newline kept."""
    import secretstorage

    with closing(secretstorage.dbus_init()) as bus:
        collection = secretstorage.get_default_collection(bus)
        collection.create_item("made by hand", {"service": SERVICE, "username": key_id},
                               secret.encode())


def run_app(home: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("QWENVL") and k != "PYTHON_KEYRING_BACKEND"}
    env.update({
        "QWENVL_DESKTOP_HOME": str(home),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])),
        "PYTHONIOENCODING": "utf-8",
    })
    return subprocess.run([sys.executable, "-m", "qwenvl_desktop", *args], input=stdin,
                          capture_output=True, text=True, encoding="utf-8", env=env,
                          timeout=120, check=False)


def test_key_set_status_delete_through_the_secret_service(
        secret_service: KeyringBackend, isolated_home: Path) -> None:
    assert entries() == []
    saved = run_app(isolated_home, "key", "set", PROVIDER, stdin=SENTINEL_KEY + "\n")
    assert saved.returncode == 0, saved.stderr
    assert f"in the keyring ({BACKEND_NAME})" in saved.stdout
    [(attributes, secret)] = entries()
    assert secret == SENTINEL_KEY.encode()
    assert attributes["application"] == "Python keyring library"

    status = run_app(isolated_home, "key", "status", PROVIDER)
    assert status.returncode == 0, status.stderr
    assert f"key in the keyring ({BACKEND_NAME})" in status.stdout
    assert "warning" not in status.stderr

    deleted = run_app(isolated_home, "key", "delete", PROVIDER)
    assert deleted.returncode == 0, deleted.stderr
    assert entries() == []
    after = run_app(isolated_home, "key", "status", PROVIDER)
    assert "no key" in after.stdout
    assert f"qwenvl-desktop key set {PROVIDER}" in after.stdout    # it would work here
    for result in (saved, status, deleted, after):
        assert SENTINEL_KEY not in result.stdout + result.stderr


def test_an_entry_made_by_hand_is_read_then_replaced_and_deleted(
        secret_service: KeyringBackend, isolated_home: Path) -> None:
    add_foreign_entry("sk-made-by-secret-tool-0123456789\n")
    status = run_app(isolated_home, "key", "status", PROVIDER)
    assert "key in the keyring" in status.stdout, status.stdout + status.stderr

    saved = run_app(isolated_home, "key", "set", PROVIDER, stdin=SENTINEL_KEY)
    assert saved.returncode == 0, saved.stderr
    # One entry left, ours: the hand-made one would otherwise shadow it.
    [(attributes, secret)] = entries()
    assert secret == SENTINEL_KEY.encode()
    assert "application" in attributes

    add_foreign_entry("sk-made-by-secret-tool-again-9876\n")
    deleted = run_app(isolated_home, "key", "delete", PROVIDER)
    assert deleted.returncode == 0, deleted.stderr
    assert entries() == []                              # deleting took both
    assert "no key" in run_app(isolated_home, "key", "status", PROVIDER).stdout


@pytest.fixture
def server(fresh_server: ProviderServer, monkeypatch: pytest.MonkeyPatch,
           isolated_home: Path) -> ProviderServer:
    """The loopback server accepting only the sentinel key, with DashScope pointed at it."""
    monkeypatch.setattr(fresh_server, "api_key", SENTINEL_KEY)
    settings = Settings(max_retries=0)
    settings.set_base_url_override(PROVIDER, fresh_server.base_url_for("dashscope"))
    settings.save()
    return fresh_server


def _files_containing(folder: Path, needle: bytes) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and needle in p.read_bytes()]


def test_a_chat_turn_reads_the_key_from_the_secret_service_and_no_file_has_it(
        secret_service: KeyringBackend, server: ProviderServer, isolated_home: Path,
        tmp_path: Path) -> None:
    saved = run_app(isolated_home, "key", "set", PROVIDER, stdin=SENTINEL_KEY + "\n")
    assert saved.returncode == 0, saved.stderr
    conv = tmp_path / "turn.qwenvl"
    server.enqueue(Script(content="Read from the keyring."))
    asked = run_app(isolated_home, "ask", "-p", PROVIDER, "--save", str(conv), "Hello?")
    assert asked.returncode == 0, asked.stderr
    assert "Read from the keyring." in asked.stdout
    assert server.requests[-1].headers["authorization"] == f"Bearer {SENTINEL_KEY}"
    exported = run_app(isolated_home, "export", str(conv), "--to", "html")
    assert exported.returncode == 0, exported.stderr

    # The sentinel is in no file: not the test's folder (home, settings, logs, the
    # conversation, the export), and not the keyring's own file on disk (encrypted).
    assert _files_containing(tmp_path, SENTINEL_KEY.encode()) == []
    keyrings = _keyring_folder()
    assert list(keyrings.glob("*.keyring")), f"no keyring files in {keyrings}"
    assert _files_containing(keyrings, SENTINEL_KEY.encode()) == []
    for result in (saved, asked, exported):
        assert SENTINEL_KEY not in result.stdout + result.stderr


def _keyring_folder() -> Path:
    data = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data) / "keyrings"


def test_the_key_store_in_process_uses_the_secret_service(
        secret_service: KeyringBackend) -> None:
    from qwenvl_desktop.core.catalog import load_builtin
    from qwenvl_desktop.core.secrets import KeyStore

    provider = load_builtin().get(PROVIDER)
    store = KeyStore(environ={})
    assert store.secure
    assert store.backend_label == "keyring.backends.SecretService.Keyring"
    store.set(provider, SENTINEL_KEY)
    fresh = KeyStore(environ={})
    fresh.prefetch([provider.key_id])
    assert fresh.wait_idle(30)
    assert fresh.get(provider) == SENTINEL_KEY
    assert fresh.trouble is None
    fresh.delete(provider)
    assert entries() == []
