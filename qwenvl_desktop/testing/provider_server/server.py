"""The loopback server itself: lifecycle, the answer queue, and what tests observe."""

from __future__ import annotations

import contextlib
import itertools
import socket
import sys
import threading
from collections import deque
from http.server import ThreadingHTTPServer
from typing import Any

from .dialects import PREFIXES, dialect_for
from .handler import Handler
from .script import RequestRecord, Script

__all__ = ["DEFAULT_KEY", "ProviderServer"]

DEFAULT_KEY = "sk-loopback-0123456789abcdef"


class LoopbackHTTPServer(ThreadingHTTPServer):
    """One thread per connection, none of which keeps the process or `stop()` waiting."""

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
        self._httpd: LoopbackHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._ids = itertools.count(1)
        self._models = _catalog_models()
        #: GET …/models: the ids listed per dialect (None: the catalog's) and the fault.
        self.listing: dict[str, list[str]] = {}
        self.models_fault: str | None = None
        #: Models a dialect has retired (Segmind answers 410 Gone for them).
        self.retired: dict[str, set[str]] = {}

    # lifecycle ----------------------------------------------------------------------
    def start(self) -> ProviderServer:
        if self._httpd is not None:
            return self
        self._stopping.clear()
        httpd = LoopbackHTTPServer((self._host, 0), Handler)
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
        name = dialect if dialect in PREFIXES else dialect_for(dialect)
        return self.root_url + PREFIXES[name]

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
            self.listing = {}
            self.models_fault = None
            self.retired = {}

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
    def stalls(self) -> int:
        """How many answers have stalled so far (for waits that must not block a thread)."""
        with self._lock:
            return self._stalled

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

    # used by the handler and the writer ----------------------------------------------
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

    def _model_ids(self, dialect: str) -> list[str]:
        if dialect in self.listing:
            return list(self.listing[dialect])
        return sorted(self._models.get(dialect) or {"Qwen/Qwen3-VL-8B-Instruct"})

    def _known_model(self, dialect: str, model: str) -> bool:
        if model in self.listing.get(dialect, ()):
            return True
        models = self._models.get(dialect)
        return models is None or model in models

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
