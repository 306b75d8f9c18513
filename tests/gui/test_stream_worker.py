"""The stream worker: streams read on their own thread, handed over in joined batches.

The batching rules are checked on a fake clock (no timing involved); the worker itself
against the loopback server, driven from the test body with qtbot.waitUntil on the
session qasync loop (tests/gui/conftest.py).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
from pytestqt.qtbot import QtBot
from window_harness import provider_server_fixture, server_fixture  # noqa: F401

from qwenvl_desktop.core.api.client import ChatClient
from qwenvl_desktop.core.api.types import (
    ChatMessage,
    ChatParams,
    ContentDelta,
    Finish,
    ReasoningDelta,
    Retrying,
    StreamEvent,
    Usage,
)
from qwenvl_desktop.core.catalog import Model, Provider, load_builtin
from qwenvl_desktop.core.errors import InterruptedStream
from qwenvl_desktop.testing.provider_server import (
    DEFAULT_KEY,
    ProviderServer,
    Script,
    split_pieces,
)
from qwenvl_desktop.ui.stream_worker import StreamWorker, _Batcher

PID, MID = "dashscope-intl", "qwen3-vl-plus"


# --- batching, on a fake clock ---------------------------------------------------------

class FakeLoop:
    """Just what `_Batcher` uses of a loop: `time()` and `call_at()`."""

    def __init__(self) -> None:
        self.now = 0.0
        self.timers: list[tuple[float, Callable[[], None]]] = []

    def time(self) -> float:
        return self.now

    def call_at(self, when: float, callback: Callable[[], None]) -> Any:
        self.timers.append((when, callback))
        loop = self

        class Handle:
            def cancel(self) -> None:
                if (when, callback) in loop.timers:
                    loop.timers.remove((when, callback))

        return Handle()

    def advance(self, to: float) -> None:
        self.now = to
        due = [t for t in self.timers if t[0] <= to]
        for timer in due:
            self.timers.remove(timer)
            timer[1]()


def make_batcher() -> tuple[FakeLoop, _Batcher, list[list[StreamEvent]]]:
    loop = FakeLoop()
    out: list[list[StreamEvent]] = []
    return loop, _Batcher(loop, out.append, 0.016), out  # type: ignore[arg-type]


def test_first_delta_goes_at_once_then_at_most_one_batch_per_frame() -> None:
    loop, batcher, out = make_batcher()
    batcher.add(ContentDelta("a"))
    assert out == [[ContentDelta("a")]]              # no added latency for the first
    for n, piece in enumerate(("b", "c", "d")):
        loop.now = 0.004 * (n + 1)
        batcher.add(ContentDelta(piece))
    assert len(out) == 1
    assert len(loop.timers) == 1                     # one timer for the whole frame
    loop.advance(0.016)
    assert out[1] == [ContentDelta("bcd")]           # one delta carrying the joined text
    assert not loop.timers


def test_order_is_kept_and_other_events_flush_at_once() -> None:
    loop, batcher, out = make_batcher()
    batcher.add(ReasoningDelta("think "))            # leading edge: delivered
    loop.now = 0.001
    batcher.add(ReasoningDelta("more"))              # inside the frame: waits
    batcher.add(ContentDelta("An"))                  # the answer's first token: at once
    assert out[1] == [ReasoningDelta("more"), ContentDelta("An")]
    for event in (ContentDelta("sw"), ContentDelta("er"), ReasoningDelta("late"),
                  ContentDelta("!"), Usage(1, 2, 3)):
        batcher.add(event)
    assert out[2] == [ContentDelta("swer"), ReasoningDelta("late"), ContentDelta("!"),
                      Usage(1, 2, 3)]
    assert not loop.timers                           # the pending frame went with Usage
    batcher.add(Finish("stop"))
    assert out[3] == [Finish("stop")]
    batcher.add(Retrying(1, 0.5, "busy"))
    assert out[4] == [Retrying(1, 0.5, "busy")]


def test_flush_hands_over_what_is_pending_and_drops_empty_text() -> None:
    loop, batcher, out = make_batcher()
    batcher.add(ContentDelta(""))
    assert out == []
    loop.now = 0.001
    batcher.add(ContentDelta("x"))                   # inside the frame: waits
    batcher.flush()
    assert out == [[ContentDelta("x")]]
    assert not loop.timers


# --- the worker against the loopback server ------------------------------------------------

@pytest.fixture
def target(server: ProviderServer) -> tuple[Provider, Model]:
    provider = load_builtin().get(PID).with_base_url(server.base_url_for(PID))
    return provider, provider.model(MID)


@pytest.fixture
def http_threads() -> list[int]:
    """The threads the worker's HTTP client was made on."""
    return []


@pytest.fixture
def worker(qasync_loop: asyncio.AbstractEventLoop,
           http_threads: list[int]) -> Iterator[StreamWorker]:
    def http() -> httpx.AsyncClient:
        http_threads.append(threading.get_ident())
        return httpx.AsyncClient(timeout=10.0)

    # The template only lends its settings (timeouts, retries); its client is never used.
    # A "frame" of an hour: after the first delta, everything waits for a flush (a
    # finish, an error, the end) — so the counts below do not depend on timing.
    template = ChatClient(httpx.AsyncClient(), max_retries=0)
    w = StreamWorker(lambda: template, http, interval=3600.0)
    yield w
    w.close()
    assert not w.running


class Reader:
    """Reads one stream on the GUI loop into a list, as send_turn would."""

    def __init__(self, worker: StreamWorker, target: tuple[Provider, Model]) -> None:
        self.events: list[StreamEvent] = []
        self.stream: AsyncIterator[StreamEvent] = worker.stream_chat(
            *target, [ChatMessage("user", "Hi")], ChatParams(), api_key=DEFAULT_KEY)
        self.task = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        async for event in self.stream:
            self.events.append(event)

    def text(self) -> str:
        return "".join(e.text for e in self.events if isinstance(e, ContentDelta))


def test_streams_on_the_worker_thread_and_joins_deltas(
        qtbot: QtBot, worker: StreamWorker, server: ProviderServer,
        target: tuple[Provider, Model], http_threads: list[int]) -> None:
    words = " ".join(f"w{i}" for i in range(400))
    server.enqueue(Script(content=words, reasoning="Thinking it over."))
    reader = Reader(worker, target)
    qtbot.waitUntil(reader.task.done, timeout=10000)
    assert reader.task.exception() is None
    assert reader.text() == words
    reasoning = [e for e in reader.events if isinstance(e, ReasoningDelta)]
    assert "".join(e.text for e in reasoning) == "Thinking it over."
    # Reasoning first, then the answer, then the finish: the order survives batching.
    kinds = [type(e) for e in reader.events]
    assert kinds.index(ReasoningDelta) < kinds.index(ContentDelta)
    assert isinstance(reader.events[-1], Finish | Usage)
    # The server's 400 pieces arrive as the first one (at once) and the rest joined.
    assert len([e for e in reader.events if isinstance(e, ContentDelta)]) in (1, 2)
    # The HTTP client was made (and used) on the worker thread, not here.
    assert http_threads
    assert threading.get_ident() not in http_threads
    assert worker.running


def test_error_mid_stream_arrives_after_the_partial_text(
        qtbot: QtBot, worker: StreamWorker, server: ProviderServer,
        target: tuple[Provider, Model]) -> None:
    server.enqueue(Script(content="Some words that break off here", drop_after=3))
    reader = Reader(worker, target)
    qtbot.waitUntil(reader.task.done, timeout=10000)
    err = reader.task.exception()
    assert isinstance(err, InterruptedStream)
    assert reader.text()
    assert err.partial_text.startswith(reader.text())


def test_cancelling_closes_the_connection_at_once(
        qtbot: QtBot, worker: StreamWorker, server: ProviderServer,
        target: tuple[Provider, Model]) -> None:
    server.enqueue(Script(content="Partial words then a long stall", stall=True,
                          fault_after=2))
    reader = Reader(worker, target)
    qtbot.waitUntil(lambda: bool(reader.events), timeout=10000)
    reader.task.cancel()
    qtbot.waitUntil(reader.task.done, timeout=10000)
    assert reader.task.cancelled()
    qtbot.waitUntil(lambda: server.client_closes >= 1, timeout=10000)
    # The worker is still usable for the next stream.
    server.release_stalls()
    server.enqueue(Script(content="Next one."))
    again = Reader(worker, target)
    qtbot.waitUntil(again.task.done, timeout=10000)
    assert again.text() == "Next one."


def test_close_ends_a_running_stream_as_stopped_and_stops_the_thread(
        qtbot: QtBot, worker: StreamWorker, server: ProviderServer,
        target: tuple[Provider, Model]) -> None:
    server.enqueue(Script(content="Partial words then a long stall", stall=True,
                          fault_after=2))
    reader = Reader(worker, target)
    qtbot.waitUntil(lambda: bool(reader.events), timeout=10000)
    worker.close()
    assert not worker.running
    qtbot.waitUntil(reader.task.done, timeout=10000)
    assert reader.task.cancelled()               # what send_turn records as "stopped"
    qtbot.waitUntil(lambda: server.client_closes >= 1, timeout=10000)
    server.release_stalls()


@pytest.fixture
def app_worker(qasync_loop: asyncio.AbstractEventLoop) -> Iterator[StreamWorker]:
    """The worker as the window makes it, with the app's HTTP client."""
    from qwenvl_desktop.core.settings import Settings
    from qwenvl_desktop.services import make_http_client

    template = ChatClient(httpx.AsyncClient(), max_retries=0)
    w = StreamWorker(lambda: template, lambda: make_http_client(Settings()))
    yield w
    w.close()


def test_a_fast_answer_keeps_every_character(
        qtbot: QtBot, app_worker: StreamWorker, server: ProviderServer,
        target: tuple[Provider, Model]) -> None:
    # Sent as fast as the server can (one event per token, multi-byte characters split
    # across writes): reads of whole events take the decoder's fast path, the split
    # characters the general one.
    words = " ".join(f"w{i}·é中{'🙂' * (i % 3)}" for i in range(3000))
    server.enqueue(Script(content=words, reasoning="Thinking it over.", split_multibyte=True))
    reader = Reader(app_worker, target)
    qtbot.waitUntil(reader.task.done, timeout=20000)
    assert reader.task.exception() is None
    assert reader.text() == words
    reasoning = "".join(e.text for e in reader.events if isinstance(e, ReasoningDelta))
    assert reasoning == "Thinking it over."
    assert any(isinstance(e, Usage) for e in reader.events)
    # A break mid-answer still carries every character that came before it.
    server.enqueue(Script(content=words, drop_after=2000))
    broken = Reader(app_worker, target)
    qtbot.waitUntil(broken.task.done, timeout=20000)
    err = broken.task.exception()
    assert isinstance(err, InterruptedStream)
    assert err.partial_text == "".join(split_pieces(words, None)[:2000])
