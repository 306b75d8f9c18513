"""Run blocking calls one at a time on a daemon thread; callers wait a bounded time.

A keyring call can block for as long as someone else decides: the Secret Service
shows an unlock prompt and waits for the person, a hung D-Bus peer never answers
(SecretStorage sends without a timeout). Such a call cannot be interrupted, so it runs
on a worker thread and the caller waits at most as long as it can afford; a call that
answers late still finishes and its `on_done` callbacks still run.

Calls run in the order they were submitted (a later write must land after an earlier
one), on one daemon thread that exists only while there is work. Daemon, because a
call that never returns must not keep the app from exiting.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["BoundedCall", "SerialWorker"]

T = TypeVar("T")


class BoundedCall(Generic[T]):
    """One submitted call: wait for it a bounded time, or be told when it ends."""

    def __init__(self, func: Callable[[], T]) -> None:
        self._func = func
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._callbacks: list[Callable[[BoundedCall[T]], None]] = []
        self.result: T | None = None
        self.error: BaseException | None = None
        self.overdue = False
        """Set by a caller that gave up waiting: later callers need not wait again."""

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float) -> bool:
        """True when the call has ended (either way) within `timeout` seconds."""
        if self._done.wait(timeout):
            return True
        self.overdue = True
        return False

    def on_done(self, callback: Callable[[BoundedCall[T]], None]) -> None:
        """Call `callback(self)` when the call ends: on the worker thread, or at once
        (on this thread) if it already has."""
        with self._lock:
            if not self._done.is_set():
                self._callbacks.append(callback)
                return
        callback(self)

    def _run(self) -> None:
        try:
            self.result = self._func()
        except BaseException as err:  # handed to whoever waits; a worker must not die
            self.error = err
        with self._lock:
            self._done.set()
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback(self)


class SerialWorker:
    """Runs submitted calls in order on one daemon thread, started when work arrives."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._lock = threading.Lock()
        self._queue: deque[BoundedCall[object]] = deque()
        self._running = False

    def submit(self, func: Callable[[], T]) -> BoundedCall[T]:
        call = BoundedCall(func)
        with self._lock:
            self._queue.append(call)  # type: ignore[arg-type]
            if not self._running:
                self._running = True
                threading.Thread(target=self._drain, name=self._name, daemon=True).start()
        return call

    def _drain(self) -> None:
        while True:
            with self._lock:
                if not self._queue:
                    self._running = False
                    return
                call = self._queue.popleft()
            call._run()
