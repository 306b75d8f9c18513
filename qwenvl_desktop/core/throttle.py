"""A throttle: run something at most once per interval, never dropping the last request.

Autosave wants exactly this while an answer streams: the first change is saved at once
(the question is on disk before the answer starts), changes during the next interval
are folded into one save when it ends, so the last state is always written and the
disk sees one write per interval however fast tokens arrive.

It runs on asyncio's clock (`loop.call_later`) — the window's qasync loop, the terminal
command's `asyncio.run` or a test's plain loop — and knows nothing of Qt.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Protocol

__all__ = ["Throttle"]


class _Handle(Protocol):
    def cancel(self) -> None: ...


CallLater = Callable[[float, Callable[[], None]], _Handle]


def _loop_call_later(delay: float, func: Callable[[], None]) -> _Handle:
    return asyncio.get_running_loop().call_later(delay, func)


class Throttle:
    """Calls `func` at most once per `delay` seconds.

    A call when `func` has not run within the last `delay` seconds runs it at once;
    calls inside that time are folded into a single run when the time is up. `flush()`
    runs a pending call now (e.g. when a turn ends or the window closes); `cancel()`
    forgets it.
    """

    def __init__(self, func: Callable[[], None], delay: float, *,
                 clock: Callable[[], float] = time.monotonic,
                 call_later: CallLater | None = None) -> None:
        self._func = func
        self.delay = delay
        self._clock = clock
        self._call_later = call_later or _loop_call_later
        self._last = float("-inf")
        self._handle: _Handle | None = None

    @property
    def pending(self) -> bool:
        """A call is waiting for the interval to end."""
        return self._handle is not None

    def __call__(self) -> None:
        if self._handle is not None:
            return                                   # folded into the one already waiting
        wait = self._last + self.delay - self._clock()
        if wait <= 0:
            self._run()
            return
        try:
            self._handle = self._call_later(wait, self._fire)
        except RuntimeError:
            # No event loop runs (a synchronous shutdown): nothing could run it later.
            self._run()

    def flush(self) -> None:
        """Run the waiting call now, if there is one."""
        if self._handle is not None:
            self.cancel()
            self._run()

    def cancel(self) -> None:
        handle, self._handle = self._handle, None
        if handle is not None:
            handle.cancel()

    def _fire(self) -> None:
        self._handle = None
        self._run()

    def _run(self) -> None:
        self._last = self._clock()
        self._func()
