"""Talking to providers: request building, error parsing and stream decoding.

`request` builds what is sent, `error_parsing` reads what comes back when it fails and
`stream` turns answer bytes into typed events (`types`). None of them does I/O; the
client that sends and retries lives beside them.

The names below are re-exported lazily (PEP 562): importing `types` alone — which the
conversation model does on the window's start-up path — must not pull in `stream`
and, through httpx-sse, httpx.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .error_parsing import (
        error_from_event,
        error_from_response,
        is_retryable_status,
        parse_retry_after,
    )
    from .request import HttpRequestSpec, build_request, serialize_body, validate_params
    from .stream import StreamDecoder, completion_to_events

__all__ = [
    "HttpRequestSpec",
    "StreamDecoder",
    "build_request",
    "completion_to_events",
    "error_from_event",
    "error_from_response",
    "is_retryable_status",
    "parse_retry_after",
    "serialize_body",
    "validate_params",
]

_HOMES = {
    "HttpRequestSpec": "request", "build_request": "request",
    "serialize_body": "request", "validate_params": "request",
    "StreamDecoder": "stream", "completion_to_events": "stream",
    "error_from_event": "error_parsing", "error_from_response": "error_parsing",
    "is_retryable_status": "error_parsing", "parse_retry_after": "error_parsing",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{home}", __name__), name)
    globals()[name] = value          # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
