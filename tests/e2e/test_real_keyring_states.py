"""A real Secret Service (gnome-keyring) in the states a desktop's keyring gets into:
locked with its unlock prompt unanswerable, and the service going away mid-session.

Run by `.ci/real_keyring.sh`, which made the keyring with a throwaway password and
passes it in QWENVL_THROWAWAY_KEYRING_PASSWORD so each test can unlock it again through
gnome-keyring's own (unsupported, prompt-free) unlock call. There is no display, so
gnome-keyring's unlock prompt cannot be shown: it fails as a declined prompt does.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from keyring.backend import KeyringBackend

import qwenvl_desktop
from qwenvl_desktop.core.catalog import load_builtin
from qwenvl_desktop.core.errors import KeyringUnavailableError
from qwenvl_desktop.core.secrets import SERVICE, KeyStore
from qwenvl_desktop.testing import SENTINEL_KEY

pytestmark = pytest.mark.real_keyring

REPO = Path(qwenvl_desktop.__file__).resolve().parent.parent
PASSWORD_VARIABLE = "QWENVL_THROWAWAY_KEYRING_PASSWORD"
SECRETS = "/org/freedesktop/secrets"
CATALOG = load_builtin()
INTL = CATALOG.get("dashscope-intl")
US = CATALOG.get("dashscope-us")


def _call(interface: str, method: str, signature: str, *args: object,
          path: str = SECRETS, destination: str = "org.freedesktop.secrets",
          conn: Any = None) -> tuple[object, ...]:
    """One D-Bus method call (on `conn`, or a connection of its own); errors raise."""
    from jeepney import DBusAddress, MessageType, new_method_call
    from jeepney.io.blocking import open_dbus_connection

    if conn is None:
        with closing(open_dbus_connection(bus="SESSION")) as own:
            return _call(interface, method, signature, *args, path=path,
                         destination=destination, conn=own)
    address = DBusAddress(path, bus_name=destination, interface=interface)
    reply = conn.send_and_get_reply(new_method_call(address, method, signature, args),
                                    timeout=30)
    if reply.header.message_type == MessageType.error:
        raise RuntimeError(f"{method} failed: {reply.body}")
    return tuple(reply.body)


def _default_collection(conn: Any = None) -> str:
    return str(_call("org.freedesktop.Secret.Service", "ReadAlias", "s", "default",
                     conn=conn)[0])


def lock() -> None:
    import secretstorage

    with closing(secretstorage.dbus_init()) as bus:
        collection = secretstorage.get_default_collection(bus)
        collection.lock()
        assert collection.is_locked()


def unlock() -> None:
    """Unlock the default collection with its password, without a prompt."""
    password = os.environ.get(PASSWORD_VARIABLE)
    if not password:
        pytest.fail(f"{PASSWORD_VARIABLE} is not set (.ci/real_keyring.sh sets it)")
    from jeepney.io.blocking import open_dbus_connection

    # A Secret Service session lives as long as the connection that opened it.
    with closing(open_dbus_connection(bus="SESSION")) as conn:
        _output, session = _call("org.freedesktop.Secret.Service", "OpenSession", "sv",
                                 "plain", ("s", ""), conn=conn)
        _call("org.gnome.keyring.InternalUnsupportedGuiltRiddenInterface",
              "UnlockWithMasterPassword", "o(oayays)", _default_collection(conn),
              (session, b"", password.encode(), "text/plain"), conn=conn)


def is_locked() -> bool:
    import secretstorage

    with closing(secretstorage.dbus_init()) as bus:
        return bool(secretstorage.get_default_collection(bus).is_locked())


@pytest.fixture
def relocking(secret_service: KeyringBackend) -> Iterator[KeyringBackend]:
    """The Secret Service, unlocked again after the test whatever it did."""
    yield secret_service
    unlock()
    assert not is_locked()


def run_app(home: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("QWENVL") and k != "PYTHON_KEYRING_BACKEND"}
    env.update({"QWENVL_DESKTOP_HOME": str(home), "PYTHONIOENCODING": "utf-8",
                "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO),
                                                            env.get("PYTHONPATH")]))})
    return subprocess.run([sys.executable, "-m", "qwenvl_desktop", *args], input=stdin,
                          capture_output=True, text=True, encoding="utf-8", env=env,
                          timeout=120, check=False)


def test_locked_keyring_with_no_way_to_prompt(relocking: KeyringBackend,
                                              isolated_home: Path) -> None:
    relocking.set_password(SERVICE, INTL.key_id, SENTINEL_KEY)
    lock()
    status = run_app(isolated_home, "key", "status", INTL.id)
    assert status.returncode == 0, status.stderr
    assert "The keyring is locked and was not unlocked" in status.stderr
    assert "key set" not in status.stdout          # it would fail until unlocked
    assert "kept for this session" not in status.stderr   # meaningless in a terminal

    saved = run_app(isolated_home, "key", "set", US.id, stdin="sk-while-locked-123456\n")
    assert saved.returncode == 8
    assert "was not saved. The keyring is locked" in saved.stderr
    assert "DASHSCOPE_API_KEY" in saved.stderr

    asked = run_app(isolated_home, "ask", "-p", INTL.id, "Hello?")
    assert asked.returncode == 8, asked.stderr           # not "no key" (exit 3)
    assert "Could not read the key" in asked.stderr
    assert "locked" in asked.stderr
    for result in (status, saved, asked):
        assert SENTINEL_KEY not in result.stdout + result.stderr

    unlock()
    after = run_app(isolated_home, "key", "status", INTL.id)
    assert "key in the keyring" in after.stdout, after.stderr


def _keyring_daemon_pid() -> int:
    pid = _call("org.freedesktop.DBus", "GetConnectionUnixProcessID", "s",
                "org.freedesktop.secrets", path="/org/freedesktop/DBus",
                destination="org.freedesktop.DBus")[0]
    assert isinstance(pid, int)
    return pid


def test_the_service_going_away_mid_session(relocking: KeyringBackend) -> None:
    store = KeyStore(environ={})
    store.set(INTL, SENTINEL_KEY)
    assert store.get(INTL) == SENTINEL_KEY

    # The daemon the CI script started ends (a crash, a logout elsewhere).
    pid = _keyring_daemon_pid()
    os.kill(pid, signal.SIGTERM)
    _wait_for_exit(pid)

    assert store.get(INTL) == SENTINEL_KEY      # read before: still usable this session
    # D-Bus starts a fresh daemon on the next call; its keyring is locked and its
    # unlock prompt cannot be shown, so writing fails with the reason, and no hang.
    with pytest.raises(KeyringUnavailableError) as info:
        store.set(US, "sk-after-the-service-left-1234")
    assert info.value.trouble == "locked", info.value
    assert store.source(US) == "session"
    assert store.warning is not None
    assert SENTINEL_KEY not in str(info.value)

    unlock()
    store.reload()
    assert store.wait_idle(60)
    assert store.get(INTL) == SENTINEL_KEY      # the new daemon reads the same keyring
    assert store.trouble is None


def _wait_for_exit(pid: int) -> None:
    """Until the daemon has left the bus (it may linger as a zombie no one reaps)."""
    for _ in range(600):
        owned = _call("org.freedesktop.DBus", "NameHasOwner", "s", "org.freedesktop.secrets",
                      path="/org/freedesktop/DBus", destination="org.freedesktop.DBus")[0]
        if not owned:
            return
        time.sleep(0.05)
    pytest.fail(f"gnome-keyring-daemon {pid} did not leave the bus")
