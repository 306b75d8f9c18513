"""What kind of failure an error is, for code that must act on it (not for reading).

The window offers "Add key…" for a missing key, the status bar words a refusal,
tests check what happened — by `ErrorKind`, derived from the one error tree in
`errors.py`, never by looking for words in the explained text (which can change, and
which carries the provider's own message).
"""

from __future__ import annotations

import asyncio
import enum

from .errors import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    BusyError,
    CancelledByUser,
    ConfigError,
    CreditsError,
    InputError,
    InterruptedStream,
    KeyStoreError,
    MalformedStream,
    MissingKeyError,
    NetworkError,
    NotFoundError,
    PermissionError_,
    ProviderError,
    RateLimitError,
    ServerError,
    StreamError,
    StreamErrorEvent,
    TimeoutError_,
)

__all__ = ["ErrorKind", "error_kind"]


class ErrorKind(enum.Enum):
    MISSING_KEY = "missing-key"
    KEY_REJECTED = "key-rejected"          # 401/403: wrong key, region or access
    CREDITS = "credits"
    RATE_LIMITED = "rate-limited"
    BAD_REQUEST = "bad-request"
    NOT_FOUND = "not-found"
    SERVER = "server"
    PROVIDER = "provider"                  # any other status, or an error event
    TIMEOUT = "timeout"
    NETWORK = "network"
    INTERRUPTED = "interrupted"
    MALFORMED = "malformed"
    STOPPED = "stopped"
    KEYRING = "keyring"
    INPUT = "input"                        # an image or file the person gave
    CONFIG = "config"                      # a setting, provider, model or parameter
    BUSY = "busy"
    UNEXPECTED = "unexpected"              # not one of ours: a bug

    @property
    def about_keys(self) -> bool:
        """Settings › Keys is where the person fixes it."""
        return self in (ErrorKind.MISSING_KEY, ErrorKind.KEY_REJECTED)


# Most specific first: the first class an error is an instance of decides its kind.
_KINDS: tuple[tuple[type[BaseException] | tuple[type[BaseException], ...], ErrorKind], ...] = (
    ((CancelledByUser, asyncio.CancelledError, KeyboardInterrupt), ErrorKind.STOPPED),
    (MissingKeyError, ErrorKind.MISSING_KEY),
    ((AuthenticationError, PermissionError_), ErrorKind.KEY_REJECTED),
    (CreditsError, ErrorKind.CREDITS),
    (RateLimitError, ErrorKind.RATE_LIMITED),
    (BadRequestError, ErrorKind.BAD_REQUEST),
    (NotFoundError, ErrorKind.NOT_FOUND),
    (ServerError, ErrorKind.SERVER),
    ((StreamErrorEvent, APIStatusError), ErrorKind.PROVIDER),
    (TimeoutError_, ErrorKind.TIMEOUT),
    (NetworkError, ErrorKind.NETWORK),
    (MalformedStream, ErrorKind.MALFORMED),
    ((InterruptedStream, StreamError), ErrorKind.INTERRUPTED),
    (ProviderError, ErrorKind.PROVIDER),
    (KeyStoreError, ErrorKind.KEYRING),
    (InputError, ErrorKind.INPUT),
    (ConfigError, ErrorKind.CONFIG),
    (BusyError, ErrorKind.BUSY),
)


def error_kind(exc: BaseException) -> ErrorKind:
    for classes, kind in _KINDS:
        if isinstance(exc, classes):
            return kind
    return ErrorKind.UNEXPECTED
