"""Which keyring backend may hold keys, and what a failing one means in words.

Only secure backends are accepted. keyring silently picks a *plaintext* file backend
when keyrings.alt is installed, and `fail.Keyring` when there is no D-Bus; neither may
hold a key. A chainer writes to the first member that accepts, which could be a
plaintext one, so it is replaced by its best secure member.

keyring is imported by these functions, not with this module: choosing its backend
imports every backend module and scans the installed packages' entry points.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from .errors import redact
from .i18n import _

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

__all__ = ["KeyringTrouble", "backend_label", "default_backend", "is_secure_backend",
           "select_secure", "timeout_trouble", "trouble_for"]

_INSECURE_NAMES = ("plaintext", "plain_text", "unencrypted", "null", "fail")

# keyring's macOS backend module; its API is loaded through ctypes.
_MACOS_API = "keyring.backends.macOS.api"


def default_backend() -> KeyringBackend:
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


def select_secure(backend: KeyringBackend) -> KeyringBackend | None:
    """The secure backend to use for `backend`, or None."""
    members = _members(backend)
    if members is None:
        return backend if _is_secure_single(backend) else None
    secure = [m for m in members if _members(m) is None and _is_secure_single(m)]
    if not secure:
        return None
    return max(secure, key=_priority)


def is_secure_backend(backend: KeyringBackend) -> bool:
    """True when keys given to `backend` are kept by an encrypted OS store."""
    return select_secure(backend) is not None


def backend_label(backend: KeyringBackend) -> str:
    cls = type(backend)
    return f"{cls.__module__}.{cls.__name__}"


# --- what went wrong ----------------------------------------------------------------------

TroubleKind = Literal["locked", "no-collection", "unavailable", "refused", "timeout"]


@dataclass(frozen=True)
class KeyringTrouble:
    """Why the keyring did not do what was asked: a kind tests can check, and the
    sentence a person reads (what happened, then what to do). Never carries a key."""

    kind: TroubleKind
    reason: str



# D-Bus error names that mean the keyring service is gone or not answering.
_GONE_NAMES = ("ServiceUnknown", "NoReply", "Disconnected", "NameHasNoOwner", "Spawn.",
               "NoServer", "Timeout", "TimedOut")


def _class_names(err: BaseException) -> set[str]:
    return {cls.__name__ for cls in type(err).__mro__}


def _chain(err: BaseException) -> list[BaseException]:
    """`err` and the exceptions it was raised from, outermost first."""
    seen: list[BaseException] = []
    current: BaseException | None = err
    while current is not None and current not in seen and len(seen) < 8:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _detail(err: BaseException) -> str:
    text = redact(str(err)).strip() or type(err).__name__
    return text if len(text) <= 160 else text[:157] + "..."


def trouble_for(err: BaseException) -> KeyringTrouble:
    """Classify an exception a keyring backend raised.

    Matched by class name along the exception chain, so SecretStorage and jeepney
    (Linux-only, untyped) need not be imported to recognise their errors.
    """
    chain = _chain(err)
    names = set().union(*(_class_names(e) for e in chain))
    if names & {"KeyringLocked", "LockedException", "PromptDismissedException"}:
        if "InitError" in _class_names(err):
            return KeyringTrouble(
                "no-collection",
                _("The keyring has no default collection to keep keys in, and creating one "
                  "was declined or could not be asked for. Create a default keyring (in "
                  "your desktop's Passwords and Keys) and try again."))
        return KeyringTrouble(
            "locked", _("The keyring is locked and was not unlocked (the unlock prompt was "
                        "declined or could not be shown). Unlock it (in your desktop's "
                        "Passwords and Keys, or by logging in again) and try again."))
    dbus_names = [str(getattr(e, "name", "")) for e in chain
                  if "DBusErrorResponse" in _class_names(e)]
    gone = (names & {"SecretServiceNotAvailableException", "ConnectionError", "EOFError",
                     "BrokenPipeError", "ConnectionResetError", "ConnectionRefusedError"}
            or any(part in name for name in dbus_names for part in _GONE_NAMES))
    if gone:
        return KeyringTrouble(
            "unavailable", _("The keyring service is not answering ({detail}); it may have "
                             "stopped. Log out and in again (or start your keyring) and try "
                             "again.").format(detail=_detail(err)))
    return KeyringTrouble("refused", _("The keyring refused it ({detail}).").format(
        detail=_detail(err)))


def timeout_trouble(seconds: float) -> KeyringTrouble:
    return KeyringTrouble(
        "timeout", _("The keyring did not answer within {seconds} s: it may be waiting for "
                     "you to unlock it, or the keyring service has hung.").format(
                         seconds=f"{seconds:g}"))
