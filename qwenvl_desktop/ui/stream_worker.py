"""Chat streams read on a worker thread, delivered to the GUI loop once per frame.

Why: reading a stream on the GUI thread costs the GUI a socket wake-up, an httpx read
and an SSE decode per token, and a Qt signal per token on top (≤ 5 % of the
GUI thread at 100 tokens/s). So the network part of a turn — `ChatClient.stream_chat`:
connect, retries, read, decode — runs on one dedicated thread with its own plain asyncio
loop and its own `httpx.AsyncClient` (an httpx client belongs to the loop it is used on;
`services.http` belongs to the GUI loop).

The design, in three pieces:

* `StreamWorker.stream_chat(...)` has the same signature and behaviour as
  `ChatClient.stream_chat` — an async generator of `StreamEvent`s — but runs on the GUI
  loop as a *proxy*: it starts the real stream as a task on the worker loop and yields
  what the worker hands over. So `core.turn.send_turn` runs unchanged on the GUI thread
  and every change to the `Conversation` still happens there.
* On the worker, `_Batcher` coalesces consecutive content (or reasoning) deltas into one
  delta with the joined text and hands a batch over at most once per `interval` (50 ms)
  per stream; any other event (`Retrying`, `Usage`, `Finish`) goes over at
  once together with what was pending, so the order of events never changes. The first
  delta after a quiet spell, and the first of each kind (the first reasoning, the first
  answer token), go over at once: batching adds no latency to what the person waits for.
* The hand-over is `gui_loop.call_soon_threadsafe(queue.put_nowait, batch)`: FIFO, so
  batches arrive in order, and the worker task's done-callback sends one last `_End`
  (carrying the error, if any) after every batch. The proxy raises that error on the GUI
  side, which is how errors with partial text, timeouts and statuses reach `send_turn`
  exactly as before.

Stopping: cancelling the GUI task (Esc) raises `CancelledError` in the proxy; its
`finally` cancels the worker task (which closes the HTTP response at once) and waits for
the `_End` that the task's done-callback always sends, so when the GUI task has ended
the connection is closed. `close()` cancels whatever still runs on the worker, closes
its HTTP client, stops its loop and joins the thread (the thread is a daemon as a last
resort: it can never keep the process alive).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncGenerator, Callable, Sequence
from concurrent.futures import Future
from contextlib import aclosing
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from qwenvl_desktop.core.api.types import (
    ChatMessage,
    ChatParams,
    ContentDelta,
    ReasoningDelta,
    StreamEvent,
)

if TYPE_CHECKING:
    import httpx

    from qwenvl_desktop.core.api.client import ChatClient
    from qwenvl_desktop.core.catalog import Model, Provider
    from qwenvl_desktop.core.url_credentials import UrlCredentials

__all__ = ["FRAME_S", "StreamWorker"]

log = logging.getLogger(__name__)

FRAME_S = 0.050
"""Longest time deltas wait on the worker before they are handed to the GUI.

Every hand-over costs the GUI thread a wake-up, a text insert, a layout and a repaint;
at 20 per second text still reads as flowing, and the GUI thread stays near the 5 %
bar at 100 tokens/s (16 ms hand-overs measured 8–14 %, see tests/benchmarks)."""

_JOIN_TIMEOUT_S = 5.0

Deliver = Callable[[Any], None]


@dataclass(frozen=True)
class _End:
    """The last item of a stream: the worker task is done (error None: it completed)."""

    error: BaseException | None


@dataclass(frozen=True)
class _ClientSettings:
    """The chat client's tunables, read on the GUI thread when a stream starts."""

    connect_timeout: float
    read_timeout: float
    max_retries: int
    backoff_base: float
    backoff_max: float
    url_credentials: UrlCredentials | None = None   # read from the key store here

    @classmethod
    def of(cls, client: ChatClient, provider: Provider) -> _ClientSettings:
        return cls(client.connect_timeout, client.read_timeout, client.max_retries,
                   client.backoff_base, client.backoff_max,
                   client.url_credentials_for(provider))


class _Batcher:
    """Worker side of one stream: coalesces deltas, hands over at most once a frame.

    Lives on the worker loop only. `add` is called per event; `flush` hands whatever is
    pending to `deliver` (already thread-safe) as one list of events.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, deliver: Deliver,
                 interval: float) -> None:
        self._loop = loop
        self._deliver = deliver
        self._interval = interval
        self._events: list[StreamEvent] = []
        # The open run of same-kind deltas: its class and its pieces.
        self._kind: type[ContentDelta] | type[ReasoningDelta] | None = None
        self._parts: list[str] = []
        self._last = float("-inf")          # loop time of the last hand-over
        self._timer: asyncio.TimerHandle | None = None
        self._seen: set[type] = set()       # kinds of delta already handed over

    def add(self, event: StreamEvent) -> None:
        if isinstance(event, ContentDelta | ReasoningDelta):
            kind = type(event)
            if kind is not self._kind:
                self._close_run()
                self._kind = kind
            self._parts.append(event.text)
            now = self._loop.time()
            if now - self._last >= self._interval or kind not in self._seen:
                self._seen.add(kind)
                self.flush()
            elif self._timer is None:
                self._timer = self._loop.call_at(self._last + self._interval, self.flush)
        else:
            # Rare events (retrying, usage, finish) go over at once, after what is pending.
            self._close_run()
            self._events.append(event)
            self.flush()

    def flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._close_run()
        if self._events:
            events, self._events = self._events, []
            self._last = self._loop.time()
            self._deliver(events)

    def _close_run(self) -> None:
        kind, parts = self._kind, self._parts
        self._kind, self._parts = None, []
        if kind is not None:
            text = "".join(parts)
            if text:
                self._events.append(kind(text))


class StreamWorker:
    """A thread with its own asyncio loop and httpx client that reads chat streams.

    Use `stream_chat` from the GUI loop in place of `ChatClient.stream_chat`; call
    `close()` once at shutdown. The thread starts with the first stream.
    """

    def __init__(self, template: Callable[[], ChatClient],
                 http_factory: Callable[[], httpx.AsyncClient], *,
                 interval: float = FRAME_S) -> None:
        """`template()` is read (on the GUI thread) at each stream start for the current
        timeouts and retry count; `http_factory()` builds the worker's own HTTP client
        (called on the worker thread)."""
        self._template = template
        self._http_factory = http_factory
        self.interval = interval
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._http: httpx.AsyncClient | None = None     # used on the worker thread only

    # --- the GUI side -------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    async def stream_chat(self, provider: Provider, model: Model,
                          messages: Sequence[ChatMessage], params: ChatParams, *,
                          api_key: str | None) -> AsyncGenerator[StreamEvent, None]:
        """`ChatClient.stream_chat`, read on the worker; events arrive here in batches."""
        gui_loop = asyncio.get_running_loop()
        queue: asyncio.Queue[list[StreamEvent] | _End] = asyncio.Queue()

        def deliver(item: list[StreamEvent] | _End) -> None:      # called on the worker
            with contextlib.suppress(RuntimeError):    # the GUI loop is already closed
                gui_loop.call_soon_threadsafe(queue.put_nowait, item)

        settings = _ClientSettings.of(self._template(), provider)
        loop = self._ensure_started()
        handle: Future[asyncio.Task[None]] = Future()

        def start() -> None:                                       # on the worker
            task = loop.create_task(self._pump(
                settings, deliver, provider, model, messages, params, api_key))
            task.add_done_callback(lambda t: deliver(_end_of(t)))
            handle.set_result(task)

        loop.call_soon_threadsafe(start)
        ended = False
        try:
            while True:
                item = await queue.get()
                if isinstance(item, _End):
                    ended = True
                    if item.error is not None:
                        raise item.error
                    return
                for event in item:
                    yield event
        finally:
            # Stopped (task cancelled) or left early: cancel the worker's task and wait
            # for its `_End`, so the connection is closed when this generator is.
            if not ended and _cancel_on(loop, handle):
                while not isinstance(await queue.get(), _End):
                    pass

    def close(self) -> None:
        """Cancel the worker's streams, close its HTTP client, stop and join the thread.

        Blocks for as long as that takes (milliseconds); safe to call more than once.
        """
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or thread is None:
            return
        if thread.is_alive():
            done = asyncio.run_coroutine_threadsafe(self._shutdown(), loop)
            try:
                done.result(timeout=_JOIN_TIMEOUT_S)
            except Exception:   # stop the thread all the same; the log keeps the reason
                log.warning("the stream worker did not shut down cleanly", exc_info=True)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=_JOIN_TIMEOUT_S)

    # --- the worker side ----------------------------------------------------------------

    def _ensure_started(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._thread is None:
                # Callbacks posted before the loop runs simply wait for it.
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=self._run, args=(loop,),
                                          name="qwenvl-stream", daemon=True)
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop

    def _run(self, loop: asyncio.AbstractEventLoop) -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_forever()
        finally:
            try:
                loop.run_until_complete(loop.shutdown_asyncgens())
            except Exception:   # closing the loop must not be skipped
                log.warning("closing the stream worker's generators failed", exc_info=True)
            loop.close()

    async def _pump(self, settings: _ClientSettings, deliver: Deliver, provider: Provider,
                    model: Model, messages: Sequence[ChatMessage], params: ChatParams,
                    api_key: str | None) -> None:
        """Read one stream on the worker loop, handing batches to `deliver`."""
        from qwenvl_desktop.core.api.client import ChatClient

        if self._http is None:
            self._http = self._http_factory()
        client = ChatClient(self._http, connect_timeout=settings.connect_timeout,
                            read_timeout=settings.read_timeout,
                            max_retries=settings.max_retries,
                            backoff_base=settings.backoff_base,
                            backoff_max=settings.backoff_max,
                            url_credentials=lambda _provider: settings.url_credentials)
        batcher = _Batcher(asyncio.get_running_loop(), deliver, self.interval)
        events = cast(AsyncGenerator[StreamEvent, None],
                      client.stream_chat(provider, model, messages, params, api_key=api_key))
        try:
            async with aclosing(events):
                async for event in events:
                    batcher.add(event)
        finally:
            batcher.flush()             # before the task's `_End`: nothing is lost

    async def _shutdown(self) -> None:
        current = asyncio.current_task()
        tasks = [t for t in asyncio.all_tasks() if t is not current]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        http, self._http = self._http, None
        if http is not None:
            try:
                await http.aclose()
            except Exception:   # shutting down: the log keeps the reason
                log.warning("closing the stream worker's HTTP client failed", exc_info=True)


def _cancel_on(loop: asyncio.AbstractEventLoop, handle: Future[asyncio.Task[None]]) -> bool:
    """Cancel a worker task from the GUI thread; False when the worker is already closed.

    The task's `start` callback was posted before this one, so (FIFO) it has run by then.
    """
    try:
        loop.call_soon_threadsafe(lambda: handle.result().cancel())
    except RuntimeError:
        return False
    return True


def _end_of(task: asyncio.Task[None]) -> _End:
    """The `_End` for a finished worker task (reads its exception, so none goes unseen).

    A task cancelled on the worker (by `close()`) ends the GUI side as a stop."""
    if task.cancelled():
        return _End(asyncio.CancelledError())
    return _End(task.exception())
