"""Talking to providers: request building, error parsing and stream decoding.

`request` builds what is sent, `error_parsing` reads what comes back when it fails and
`stream` turns answer bytes into typed events (`types`). None of them does I/O; the
client that sends and retries lives beside them.
"""

from __future__ import annotations

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
