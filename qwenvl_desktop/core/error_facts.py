"""What an error says, as facts a front end can word: kind, who, what to wait, whose words.

The window and the terminal give different advice for the same failure (a panel to
open, a command to run), and the window's words will be translated; so the core does
not write advice into error messages. It records facts here and offers one wording of
its own (`generic_advice`), which names no panel and no command-line option.

Every sentence here is marked for translation (`core.i18n`) and comes out in the language
the window chose; the provider's own words stay as the provider wrote them.
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
from .i18n import N_, _

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


def _with_endpoint(label: str, exc: APIStatusError) -> str:
    """"<label> from <endpoint>: <words>", naming the endpoint as the person did, unless
    the words already do."""
    endpoint = exc.endpoint or exc.provider_name
    if endpoint and endpoint not in exc.message:
        return _("{label} from {endpoint}: {message}").format(
            label=label, endpoint=endpoint, message=exc.message)
    return _("{label}: {message}").format(label=label, message=exc.message)


def _headline(exc: BaseException) -> str:
    if isinstance(exc, CancelledByUser):
        return _("Stopped.")
    if isinstance(exc, StreamErrorEvent):
        # The HTTP status was 200: show the provider's code as its code, not as HTTP.
        label = _("Error {code}").format(code=exc.code) if exc.code else _("Error")
        return _with_endpoint(label, exc)
    if isinstance(exc, APIStatusError):
        label = f"HTTP {exc.status}" if exc.status else _("Error")
        if exc.code:
            label += f" {exc.code}"
        return _with_endpoint(label, exc)
    if isinstance(exc, QwenVLError):
        return exc.message
    # Not ours: still say something useful, never a traceback and never a key.
    return _("Unexpected error ({type}): {error}").format(type=type(exc).__name__, error=exc)


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


# One whole sentence per subject, so that a translator never joins pieces.
_MODERATION = {
    "input text": N_("The provider's content moderation refused the question's text. "
                     "Moderation filters sometimes flag harmless content: rephrase, remove "
                     "the image it may have flagged, or try another model."),
    "input image": N_("The provider's content moderation refused an image. Moderation "
                      "filters sometimes flag harmless content: rephrase, remove the image "
                      "it may have flagged, or try another model."),
    "output": N_("The provider's content moderation stopped the answer; what arrived before "
                 "it is kept. Ask in other words, or try another model."),
    "input": N_("The provider's content moderation refused the request. Moderation filters "
                "sometimes flag harmless content: rephrase, remove the image it may have "
                "flagged, or try another model."),
}


def moderation_sentence(f: ErrorFacts) -> str:
    """Plain words for a content-moderation refusal (shared by every voice)."""
    return _(_MODERATION.get(f.subject, _MODERATION["input"]))


def generic_advice(f: ErrorFacts) -> str:
    """What to do, in words that name no window panel and no command-line option."""
    kind = f.kind
    name = f.provider_name or _("the provider")
    if kind == "auth":
        if f.region_locked:
            return _("Check the key. DashScope keys are tied to a region: a Singapore key "
                     "does not work in Virginia or Beijing. Pick the region the key was made "
                     "in, or replace the key.")
        return _("Check or replace the key for {provider}.").format(provider=name)
    if kind == "missing_key":
        if f.env_var:
            return _("Add a key for {provider} or set the {env_var} environment "
                     "variable.").format(provider=name, env_var=f.env_var)
        return _("Add a key for {provider}.").format(provider=name)
    if kind == "credits":
        return _("The account is out of credits or its quota; top it up with the provider.")
    if kind == "permission":
        return _("This key may not use this model or endpoint; check the account's access.")
    if kind == "rate_limit":
        if f.retry_after:
            return _("The provider is rate-limiting requests (the provider asked to wait "
                     "{seconds} s); wait a moment and retry.").format(
                         seconds=f"{f.retry_after:g}")
        return _("The provider is rate-limiting requests; wait a moment and retry.")
    if kind == "model_retired":
        if not f.billed:
            return _("This model was retired; pick another. Nothing was charged.")
        return _("This model was retired; pick another.")
    if kind == "model_not_found":
        return _("{provider} does not know this model; pick another.").format(provider=name)
    if kind == "not_found":
        return _("The model or endpoint was not found; check the model name and the region, "
                 "or the base URL of a custom endpoint.")
    if kind == "moderation":
        return moderation_sentence(f)
    if kind == "image_refused":
        return _("The provider refused an image; try a smaller or different image, "
                 "or turn off high-resolution images.")
    if kind == "too_long":
        return _("The conversation is too long for this model; start a new conversation "
                 "or drop images from older turns.")
    if kind == "bad_request":
        return _("The provider refused the request; check the parameters sent with it.")
    if kind == "stream_error":
        return _("The provider reported an error mid-answer; retry, or try another model.")
    if kind == "server":
        return _("The provider had a server problem; retry in a moment.")
    if kind == "timeout":
        return _("The provider took too long; retry, or allow a longer wait.")
    if kind == "interrupted":
        return _("The answer was cut off; what arrived is kept. Retry to get a full answer.")
    if kind == "malformed":
        return _("The provider sent something that is not a chat answer; check the base URL "
                 "and the provider's status.")
    if kind == "network":
        return _("Check the network connection, proxy and the provider's address.")
    if kind == "model_list":
        return _("Check the address and the key, then refresh again.")
    return ""
