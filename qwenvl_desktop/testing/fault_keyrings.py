"""Keyring backends in the states a desktop's keyring really gets into, for tests.

Each keeps its entries in memory like `MemoryKeyring` (and, like it, never becomes the
process-wide keyring by being imported) and records which thread called it, so a test
can prove the window never waits for the keyring on its own thread.

- `LockedKeyring`: the collection is locked and the unlock prompt is declined.
- `HangingKeyring`: calls block until `release()` — an unlock prompt nobody answers,
  or a Secret Service that stopped answering D-Bus.
- `VanishingKeyring`: works until `vanish()`, then the service is gone.
- `RefusingKeyring`: reads work, writes raise.
- `AttributeKeyring`: the Secret Service's matching rules, for entries written by older
  versions (see `core.secrets`): found by service and username, replaced only when
  every attribute matches, deleted first match first.
"""

from __future__ import annotations

import threading

from keyring.errors import KeyringLocked, PasswordDeleteError, PasswordSetError

from .memory_keyring import MemoryKeyring

__all__ = ["APPLICATION", "AttributeKeyring", "HangingKeyring", "LockedKeyring",
           "RecordingKeyring", "RefusingKeyring", "VanishingKeyring"]

# What keyring's Secret Service backend writes as the `application` attribute.
APPLICATION = "Python keyring library"


class RecordingKeyring(MemoryKeyring):
    """MemoryKeyring that records (method, thread name) for every call."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, str]] = []

    def _record(self, method: str) -> None:
        self.calls.append((method, threading.current_thread().name))

    def get_password(self, service: str, username: str) -> str | None:
        self._record("get")
        return super().get_password(service, username)

    def set_password(self, service: str, username: str, password: str) -> None:
        self._record("set")
        super().set_password(service, username, password)

    def delete_password(self, service: str, username: str) -> None:
        self._record("delete")
        super().delete_password(service, username)


class LockedKeyring(RecordingKeyring):
    """Every call raises what keyring raises when the unlock prompt was dismissed,
    until `unlock()` (the person unlocked it elsewhere)."""

    def __init__(self) -> None:
        super().__init__()
        self.locked = True

    def unlock(self) -> None:
        self.locked = False

    def _record(self, method: str) -> None:
        super()._record(method)
        if self.locked:
            raise KeyringLocked("Failed to unlock the collection!")


class HangingKeyring(RecordingKeyring):
    """Calls wait until `release()`; then they do what MemoryKeyring does."""

    def __init__(self) -> None:
        super().__init__()
        self._released = threading.Event()
        self.waiting = threading.Event()
        """Set once a call has started to wait."""

    def release(self) -> None:
        self._released.set()

    def _record(self, method: str) -> None:
        super()._record(method)
        self.waiting.set()
        self._released.wait()


class _ServiceGone(Exception):
    """Stands in for SecretStorage's SecretServiceNotAvailableException, matched by
    class name (SecretStorage is Linux-only)."""


_ServiceGone.__name__ = "SecretServiceNotAvailableException"


class VanishingKeyring(RecordingKeyring):
    """Works until `vanish()`; then every call fails as when the service has exited."""

    def __init__(self) -> None:
        super().__init__()
        self.gone = False

    def vanish(self) -> None:
        self.gone = True

    def _record(self, method: str) -> None:
        super()._record(method)
        if self.gone:
            raise _ServiceGone("The name org.freedesktop.secrets was not provided by any "
                               ".service files")


class RefusingKeyring(RecordingKeyring):
    """Reads work; every write raises (a read-only or full keyring)."""

    def set_password(self, service: str, username: str, password: str) -> None:
        self._record("set")
        raise PasswordSetError(f"the collection is read-only ({service}/{username}, "
                               f"{len(password)} characters not written)")


class AttributeKeyring(RecordingKeyring):
    """Entries are attribute sets, matched as the Secret Service matches them.

    keyring looks entries up by {service, username} and writes {application, service,
    username}, replacing only an entry whose attributes are all equal. `newest_first`
    decides which of two matching entries a look-up returns (the service does not say).
    """

    def __init__(self, *, newest_first: bool = False) -> None:
        super().__init__()
        self.items: list[tuple[dict[str, str], str]] = []
        self.newest_first = newest_first

    def add_entry(self, attributes: dict[str, str], secret: str) -> None:
        """An entry made by someone else (an older version, or `secret-tool store`)."""
        self.items.append((dict(attributes), secret))

    def _matches(self, service: str, username: str) -> list[int]:
        found = [i for i, (attrs, _) in enumerate(self.items)
                 if attrs.get("service") == service and attrs.get("username") == username]
        return found[::-1] if self.newest_first else found

    def get_password(self, service: str, username: str) -> str | None:
        self._record("get")
        found = self._matches(service, username)
        return self.items[found[0]][1] if found else None

    def set_password(self, service: str, username: str, password: str) -> None:
        self._record("set")
        attrs = {"application": APPLICATION, "service": service, "username": username}
        self.items = [(a, s) for a, s in self.items if a != attrs]
        self.items.append((attrs, password))

    def delete_password(self, service: str, username: str) -> None:
        self._record("delete")
        found = self._matches(service, username)
        if not found:
            raise PasswordDeleteError("No such password!")
        del self.items[found[0]]
