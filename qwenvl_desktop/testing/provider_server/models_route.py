"""`GET {prefix}/models`: the model list a provider serves, and the ways listings go wrong.

Real listings are OpenAI-style `{"object": "list", "data": [{"id": …}, …]}`. The faults
are the ones a client meets in the wild: a gateway's HTML page with status 200, an
empty list, a 401, a list far too large to be one, a body that is not JSON or not a
list, and a server that stops sending (released by the test or by `stop()`).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from .dialects import NGINX_PAGE

if TYPE_CHECKING:
    from .handler import Handler

__all__ = ["MODELS_FAULTS", "serve_models"]

MODELS_FAULTS = ("html", "empty", "unauthorized", "huge", "not_json", "wrong_shape", "stall")

HUGE_BYTES = 12 * 1024 * 1024


def serve_models(h: Handler, dialect: str) -> int:
    """Answer one listing request; returns the status sent."""
    owner = h.owner
    fault = owner.models_fault
    if fault == "unauthorized":
        h._error(dialect, 401)
        return 401
    if fault == "html":
        # A sign-in page from a company proxy, served with status 200.
        page = NGINX_PAGE.format(code=200, phrase="OK").replace(
            "200 OK", "Company portal — please sign in").encode()
        h._whole(200, page, "text/html")
        return 200
    if fault == "not_json":
        h._whole(200, b"models: qwen3-vl-plus, qwen3.5-plus\n", "text/plain")
        return 200
    if fault == "wrong_shape":
        h._json(200, {"object": "list", "models": "qwen3-vl-plus"})
        return 200
    if fault == "huge":
        _huge(h)
        return 200
    if fault == "stall":
        h._head(200, {"Content-Type": "application/json", "Transfer-Encoding": "chunked"})
        h._frame(b'{"object": "list", "data": [')
        h._stall_until_released()
        return 200
    ids = [] if fault == "empty" else owner._model_ids(dialect)
    data = [{"id": m, "object": "model", "created": 1767225600, "owned_by": dialect}
            for m in ids]
    h._json(200, {"object": "list", "data": data})
    return 200


def _huge(h: Handler) -> None:
    """A well-formed list of about 12 MB, sent in chunks (no model list is that big)."""
    h._head(200, {"Content-Type": "application/json", "Transfer-Encoding": "chunked"})
    h._frame(b'{"object": "list", "data": [')
    entry = json.dumps({"id": "x" * 200, "object": "model"}).encode()
    block = b",".join([entry] * 500)
    sent = 0
    first = True
    while sent < HUGE_BYTES:
        h._frame(block if first else b"," + block)
        first = False
        sent += len(block)
    h._frame(b"]}")
    h._end_frames()
