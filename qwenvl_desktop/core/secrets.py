"""API keys: the OS keyring, the provider's environment variable, or this session only.

One keyring entry per provider `key_id` under the service "qwenvl-desktop"; DashScope
keys are region-locked, so each region has its own entry. When no entry exists, the
provider's environment variable (e.g. DASHSCOPE_API_KEY) is used.

Only secure backends are accepted. keyring silently picks a *plaintext* file backend
when keyrings.alt is installed, and `fail.Keyring` when there is no D-Bus (BRIEF §6);
neither may hold a key. Without a secure backend, keys are kept in memory for the
session and `warning` says they will be forgotten when the app closes. Keys never go
to disk except through a secure keyring, and every key seen is registered with
`errors.register_secret` so `redact` strips it from any text.

keyring is imported when a `KeyStore` is made, not with this module: choosing its
backend imports every backend module and scans the installed packages' entry points.
"""

from __future__ import annotations

import functools
import importlib
import os
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Literal

from .catalog import Provider
from .errors import ConfigError, KeyStoreError, redact, register_secret
from .url_credentials import UrlCredentials

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

__all__ = ["SERVICE", "URL_CREDENTIALS_SUFFIX", "KeySource", "KeyStore", "is_secure_backend"]

SERVICE = "qwenvl-desktop"
URL_CREDENTIALS_SUFFIX = "#url-credentials"
"""The keyring entry `<key_id>#url-credentials` holds what was split off a provider's
base URL (`url_credentials.UrlCredentials`, as JSON), next to its key."""

KeySource = Literal["keyring", "session", "env", "none"]

_INSECURE_NAMES = ("plaintext", "plain_text", "unencrypted", "null", "fail")


@functools.cache
def _backend_errors() -> tuple[type[BaseException], ...]:
    """Errors a keyring backend may raise besides KeyringError (D-Bus, SecretStorage).

    Only called from `except` clauses, i.e. when something was raised."""
    from keyring.errors import KeyringError

    errors: list[type[BaseException]] = [KeyringError, RuntimeError, OSError]
    # Imported by name: both are Linux-only and ship no type information.
    for module_name, class_name in (("secretstorage.exceptions", "SecretStorageException"),
                                    ("jeepney.wrappers", "DBusErrorResponse")):
        try:
            found = getattr(importlib.import_module(module_name), class_name)
        except (ImportError, AttributeError):
            continue
        if isinstance(found, type) and issubclass(found, BaseException):
            errors.append(found)
    return tuple(errors)


# keyring's macOS backend module; its API is loaded through ctypes.
_MACOS_API = "keyring.backends.macOS.api"


def _default_backend() -> KeyringBackend:
    """`keyring.get_keyring()`: the backend keyring's own rules choose (its environment
    variable, its config file, else the viable backend of highest priority)."""
    import keyring

    if sys.platform == "darwin" or "keyring.backends.macOS" in sys.modules:
        return keyring.get_keyring()
    # keyring imports every backend to ask its priority. Importing the macOS one's API
    # module calls ctypes.util.find_library three times, and on Linux each call spawns
    # ldconfig and the C compiler: 60-90 ms of the window's start-up, for a backend
    # whose priority raises "macOS required" off macOS before it looks at that API (and
    # whose module already carries on when the API fails to load). So, off macOS, the
    # API module is marked absent while the backend is chosen; the choice is the same.
    sys.modules[_MACOS_API] = None  # type: ignore[assignment]
    try:
        return keyring.get_keyring()
    finally:
        if _MACOS_API in sys.modules and sys.modules[_MACOS_API] is None:
            del sys.modules[_MACOS_API]


def _priority(backend: KeyringBackend) -> float:
    try:
        return float(backend.priority)
    except Exception:  # a backend's priority raises when it cannot work here
        return -1.0


def _is_secure_single(backend: KeyringBackend) -> bool:
    cls = type(backend)
    module = cls.__module__ or ""
    name = cls.__name__.lower()
    if module == "keyrings.alt" or module.startswith("keyrings.alt."):
        return False
    if module in ("keyring.backends.fail", "keyring.backends.null"):
        return False
    if any(word in name for word in _INSECURE_NAMES):
        return False
    return _priority(backend) > 0


def _members(backend: KeyringBackend) -> list[KeyringBackend] | None:
    """The backends a chainer delegates to, or None when `backend` is not a chainer."""
    from keyring.backend import KeyringBackend

    try:
        members = getattr(backend, "backends", None)
    except Exception:
        return []
    if isinstance(members, list | tuple):
        return [m for m in members if isinstance(m, KeyringBackend)]
    return None


def _select_secure(backend: KeyringBackend) -> KeyringBackend | None:
    """The secure backend to use for `backend`, or None.

    A chainer writes to the first member that accepts a key, which could be a
    plaintext one; so a chainer is replaced by its best secure member.
    """
    members = _members(backend)
    if members is None:
        return backend if _is_secure_single(backend) else None
    secure = [m for m in members if _members(m) is None and _is_secure_single(m)]
    if not secure:
        return None
    return max(secure, key=_priority)


def is_secure_backend(backend: KeyringBackend) -> bool:
    """True when keys given to `backend` are kept by an encrypted OS store."""
    return _select_secure(backend) is not None


def _backend_label(backend: KeyringBackend) -> str:
    cls = type(backend)
    return f"{cls.__module__}.{cls.__name__}"


class KeyStore:
    """Reads and writes provider keys; never writes one to disk except through a keyring."""

    def __init__(self, backend: KeyringBackend | None = None,
                 environ: Mapping[str, str] = os.environ) -> None:
        chosen = backend if backend is not None else _default_backend()
        self._offered = chosen
        self._backend = _select_secure(chosen)
        self._environ = environ
        self._session: dict[str, str] = {}
        self._failure: str | None = None

    # --- state -------------------------------------------------------------------------

    @property
    def secure(self) -> bool:
        """True when keys set now go to a secure OS keyring."""
        return self._backend is not None

    @property
    def backend_name(self) -> str:
        if self._backend is None:
            return "session memory"
        return str(type(self._backend).name)

    @property
    def warning(self) -> str | None:
        """What the person must know about where keys are kept, or None when all is well."""
        if self._backend is None:
            return (f"No secure keyring is available (found {_backend_label(self._offered)}). "
                    "Keys you enter are kept for this session only and will be forgotten "
                    "when the app closes. Unlock or install an OS keyring (GNOME Keyring, "
                    "KWallet, macOS Keychain, Windows Credential Manager), or set the "
                    "provider's environment variable.")
        if self._failure:
            return (f"{self._failure} Keys entered now are kept for this session only and "
                    "will be forgotten when the app closes.")
        return None

    # --- reading -----------------------------------------------------------------------

    def get(self, provider: Provider) -> str | None:
        """The key for `provider`, from the session, the keyring or its env var."""
        return self._lookup(provider)[1]

    def source(self, provider: Provider) -> KeySource:
        return self._lookup(provider)[0]

    def _lookup(self, provider: Provider) -> tuple[KeySource, str | None]:
        session = self._session.get(provider.key_id)
        if session:
            return "session", session
        stored = self._from_keyring(provider.key_id)
        if stored:
            register_secret(stored)
            return "keyring", stored
        if provider.key_env:
            value = self._environ.get(provider.key_env, "").strip()
            if value:
                register_secret(value)
                return "env", value
        return "none", None

    def _from_keyring(self, key_id: str) -> str | None:
        if self._backend is None:
            return None
        try:
            value = self._backend.get_password(SERVICE, key_id)
        except _backend_errors() as err:
            self._failure = f"The keyring could not be read ({_describe(err)})."
            return None
        return value.strip() if isinstance(value, str) and value.strip() else None

    # --- writing -----------------------------------------------------------------------

    def set(self, provider: Provider, key: str) -> None:
        """Store a key for `provider`.

        Raises ConfigError for an empty or multi-line key, and KeyStoreError when the
        keyring refuses it; the key is then kept for this session only.
        """
        key = check_key_text(key)
        register_secret(key)
        if self._backend is None:
            self._session[provider.key_id] = key
            return
        try:
            self._backend.set_password(SERVICE, provider.key_id, key)
        except _backend_errors() as err:
            self._session[provider.key_id] = key
            self._failure = f"The keyring refused to store the key ({_describe(err)})."
            raise KeyStoreError(
                f"Could not save the key for {provider.name} in the keyring "
                f"({_describe(err)}). It is kept for this session only and will be "
                "forgotten when the app closes."
            ) from None
        self._session.pop(provider.key_id, None)

    def delete(self, provider: Provider) -> None:
        """Forget the stored key (keyring and session); the env var is not ours to touch."""
        self._session.pop(provider.key_id, None)
        if self._backend is None:
            return
        from keyring.errors import PasswordDeleteError

        try:
            self._backend.delete_password(SERVICE, provider.key_id)
        except PasswordDeleteError:
            pass  # nothing stored: deleting is already done
        except _backend_errors() as err:
            raise KeyStoreError(
                f"Could not delete the key for {provider.name} from the keyring "
                f"({_describe(err)})."
            ) from None

    # --- credentials split off base URLs ---------------------------------------------

    def url_credentials(self, provider: Provider) -> UrlCredentials | None:
        """What was split off `provider`'s base URL, if it is still that base URL."""
        entry = provider.key_id + URL_CREDENTIALS_SUFFIX
        text = self._session.get(entry) or self._from_keyring(entry)
        creds = UrlCredentials.from_json(text) if text else None
        if creds is None or creds.base_url != provider.base_url.rstrip("/"):
            return None
        for secret in creds.secrets():
            register_secret(secret)
        return creds

    def set_url_credentials(self, provider: Provider, creds: UrlCredentials, *,
                            session_only: bool = False) -> None:
        """Keep `creds` for `provider` (in the keyring unless `session_only`).

        Raises KeyStoreError when the keyring refuses; they are then kept for this
        session only, like a key.
        """
        for secret in creds.secrets():
            register_secret(secret)
        entry = provider.key_id + URL_CREDENTIALS_SUFFIX
        if self._backend is None or session_only:
            self._session[entry] = creds.to_json()
            return
        try:
            self._backend.set_password(SERVICE, entry, creds.to_json())
        except _backend_errors() as err:
            self._session[entry] = creds.to_json()
            self._failure = f"The keyring refused to store credentials ({_describe(err)})."
            raise KeyStoreError(
                f"Could not save the credentials of {provider.name}'s address in the "
                f"keyring ({_describe(err)}). They are kept for this session only."
            ) from None
        self._session.pop(entry, None)

    def delete_url_credentials(self, provider: Provider) -> None:
        entry = provider.key_id + URL_CREDENTIALS_SUFFIX
        self._session.pop(entry, None)
        if self._backend is None:
            return
        from keyring.errors import PasswordDeleteError

        try:
            self._backend.delete_password(SERVICE, entry)
        except PasswordDeleteError:
            pass
        except _backend_errors() as err:
            raise KeyStoreError(
                f"Could not delete the credentials of {provider.name}'s address from the "
                f"keyring ({_describe(err)})."
            ) from None

    # --- display -----------------------------------------------------------------------

    def status_line(self, provider: Provider) -> str:
        """Where the key for `provider` comes from, in words; never any part of the key."""
        source = self.source(provider)
        if source == "keyring":
            return f"{provider.name}: key in the keyring ({self.backend_name})"
        if source == "session":
            return f"{provider.name}: key kept for this session only (forgotten on exit)"
        if source == "env":
            return f"{provider.name}: key from the {provider.key_env} environment variable"
        hint = f" or set {provider.key_env}" if provider.key_env else ""
        optional = " (optional for this endpoint)" if provider.key_optional else ""
        return (f"{provider.name}: no key{optional} — run "
                f"`qwenvl-desktop key set {provider.id}`{hint}")


def check_key_text(key: str) -> str:
    """The key with surrounding whitespace removed; refuses empty and multi-line keys."""
    key = key.strip()
    if not key:
        raise ConfigError("The key is empty.")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in key):
        raise ConfigError("The key contains a line break or control character; "
                          "paste only the key itself.")
    return key


def _describe(err: BaseException) -> str:
    text = redact(str(err)).strip() or type(err).__name__
    return text if len(text) <= 200 else text[:197] + "..."
