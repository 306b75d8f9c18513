"""The throttle: first call at once, calls inside the interval folded into one at its end."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from qwenvl_desktop.core.throttle import Throttle


class FakeTimers:
    """A clock and `call_later` that only move when the test says so."""

    def __init__(self) -> None:
        self.now = 100.0
        self.waiting: list[tuple[float, Callable[[], None], list[bool]]] = []

    def clock(self) -> float:
        return self.now

    def call_later(self, delay: float, func: Callable[[], None]) -> FakeTimers.Handle:
        cancelled = [False]
        self.waiting.append((self.now + delay, func, cancelled))
        return FakeTimers.Handle(cancelled)

    class Handle:
        def __init__(self, flag: list[bool]) -> None:
            self.flag = flag

        def cancel(self) -> None:
            self.flag[0] = True

    def advance(self, seconds: float) -> None:
        end = self.now + seconds
        due = sorted((w for w in self.waiting if w[0] <= end), key=lambda w: w[0])
        self.waiting = [w for w in self.waiting if w[0] > end]
        for when, func, cancelled in due:
            self.now = when
            if not cancelled[0]:
                func()
        self.now = end


def make(timers: FakeTimers, runs: list[float]) -> Throttle:
    return Throttle(lambda: runs.append(timers.now), 2.0, clock=timers.clock,
                    call_later=timers.call_later)


def test_first_call_runs_at_once_and_a_burst_becomes_one_run_at_the_end() -> None:
    timers, runs = FakeTimers(), []
    throttle = make(timers, runs)
    throttle()
    assert runs == [100.0]
    for _ in range(10):
        timers.advance(0.1)
        throttle()
    assert runs == [100.0]
    assert throttle.pending
    timers.advance(1.01)
    assert runs == [100.0, pytest.approx(102.0)]   # the interval's end, not later
    assert not throttle.pending
    timers.advance(5.0)
    throttle()                                     # quiet for longer than the interval
    assert runs == [100.0, pytest.approx(102.0), pytest.approx(107.01)]


def test_flush_runs_the_waiting_call_now_and_cancel_drops_it() -> None:
    timers, runs = FakeTimers(), []
    throttle = make(timers, runs)
    throttle()
    timers.advance(0.5)
    throttle()
    throttle.flush()
    assert runs == [100.0, 100.5]
    timers.advance(5.0)
    assert runs == [100.0, 100.5]                  # the timer was cancelled
    throttle.flush()                               # nothing waiting: nothing runs
    assert runs == [100.0, 100.5]
    timers.advance(0.5)
    throttle()
    timers.advance(0.1)
    throttle()
    throttle.cancel()
    timers.advance(5.0)
    assert runs == [100.0, 100.5, 106.0]


def test_on_a_real_loop_the_last_call_runs_when_the_interval_ends() -> None:
    runs: list[str] = []

    async def scenario() -> None:
        second = asyncio.Event()

        def run() -> None:
            runs.append("run")
            if len(runs) == 2:
                second.set()

        throttle = Throttle(run, 0.05)
        throttle()
        throttle()
        throttle()
        assert runs == ["run"]
        assert throttle.pending
        await asyncio.wait_for(second.wait(), timeout=10)
        assert runs == ["run", "run"]
        assert not throttle.pending

    asyncio.run(scenario())


def test_without_a_running_loop_a_call_runs_at_once() -> None:
    runs: list[str] = []
    throttle = Throttle(lambda: runs.append("run"), 60.0)
    throttle()
    throttle()                                     # nothing could run it later
    assert runs == ["run", "run"]
