"""What differs between the providers the server stands in for: paths, fields, errors.

Each dialect lives under its own path prefix on the one server:

    dashscope  /dashscope/compatible-mode/v1/chat/completions  SSE, reasoning_content, usage
    ovh        /ovh/v1/chat/completions              SSE, delta.reasoning, 2 MB body cap
    aimlapi    /aimlapi/v1/chat/completions          SSE, {"message","statusCode"} errors
    nebula     /nebula/v1/chat/completions           one JSON object per line, no `data:`
    segmind    /segmind/v1/<slug>                    no streaming, x-api-key, no "model"
    custom     /custom/v1/chat/completions           OpenAI SSE, key optional
"""

from __future__ import annotations

from http import HTTPStatus
from itertools import pairwise
from typing import Any

__all__ = [
    "DIALECTS",
    "NGINX_PAGE",
    "OVH_MAX_BODY",
    "PREFIXES",
    "REASONING_FIELD",
    "TEXT_IN_FINISH_CHUNK",
    "dashscope_refusal",
    "default_error_message",
    "dialect_for",
    "error_body",
    "stream_error_body",
]

DIALECTS = ("dashscope", "ovh", "aimlapi", "nebula", "segmind", "custom")

PREFIXES = {
    "dashscope": "/dashscope/compatible-mode/v1",
    "ovh": "/ovh/v1",
    "aimlapi": "/aimlapi/v1",
    "nebula": "/nebula/v1",
    "segmind": "/segmind/v1",
    "custom": "/custom/v1",
}

# Which delta field carries the reasoning in each dialect.
REASONING_FIELD = {
    "dashscope": "reasoning_content", "aimlapi": "reasoning_content",
    "nebula": "reasoning_content", "ovh": "reasoning", "custom": "reasoning",
    "segmind": "reasoning_content",
}

# DashScope and AI/ML API (served by DashScope upstream) put the last piece of text in
# the chunk that carries finish_reason; vLLM-based hosts send an empty finishing delta.
TEXT_IN_FINISH_CHUNK = {"dashscope", "aimlapi"}

OVH_MAX_BODY = 2_000_000

NGINX_PAGE = (
    "<html>\r\n<head><title>{code} {phrase}</title></head>\r\n<body>\r\n"
    "<center><h1>{code} {phrase}</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)


def dialect_for(provider_id: str) -> str:
    """The server dialect that stands in for a catalog provider id."""
    if provider_id.startswith("dashscope"):
        return "dashscope"
    if provider_id in PREFIXES:
        return provider_id
    return "custom"



# --- error bodies ---------------------------------------------------------------------

_MESSAGES: dict[str, dict[int, str]] = {
    "dashscope": {
        400: "<400> InternalError.Algo.InvalidParameter: The request is invalid.",
        401: "Incorrect API key provided. ",
        403: "Access denied: you do not have access to this model.",
        404: "The model does not exist or you do not have access to it.",
        429: "Requests rate limit exceeded, please try again later.",
        500: "An internal error has occurred, please try again later or contact service support.",
    },
    "ovh": {
        401: "Invalid access token: the token is missing, revoked or expired.",
        413: "Request body too large: AI Endpoints accepts at most 2 MB.",
        429: "Rate limit exceeded: 400 requests per minute allowed for this model.",
    },
    "aimlapi": {
        401: "Invalid API key. Check your key at https://aimlapi.com/app/keys",
        403: "You've run out of credits. Please top up your balance to continue.",
        429: "Too many requests: slow down.",
    },
    "nebula": {
        401: "Invalid API key provided.",
        402: "Insufficient balance: add credits to continue.",
        429: "Rate limit reached for requests.",
    },
    "segmind": {
        401: "Invalid API key",
        406: "Insufficient credits. Please add credits to your account to continue.",
        429: "Rate limit exceeded. Please slow down.",
    },
    "custom": {401: "Invalid bearer token."},
}

_DASHSCOPE_CODES = {
    400: "InvalidParameter", 401: "invalid_api_key", 403: "AccessDenied",
    404: "model_not_found", 429: "Throttling.RateQuota", 500: "InternalError",
}


def default_error_message(dialect: str, status: int) -> str:
    """The message text the server puts in its error body for this dialect and status."""
    message = _MESSAGES.get(dialect, {}).get(status)
    if message:
        return message
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    return f"{phrase} (loopback {dialect} {status})"


def error_body(dialect: str, status: int, message: str, code: str | None, *,
               error_type: str | None = None,
               metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    if dialect == "segmind":
        return {"error": message}
    if dialect == "aimlapi":
        return {"statusCode": status, "message": message, "path": "/v1/chat/completions",
                "timestamp": "2025-11-05T12:00:00.000Z"}
    if dialect == "dashscope":
        body: dict[str, Any] = {
            "error": {"message": message, "type": error_type or "invalid_request_error",
                      "param": None,
                      "code": code or _DASHSCOPE_CODES.get(status, "InternalError")},
            "request_id": "00000000-loop-back-0000-000000000000"}
    else:
        body = {"error": {"message": message, "type": error_type or "invalid_request_error",
                          "param": None, "code": code or str(status)}}
    if metadata is not None:
        body["error"]["metadata"] = metadata
    return body


def stream_error_body(dialect: str, message: str, code: str | None, *,
                      numeric: bool = False) -> dict[str, Any]:
    # Mid-stream errors arrive OpenAI-style in every streaming dialect; llama.cpp and
    # vLLM put a number in `code`.
    value: Any = code or ("InternalError" if dialect == "dashscope" else "500")
    if numeric and str(value).isdigit():
        value = int(value)
    return {"error": {"message": message, "type": "server_error", "code": value}}


def dashscope_refusal(body: dict[str, Any]) -> str | None:
    """What Model Studio's compatible mode refuses in a body that is otherwise fine.

    `max_tokens` was deprecated before 2026-05-30 in favour of `max_completion_tokens`
    ("Changes to Certain Model Fields"); the loopback refuses it so a regression shows.
    Per-image `min_pixels`/`max_pixels` must be whole numbers with min ≤ max.
    Two user messages in a row are refused as DashScope has been reported to refuse them
    (HTTP 400 InvalidParameter, e.g. DB-GPT #756; its documents say nothing either way).
    """
    if "max_tokens" in body:
        return ("<400> InternalError.Algo.InvalidParameter: max_tokens is no longer "
                "supported; use max_completion_tokens.")
    roles = [m.get("role") for m in body.get("messages", []) if isinstance(m, dict)]
    if any(a == b == "user" for a, b in pairwise(roles)):
        return "User and assistant need to appear alternately in the message"
    for message in body.get("messages", []):
        content = message.get("content") if isinstance(message, dict) else None
        for part in content if isinstance(content, list) else []:
            if not isinstance(part, dict) or part.get("type") != "image_url":
                continue
            url = part.get("image_url")
            limits = [holder.get(name) for holder in (part, url) if isinstance(holder, dict)
                      for name in ("min_pixels", "max_pixels") if name in holder]
            if any(isinstance(v, bool) or not isinstance(v, int) or v <= 0 for v in limits):
                return "min_pixels and max_pixels must be positive whole numbers."
            low = part.get("min_pixels", url.get("min_pixels") if isinstance(url, dict) else 0)
            high = part.get("max_pixels", url.get("max_pixels") if isinstance(url, dict) else 0)
            if low and high and low > high:
                return "min_pixels must not exceed max_pixels."
    return None
