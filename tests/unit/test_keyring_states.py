"""The keyring states a desktop really has, on fake backends: each gives a clear message,
keeps the key usable for the session, and never makes the caller wait unboundedly.

A hang would show as a test that never returns; `_returns` runs the call on a thread
and fails the test if it has not returned long after the store's bounded wait.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

import pytest

from qwenvl_desktop.core.catalog import load_builtin
from qwenvl_desktop.core.errors import KeyringUnavailableError, MissingKeyError
from qwenvl_desktop.core.secrets import SERVICE, KeyStore
from qwenvl_desktop.testing import SENTINEL_KEY
from qwenvl_desktop.testing.fault_keyrings import (
    APPLICATION,
    AttributeKeyring,
    HangingKeyring,
    LockedKeyring,
    RecordingKeyring,
    RefusingKeyring,
    VanishingKeyring,
)

CATALOG = load_builtin()
INTL = CATALOG.get("dashscope-intl")
OVH = CATALOG.get("ovh")
ALL_IDS = [p.key_id for p in CATALOG.providers.values()]
SHORT = 0.05     # the bounded wait used with backends that hang

T = TypeVar("T")


def _returns(func: Callable[[], T]) -> T:
    """Run `func` on a thread; fail if it is still blocked after 30 s (a hang)."""
    box: list[T] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            box.append(func())
        except BaseException as err:
            errors.append(err)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(30)
    assert not thread.is_alive(), "the call hung instead of returning"
    if errors:
        raise errors[0]
    return box[0]


# --- no call on the caller's thread; reads served from memory ---------------------------

def test_prefetched_keys_are_served_from_memory() -> None:
    backend = RecordingKeyring()
    backend.store[(SERVICE, "dashscope-intl")] = SENTINEL_KEY
    store = KeyStore(backend, environ={})
    store.prefetch(ALL_IDS)
    assert store.wait_idle(30)
    reads = len(backend.calls)
    assert reads == len(set(ALL_IDS))
    for _ in range(5):                          # a send asks twice; the marks ask too
        assert store.get(INTL) == SENTINEL_KEY
        assert store.source(OVH) == "none"
    assert len(backend.calls) == reads          # nothing asked the keyring again
    caller = threading.current_thread().name
    assert all(thread != caller for _method, thread in backend.calls)


def test_every_backend_call_runs_off_the_callers_thread() -> None:
    backend = RecordingKeyring()
    store = KeyStore(backend, environ={})
    store.set(OVH, "ovh-key-abcdefgh")
    assert store.get(OVH) == "ovh-key-abcdefgh"
    store.delete(OVH)
    assert store.get(OVH) is None
    caller = threading.current_thread().name
    assert backend.calls
    assert {thread for _method, thread in backend.calls} == {"keyring"}
    assert caller != "keyring"


# --- locked collection: the unlock prompt declined ----------------------------------------

def test_locked_keyring_reads_say_so_and_do_not_prompt_again() -> None:
    backend = LockedKeyring()
    store = KeyStore(backend, environ={"OVH_AI_ENDPOINTS_ACCESS_TOKEN": "env-ovh-abcdef"})
    assert store.get(INTL) is None
    assert store.trouble is not None
    assert store.trouble.kind == "locked"
    assert store.warning is not None
    assert "locked" in store.warning
    assert "Unlock it" in store.warning
    asked = len(backend.calls)
    # Each read would bring the unlock prompt back: none until the person acts.
    for provider in CATALOG.providers.values():
        store.source(provider)
    assert len(backend.calls) == asked
    assert store.get(OVH) == "env-ovh-abcdef"        # the env var still works
    assert "key set" not in store.status_line(INTL)  # it would fail while locked


def test_locked_keyring_write_keeps_the_key_for_the_session_then_reload_reads() -> None:
    backend = LockedKeyring()
    store = KeyStore(backend, environ={})
    with pytest.raises(KeyringUnavailableError) as info:
        store.set(INTL, SENTINEL_KEY)
    assert info.value.trouble == "locked"
    assert "locked" in str(info.value)
    assert "session only" in str(info.value)
    assert SENTINEL_KEY not in str(info.value)
    assert store.source(INTL) == "session"
    assert store.get(INTL) == SENTINEL_KEY
    # The person unlocks the keyring elsewhere; the app is told to look again.
    backend.unlock()
    backend.store[(SERVICE, "ovh")] = "ovh-stored-abcdef"
    store.reload()
    assert store.wait_idle(30)
    assert store.get(OVH) == "ovh-stored-abcdef"
    assert store.trouble is None


# --- a prompt nobody answers, or a service that hangs -------------------------------------

def test_hanging_keyring_never_blocks_the_caller_and_late_answers_land() -> None:
    backend = HangingKeyring()
    store = KeyStore(backend, environ={}, wait=SHORT)
    told = threading.Event()
    store.add_listener(told.set)
    try:
        assert _returns(lambda: store.get(INTL)) is None
        assert store.trouble is not None
        assert store.trouble.kind == "timeout"
        assert store.warning is not None
        assert "did not answer within 0.05 s" in store.warning
        assert _returns(lambda: store.source(OVH)) == "none"     # queued behind, no wait
        with pytest.raises(KeyringUnavailableError) as info:
            _returns(lambda: store.set(INTL, SENTINEL_KEY))
        assert info.value.trouble == "timeout"
        assert "saved then" in str(info.value)
        assert store.source(INTL) == "session"                  # usable meanwhile
    finally:
        backend.release()
    assert told.wait(30)
    assert store.wait_idle(30)
    # The write that waited behind the prompt landed; the session copy is gone.
    assert backend.store[(SERVICE, "dashscope-intl")] == SENTINEL_KEY
    assert store.source(INTL) == "keyring"
    assert store.trouble is None
    assert store.warning is None


def test_hanging_backend_choice_does_not_block_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    """keyring's own backend discovery talks to D-Bus; a hung bus must not hang start-up."""
    import qwenvl_desktop.core.keyring_access as keyring_access

    release = threading.Event()
    chosen = RecordingKeyring()

    def slow_discovery() -> RecordingKeyring:
        release.wait()
        return chosen

    monkeypatch.setattr(keyring_access, "default_backend", slow_discovery)
    try:
        store = _returns(lambda: KeyStore(environ={}, wait=SHORT, choice_wait=SHORT))
        assert not _returns(lambda: store.secure)
        assert store.trouble is not None
        assert store.trouble.kind == "timeout"
        told = threading.Event()
        store.add_listener(told.set)
    finally:
        release.set()
    assert told.wait(30)
    assert store.secure
    assert store.warning is None


# --- the service goes away mid-session ------------------------------------------------------

def test_service_vanishing_keeps_keys_already_read() -> None:
    backend = VanishingKeyring()
    backend.store[(SERVICE, "dashscope-intl")] = SENTINEL_KEY
    store = KeyStore(backend, environ={"OVH_AI_ENDPOINTS_ACCESS_TOKEN": "env-ovh-abcdef"})
    store.prefetch(["dashscope-intl"])
    assert store.wait_idle(30)
    backend.vanish()
    assert store.get(INTL) == SENTINEL_KEY        # read before it went: still usable
    assert store.source(INTL) == "keyring"
    assert store.get(OVH) == "env-ovh-abcdef"     # never read: the env var answers
    assert store.trouble is not None
    assert store.trouble.kind == "unavailable"
    assert "not answering" in (store.warning or "")
    with pytest.raises(KeyringUnavailableError) as info:
        store.set(CATALOG.get("nebula"), "nebula-key-abcdef")
    assert info.value.trouble == "unavailable"
    assert "not answering" in str(info.value)
    assert store.source(CATALOG.get("nebula")) == "session"


# --- a backend that raises on write -----------------------------------------------------------

def test_refusing_backend_on_write() -> None:
    backend = RefusingKeyring()
    store = KeyStore(backend, environ={})
    with pytest.raises(KeyringUnavailableError) as info:
        store.set(OVH, SENTINEL_KEY)
    assert info.value.trouble == "refused"
    assert "read-only" in str(info.value)
    assert SENTINEL_KEY not in str(info.value)
    assert backend.store == {}
    assert store.source(OVH) == "session"
    assert "refused" in (store.warning or "")


# --- entries written by older versions -------------------------------------------------------

LEGACY = {"service": SERVICE, "username": "dashscope-intl"}


@pytest.mark.parametrize("newest_first", [False, True], ids=["oldest-first", "newest-first"])
def test_older_entry_is_read_and_replaced_not_shadowing(newest_first: bool) -> None:
    backend = AttributeKeyring(newest_first=newest_first)
    backend.add_entry(LEGACY, "sk-old-entry-123456\n")       # secret-tool keeps the newline
    store = KeyStore(backend, environ={})
    assert store.get(INTL) == "sk-old-entry-123456"
    store.set(INTL, SENTINEL_KEY)
    assert backend.items == [(
        {"application": APPLICATION, "service": SERVICE, "username": "dashscope-intl"},
        SENTINEL_KEY)]
    assert KeyStore(backend, environ={}).get(INTL) == SENTINEL_KEY   # the next run too


def test_delete_removes_older_entries_too() -> None:
    backend = AttributeKeyring(newest_first=True)
    backend.add_entry(LEGACY, "sk-old-entry-123456")
    backend.set_password(SERVICE, "dashscope-intl", SENTINEL_KEY)   # an older app's write
    store = KeyStore(backend, environ={})
    store.delete(INTL)
    assert backend.items == []
    assert store.get(INTL) is None
    assert KeyStore(backend, environ={}).get(INTL) is None


def test_unusable_stored_value_is_never_sent() -> None:
    backend = AttributeKeyring()
    backend.add_entry(LEGACY, "sk-first-line\nsk-second-line")
    store = KeyStore(backend, environ={})
    assert store.get(INTL) is None
    assert store.source(INTL) == "none"
    assert "unusable" in store.status_line(INTL)
    assert "sk-first-line" not in store.status_line(INTL)


# --- what a send is told ---------------------------------------------------------------------

def test_a_send_is_told_the_keyring_failed_not_that_there_is_no_key() -> None:
    hanging = HangingKeyring()
    try:
        store = KeyStore(hanging, environ={}, wait=SHORT)
        with pytest.raises(KeyringUnavailableError, match="did not answer") as info:
            _returns(lambda: store.key_for_request(INTL))
        assert "Could not read the key for Alibaba Model Studio" in str(info.value)
    finally:
        hanging.release()
    locked = KeyStore(LockedKeyring(), environ={})
    with pytest.raises(KeyringUnavailableError, match="locked"):
        locked.key_for_request(INTL)


def test_a_send_without_any_key_is_told_so() -> None:
    store = KeyStore(RecordingKeyring(), environ={})
    with pytest.raises(MissingKeyError):
        store.key_for_request(INTL)


# --- keys changed by another program while the app runs ----------------------------------------

def test_a_key_saved_by_another_program_is_found_by_the_next_send() -> None:
    backend = RecordingKeyring()
    store = KeyStore(backend, environ={})
    store.prefetch(ALL_IDS)
    assert store.wait_idle(30)
    assert store.source(INTL) == "none"
    backend.store[(SERVICE, "dashscope-intl")] = SENTINEL_KEY     # `key set` in a terminal
    assert store.key_for_request(INTL) == SENTINEL_KEY
    assert store.source(INTL) == "keyring"


def test_refresh_reads_every_known_entry_again_in_the_background() -> None:
    backend = RecordingKeyring()
    backend.store[(SERVICE, "ovh")] = "ovh-old-key-123456"
    store = KeyStore(backend, environ={})
    store.prefetch(["ovh", "dashscope-intl"])
    assert store.wait_idle(30)
    told = threading.Event()
    store.add_listener(told.set)
    backend.store[(SERVICE, "ovh")] = "ovh-new-key-654321"
    backend.store[(SERVICE, "dashscope-intl")] = SENTINEL_KEY
    store.refresh()
    assert told.wait(30)
    assert store.get(OVH) == "ovh-new-key-654321"
    assert store.get(INTL) == SENTINEL_KEY
    assert {thread for _method, thread in backend.calls} == {"keyring"}


def test_refresh_does_not_bring_back_the_unlock_prompt() -> None:
    backend = LockedKeyring()
    backend.unlock()
    store = KeyStore(backend, environ={})
    store.prefetch(["ovh"])
    assert store.wait_idle(30)
    backend.locked = True                         # locked again (the screen locked)
    assert store.get(INTL) is None
    assert store.trouble is not None
    assert store.trouble.kind == "locked"
    asked = len(backend.calls)
    store.refresh()
    assert store.wait_idle(30)
    assert len(backend.calls) == asked
