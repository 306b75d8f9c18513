"""Every error Qwen-VL Desktop raises on purpose, and the words a person reads for it.

The tree (the CLI's exit codes and the window's inline messages both come from it)::

    QwenVLError
    ├── ConfigError                 bad settings, unknown provider/model, bad parameter
    │   └── ParameterError          a parameter the provider refuses or an out-of-range value
    ├── KeyStoreError               keyring trouble (no secure backend, locked, refused)
    │   └── MissingKeyError         no key for this provider anywhere
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
        ├── CancelledByUser         the person pressed Stop / Ctrl-C                 (exit 130)
        └── APIStatusError          the provider answered with an error              (exit 5)
            ├── BadRequestError     400/413/422, image rejected, context too long
            ├── AuthenticationError 401 (or a wrong-region DashScope key)            (exit 3)
            ├── PermissionError_    403                                              (exit 3)
            ├── CreditsError        402/406, AI/ML API's 403 "out of credits"        (exit 3)
            ├── NotFoundError       404: model or endpoint not found
            ├── RateLimitError      429, still after retries                         (exit 4)
            ├── ServerError         5xx / gateway HTML
            └── StreamErrorEvent    an error object inside an HTTP 200 stream

`explain(exc)` is the single place that turns any exception into the sentence shown
to a person: the provider's own message plus what to do about it.
"""

from __future__ import annotations

import re

__all__ = [
    "APIStatusError",
    "AuthenticationError",
    "BadRequestError",
    "CancelledByUser",
    "ConfigError",
    "ConversationFileError",
    "CreditsError",
    "DocumentError",
    "ImageError",
    "InputError",
    "InterruptedStream",
    "KeyStoreError",
    "MalformedStream",
    "MissingKeyError",
    "NetworkError",
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
]


class QwenVLError(Exception):
    """Base of every error raised on purpose by Qwen-VL Desktop."""

    def __init__(self, message: str) -> None:
        super().__init__(redact(message))
        self.message = redact(message)

    def __str__(self) -> str:
        return self.message


class ConfigError(QwenVLError):
    """Settings, provider or model choice that cannot work."""


class ParameterError(ConfigError):
    """A request parameter the chosen provider/model does not accept."""


class KeyStoreError(QwenVLError):
    """The OS keyring could not store or read a key."""


class MissingKeyError(KeyStoreError):
    """No key for the provider in the keyring, the session or the environment."""

    def __init__(self, provider_name: str, env_var: str | None) -> None:
        hint = f" or set the {env_var} environment variable" if env_var else ""
        super().__init__(
            f"No API key for {provider_name}. Add one in Settings › Keys "
            f"(terminal: `qwenvl-desktop key set …`){hint}."
        )
        self.provider_name = provider_name
        self.env_var = env_var


class InputError(QwenVLError):
    """A file, image or document given by the person that we cannot use."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"{name}: {reason}")
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

    def __init__(self, message: str, *, provider: str = "", partial_text: str = "",
                 partial_reasoning: str = "") -> None:
        super().__init__(message)
        self.provider = provider
        # What had already arrived when the error struck; the UI and the CLI keep it.
        self.partial_text = partial_text
        self.partial_reasoning = partial_reasoning


class NetworkError(ProviderError):
    """The provider could not be reached (DNS, connect, TLS, connection reset)."""


class TimeoutError_(NetworkError):
    """No connection, or no byte of the answer, within the configured time."""


class StreamError(ProviderError):
    """The streamed answer broke off or could not be read."""


class InterruptedStream(StreamError):
    """The stream ended (EOF or reset) before the provider sent a finish reason."""


class MalformedStream(StreamError):
    """The provider sent bytes that are not its documented wire format."""


class CancelledByUser(ProviderError):
    """The person stopped the answer."""


class APIStatusError(ProviderError):
    """The provider answered with an error status (or an error event)."""

    def __init__(self, message: str, *, status: int, provider: str = "", code: str = "",
                 error_type: str = "", retry_after: float | None = None,
                 partial_text: str = "", partial_reasoning: str = "") -> None:
        super().__init__(message, provider=provider, partial_text=partial_text,
                         partial_reasoning=partial_reasoning)
        self.status = status
        self.code = code
        self.error_type = error_type
        self.retry_after = retry_after


class BadRequestError(APIStatusError):
    """400/413/422: the request itself was refused (bad parameter, image, too long)."""


class AuthenticationError(APIStatusError):
    """401: the key is wrong, revoked, or (DashScope) from another region."""


class PermissionError_(APIStatusError):
    """403: the key may not use this model or endpoint."""


class CreditsError(APIStatusError):
    """402/406 or a 403 that says the account is out of credits."""


class NotFoundError(APIStatusError):
    """404: model or endpoint not found."""


class RateLimitError(APIStatusError):
    """429: too many requests (still, after our retries)."""


class ServerError(APIStatusError):
    """5xx, gateway errors and HTML error pages."""


class StreamErrorEvent(APIStatusError):
    """An error object that arrived inside an HTTP 200 stream."""


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


# --- one voice -------------------------------------------------------------------------

def _what_to_do(exc: BaseException) -> str:
    if isinstance(exc, AuthenticationError):
        if exc.provider.startswith("dashscope"):
            return ("Check the key. DashScope keys are tied to a region: a Singapore key "
                    "does not work in Virginia or Beijing. Pick the region the key was made in, "
                    "or replace the key in Settings › Keys.")
        return "Check or replace the key in Settings › Keys."
    if isinstance(exc, CreditsError):
        return "The account is out of credits or its quota; top it up with the provider."
    if isinstance(exc, PermissionError_):
        return "This key may not use this model or endpoint; check the account's access."
    if isinstance(exc, RateLimitError):
        wait = f" (the provider asked to wait {exc.retry_after:g} s)" if exc.retry_after else ""
        return f"The provider is rate-limiting requests{wait}; wait a moment and retry."
    if isinstance(exc, NotFoundError):
        return ("The model or endpoint was not found; check the model name and the region, "
                "or the base URL of a custom endpoint.")
    if isinstance(exc, BadRequestError):
        low = exc.message.lower()
        if "image" in low or "pixel" in low or "size" in low:
            return ("The provider refused an image; try a smaller or different image, "
                    "or turn off high-resolution images.")
        if "length" in low or "context" in low or "token" in low:
            return ("The conversation is too long for this model; start a new conversation "
                    "or drop images from older turns.")
        return "The provider refused the request; check the parameters in the panel."
    if isinstance(exc, StreamErrorEvent):
        return "The provider reported an error mid-answer; retry, or try another model."
    if isinstance(exc, ServerError):
        return "The provider had a server problem; retry in a moment."
    if isinstance(exc, TimeoutError_):
        return "The provider took too long; retry, or raise the timeout in Settings."
    if isinstance(exc, InterruptedStream):
        return "The answer was cut off; what arrived is kept. Retry to get a full answer."
    if isinstance(exc, MalformedStream):
        return ("The provider sent something that is not a chat answer; check the base URL "
                "and the provider's status.")
    if isinstance(exc, NetworkError):
        return "Check the network connection, proxy and the provider's address."
    return ""


def explain(exc: BaseException) -> str:
    """The sentence a person reads for any exception: what happened, then what to do."""
    if isinstance(exc, CancelledByUser):
        return "Stopped."
    if isinstance(exc, APIStatusError):
        head = f"{exc.message}"
        label = f"HTTP {exc.status}" if exc.status else "Error"
        if exc.code:
            label += f" {exc.code}"
        text = f"{label}: {head}"
    elif isinstance(exc, QwenVLError):
        text = exc.message
    else:
        # Not ours: still say something useful, never a traceback and never a key.
        text = f"Unexpected error ({type(exc).__name__}): {exc}"
    hint = _what_to_do(exc)
    if hint and hint not in text:
        text = f"{text.rstrip()} — {hint}" if not text.rstrip().endswith(".") else f"{text} {hint}"
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
    if isinstance(exc, APIStatusError | ProviderError | KeyStoreError):
        return 5
    return 1
