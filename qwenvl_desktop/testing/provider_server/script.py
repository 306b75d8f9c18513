"""What a test tells the server to answer, and what the server saw and sent."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any

__all__ = ["RequestRecord", "Script", "split_pieces"]


def split_pieces(text: str, chunks: int | None) -> list[str]:
    """Cut text the way a model streams it: per token (None) or into `chunks` pieces."""
    if not text:
        return []
    if chunks is None:
        return re.findall(r"\s*\S+|\s+", text)
    n = max(1, min(chunks, len(text)))
    size, extra = divmod(len(text), n)
    pieces, start = [], 0
    for i in range(n):
        end = start + size + (1 if i < extra else 0)
        pieces.append(text[start:end])
        start = end
    return pieces


@dataclass
class Script:
    """One scripted answer (or failure) the server gives to the next chat request.

    Faults that strike mid-stream (`drop_after`, `malformed`, `error_event`, `stall`,
    `no_finish`) strike after `fault_after` pieces of reasoning+text have been sent
    (`drop_after` sets its own count).
    """

    content: str = "Hello from the loopback server."
    reasoning: str = ""
    usage: dict[str, int] | None = None      # None: counted from the pieces sent
    finish_reason: str = "stop"
    chunks: int | None = None                 # None: one piece per token
    delay: float = 0.0                        # seconds between pieces
    tokens_per_second: float = 0.0            # alternative to `delay`
    fault_after: int = 2
    drop_after: int | None = None             # close the socket after N pieces
    malformed: bool = False                   # a chunk that is not JSON
    error_event: bool = False                 # {"error": {...}} inside a 200 stream
    stall: bool = False                       # stop sending until released or stopped
    no_done: bool = False                     # finish reason, then EOF without [DONE]
    no_finish: bool = False                   # clean EOF after some text, no finish reason
    split_multibyte: bool = False             # UTF-8 characters split across writes
    keepalive: bool = False                   # ": ping" comments between chunks
    crlf: bool = False                        # CRLF line endings
    pretty: bool = False                      # nebula: pretty-printed multi-line objects
    status: int = 200                         # an error status with the dialect's body
    html_status: int | None = None            # an nginx HTML error page with this status
    error_message: str | None = None          # overrides the dialect's usual message
    error_code: str | None = None
    retry_after: str | None = None            # Retry-After header on error answers
    error_headers: dict[str, str] = field(default_factory=dict)   # more headers on errors
    error_type: str | None = None             # error.type (LiteLLM: "auth_error", …)
    error_metadata: dict[str, Any] | None = None   # error.metadata (OpenRouter: raw upstream)
    error_sse_framed: bool = False            # an error body sent as an SSE `data:` line
    error_field_line: bool = False            # llama.cpp: an `error: {…}` line mid-stream
    numeric_code: bool = False                # the mid-stream error's code as a number
    think_in_content: bool = False            # reasoning inside content as <think>…</think>
    think_preopened: bool = False             # …without the opening tag (template opened it)
    fail_times: int = 0                       # first N requests get `fail_status`
    fail_status: int = 503
    release: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def interval(self) -> float:
        if self.tokens_per_second > 0:
            return 1.0 / self.tokens_per_second
        return self.delay


@dataclass
class RequestRecord:
    """What one request carried, and what the server sent back before any fault."""

    method: str
    path: str
    dialect: str
    headers: dict[str, str]                   # lower-case names
    body: bytes
    json: Any = None
    status: int = 0
    sent_text: str = ""
    sent_reasoning: str = ""
