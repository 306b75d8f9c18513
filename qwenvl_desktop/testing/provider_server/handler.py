"""The HTTP side: one handler per connection routes a request, refuses what the real
provider would refuse, and hands the rest to `AnswerWriter`.

Its low-level writers (`_head`, `_frame`, ...) flush every write on its own, so a
test sees exactly the byte boundaries the script asked for.
"""

from __future__ import annotations

import contextlib
import json
import select
import socket
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any

from .content_checks import content_problem
from .dialects import (
    OVH_MAX_BODY,
    PREFIXES,
    dashscope_refusal,
    default_error_message,
    error_body,
)
from .models_route import serve_models
from .script import RequestRecord, Script
from .writer import Aborted, AnswerWriter

if TYPE_CHECKING:
    from .server import LoopbackHTTPServer, ProviderServer

__all__ = ["Handler"]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: LoopbackHTTPServer

    # plumbing ------------------------------------------------------------------------
    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.owner._track(self.connection, True)

    def finish(self) -> None:
        self.server.owner._track(self.connection, False)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: ARG002
        return  # quiet: tests read `server.requests` instead

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except (Aborted, OSError):
            self.close_connection = True

    @property
    def owner(self) -> ProviderServer:
        return self.server.owner

    def _send(self, data: bytes) -> None:
        if self.owner._stopping.is_set():
            raise Aborted
        try:
            self.wfile.write(data)
            self.wfile.flush()
        except OSError as err:
            self.owner._note(close=1)
            raise Aborted from err

    def _head(self, status: int, headers: dict[str, str]) -> None:
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = ""
        lines = [f"HTTP/1.1 {status} {phrase}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        self._send(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))

    def _whole(self, status: int, body: bytes, content_type: str,
               extra: dict[str, str] | None = None, *, close: bool = False) -> None:
        headers = {"Content-Type": content_type, "Content-Length": str(len(body))}
        headers.update(extra or {})
        if close:
            headers["Connection"] = "close"
            self.close_connection = True
        self._head(status, headers)
        self._send(body)

    def _json(self, status: int, obj: Any, extra: dict[str, str] | None = None) -> None:
        self._whole(status, json.dumps(obj).encode(), "application/json", extra)

    def _frame(self, data: bytes) -> None:
        """One HTTP/1.1 chunk, flushed on its own."""
        if data:
            self._send(f"{len(data):x}\r\n".encode() + data + b"\r\n")

    def _end_frames(self) -> None:
        self._send(b"0\r\n\r\n")

    def _wait(self, seconds: float) -> None:
        if seconds > 0 and self.owner._stopping.wait(seconds):
            raise Aborted

    def _peer_closed(self) -> bool:
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return bool(readable) and self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    # routing ---------------------------------------------------------------------------
    def _route(self) -> tuple[str, str] | None:
        path = self.path.split("?", 1)[0]
        for dialect, prefix in PREFIXES.items():
            if path.startswith(prefix + "/"):
                return dialect, path[len(prefix):]
        return None

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _authorised(self, dialect: str) -> bool:
        key = self.owner.api_key
        if dialect == "segmind":
            return self.headers.get("x-api-key") == key
        auth = self.headers.get("Authorization")
        if dialect == "custom" and auth is None:
            return True
        return auth == f"Bearer {key}"

    def _error(self, dialect: str, status: int, script: Script | None = None) -> None:
        message = (script.error_message if script else None) or default_error_message(
            dialect, status)
        extra: dict[str, str] = {}
        body = error_body(dialect, status, message, script.error_code if script else None,
                          error_type=script.error_type if script else None,
                          metadata=script.error_metadata if script else None)
        if script is not None:
            if script.retry_after is not None:
                extra["Retry-After"] = script.retry_after
            extra.update(script.error_headers)
            if script.error_sse_framed:
                # Model Studio's moderation refusals: a 4xx whose body is an SSE line.
                framed = f"data: {json.dumps(body, ensure_ascii=False)}\n\n".encode()
                self._whole(status, framed, "text/event-stream;charset=UTF-8", extra)
                return
        self._json(status, body, extra)

    def _stall_until_released(self) -> None:
        """Send nothing more until the test releases stalls or the server stops."""
        event = threading.Event()
        self.owner._add_stall(event)
        self.owner._note(stall=1)
        while not event.wait(0.02):
            if self._peer_closed():
                self.owner._note(close=1)
                raise Aborted
        raise Aborted

    def do_GET(self) -> None:
        route = self._route()
        body = b""
        record = RequestRecord("GET", self.path, route[0] if route else "", _lower(self.headers),
                               body)
        self.owner._record(record)
        if route is None or route[1] != "/models" or route[0] == "segmind":
            record.status = 404
            self._json(404, {"error": {"message": f"No route for GET {self.path}"}})
            return
        dialect = route[0]
        if not self._authorised(dialect):
            record.status = 401
            self._error(dialect, 401)
            return
        record.status = serve_models(self, dialect)

    def do_POST(self) -> None:
        route = self._route()
        body = self._read_body()
        record = RequestRecord("POST", self.path, route[0] if route else "",
                               _lower(self.headers), body)
        try:
            record.json = json.loads(body) if body else None
        except ValueError:
            record.json = None
        self.owner._record(record)
        if route is None:
            record.status = 404
            self._json(404, {"error": {"message": f"No route for POST {self.path}"}})
            return
        dialect, rest = route
        refusal = self._check(dialect, rest, body, record)
        if refusal is not None:
            record.status = refusal[0]
            if refusal[1] is None:
                self._error(dialect, refusal[0])
            else:
                self._json(refusal[0], error_body(dialect, refusal[0], refusal[1], None))
            return
        script, failing = self.owner._next_script()
        if failing:
            record.status = script.fail_status
            self._error(dialect, script.fail_status, script)
            return
        model = rest.lstrip("/") if dialect == "segmind" else str(record.json.get("model"))
        AnswerWriter(self, dialect, model, script, record).run()

    def _check(self, dialect: str, rest: str, body: bytes,
               record: RequestRecord) -> tuple[int, str | None] | None:
        """What the real provider would refuse before answering, as (status, message)."""
        if dialect == "ovh" and len(body) > OVH_MAX_BODY:
            return 413, None
        if not self._authorised(dialect):
            return 401, None
        obj = record.json
        if not isinstance(obj, dict):
            return 400, "The request body is not a JSON object."
        if not isinstance(obj.get("messages"), list) or not obj["messages"]:
            return 400, "'messages' must be a non-empty list."
        problem = content_problem(dialect, obj["messages"])
        if problem is not None:
            return 400, problem
        if dialect == "segmind":
            if "model" in obj:
                return 400, "Unknown field 'model': the model is chosen by the URL."
            slug = rest.lstrip("/")
            if slug in self.owner.retired.get(dialect, set()):
                # Segmind: 410 Gone for a retired model, refused before it runs (not billed).
                return 410, f"Model '{slug}' has been retired."
            if not self.owner._known_model(dialect, slug):
                return 404, f"Model '{slug}' not found."
            return None
        if rest != "/chat/completions":
            return 404, f"No route for POST {self.path}"
        model = obj.get("model")
        if not isinstance(model, str) or not model:
            return 400, "'model' is required."
        if not self.owner._known_model(dialect, model):
            return 404, f"The model `{model}` does not exist or you do not have access to it."
        if dialect == "dashscope":
            refusal = dashscope_refusal(obj)
            if refusal is not None:
                return 400, refusal
        return None


def _lower(headers: Any) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}
