"""A loopback HTTP server that speaks every provider's wire format, and misbehaves on cue.

The end-to-end tests, the app's `--self-test` and the benchmarks point real providers
at it with `Provider.with_base_url(server.base_url_for(dialect))`. It runs on
127.0.0.1 on an ephemeral port in a background thread, so it works the same under
plain pytest, under the CLI in a subprocess and under qasync in the GUI.

Responses are written by hand (status line, headers, chunked frames, one flush per
frame) because the faults we need — a socket closed mid-frame, a UTF-8 character split
across two writes, a stream that stalls until the test lets it go — are exactly what a
framework would hide. Stdlib only.

Each dialect lives under its own path prefix on the one server:

    dashscope  /dashscope/compatible-mode/v1/chat/completions  SSE, reasoning_content, usage
    ovh        /ovh/v1/chat/completions              SSE, delta.reasoning, 2 MB body cap
    aimlapi    /aimlapi/v1/chat/completions          SSE, {"message","statusCode"} errors
    nebula     /nebula/v1/chat/completions           one JSON object per line, no `data:`
    segmind    /segmind/v1/<slug>                    no streaming, x-api-key, no "model"
    custom     /custom/v1/chat/completions           OpenAI SSE, key optional
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
import select
import socket
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = [
    "DEFAULT_KEY",
    "DIALECTS",
    "ProviderServer",
    "RequestRecord",
    "Script",
    "default_error_message",
    "dialect_for",
    "split_pieces",
]

DEFAULT_KEY = "sk-loopback-0123456789abcdef"

DIALECTS = ("dashscope", "ovh", "aimlapi", "nebula", "segmind", "custom")

_PREFIXES = {
    "dashscope": "/dashscope/compatible-mode/v1",
    "ovh": "/ovh/v1",
    "aimlapi": "/aimlapi/v1",
    "nebula": "/nebula/v1",
    "segmind": "/segmind/v1",
    "custom": "/custom/v1",
}

# Which delta field carries the reasoning in each dialect.
_REASONING_FIELD = {
    "dashscope": "reasoning_content", "aimlapi": "reasoning_content",
    "nebula": "reasoning_content", "ovh": "reasoning", "custom": "reasoning",
    "segmind": "reasoning_content",
}

# DashScope and AI/ML API (served by DashScope upstream) put the last piece of text in
# the chunk that carries finish_reason; vLLM-based hosts send an empty finishing delta.
_TEXT_IN_FINISH_CHUNK = {"dashscope", "aimlapi"}

_OVH_MAX_BODY = 2_000_000

_NGINX_PAGE = (
    "<html>\r\n<head><title>{code} {phrase}</title></head>\r\n<body>\r\n"
    "<center><h1>{code} {phrase}</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)


def dialect_for(provider_id: str) -> str:
    """The server dialect that stands in for a catalog provider id."""
    if provider_id.startswith("dashscope"):
        return "dashscope"
    if provider_id in _PREFIXES:
        return provider_id
    return "custom"


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


# --- error bodies per dialect --------------------------------------------------------

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


def _error_body(dialect: str, status: int, message: str, code: str | None) -> dict[str, Any]:
    if dialect == "segmind":
        return {"error": message}
    if dialect == "aimlapi":
        return {"statusCode": status, "message": message, "path": "/v1/chat/completions",
                "timestamp": "2025-11-05T12:00:00.000Z"}
    if dialect == "dashscope":
        return {"error": {"message": message, "type": "invalid_request_error", "param": None,
                          "code": code or _DASHSCOPE_CODES.get(status, "InternalError")},
                "request_id": "00000000-loop-back-0000-000000000000"}
    return {"error": {"message": message, "type": "invalid_request_error", "param": None,
                      "code": code or str(status)}}


def _stream_error_body(dialect: str, message: str, code: str | None) -> dict[str, Any]:
    # Mid-stream errors arrive OpenAI-style in every streaming dialect.
    return {"error": {"message": message, "type": "server_error",
                      "code": code or ("InternalError" if dialect == "dashscope" else "500")}}


# --- the server ------------------------------------------------------------------------

class _Aborted(Exception):
    """The client went away or the server is stopping: stop writing, quietly."""


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    owner: ProviderServer

    def handle_error(self, request: Any, client_address: Any) -> None:  # noqa: ARG002
        # Record instead of printing a traceback: tests may assert there were none.
        exc = sys.exc_info()[1]
        if not isinstance(exc, OSError):
            self.owner.errors.append(repr(exc))


class ProviderServer:
    """The loopback provider server. Use as a context manager, or start()/stop()."""

    def __init__(self, *, api_key: str = DEFAULT_KEY, default: Script | None = None,
                 host: str = "127.0.0.1") -> None:
        self.api_key = api_key
        self._initial_key = api_key
        self.default = default or Script()
        self.errors: list[str] = []
        self._host = host
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._queue: deque[list[Any]] = deque()   # [script, times_left, failures_served]
        self._requests: list[RequestRecord] = []
        self._client_closes = 0
        self._stalled = 0
        self._stopping = threading.Event()
        self._stall_events: set[threading.Event] = set()
        self._connections: set[socket.socket] = set()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._ids = itertools.count(1)
        self._models = _catalog_models()

    # lifecycle ----------------------------------------------------------------------
    def start(self) -> ProviderServer:
        if self._httpd is not None:
            return self
        self._stopping.clear()
        httpd = _HTTPServer((self._host, 0), _Handler)
        httpd.owner = self
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="provider-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; wakes stalled streams and closes open connections first."""
        httpd = self._httpd
        if httpd is None:
            return
        self._stopping.set()
        self.release_stalls()
        httpd.shutdown()
        with self._lock:
            conns = list(self._connections)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> ProviderServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the provider server is not running")
        return int(self._httpd.server_address[1])

    @property
    def root_url(self) -> str:
        return f"http://{self._host}:{self.port}"

    def base_url_for(self, dialect: str) -> str:
        """The base URL to give `Provider.with_base_url` for a dialect (or provider id)."""
        name = dialect if dialect in _PREFIXES else dialect_for(dialect)
        return self.root_url + _PREFIXES[name]

    # scripting ----------------------------------------------------------------------
    def enqueue(self, *scripts: Script, times: int = 1) -> None:
        """Queue answers for the next chat requests; each is served `times` times."""
        with self._lock:
            for script in scripts:
                self._queue.append([script, times, 0])

    def reset(self) -> None:
        """Empty the queue and the records, release stalls, restore the default answer."""
        self.release_stalls()
        self.api_key = self._initial_key
        with self._lock:
            self._queue.clear()
            self._requests.clear()
            self._client_closes = 0
            self._stalled = 0
            self.errors.clear()
            self.default = Script()

    def release_stalls(self) -> None:
        with self._lock:
            events = list(self._stall_events)
            self._stall_events.clear()
        for event in events:
            event.set()

    # observing ----------------------------------------------------------------------
    @property
    def requests(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._requests)

    @property
    def client_closes(self) -> int:
        """How many streams the client closed before the server had finished them."""
        with self._lock:
            return self._client_closes

    def wait_for_requests(self, n: int, timeout: float = 5.0) -> list[RequestRecord]:
        with self._changed:
            if not self._changed.wait_for(lambda: len(self._requests) >= n, timeout):
                raise TimeoutError(f"expected {n} requests, got {len(self._requests)}")
            return list(self._requests)

    def wait_for_client_close(self, n: int = 1, timeout: float = 5.0) -> int:
        with self._changed:
            if not self._changed.wait_for(lambda: self._client_closes >= n, timeout):
                raise TimeoutError(f"expected {n} client closes, saw {self._client_closes}")
            return self._client_closes

    def wait_for_stall(self, n: int = 1, timeout: float = 5.0) -> None:
        with self._changed:
            if not self._changed.wait_for(lambda: self._stalled >= n, timeout):
                raise TimeoutError(f"expected {n} stalled streams, saw {self._stalled}")

    # used by the handler --------------------------------------------------------------
    def _record(self, record: RequestRecord) -> None:
        with self._changed:
            self._requests.append(record)
            self._changed.notify_all()

    def _note(self, *, close: int = 0, stall: int = 0) -> None:
        with self._changed:
            self._client_closes += close
            self._stalled += stall
            self._changed.notify_all()

    def _next_script(self) -> tuple[Script, bool]:
        """The script for this request and whether it is one of its scripted failures."""
        with self._lock:
            if not self._queue:
                return self.default, False
            entry = self._queue[0]
            script: Script = entry[0]
            if entry[2] < script.fail_times:
                entry[2] += 1
                return script, True
            entry[1] -= 1
            if entry[1] <= 0:
                self._queue.popleft()
            else:
                entry[2] = 0
            return script, False

    def _track(self, conn: socket.socket, add: bool) -> None:
        with self._lock:
            if add:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    def _add_stall(self, event: threading.Event) -> None:
        with self._lock:
            self._stall_events.add(event)
        if self._stopping.is_set():
            event.set()

    def _known_model(self, dialect: str, model: str) -> bool:
        models = self._models.get(dialect)
        return models is None or model in models

    def _model_ids(self, dialect: str) -> list[str]:
        return sorted(self._models.get(dialect) or {"Qwen/Qwen3-VL-8B-Instruct"})

    def _new_id(self) -> str:
        return f"chatcmpl-loopback-{next(self._ids):06d}"


def _catalog_models() -> dict[str, set[str] | None]:
    """Model ids each dialect serves, from the shipped catalog (custom: anything)."""
    from qwenvl_desktop.core.catalog import load_builtin

    models: dict[str, set[str] | None] = {"custom": None}
    for provider in load_builtin().builtin():
        ids = models.setdefault(dialect_for(provider.id), set())
        assert ids is not None
        for model in provider.models:
            ids.add(model.id)
            ids.update(model.snapshots)
    return models


# --- the request handler ---------------------------------------------------------------

class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HTTPServer

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
        except (_Aborted, OSError):
            self.close_connection = True

    @property
    def owner(self) -> ProviderServer:
        return self.server.owner

    def _send(self, data: bytes) -> None:
        if self.owner._stopping.is_set():
            raise _Aborted
        try:
            self.wfile.write(data)
            self.wfile.flush()
        except OSError as err:
            self.owner._note(close=1)
            raise _Aborted from err

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
            raise _Aborted

    def _peer_closed(self) -> bool:
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return bool(readable) and self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    # routing ---------------------------------------------------------------------------
    def _route(self) -> tuple[str, str] | None:
        path = self.path.split("?", 1)[0]
        for dialect, prefix in _PREFIXES.items():
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
        extra = {}
        if script is not None and script.retry_after is not None:
            extra["Retry-After"] = script.retry_after
        self._json(status, _error_body(dialect, status, message,
                                       script.error_code if script else None), extra)

    def do_GET(self) -> None:
        route = self._route()
        body = b""
        record = RequestRecord("GET", self.path, route[0] if route else "", _lower(self.headers),
                               body)
        self.owner._record(record)
        if route is None or route[1] != "/models":
            record.status = 404
            self._json(404, {"error": {"message": f"No route for GET {self.path}"}})
            return
        dialect = route[0]
        if not self._authorised(dialect):
            record.status = 401
            self._error(dialect, 401)
            return
        record.status = 200
        data = [{"id": m, "object": "model", "owned_by": dialect}
                for m in self.owner._model_ids(dialect)]
        self._json(200, {"object": "list", "data": data})

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
                self._json(refusal[0], _error_body(dialect, refusal[0], refusal[1], None))
            return
        script, failing = self.owner._next_script()
        if failing:
            record.status = script.fail_status
            self._error(dialect, script.fail_status, script)
            return
        model = rest.lstrip("/") if dialect == "segmind" else str(record.json.get("model"))
        _Answer(self, dialect, model, script, record).run()

    def _check(self, dialect: str, rest: str, body: bytes,
               record: RequestRecord) -> tuple[int, str | None] | None:
        """What the real provider would refuse before answering, as (status, message)."""
        if dialect == "ovh" and len(body) > _OVH_MAX_BODY:
            return 413, None
        if not self._authorised(dialect):
            return 401, None
        obj = record.json
        if not isinstance(obj, dict):
            return 400, "The request body is not a JSON object."
        if not isinstance(obj.get("messages"), list) or not obj["messages"]:
            return 400, "'messages' must be a non-empty list."
        if dialect == "segmind":
            if "model" in obj:
                return 400, "Unknown field 'model': the model is chosen by the URL."
            slug = rest.lstrip("/")
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
        return None


def _lower(headers: Any) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


class _Answer:
    """Writes one scripted answer in a dialect's wire format, with its fault if any."""

    def __init__(self, handler: _Handler, dialect: str, model: str, script: Script,
                 record: RequestRecord) -> None:
        self.h = handler
        self.dialect = dialect
        self.model = model
        self.script = script
        self.record = record
        self.id = handler.owner._new_id()
        self.created = int(time.time())
        body = record.json if isinstance(record.json, dict) else {}
        self.stream = bool(body.get("stream")) and dialect != "segmind"
        options = body.get("stream_options")
        self.include_usage = isinstance(options, dict) and bool(options.get("include_usage"))
        self.nl = "\r\n" if script.crlf else "\n"

    def run(self) -> None:
        s = self.script
        if s.html_status is not None:
            self.record.status = s.html_status
            phrase = HTTPStatus(s.html_status).phrase
            page = _NGINX_PAGE.format(code=s.html_status, phrase=phrase).encode()
            self.h._whole(s.html_status, page, "text/html", close=True)
            return
        if s.status != 200:
            self.record.status = s.status
            self.h._error(self.dialect, s.status, s)
            return
        self.record.status = 200
        if self.stream:
            self._stream()
        else:
            self._blocking()

    # pieces -----------------------------------------------------------------------------
    def _pieces(self) -> list[tuple[str, str]]:
        s = self.script
        return ([("reasoning", p) for p in split_pieces(s.reasoning, s.chunks)]
                + [("content", p) for p in split_pieces(s.content, s.chunks)])

    def _fault_at(self) -> int | None:
        s = self.script
        if s.drop_after is not None:
            return s.drop_after
        if s.malformed or s.error_event or s.stall or s.no_finish:
            return s.fault_after
        return None

    def _usage(self, pieces: list[tuple[str, str]]) -> dict[str, Any]:
        if self.script.usage is not None:
            return dict(self.script.usage)
        reasoning = sum(1 for kind, _ in pieces if kind == "reasoning")
        completion = len(pieces)
        usage: dict[str, Any] = {"prompt_tokens": 42, "completion_tokens": completion,
                                 "total_tokens": 42 + completion}
        if reasoning:
            usage["completion_tokens_details"] = {"reasoning_tokens": reasoning}
        return usage

    # streaming ---------------------------------------------------------------------------
    def _chunk(self, delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
        return {"id": self.id, "object": "chat.completion.chunk", "created": self.created,
                "model": self.model, "system_fingerprint": None,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish,
                             "logprobs": None}],
                "usage": None}

    def _event(self, obj: Any) -> None:
        self._raw(json.dumps(obj, ensure_ascii=False, indent=2 if self._pretty() else None))

    def _pretty(self) -> bool:
        return self.dialect == "nebula" and self.script.pretty

    def _raw(self, payload: str) -> None:
        """Frame one payload in the dialect's stream format and send it."""
        nl = self.nl
        if self.dialect == "nebula":
            text = payload.replace("\n", nl) + nl
        else:
            text = f"data: {payload}{nl}{nl}"
        data = text.encode("utf-8")
        if self.script.split_multibyte:
            self._split_send(data)
        else:
            self.h._frame(data)

    def _split_send(self, data: bytes) -> None:
        # Cut inside every multi-byte character: each part is its own flushed write.
        start = 0
        for i in range(1, len(data)):
            if 0x80 <= data[i] < 0xC0 and data[i - 1] >= 0xC0:
                self.h._frame(data[start:i])
                start = i
        self.h._frame(data[start:])

    def _ping(self) -> None:
        if self.dialect == "nebula":
            self.h._frame(self.nl.encode())
        else:
            self.h._frame(f": ping{self.nl}{self.nl}".encode())

    def _stream(self) -> None:
        s = self.script
        h = self.h
        h._head(200, {"Content-Type": "text/event-stream; charset=utf-8",
                      "Cache-Control": "no-cache", "Transfer-Encoding": "chunked",
                      "X-Request-Id": self.id})
        pieces = self._pieces()
        fault_at = self._fault_at()
        reasoning_key = _REASONING_FIELD[self.dialect]
        thinking = bool(s.reasoning)
        first: dict[str, Any] = {"role": "assistant", "content": ""}
        if thinking and self.dialect == "dashscope":
            first[reasoning_key] = ""
        self._event(self._chunk(first, None))
        if s.keepalive:
            self._ping()
        finish_with_text = (self.dialect in _TEXT_IN_FINISH_CHUNK and fault_at is None
                            and pieces and pieces[-1][0] == "content")
        for index, (kind, piece) in enumerate(pieces):
            if fault_at is not None and index >= fault_at:
                break
            last = index == len(pieces) - 1
            if kind == "reasoning":
                delta: dict[str, Any] = {"content": None, reasoning_key: piece}
                self.record.sent_reasoning += piece
            else:
                delta = {"content": piece}
                if thinking and self.dialect == "dashscope":
                    delta[reasoning_key] = None
                self.record.sent_text += piece
            finish = s.finish_reason if (last and finish_with_text) else None
            self._event(self._chunk(delta, finish))
            if s.keepalive:
                self._ping()
            h._wait(s.interval)
        if fault_at is not None:
            self._fault()
            return
        if not finish_with_text:
            self._event(self._chunk({"content": ""}, s.finish_reason))
        if self.include_usage:
            usage_chunk = self._chunk({}, None)
            usage_chunk["choices"] = []
            usage_chunk["usage"] = self._usage(pieces)
            self._event(usage_chunk)
        if not s.no_done and self.dialect != "nebula":
            self._raw("[DONE]")
        h._end_frames()

    def _fault(self) -> None:
        s = self.script
        h = self.h
        if s.drop_after is not None:
            self._drop()
            return
        if s.malformed:
            broken = '{"id": "' + self.id + '", "choices": [{"delta": {"content": "unfinis'
            if self.dialect == "nebula":
                # A JSON object left open would just look cut off: send a foreign line.
                self.h._frame(f"upstream said: this is not json{self.nl}".encode())
            else:
                self.h._frame(f"data: {broken}{self.nl}{self.nl}".encode())
            h._end_frames()
            return
        if s.error_event:
            message = s.error_message or "The model stopped unexpectedly (loopback error event)."
            self._event(_stream_error_body(self.dialect, message, s.error_code))
            h._end_frames()
            return
        if s.stall:
            self._stall()
            h._end_frames()
            return
        # no_finish: a clean end of the body after some text, without a finish reason.
        h._end_frames()

    def _drop(self) -> None:
        """Close the socket without ending the chunked body: a dropped connection."""
        self.h.close_connection = True
        with contextlib.suppress(OSError):
            self.h.connection.shutdown(socket.SHUT_RDWR)
        raise _Aborted

    def _stall(self) -> None:
        owner = self.h.owner
        event = self.script.release
        owner._add_stall(event)
        owner._note(stall=1)
        # Wait until released or stopped, noticing meanwhile if the client hangs up.
        while not event.wait(0.02):
            if self.h._peer_closed():
                owner._note(close=1)
                raise _Aborted
        if owner._stopping.is_set():
            raise _Aborted
        self.h.close_connection = True

    # one blocking answer ------------------------------------------------------------------
    def _blocking(self) -> None:
        s = self.script
        pieces = self._pieces()
        if s.keepalive:
            self.h._head(200, {"Content-Type": "application/json",
                               "Transfer-Encoding": "chunked"})
            # Some gateways send whitespace while the model works: JSON tolerates it.
            self.h._frame(b"\n")
            self.h._frame(b" \n")
            self.h._frame(json.dumps(self._completion(pieces)).encode())
            self.h._end_frames()
            self.record.sent_text = s.content
            self.record.sent_reasoning = s.reasoning
            return
        if s.error_event:
            message = s.error_message or "The model failed to produce an answer."
            self.h._json(200, _error_body(self.dialect, 500, message, s.error_code))
            return
        indent = 2 if (s.crlf or s.pretty) else None
        text = json.dumps(self._completion(pieces), ensure_ascii=False, indent=indent)
        if s.crlf:
            text = text.replace("\n", "\r\n")
        data = text.encode("utf-8")
        if s.malformed:
            data = data[: len(data) // 2]
        if s.drop_after is not None or s.stall:
            self._cut_blocking(data)
            return
        headers = {"Content-Type": "application/json", "Content-Length": str(len(data))}
        self.h._head(200, headers)
        if s.split_multibyte:
            self._split_raw(data)
        else:
            self.h._send(data)
        if not s.malformed:
            self.record.sent_text = s.content
            self.record.sent_reasoning = s.reasoning

    def _split_raw(self, data: bytes) -> None:
        start = 0
        for i in range(1, len(data)):
            if 0x80 <= data[i] < 0xC0 and data[i - 1] >= 0xC0:
                self.h._send(data[start:i])
                start = i
        self.h._send(data[start:])

    def _cut_blocking(self, data: bytes) -> None:
        """Announce the whole body, send half of it, then drop or stall."""
        self.h._head(200, {"Content-Type": "application/json",
                           "Content-Length": str(len(data))})
        self.h._send(data[: len(data) // 2])
        if self.script.stall:
            self._stall()
        self._drop()

    def _completion(self, pieces: list[tuple[str, str]]) -> dict[str, Any]:
        s = self.script
        message: dict[str, Any] = {"role": "assistant", "content": s.content}
        if s.reasoning:
            message[_REASONING_FIELD[self.dialect]] = s.reasoning
        finish = None if s.no_finish else s.finish_reason
        return {"id": self.id, "object": "chat.completion", "created": self.created,
                "model": self.model,
                "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                "usage": self._usage(pieces)}
