"""Every error Qwen-VL Desktop raises on purpose, and the words a person reads for it.

The tree (the CLI's exit codes and the window's inline messages both come from it)::

    QwenVLError
    ├── ConfigError                 bad settings, unknown provider/model, bad parameter
    │   └── ParameterError          a parameter the provider refuses or an out-of-range value
    ├── BusyError                   the conversation is answering; the action must wait
    ├── KeyStoreError               keyring trouble                                  (exit 8)
    │   ├── NoSecureKeyringError    only a session keyring here: `key set` cannot save
    │   ├── KeyringUnavailableError locked, refused, gone or not answering in time
    │   └── MissingKeyError         no key for this provider anywhere                (exit 3)
    ├── InputError                  a file or image the person gave us is unusable   (exit 7)
    │   ├── ImageError              unsupported, corrupt, too small/large, bomb, ...
    │   ├── DocumentError           a PDF that is encrypted, corrupt, empty or too large
    │   ├── VideoError              a video that is corrupt, empty, audio-only, undecodable
    │   └── ConversationFileError   corrupt, not ours, or from a newer version
    └── ProviderError               anything that went wrong talking to a provider
        ├── NetworkError            connect failure, TLS, DNS                        (exit 6)
        │   └── TimeoutError_       connect or idle-read timeout                     (exit 6)
        ├── StreamError             the answer broke off or was unreadable           (exit 6)
        │   ├── InterruptedStream   ended without a finish reason; carries the partial text
        │   └── MalformedStream     bytes that are not the provider's wire format
        ├── ModelListError          a model list that is not one (HTML, empty, huge)   (exit 5)
        ├── CancelledByUser         the person pressed Stop / Ctrl-C                 (exit 130)
        └── APIStatusError          the provider answered with an error              (exit 5)
            ├── BadRequestError     400/413/422, image rejected, context too long
            │   └── ContentFilterError  the provider's content moderation refused it
            ├── AuthenticationError 401 (or a wrong-region DashScope key)            (exit 3)
            ├── PermissionError_    403                                              (exit 3)
            ├── CreditsError        402/406, AI/ML API's 403 "out of credits"        (exit 3)
            ├── NotFoundError       404: model or endpoint not found
            │   └── ModelRetiredError   410 Gone: the model was retired
            ├── RateLimitError      429, still after retries                         (exit 4)
            ├── ServerError         5xx / gateway HTML
            └── StreamErrorEvent    an error object inside an HTTP 200 stream

Every error carries a `kind` (a stable name such as "auth" or "moderation") and, for
provider errors, structured facts: which provider and endpoint, the key's environment
variable, the wait the provider asked for, the provider's own words. `error_facts.facts`
gathers them; each front end words the advice in its own terms (the terminal names its
options and commands, the window its panels). `explain(exc)` is the single place that
joins what happened and what to do, in the voice the front end chose (`use_advice`).

The sentences are in the language the window chose (`core.i18n`): an exception's message
is translated when it is raised, the advice when `explain` words it. The provider's own
words inside them stay as the provider wrote them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from .i18n import _

if TYPE_CHECKING:
    from .error_facts import ErrorFacts

__all__ = [
    "APIStatusError",
    "Advice",
    "AuthenticationError",
    "BadRequestError",
    "BusyError",
    "CancelledByUser",
    "ConfigError",
    "ContentFilterError",
    "ConversationFileError",
    "CreditsError",
    "DocumentError",
    "ImageError",
    "InputError",
    "InterruptedStream",
    "KeyStoreError",
    "KeyringUnavailableError",
    "MalformedStream",
    "MissingKeyError",
    "ModelListError",
    "ModelRetiredError",
    "NetworkError",
    "NoSecureKeyringError",
    "NotFoundError",
    "ParameterError",
    "PermissionError_",
    "ProviderError",
    "QwenVLError",
    "RateLimitError",
    "ServerError",
    "StreamError",
    "StreamErrorEvent",
    "TimeoutError_",
    "VideoError",
    "exit_code_for",
    "explain",
    "redact",
    "use_advice",
]


class QwenVLError(Exception):
    """Base of every error raised on purpose by Qwen-VL Desktop."""

    kind = "error"
    """A stable name for what went wrong; front ends choose their words by it."""

    def __init__(self, message: str) -> None:
        super().__init__(redact(message))
        self.message = redact(message)

    def __str__(self) -> str:
        return self.message


class ConfigError(QwenVLError):
    """Settings, provider or model choice that cannot work."""

    kind = "config"


class ParameterError(ConfigError):
    """A request parameter the chosen provider/model does not accept."""

    kind = "parameter"


class BusyError(QwenVLError):
    """The conversation is still answering: stop it or wait before doing this."""

    kind = "busy"


class KeyStoreError(QwenVLError):
    """The OS keyring could not store or read a key."""

    kind = "keystore"


class NoSecureKeyringError(KeyStoreError):
    """Keys could only be kept for this session: there is no secure keyring here."""

    kind = "no_secure_keyring"


class KeyringUnavailableError(KeyStoreError):
    """The keyring is locked, refused, went away or did not answer in time.

    `trouble` is the kind (see `keyring_backend.KeyringTrouble`), `reason` the
    sentence that says what happened and what to do."""

    kind = "keyring_unavailable"

    def __init__(self, message: str, *, trouble: str, reason: str) -> None:
        super().__init__(message)
        self.trouble = trouble
        self.reason = redact(reason)


class MissingKeyError(KeyStoreError):
    """No key for the provider in the keyring, the session or the environment."""

    kind = "missing_key"

    def __init__(self, provider_name: str, env_var: str | None,
                 provider_id: str = "") -> None:
        super().__init__(_("No API key for {provider}.").format(provider=provider_name))
        self.provider_name = provider_name
        self.env_var = env_var
        self.provider = provider_id


class InputError(QwenVLError):
    """A file, image or document given by the person that we cannot use."""

    kind = "input"

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(_("{name}: {reason}").format(name=name, reason=reason))
        self.name = name
        self.reason = reason


class ImageError(InputError):
    """An image that cannot be sent (format, size, corruption, decompression bomb)."""


class DocumentError(InputError):
    """A document (PDF) whose pages cannot be rendered."""


class VideoError(InputError):
    """A video whose frames cannot be decoded."""


class ConversationFileError(InputError):
    """A saved conversation that cannot be read: corrupt, foreign, or too new."""


class ProviderError(QwenVLError):
    """Something went wrong talking to a provider."""

    kind = "provider"

    def __init__(self, message: str, *, provider: str = "", partial_text: str = "",
                 partial_reasoning: str = "") -> None:
        super().__init__(message)
        self.provider = provider
        # What had already arrived when the error struck; the UI and the CLI keep it.
        self.partial_text = partial_text
        self.partial_reasoning = partial_reasoning
        # Filled in by the client (`set_context`): who was asked, for which model.
        self.provider_name = ""
        self.endpoint = ""
        self.env_var = ""
        self.model = ""
        self.region_locked = False
        self.bills_refused = True

    def set_context(self, *, provider: str, provider_name: str, endpoint: str,
                    env_var: str, model: str = "", region_locked: bool = False,
                    bills_refused: bool = True) -> None:
        """Record who was asked (keeps what is already set, such as the provider id)."""
        self.provider = self.provider or provider
        self.provider_name = self.provider_name or provider_name
        self.endpoint = self.endpoint or endpoint
        self.env_var = self.env_var or env_var
        self.model = self.model or model
        self.region_locked = self.region_locked or region_locked
        self.bills_refused = self.bills_refused and bills_refused


class NetworkError(ProviderError):
    """The provider could not be reached (DNS, connect, TLS, connection reset)."""

    kind = "network"


class TimeoutError_(NetworkError):
    """No connection, or no byte of the answer, within the configured time."""

    kind = "timeout"


class StreamError(ProviderError):
    """The streamed answer broke off or could not be read."""

    kind = "stream"


class InterruptedStream(StreamError):
    """The stream ended (EOF or reset) before the provider sent a finish reason."""

    kind = "interrupted"


class MalformedStream(StreamError):
    """The provider sent bytes that are not its documented wire format."""

    kind = "malformed"


class ModelListError(ProviderError):
    """A provider's model list that cannot be used; the previous list is kept."""

    kind = "model_list"


class CancelledByUser(ProviderError):
    """The person stopped the answer."""

    kind = "cancelled"


class APIStatusError(ProviderError):
    """The provider answered with an error status (or an error event)."""

    kind = "api"

    def __init__(self, message: str, *, status: int, provider: str = "", code: str = "",
                 error_type: str = "", retry_after: float | None = None,
                 partial_text: str = "", partial_reasoning: str = "",
                 kind: str = "", subject: str = "") -> None:
        super().__init__(message, provider=provider, partial_text=partial_text,
                         partial_reasoning=partial_reasoning)
        self.status = status
        self.code = code
        self.error_type = error_type
        self.retry_after = retry_after
        if kind:
            self.kind = kind
        # Content moderation: what was refused ("input text", "input image", "output").
        self.subject = subject


class BadRequestError(APIStatusError):
    """400/413/422: the request itself was refused (bad parameter, image, too long)."""

    kind = "bad_request"


class ContentFilterError(BadRequestError):
    """The provider's content moderation refused the question, an image or the answer."""

    kind = "moderation"


class AuthenticationError(APIStatusError):
    """401: the key is wrong, revoked, or (DashScope) from another region."""

    kind = "auth"


class PermissionError_(APIStatusError):
    """403: the key may not use this model or endpoint."""

    kind = "permission"


class CreditsError(APIStatusError):
    """402/406 or a 403 that says the account is out of credits."""

    kind = "credits"


class NotFoundError(APIStatusError):
    """404: model or endpoint not found."""

    kind = "not_found"


class ModelRetiredError(NotFoundError):
    """410 Gone: the provider retired the model."""

    kind = "model_retired"


class RateLimitError(APIStatusError):
    """429: too many requests (still, after our retries)."""

    kind = "rate_limit"


class ServerError(APIStatusError):
    """5xx, gateway errors and HTML error pages."""

    kind = "server"


class StreamErrorEvent(APIStatusError):
    """An error object that arrived inside an HTTP 200 stream."""

    kind = "stream_error"


# --- secrets never leave through error text ------------------------------------------

_SECRET_PATTERNS = [
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._\-+/=]{8,}"),
    # "key: value" pairs; the value must hold a digit so that prose such as DashScope's
    # "invalid_api_key: Incorrect API key provided" is left readable.
    re.compile(r"(?i)((?:x-api-key|api[_-]?key|authorization|access[_-]?token)[\"']?\s*[:=]\s*[\"']?)"
               r"(?=[A-Za-z._\-+/=]*\d)[A-Za-z0-9._\-+/=]{8,}"),
    re.compile(r"\bsk-[A-Za-z0-9_\-]{8,}"),
    # URLs: a user name and password before the host, and query parameters that carry
    # secrets (see `url_credentials`; people paste gateway URLs with both).
    re.compile(r"(?i)(\b[a-z][a-z0-9+.\-]*://)[^/\s@?#]+(?=@)"),
    re.compile(r"(?i)([?&](?:[a-z0-9_\-]*(?:key|token|secret|password|signature)|sig|auth|"
               r"passwd|pwd|pass|code|subscription-key)=)[^&#\s\"'<>]+"),
]

_registered_secrets: set[str] = set()


def register_secret(value: str) -> None:
    """Remember a key so that `redact` removes it from any text, whatever its shape."""
    if value and len(value) >= 6:
        _registered_secrets.add(value)


def redact(text: str) -> str:
    """Remove API keys from text that may end up on screen, in logs or in files."""
    for secret in _registered_secrets:
        if secret in text:
            text = text.replace(secret, "[redacted]")
    for pattern in _SECRET_PATTERNS:
        if pattern.groups:
            text = pattern.sub(lambda m: m.group(1) + "[redacted]", text)
        else:
            text = pattern.sub("[redacted]", text)
    return text


# --- one voice, worded by the front end -----------------------------------------------

Advice = Callable[["ErrorFacts"], str]
"""Turns an error's facts into what the person should do, in one front end's terms."""

_advice: Advice | None = None


def use_advice(advice: Advice | None) -> Advice | None:
    """Make `advice` the voice `explain` uses by default; returns the previous one.

    The window and the terminal each set theirs where they start; None restores the
    core's own wording, which names no window panel and no command-line option.
    """
    global _advice
    previous, _advice = _advice, advice
    return previous


def explain(exc: BaseException, advice: Advice | None = None) -> str:
    """The sentence a person reads for any exception: what happened, then what to do."""
    from .error_facts import facts, generic_advice

    found = facts(exc)
    voice = advice or _advice or generic_advice
    text = found.what
    hint = voice(found)
    if hint and hint not in text:
        ended = text.rstrip()
        if ended.endswith("."):
            text = f"{ended} {hint}"
        elif ended.endswith(("。", "！", "？")):
            # Chinese sentences follow one another without a space.
            text = f"{ended}{hint}"
        else:
            text = f"{ended} — {hint}"
    return redact(text)


def exit_code_for(exc: BaseException) -> int:
    """The terminal command's exit code for an exception (documented in the README)."""
    if isinstance(exc, CancelledByUser | KeyboardInterrupt):
        return 130
    if isinstance(exc, AuthenticationError | PermissionError_ | CreditsError | MissingKeyError):
        return 3
    if isinstance(exc, RateLimitError):
        return 4
    if isinstance(exc, NetworkError | StreamError):
        return 6
    if isinstance(exc, InputError):
        return 7
    if isinstance(exc, ConfigError):
        return 2
    if isinstance(exc, KeyStoreError):
        return 8
    if isinstance(exc, APIStatusError | ProviderError):
        return 5
    return 1
