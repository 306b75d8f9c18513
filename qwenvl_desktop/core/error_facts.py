"""What an error says, as facts a front end can word: kind, who, what to wait, whose words.

The window and the terminal give different advice for the same failure (a panel to
open, a command to run), and the window's words will be translated; so the core does
not write advice into error messages. It records facts here and offers one wording of
its own (`generic_advice`), which names no panel and no command-line option.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import (
    APIStatusError,
    CancelledByUser,
    MissingKeyError,
    ProviderError,
    QwenVLError,
    StreamErrorEvent,
)

__all__ = ["ErrorFacts", "facts", "generic_advice", "moderation_subject"]

_LENGTH_WORDS = ("length", "context", "too long", "too many tokens", "maximum context")
_IMAGE_WORDS = ("image", "pixel", "picture")


@dataclass(frozen=True)
class ErrorFacts:
    """Everything a front end needs to word one error."""

    kind: str
    """A stable name: auth, missing_key, credits, permission, rate_limit, not_found,
    model_retired, moderation, too_long, image_refused, bad_request, server,
    stream_error, timeout, network, interrupted, malformed, cancelled, config,
    parameter, keystore, input, unexpected, …"""
    what: str
    """What happened, with the provider's own words (never a key)."""
    provider: str = ""
    provider_name: str = ""
    endpoint: str = ""
    """The endpoint as the person named it (the provider, or the URL they gave)."""
    env_var: str = ""
    model: str = ""
    status: int = 0
    code: str = ""
    provider_words: str = ""
    retry_after: float | None = None
    subject: str = ""
    """Content moderation: "input text", "input image", "input" or "output"."""
    region_locked: bool = False
    """DashScope: keys work only in the region they were made in."""
    billed: bool = True
    """False when the provider documents that a refused request is not charged."""
    partial: bool = False
    """Part of the answer had arrived and is kept."""


def moderation_subject(message: str, code: str) -> str:
    """What a content-moderation refusal was about, from the provider's words."""
    low = f"{message} {code}".lower()
    if "output" in low:
        return "output"
    if "image" in low:
        return "input image"
    if "text" in low:
        return "input text"
    return "input"


def _from(exc: APIStatusError) -> str:
    """" from <endpoint>", naming it as the person did, unless the words already do."""
    endpoint = exc.endpoint or exc.provider_name
    return f" from {endpoint}" if endpoint and endpoint not in exc.message else ""


def _headline(exc: BaseException) -> str:
    if isinstance(exc, CancelledByUser):
        return "Stopped."
    if isinstance(exc, StreamErrorEvent):
        # The HTTP status was 200: show the provider's code as its code, not as HTTP.
        label = f"Error {exc.code}" if exc.code else "Error"
        return f"{label}{_from(exc)}: {exc.message}"
    if isinstance(exc, APIStatusError):
        label = f"HTTP {exc.status}" if exc.status else "Error"
        if exc.code:
            label += f" {exc.code}"
        return f"{label}{_from(exc)}: {exc.message}"
    if isinstance(exc, QwenVLError):
        return exc.message
    # Not ours: still say something useful, never a traceback and never a key.
    return f"Unexpected error ({type(exc).__name__}): {exc}"


def _kind(exc: BaseException) -> str:
    if not isinstance(exc, QwenVLError):
        return "unexpected"
    kind = exc.kind
    if isinstance(exc, APIStatusError) and kind in ("bad_request", "stream_error"):
        low = exc.message.lower()
        image = any(word in low for word in _IMAGE_WORDS)
        if kind == "bad_request" and image:
            return "image_refused"
        if any(word in low for word in _LENGTH_WORDS) or "token" in low:
            return "too_long"
        if kind == "bad_request" and "size" in low:
            return "image_refused"
    return kind


def facts(exc: BaseException) -> ErrorFacts:
    """The facts of any exception (ours or not)."""
    what = _headline(exc)
    kind = _kind(exc)
    if isinstance(exc, MissingKeyError):
        return ErrorFacts(kind=kind, what=what, provider=exc.provider,
                          provider_name=exc.provider_name, endpoint=exc.provider_name,
                          env_var=exc.env_var or "")
    if not isinstance(exc, ProviderError):
        return ErrorFacts(kind=kind, what=what)
    base = dict(kind=kind, what=what, provider=exc.provider,
                provider_name=exc.provider_name or exc.provider,
                endpoint=exc.endpoint or exc.provider_name or exc.provider,
                env_var=exc.env_var, model=exc.model, region_locked=exc.region_locked,
                partial=bool(exc.partial_text or exc.partial_reasoning))
    if isinstance(exc, APIStatusError):
        return ErrorFacts(**base, status=exc.status, code=exc.code,  # type: ignore[arg-type]
                          provider_words=exc.message, retry_after=exc.retry_after,
                          subject=exc.subject, billed=exc.bills_refused)
    return ErrorFacts(**base)  # type: ignore[arg-type]


def _wait(f: ErrorFacts) -> str:
    return f" (the provider asked to wait {f.retry_after:g} s)" if f.retry_after else ""


_MODERATION = {
    "input text": "the provider's content moderation refused the question's text",
    "input image": "the provider's content moderation refused an image",
    "output": "the provider's content moderation stopped the answer",
    "input": "the provider's content moderation refused the request",
}


def moderation_sentence(f: ErrorFacts) -> str:
    """Plain words for a content-moderation refusal (shared by every voice)."""
    what = _MODERATION.get(f.subject, _MODERATION["input"])
    if f.subject == "output":
        return (f"{what[0].upper()}{what[1:]}; what arrived before it is kept. Ask in other "
                "words, or try another model.")
    return (f"{what[0].upper()}{what[1:]}. Moderation filters sometimes flag harmless "
            "content: rephrase, remove the image it may have flagged, or try another model.")


def generic_advice(f: ErrorFacts) -> str:
    """What to do, in words that name no window panel and no command-line option."""
    kind = f.kind
    name = f.provider_name or "the provider"
    if kind == "auth":
        if f.region_locked:
            return ("Check the key. DashScope keys are tied to a region: a Singapore key "
                    "does not work in Virginia or Beijing. Pick the region the key was made "
                    "in, or replace the key.")
        return f"Check or replace the key for {name}."
    if kind == "missing_key":
        env = f" or set the {f.env_var} environment variable" if f.env_var else ""
        return f"Add a key for {name}{env}."
    if kind == "credits":
        return "The account is out of credits or its quota; top it up with the provider."
    if kind == "permission":
        return "This key may not use this model or endpoint; check the account's access."
    if kind == "rate_limit":
        return f"The provider is rate-limiting requests{_wait(f)}; wait a moment and retry."
    if kind == "model_retired":
        charged = " Nothing was charged." if not f.billed else ""
        return f"This model was retired; pick another.{charged}"
    if kind == "model_not_found":
        return f"{name} does not know this model; pick another."
    if kind == "not_found":
        return ("The model or endpoint was not found; check the model name and the region, "
                "or the base URL of a custom endpoint.")
    if kind == "moderation":
        return moderation_sentence(f)
    if kind == "image_refused":
        return ("The provider refused an image; try a smaller or different image, "
                "or turn off high-resolution images.")
    if kind == "too_long":
        return ("The conversation is too long for this model; start a new conversation "
                "or drop images from older turns.")
    if kind == "bad_request":
        return "The provider refused the request; check the parameters sent with it."
    if kind == "stream_error":
        return "The provider reported an error mid-answer; retry, or try another model."
    if kind == "server":
        return "The provider had a server problem; retry in a moment."
    if kind == "timeout":
        return "The provider took too long; retry, or allow a longer wait."
    if kind == "interrupted":
        return "The answer was cut off; what arrived is kept. Retry to get a full answer."
    if kind == "malformed":
        return ("The provider sent something that is not a chat answer; check the base URL "
                "and the provider's status.")
    if kind == "network":
        return "Check the network connection, proxy and the provider's address."
    if kind == "model_list":
        return "Check the address and the key, then refresh again."
    return ""
