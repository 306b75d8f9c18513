"""Turn a provider's error answer, in whatever shape it comes, into one typed error.

Providers disagree on how an error looks: DashScope and OpenAI-style servers send
`{"error": {"message", "type", "code"}}` (DashScope's native API also a top-level
`{"code", "message", "request_id"}`), Segmind `{"error": "text"}`, AI/ML API a NestJS
body `{"message", "statusCode", "error"}`, vLLM/FastAPI `{"detail": ...}`, and the
gateways in front of all of them plain text or an HTML page. Some bodies come framed
as an SSE `data:` line even on a 4xx (DashScope's content moderation), and gateways
wrap the upstream's reason (OpenRouter: `error.metadata.raw`). This module reads every
one of those, picks the class from the status (and, where providers bend HTTP, from
the code or the words), and leaves the what-to-do part to the front end's voice.
"""

from __future__ import annotations

import email.utils
import html
import json
import math
import re
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from ..catalog import Provider
from ..error_facts import moderation_subject
from ..errors import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ContentFilterError,
    CreditsError,
    ModelRetiredError,
    NotFoundError,
    PermissionError_,
    ProviderError,
    RateLimitError,
    ServerError,
    StreamErrorEvent,
    redact,
)
from ..i18n import _

__all__ = ["error_from_event", "error_from_response", "is_retryable_status",
           "parse_retry_after", "with_context"]

EXCERPT_CHARS = 2000
"""The provider's words are shown whole; only a runaway message is shortened (at a word)."""

# Words and codes by which providers say "out of money" whatever status they pick.
_CREDIT_WORDS = re.compile(r"(?i)credit|balance|quota|arrear|insufficient.?funds|billing|"
                           r"payment required|top.?up")
_CREDIT_CODES = {"insufficient_quota", "arrearage", "insufficient_credits",
                 "insufficient_balance", "billing_hard_limit_reached"}

# Content moderation (DashScope's data_inspection_failed, its native
# DataInspectionFailed) and gateway key errors (LiteLLM's 400/401 "Authentication Error",
# "token_not_found_in_db", "No api key passed in").
_MODERATION_CODES = {"data_inspection_failed", "datainspectionfailed", "content_filter",
                     "content_policy_violation"}
_MODERATION_WORDS = re.compile(r"(?i)DataInspectionFailed|inappropriate content|"
                               r"content (?:management )?polic|was flagged")
_AUTH_WORDS = re.compile(r"(?i)api[ _-]?key|authenticat|auth_error|bearer|unauthori[sz]ed|"
                         r"invalid (?:access |proxy server )?token|token_not_found|"
                         r"credentials")

_TITLE = re.compile(r"(?is)<title[^>]*>(.*?)</title>")
_HEADING = re.compile(r"(?is)<h[1-3][^>]*>(.*?)</h[1-3]>")
_SCRIPT = re.compile(r"(?is)<(script|style)[^>]*>.*?</\1\s*>")
_TAG = re.compile(r"(?s)<[^>]*>")
_SPACE = re.compile(r"\s+")
_NUMBER = re.compile(r"\s*[+-]?\d+(\.\d+)?\s*")


def with_context(err: ProviderError, provider: Provider, model_id: str = "") -> ProviderError:
    """Record on `err` who was asked: the facts each front end words its advice from."""
    err.set_context(provider=provider.id, provider_name=provider.name,
                    endpoint=provider.endpoint_label, env_var=provider.key_env or "",
                    model=model_id, region_locked=provider.family == "dashscope",
                    bills_refused=provider.bills_refused_requests)
    return err


def is_retryable_status(status: int) -> bool:
    """Statuses worth sending the same request again for (if nothing has streamed)."""
    return status in (408, 409, 429) or 500 <= status <= 599


def parse_retry_after(value: str | None, *, now: float) -> float | None:
    """Seconds to wait from a Retry-After value: delta-seconds or an HTTP-date.

    `now` is the current Unix time (a parameter so that tests need no clock). Absent or
    unreadable values give None; dates in the past give 0.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if _NUMBER.fullmatch(text):
        seconds = float(text)
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # "-0000" dates are UTC by RFC 5322
        when = when.replace(tzinfo=UTC)
    try:
        return max(0.0, when.timestamp() - now)
    except (OverflowError, OSError, ValueError):
        return None


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive lookup that works for plain dicts as well as httpx.Headers."""
    direct = headers.get(name)
    if direct is not None:
        return direct
    for key, val in headers.items():
        if key.lower() == name:
            return val
    return None


def _retry_after(headers: Mapping[str, str], now: float) -> float | None:
    """The wait a provider or gateway asked for: Retry-After (seconds or a date) first,
    then the common variants — `retry-after-ms`, any `*-retry-after[-ms]` header
    (`x-ms-retry-after-ms`, LiteLLM's `llm_provider-retry-after`), and the rate-limit
    reset headers (`x-ratelimit-reset-requests: 6m0s`, `x-ratelimit-reset: <epoch>`,
    Segmind's `x-rate-limit-reset-at-utc: <date>`), of which the longest counts."""
    millis = _header(headers, "retry-after-ms")
    if millis is not None:
        value = parse_retry_after(millis, now=now)
        if value is not None:
            return value / 1000.0
    direct = parse_retry_after(_header(headers, "retry-after"), now=now)
    if direct is not None:
        return direct
    waits: list[float] = []
    resets: list[float] = []
    for name, raw in headers.items():
        low = name.lower()
        if low.endswith("retry-after-ms"):
            value = parse_retry_after(raw, now=now)
            if value is not None:
                waits.append(value / 1000.0)
        elif low.endswith("retry-after"):
            value = parse_retry_after(raw, now=now)
            if value is not None:
                waits.append(value)
        elif "ratelimit-reset" in low or "rate-limit-reset" in low:
            value = _reset_value(raw, now)
            if value is not None:
                resets.append(value)
    if waits:
        return max(waits)
    return max(resets) if resets else None


_DURATION = re.compile(r"(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?!s))?"
                       r"(?:(\d+(?:\.\d+)?)s)?(?:(\d+(?:\.\d+)?)ms)?")


def _reset_value(raw: str, now: float) -> float | None:
    """Seconds until a rate-limit window resets, from the forms gateways use."""
    text = raw.strip()
    if not text:
        return None
    if _NUMBER.fullmatch(text):
        number = float(text)
        if not math.isfinite(number):
            return None
        # Large numbers are Unix times (seconds or milliseconds), small ones durations.
        if number > 1e12:
            return max(0.0, number / 1000.0 - now)
        if number > 1e9:
            return max(0.0, number - now)
        return max(0.0, number)
    match = _DURATION.fullmatch(text)
    if match and any(match.groups()):
        h, m, sec, ms = (float(g) if g else 0.0 for g in match.groups())
        return h * 3600 + m * 60 + sec + ms / 1000.0
    dated = parse_retry_after(text, now=now)
    if dated is not None:
        return dated
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)


def _clean(text: str, limit: int = EXCERPT_CHARS) -> str:
    """Collapse whitespace; a runaway text is cut at a word boundary, never mid-word."""
    text = _SPACE.sub(" ", text).strip()
    if len(text) > limit:
        cut = text[:limit]
        space = cut.rfind(" ")
        text = (cut[:space] if space > limit // 2 else cut).rstrip() + " …"
    return text


def _text_of(value: Any) -> str:
    """A message field that may be a string, a list of strings or FastAPI's list of dicts."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        parts: list[str] = []
        for item in value:
            if isinstance(item, dict):
                msg = item.get("msg") or item.get("message")
                loc = item.get("loc")
                where = ".".join(str(p) for p in loc) if isinstance(loc, list) else ""
                parts.append(f"{where}: {msg}" if where and msg else str(msg or item))
            else:
                parts.append(str(item))
        return "; ".join(parts)
    if isinstance(value, dict):
        return _text_of(value.get("message") or value.get("msg")) or json.dumps(value)
    return str(value)


def _code_of(value: Any) -> str:
    if value is None or isinstance(value, bool):
        return ""
    return str(value)


class _Parsed:
    """What could be read out of an error body."""

    def __init__(self, message: str = "", code: str = "", error_type: str = "",
                 status_hint: int = 0, raw_code: str = "", flagged: bool = False) -> None:
        self.message = message
        self.code = code
        self.error_type = error_type
        self.status_hint = status_hint
        # The code exactly as sent, numeric or not (shown for errors inside a stream).
        self.raw_code = raw_code or code
        # A gateway said its moderation flagged the input (OpenRouter's metadata).
        self.flagged = flagged


def _status_hint(value: Any) -> int:
    """AI/ML API's `statusCode` (int or string) or vLLM's numeric `code`, if it is one."""
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
    else:
        return 0
    return number if 100 <= number <= 599 else 0


def _from_json(data: Any) -> _Parsed | None:
    if not isinstance(data, dict):
        return None
    err = data.get("error")
    request_id = data.get("request_id") or data.get("requestId")
    parsed: _Parsed | None = None
    if isinstance(err, dict):
        code = err.get("code")
        parsed = _Parsed(
            message=_text_of(err.get("message") or err.get("msg") or err.get("detail")),
            code="" if _status_hint(code) else _code_of(code),
            error_type=_code_of(err.get("type")),
            status_hint=_status_hint(code) or _status_hint(err.get("status")),
            raw_code=_code_of(code),
        )
        _add_upstream(parsed, err.get("metadata"))
        request_id = request_id or err.get("request_id")
    elif data.get("message") is not None:
        # DashScope native {"code","message","request_id"}; AI/ML API (NestJS)
        # {"message","statusCode","error": "Forbidden"}: the message is the specific part.
        code = data.get("code")
        parsed = _Parsed(
            message=_text_of(data.get("message")),
            code="" if _status_hint(code) else _code_of(code),
            error_type=err if isinstance(err, str) else _code_of(data.get("type")),
            status_hint=_status_hint(data.get("statusCode")) or _status_hint(code),
            raw_code=_code_of(code),
        )
    elif isinstance(err, str | list):
        parsed = _Parsed(message=_text_of(err), code=_code_of(data.get("code")))
    elif data.get("detail") is not None:
        parsed = _Parsed(message=_text_of(data.get("detail")))
    if parsed is None:
        return None
    if request_id and isinstance(request_id, str) and len(request_id) <= 80:
        parsed.message = _("{message} (request id {request_id})").format(
            message=parsed.message.rstrip(), request_id=request_id)
    return parsed


def _add_upstream(parsed: _Parsed, metadata: Any) -> None:
    """A gateway's wrapped upstream reason (OpenRouter: `error.metadata.raw`, with
    `provider_name`), appended to its own words; moderation flags are noted."""
    if not isinstance(metadata, dict):
        return
    if metadata.get("flagged_input") or metadata.get("reasons"):
        parsed.flagged = True
        reasons = metadata.get("reasons")
        if isinstance(reasons, list) and reasons:
            parsed.message = (f"{parsed.message.rstrip('. ')}: "
                              f"{', '.join(str(r) for r in reasons)}")
    raw = metadata.get("raw")
    if raw in (None, "", {}, []):
        return
    upstream = _upstream_words(raw)
    if not upstream or upstream in parsed.message:
        return
    who = metadata.get("provider_name")
    if isinstance(who, str) and who.strip():
        parsed.message = _("{message} — {upstream_provider} said: {words}").format(
            message=parsed.message.rstrip(". "), upstream_provider=who, words=upstream)
    else:
        parsed.message = _("{message} — upstream said: {words}").format(
            message=parsed.message.rstrip(". "), words=upstream)


def _upstream_words(raw: Any) -> str:
    """The reason inside a wrapped upstream error, which may itself be JSON text."""
    if isinstance(raw, str):
        text = raw.strip()
        if text[:1] in "{[":
            try:
                raw = json.loads(text)
            except (ValueError, RecursionError):
                return text
        else:
            return text
    inner = _from_json(raw) if isinstance(raw, dict) else None
    if inner is not None and inner.message:
        return inner.message
    return json.dumps(raw, ensure_ascii=False, default=str)


def _sse_payload(text: str) -> str | None:
    """The JSON carried by SSE `data:` lines, for error bodies framed as an event."""
    lines = text.splitlines()
    if not any(line.startswith("data:") for line in lines):
        return None
    data = [line[5:].removeprefix(" ") for line in lines if line.startswith("data:")]
    payload = "\n".join(d for d in data if d.strip() and d.strip() != "[DONE]")
    return payload or None


def _looks_like_html(text: str, content_type: str) -> bool:
    if "html" in content_type.lower():
        return True
    head = text.lstrip()[:200].lower()
    return head.startswith("<") and any(
        tag in head for tag in ("<html", "<!doctype", "<head", "<body", "<title", "<h1"))


HTML_EXCERPT_CHARS = 300
"""A gateway's page is not the provider's words: its title, or a short excerpt."""


def _from_html(text: str) -> str:
    for pattern in (_TITLE, _HEADING):
        match = pattern.search(text)
        if match:
            words = _clean(html.unescape(_TAG.sub(" ", match.group(1))), HTML_EXCERPT_CHARS)
            if words:
                return words
    body = _TAG.sub(" ", _SCRIPT.sub(" ", text))
    return _clean(html.unescape(body), HTML_EXCERPT_CHARS)


def _parse_body(body: bytes, content_type: str) -> tuple[_Parsed, bool]:
    """The parsed error and whether it came from an HTML page."""
    text = body.decode("utf-8", errors="replace").lstrip("\ufeff")
    stripped = text.strip()
    if not stripped:
        return _Parsed(), False
    framed = _sse_payload(stripped)
    if framed is not None:
        stripped = framed.strip()
    if stripped[0] in "{[":
        try:
            parsed = _from_json(json.loads(stripped))
        except (ValueError, RecursionError):
            parsed = None
        if parsed is not None:
            parsed.message = _clean(parsed.message)
            return parsed, False
        return _Parsed(message=_clean(stripped)), False
    if _looks_like_html(stripped, content_type):
        return _Parsed(message=_from_html(stripped)), True
    return _Parsed(message=_clean(stripped)), False


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return _("Error")


def _is_credits(parsed: _Parsed) -> bool:
    if parsed.code.lower() in _CREDIT_CODES:
        return True
    return bool(_CREDIT_WORDS.search(parsed.message) or _CREDIT_WORDS.search(parsed.code))


def _is_moderation(parsed: _Parsed) -> bool:
    codes = {parsed.code.lower(), parsed.raw_code.lower(), parsed.error_type.lower()}
    return (parsed.flagged or bool(codes & _MODERATION_CODES)
            or bool(_MODERATION_WORDS.search(parsed.message)))


def _is_auth(parsed: _Parsed) -> bool:
    return bool(_AUTH_WORDS.search(parsed.message) or _AUTH_WORDS.search(parsed.code)
                or _AUTH_WORDS.search(parsed.error_type))


def _class_for(status: int, parsed: _Parsed, provider: Provider) -> type[APIStatusError]:
    code = parsed.code.lower()
    if status in (401,):
        return AuthenticationError
    if status in (402, 406):
        return CreditsError
    if status == 403:
        if provider.family == "aimlapi" or _is_credits(parsed):
            return CreditsError
        if _is_moderation(parsed):
            return ContentFilterError
        return PermissionError_
    if status == 429:
        return CreditsError if code in ("insufficient_quota", "arrearage") else RateLimitError
    if status in (400, 413, 422):
        # DashScope reports an unpaid account as 400 Arrearage.
        if code in _CREDIT_CODES:
            return CreditsError
        if _is_moderation(parsed):
            return ContentFilterError
        # A gateway in front of the provider (LiteLLM) refuses a bad key with a 400.
        if status == 400 and _is_auth(parsed):
            return AuthenticationError
        return BadRequestError
    if status == 404:
        return NotFoundError
    if status == 410:
        return ModelRetiredError
    return ServerError


def _kind_for(cls: type[APIStatusError], status: int, parsed: _Parsed,
              provider: Provider) -> str:
    """A finer kind than the class gives, where the provider's code says more."""
    if cls is NotFoundError and (provider.model_in == "path"
                                 or "model" in parsed.code.lower()):
        # Segmind's model is the URL: a 404 means the slug is unknown.
        return "model_not_found"
    del status
    return ""


def error_from_response(status: int, headers: Mapping[str, str], body: bytes,
                        provider: Provider, *, now: float | None = None) -> APIStatusError:
    """The typed error for a non-2xx answer. `now` (Unix time) is for Retry-After dates."""
    content_type = _header(headers, "content-type") or ""
    parsed, was_html = _parse_body(body, content_type)
    if was_html:
        detail = parsed.message or _phrase(status)
        message = _("{endpoint} returned an HTML error page: {detail}").format(
            endpoint=provider.endpoint_label, detail=detail)
    elif parsed.message:
        message = parsed.message
    else:
        # The HTTP reason phrase stays as the protocol says it.
        message = _("{reason} (no details from {endpoint})").format(
            reason=_phrase(status), endpoint=provider.endpoint_label)
    cls = _class_for(status, parsed, provider)
    subject = moderation_subject(parsed.message, parsed.code) if (
        cls is ContentFilterError) else ""
    error = cls(
        redact(message), status=status, provider=provider.id, code=redact(parsed.code),
        error_type=redact(parsed.error_type),
        retry_after=_retry_after(headers, time.time() if now is None else now),
        kind=_kind_for(cls, status, parsed, provider), subject=subject,
    )
    with_context(error, provider)
    return error


def error_from_event(payload: dict[str, Any], provider: Provider) -> StreamErrorEvent:
    """The error for an error object that arrived inside an HTTP 200 stream."""
    parsed = _from_json(payload)
    if parsed is None or not parsed.message.strip():
        excerpt = _clean(json.dumps(payload, ensure_ascii=False, default=str), 200)
        parsed = parsed or _Parsed()
        parsed.message = _("{provider} reported an error mid-answer: {excerpt}").format(
            provider=provider.name, excerpt=excerpt)
    moderated = _is_moderation(parsed)
    # The HTTP status was 200: a numeric code in the event is the provider's code, kept
    # as such (llama.cpp sends {"code": 400, ...}), not an HTTP status.
    error = StreamErrorEvent(
        redact(_clean(parsed.message)), status=0, provider=provider.id,
        code=redact(parsed.raw_code), error_type=redact(parsed.error_type),
        kind="moderation" if moderated else "",
        subject=moderation_subject(parsed.message, parsed.raw_code) if moderated else "",
    )
    with_context(error, provider)
    return error
