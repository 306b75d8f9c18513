"""An in-memory keyring backend that reports itself as secure, for tests and self-test."""

from __future__ import annotations

from jaraco.classes.properties import classproperty
from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError


class MemoryKeyring(KeyringBackend):
    """Keeps passwords in a dict; `priority` high enough to count as a real backend."""

    priority = 10

    @classproperty
    def viable(cls) -> bool:
        # keyring picks the highest-priority *viable* subclass of KeyringBackend it
        # knows, wherever it was defined; never let merely importing this module make
        # it the process-wide keyring. Tests and the self-test install it explicitly.
        return False

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        try:
            del self.store[(service, username)]
        except KeyError:
            raise PasswordDeleteError(f"no password for {service}/{username}") from None
