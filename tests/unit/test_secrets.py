"""KeyStore: secure backends only, session fallback with a warning, env var fallback."""

from __future__ import annotations

import keyring
import keyring.backends.fail
import keyring.backends.null
import pytest
from keyring.backend import KeyringBackend
from keyring.errors import KeyringLocked, PasswordSetError

from qwenvl_desktop.core.catalog import load_builtin
from qwenvl_desktop.core.errors import ConfigError, KeyStoreError, redact
from qwenvl_desktop.core.secrets import SERVICE, KeyStore, is_secure_backend
from qwenvl_desktop.testing import SENTINEL_KEY
from qwenvl_desktop.testing.memory_keyring import MemoryKeyring

CATALOG = load_builtin()
INTL = CATALOG.get("dashscope-intl")
US = CATALOG.get("dashscope-us")
OVH = CATALOG.get("ovh")


class PlaintextKeyring(MemoryKeyring):
    """Stands in for keyrings.alt's file backend: works, but writes keys in clear text."""

    priority = 1


class AltFileKeyring(MemoryKeyring):
    priority = 1


AltFileKeyring.__module__ = "keyrings.alt.file"


class ZeroPriority(MemoryKeyring):
    priority = 0


class FakeChainer(MemoryKeyring):
    """A chainer: delegates to `backends`, which keyring's ChainerBackend also exposes."""

    def __init__(self, members: list[KeyringBackend]) -> None:
        super().__init__()
        self.backends = members


class RefusingKeyring(MemoryKeyring):
    def set_password(self, service: str, username: str, password: str) -> None:
        raise PasswordSetError("the collection is locked")


class LockedKeyring(MemoryKeyring):
    def get_password(self, service: str, username: str) -> str | None:
        raise KeyringLocked("Failed to unlock the collection!")


def test_memory_backend_round_trip(memory_keyring: MemoryKeyring) -> None:
    store = KeyStore(environ={})
    assert store.secure
    assert store.warning is None
    assert store.source(OVH) == "none"
    store.set(OVH, f"  {SENTINEL_KEY}\n")
    assert memory_keyring.store[(SERVICE, "ovh")] == SENTINEL_KEY   # stripped
    assert store.get(OVH) == SENTINEL_KEY
    assert store.source(OVH) == "keyring"
    store.delete(OVH)
    assert store.get(OVH) is None
    assert memory_keyring.store == {}
    store.delete(OVH)  # deleting nothing is fine


def test_dashscope_regions_have_separate_entries(memory_keyring: MemoryKeyring) -> None:
    store = KeyStore(environ={})
    store.set(INTL, "intl-key-123456")
    store.set(US, "us-key-654321")
    assert memory_keyring.store[(SERVICE, "dashscope-intl")] == "intl-key-123456"
    assert memory_keyring.store[(SERVICE, "dashscope-us")] == "us-key-654321"
    assert store.get(INTL) == "intl-key-123456"
    assert store.get(US) == "us-key-654321"
    assert store.get(CATALOG.get("dashscope-cn")) is None


def test_env_var_is_the_fallback() -> None:
    store = KeyStore(environ={"DASHSCOPE_API_KEY": " env-key-abcdef \n"})
    assert store.get(US) == "env-key-abcdef"
    assert store.source(US) == "env"
    assert "DASHSCOPE_API_KEY" in store.status_line(US)
    store.set(US, "stored-key-abcdef")
    assert store.get(US) == "stored-key-abcdef"      # the keyring wins over the env var
    assert store.source(US) == "keyring"


def test_empty_env_var_is_no_key() -> None:
    store = KeyStore(environ={"OVH_AI_ENDPOINTS_ACCESS_TOKEN": "  "})
    assert store.get(OVH) is None
    assert store.source(OVH) == "none"


def test_process_keyring_is_used_by_default(memory_keyring: MemoryKeyring) -> None:
    KeyStore(environ={}).set(OVH, "abcdefghij")
    assert keyring.get_keyring() is memory_keyring
    assert memory_keyring.store[(SERVICE, "ovh")] == "abcdefghij"


@pytest.mark.parametrize("backend", [
    keyring.backends.fail.Keyring(), keyring.backends.null.Keyring(),
    PlaintextKeyring(), AltFileKeyring(), ZeroPriority(),
    FakeChainer([PlaintextKeyring(), keyring.backends.fail.Keyring()]),
], ids=["fail", "null", "plaintext", "keyrings.alt", "priority0", "chainer-of-insecure"])
def test_insecure_backends_give_session_only_keys(backend: KeyringBackend) -> None:
    store = KeyStore(backend, environ={})
    assert not is_secure_backend(backend)
    assert not store.secure
    assert store.warning is not None
    assert "forgotten when the app closes" in store.warning
    store.set(OVH, SENTINEL_KEY)
    assert store.get(OVH) == SENTINEL_KEY
    assert store.source(OVH) == "session"
    assert "session" in store.status_line(OVH)
    if isinstance(backend, MemoryKeyring):
        assert backend.store == {}                   # nothing reached the insecure store
    store.delete(OVH)
    assert store.get(OVH) is None
    # A new session (the next run) has forgotten it.
    assert KeyStore(backend, environ={}).get(OVH) is None


def test_chainer_uses_its_secure_member_only() -> None:
    plain, secure = PlaintextKeyring(), MemoryKeyring()
    chainer = FakeChainer([plain, secure])
    store = KeyStore(chainer, environ={})
    assert store.secure
    store.set(OVH, "abcdefghij")
    assert secure.store == {(SERVICE, "ovh"): "abcdefghij"}
    assert plain.store == {}
    assert chainer.store == {}


def test_keyring_error_on_set_falls_back_to_session() -> None:
    store = KeyStore(RefusingKeyring(), environ={})
    assert store.secure
    with pytest.raises(KeyStoreError, match="session only") as info:
        store.set(OVH, SENTINEL_KEY)
    assert "locked" in str(info.value)
    assert SENTINEL_KEY not in str(info.value)
    assert store.get(OVH) == SENTINEL_KEY
    assert store.source(OVH) == "session"
    assert store.warning is not None
    assert "forgotten" in store.warning


def test_keyring_error_on_get_falls_back_to_env_with_warning() -> None:
    store = KeyStore(LockedKeyring(), environ={"OVH_AI_ENDPOINTS_ACCESS_TOKEN": "env-abcdefgh"})
    assert store.get(OVH) == "env-abcdefgh"
    assert store.warning is not None
    assert "locked" in store.warning


@pytest.mark.parametrize("bad", ["", "   \n", "abc\ndef", "abc\rdef", "ab\x00cd"])
def test_bad_key_text_is_refused(bad: str, memory_keyring: MemoryKeyring) -> None:
    with pytest.raises(ConfigError):
        KeyStore(environ={}).set(OVH, bad)
    assert memory_keyring.store == {}


def test_every_key_seen_is_redacted() -> None:
    store = KeyStore(environ={"NEBULA_API_KEY": "nebula-env-value-xyz"})
    store.get(CATALOG.get("nebula"))
    store.set(OVH, "ovh-plain-key-uvw")
    text = "echo nebula-env-value-xyz and ovh-plain-key-uvw"
    assert "nebula-env-value-xyz" not in redact(text)
    assert "ovh-plain-key-uvw" not in redact(text)


def test_status_line_never_shows_the_key() -> None:
    store = KeyStore(environ={})
    assert "no key" in store.status_line(OVH)
    assert "key set ovh" in store.status_line(OVH)
    store.set(OVH, SENTINEL_KEY)
    line = store.status_line(OVH)
    assert "keyring" in line
    assert SENTINEL_KEY not in line
    assert SENTINEL_KEY[-4:] not in line
