"""API keys: the OS keyring, the provider's environment variable, or this session only.

One keyring entry per provider `key_id` under the service "qwenvl-desktop"; DashScope
keys are region-locked, so each region has its own entry. When no entry exists, the
provider's environment variable (e.g. DASHSCOPE_API_KEY) is used. Only secure backends
are accepted (`keyring_backend`); without one, keys are kept in memory for the session
and `warning` says they will be forgotten when the app closes. Every key seen is
registered with `errors.register_secret` so `redact` strips it from any text.

The keyring is never asked on the caller's thread and never waited for longer than
`wait` seconds (`keyring_access`): an unlock prompt nobody answers, or a Secret
Service that stopped answering, costs the window half a second once, never a freeze.
Keyring's backend is chosen in the background from construction on (importing it and
its backends took 0.1-0.4 s here); the first use waits for that, at most `choice_wait`.
Keys read are kept in memory for the session, so asking for one (twice per send) is a
dictionary look-up; `prefetch` reads every provider's entry in the background at start.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Literal

from .catalog import Provider
from .errors import (
    KeyringUnavailableError,
    MissingKeyError,
    NoSecureKeyringError,
    register_secret,
)
from .i18n import _
from .keyring_access import CHOICE_WAIT, SERVICE, KeyringAccess, check_key_text
from .keyring_backend import KeyringTrouble, is_secure_backend
from .url_credentials import UrlCredentials

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

__all__ = ["SERVICE", "TERMINAL_WAIT", "URL_CREDENTIALS_SUFFIX", "WINDOW_WAIT", "KeySource",
           "KeyStore", "check_key_text", "env_advice", "is_secure_backend"]

URL_CREDENTIALS_SUFFIX = "#url-credentials"
"""The keyring entry `<key_id>#url-credentials` holds what was split off a provider's
base URL (`url_credentials.UrlCredentials`, as JSON), next to its key."""

KeySource = Literal["keyring", "session", "env", "none"]

# The longest the window waits for the keyring before carrying on without it. Calls
# to an unlocked GNOME Keyring take 4-40 ms here (the first one opens the D-Bus
# session); a call still running after this is waiting for a person or has hung.
WINDOW_WAIT = 0.5
# The terminal command can wait for the person to answer an unlock prompt.
TERMINAL_WAIT = 60.0


class KeyStore:
    """Where each provider's key comes from; never writes one to disk except through a
    secure keyring."""

    def __init__(self, backend: KeyringBackend | None = None,
                 environ: Mapping[str, str] = os.environ, *, wait: float = WINDOW_WAIT,
                 choice_wait: float = CHOICE_WAIT) -> None:
        """`backend`: None for keyring's own choice, made in the background from now on.
        `wait`: the longest a keyring call is waited for; `choice_wait`: the longest the
        first use waits for the backend to be chosen (imports, a D-Bus question)."""
        self._environ = environ
        self._keyring = KeyringAccess(backend, wait, choice_wait)

    # --- state -------------------------------------------------------------------------

    @property
    def secure(self) -> bool:
        """True when keys set now go to a secure OS keyring."""
        return self._keyring.secure

    @property
    def backend_name(self) -> str:
        return self._keyring.backend_name

    @property
    def backend_label(self) -> str:
        """The backend's module and class, e.g. keyring.backends.SecretService.Keyring."""
        return self._keyring.backend_label

    @property
    def trouble(self) -> KeyringTrouble | None:
        """What went wrong the last time the keyring was asked, if anything."""
        return self._keyring.trouble

    @property
    def warning(self) -> str | None:
        """What the person must know about where keys are kept, or None when all is well."""
        trouble = self.trouble
        if trouble is not None:
            return trouble.reason + _(" Keys entered now are kept for this session only and "
                                      "will be forgotten when the app closes.")
        if not self.secure:
            return _("No secure keyring is available (found {backend}). Keys you enter are "
                     "kept for this session only and will be forgotten when the app closes. "
                     "Unlock or install an OS keyring (GNOME Keyring, KWallet, macOS "
                     "Keychain, Windows Credential Manager), or set the provider's "
                     "environment variable.").format(backend=self.backend_label)
        return None

    @property
    def terminal_warning(self) -> str | None:
        """`warning` for a terminal command, where a session-only key means nothing."""
        trouble = self.trouble
        if trouble is not None:
            return trouble.reason
        if not self.secure:
            return (f"No secure keyring is available (found {self.backend_label}), so "
                    "`key set` cannot save keys here; use the provider's environment "
                    "variable.")
        return None

    # --- background news ---------------------------------------------------------------

    def prefetch(self, key_ids: Iterable[str]) -> None:
        """Read these keyring entries in the background (listeners are told when done)."""
        self._keyring.prefetch(key_ids)

    def reload(self) -> None:
        """Forget and read every entry again (after the person unlocked the keyring)."""
        self._keyring.reload()

    def refresh(self) -> None:
        """Read every entry again in the background, serving the old answers meanwhile
        (the window does this when it becomes active: keys may have changed elsewhere)."""
        self._keyring.refresh()

    def add_listener(self, callback: Callable[[], None]) -> Callable[[], None]:
        """`callback()` runs on the keyring's worker thread whenever it answered in the
        background; returns a function that removes it."""
        return self._keyring.add_listener(callback)

    def wait_idle(self, timeout: float) -> bool:
        """Wait until every keyring call made so far has ended (tests)."""
        return self._keyring.wait_idle(timeout)

    @staticmethod
    def entries_for(providers: Iterable[Provider]) -> list[str]:
        """The keyring entries `providers` use (for `prefetch`): each one's key and the
        credentials split off its base URL."""
        return [entry for p in providers
                for entry in (p.key_id, p.key_id + URL_CREDENTIALS_SUFFIX)]

    # --- reading -----------------------------------------------------------------------

    def get(self, provider: Provider) -> str | None:
        """The key for `provider`, from the session, the keyring or its env var."""
        return self._lookup(provider)[1]

    def source(self, provider: Provider) -> KeySource:
        return self._lookup(provider)[0]

    def key_for_request(self, provider: Provider) -> str | None:
        """The key to send to `provider` (None when it needs none and has none).

        Raises MissingKeyError when there is no key anywhere, and KeyringUnavailableError
        when the keyring could not be asked (locked, gone, not answering in time): then
        "no key" would be wrong, since one may well be stored.
        """
        key = self.get(provider)
        if key is None and not provider.key_optional and self._keyring.known(provider.key_id):
            # None when last read; a terminal's `key set` may have saved one since. A send
            # without a key fails anyway, so this one bounded read costs nothing.
            self._keyring.read_again(provider.key_id)
            key = self.get(provider)
        if key is not None or provider.key_optional:
            return key
        trouble = self.trouble
        if trouble is not None and not self._keyring.known(provider.key_id):
            raise KeyringUnavailableError(
                f"Could not read the key for {provider.name} from the keyring. "
                f"{trouble.reason}", trouble=trouble.kind, reason=trouble.reason)
        raise MissingKeyError(provider.name, provider.key_env, provider.id)

    def _lookup(self, provider: Provider) -> tuple[KeySource, str | None]:
        session = self._keyring.session_key(provider.key_id)
        if session:
            return "session", session
        stored = self._keyring.stored(provider.key_id)
        if stored:
            return "keyring", stored
        if provider.key_env:
            value = self._environ.get(provider.key_env, "").strip()
            if value:
                register_secret(value)
                return "env", value
        return "none", None

    # --- writing -----------------------------------------------------------------------

    def set(self, provider: Provider, key: str) -> None:
        """Store a key for `provider`.

        Raises ConfigError for an empty or multi-line key, and KeyringUnavailableError
        when the keyring refuses it, is locked or does not answer in time; the key is
        then kept for this session (and saved if the keyring answers later).
        """
        key = check_key_text(key)
        register_secret(key)
        outcome = self._keyring.save(provider.key_id, key)
        if outcome.trouble is None:
            return
        later = (_(" If the keyring answers later, the key is saved then.")
                 if outcome.pending else "")
        raise KeyringUnavailableError(
            _("Could not save the key for {provider} in the keyring. {reason} The key is kept "
              "for this session only and will be forgotten when the app closes.").format(
                  provider=provider.name, reason=outcome.trouble.reason) + later,
            trouble=outcome.trouble.kind, reason=outcome.trouble.reason)

    def delete(self, provider: Provider) -> None:
        """Forget the stored key (keyring and session); the env var is not ours to touch."""
        outcome = self._keyring.remove(provider.key_id)
        if outcome.trouble is None:
            return
        later = (_(" If the keyring answers later, the key is deleted then.")
                 if outcome.pending else "")
        raise KeyringUnavailableError(
            _("Could not delete the key for {provider} from the keyring. {reason}").format(
                provider=provider.name, reason=outcome.trouble.reason) + later,
            trouble=outcome.trouble.kind, reason=outcome.trouble.reason)

    def require_secure(self, provider: Provider) -> None:
        """Raise NoSecureKeyringError when a key for `provider` could only be kept for
        this session (what `key set` in a terminal must refuse)."""
        if self.secure:
            return
        raise NoSecureKeyringError(
            f"No secure keyring is available here (found {self.backend_label}), so the key "
            f"for {provider.name} was not saved: a key kept for this session would be gone "
            f"when this command exits. {env_advice(provider)}")

    # --- credentials split off base URLs ---------------------------------------------

    def url_credentials(self, provider: Provider) -> UrlCredentials | None:
        """What was split off `provider`'s base URL, if it is still that base URL.
        Served from memory once read, like keys (it is asked for every request)."""
        entry = provider.key_id + URL_CREDENTIALS_SUFFIX
        text = self._keyring.session_key(entry) or self._keyring.stored(entry)
        creds = UrlCredentials.from_json(text) if text else None
        if creds is None or creds.base_url != provider.base_url.rstrip("/"):
            return None
        for secret in creds.secrets():
            register_secret(secret)
        return creds

    def set_url_credentials(self, provider: Provider, creds: UrlCredentials, *,
                            session_only: bool = False) -> None:
        """Keep `creds` for `provider` (in the keyring unless `session_only`).

        Raises KeyringUnavailableError when the keyring refuses, is locked or does not
        answer in time; they are then kept for this session only, like a key.
        """
        for secret in creds.secrets():
            register_secret(secret)
        entry = provider.key_id + URL_CREDENTIALS_SUFFIX
        if session_only:
            self._keyring.keep_for_session(entry, creds.to_json())
            return
        outcome = self._keyring.save(entry, creds.to_json())
        if outcome.trouble is None:
            return
        raise KeyringUnavailableError(
            _("Could not save the credentials of {provider}'s address in the keyring. {reason} "
              "They are kept for this session only.").format(provider=provider.name,
                                                             reason=outcome.trouble.reason),
            trouble=outcome.trouble.kind, reason=outcome.trouble.reason)

    def delete_url_credentials(self, provider: Provider) -> None:
        entry = provider.key_id + URL_CREDENTIALS_SUFFIX
        outcome = self._keyring.remove(entry)
        if outcome.trouble is None:
            return
        raise KeyringUnavailableError(
            _("Could not delete the credentials of {provider}'s address from the keyring. "
              "{reason}").format(provider=provider.name, reason=outcome.trouble.reason),
            trouble=outcome.trouble.kind, reason=outcome.trouble.reason)

    # --- display -----------------------------------------------------------------------

    def status_line(self, provider: Provider) -> str:
        """Where the key for `provider` comes from, in words; never any part of the key."""
        source = self.source(provider)
        name = provider.name
        if source == "keyring":
            return _("{provider}: key in the keyring ({backend})").format(
                provider=name, backend=self.backend_name)
        if source == "session":
            return _("{provider}: key kept for this session only (forgotten on exit)").format(
                provider=name)
        if source == "env":
            return _("{provider}: key from the {env_var} environment variable").format(
                provider=name, env_var=provider.key_env)
        if self._keyring.unusable(provider.key_id):
            return _("{provider}: the key stored in the keyring is unusable (it has a line "
                     "break or control character); replace it with `{command}`").format(
                         provider=name, command=f"qwenvl-desktop key set {provider.id}")
        no_key = (_("{provider}: no key (optional for this endpoint)") if provider.key_optional
                  else _("{provider}: no key")).format(provider=name)
        # Suggest `key set` only where it can work now.
        if self.secure and self.trouble is None:
            command = f"qwenvl-desktop key set {provider.id}"
            if provider.key_env:
                return _("{no_key} — run `{command}` or set {env_var}").format(
                    no_key=no_key, command=command, env_var=provider.key_env)
            return _("{no_key} — run `{command}`").format(no_key=no_key, command=command)
        if provider.key_env:
            return _("{no_key} — set {env_var}").format(no_key=no_key, env_var=provider.key_env)
        return no_key


def env_advice(provider: Provider) -> str:
    """How to give `provider` a key without a keyring, in one sentence."""
    if provider.key_env:
        var = provider.key_env
        return (f"Set {var} in the environment instead; in bash, `read -rs {var} && export "
                f"{var}` keeps it out of your shell history.")
    return ("This endpoint has no environment variable for its key: give it one in "
            "Settings › Endpoints, or enter the key in the window (kept for the session).")
