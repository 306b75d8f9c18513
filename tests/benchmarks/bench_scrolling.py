"""Benchmark: scrolling the 1,000-message conversation from its end to its beginning.

The bar: each earlier page of messages comes in within 100 ms, and no later in the
conversation than at its end (flat: the last pages cost what the first ones do).

The transcript opens a long conversation on its last messages; earlier ones come in a
page at a time (about 40 messages) when the view reaches the top. So a person reading
back from the end meets two kinds of step: one screen up within what is loaded, and
one screen up that reaches the top and brings in the previous page.

How: a fresh process runs the real window (offscreen, 1280×860) on the real services in
the home `bench_conversation` prepared, where the big conversation was the last one
shown, so the app reopens it at its end. Once the first screen is painted and the
document laid out, the scroll bar is stepped up one page at a time with
`triggerAction(SliderPageStepSub)` — what a click in the bar's trough or PageUp does,
through the same signals. Each step is timed from the action to its first paint of the
transcript plus a zero-delay timer (the event queue worked through); a step that
reached the top with messages still to load ends at the first paint after the
transcript's `earlier_loaded` signal. Steps follow each other at once, until the bar
is at the top and nothing is left to load.

Run on its own: `.venv/bin/python tests/benchmarks/bench_conversation.py` runs it after
the opening figures (it needs that home); `run_all.py` does too.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

RUNS = 3
BAR_PAGE_MS = 100.0
BAR_FLAT = 1.25            # the last pages' median over the first pages' median
EDGE_PAGES = 3             # how many pages make "the first" and "the last"
STEP_TIMEOUT_MS = 30_000


# --- the child ----------------------------------------------------------------------------

def _child(conv_id: str) -> None:
    import asyncio

    from _common import use_memory_keyring
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QAbstractSlider, QApplication

    from qwenvl_desktop.services import Services
    from qwenvl_desktop.ui.event_loop import AppEventLoop
    from qwenvl_desktop.ui.main_window import MainWindow

    use_memory_keyring()
    app = QApplication(sys.argv[:1])
    loop = AppEventLoop(app)
    asyncio.set_event_loop(loop)
    services = Services.create()
    services.keystore.set(services.catalog.get("dashscope-intl"), "sk-bench-0000")
    window = MainWindow.build(services)          # reopens the big conversation at its end
    window.resize(1280, 860)
    window.show()

    def fail(message: str) -> None:
        sys.stdout.write(f"ERROR {message}\n")
        sys.stdout.flush()
        os._exit(1)

    def on_error(kind: type[BaseException], value: BaseException, tb: Any) -> None:
        import traceback

        sys.stderr.write("".join(traceback.format_exception(kind, value, tb)))
        fail(f"{kind.__name__}: {value}")

    sys.excepthook = on_error             # an error in a slot must not leave us waiting

    class Scroller(QObject):
        """Steps the transcript's scroll bar up a page at a time and times each step."""

        def __init__(self) -> None:
            super().__init__()
            self.transcript = window.transcript
            self.bar = self.transcript.verticalScrollBar()
            self.steps: list[tuple[float, int]] = []     # (ms, messages brought in)
            self.loaded = 0
            self.waiting = ""                            # "load", "paint" or ""
            self.t0 = 0.0
            self.began = 0.0
            self.guard = QTimer(self)
            self.guard.setSingleShot(True)
            self.guard.timeout.connect(lambda: fail(f"a step took over {STEP_TIMEOUT_MS} ms"
                                                    f" after {len(self.steps)} steps"))
            self.transcript.earlier_loaded.connect(self._on_loaded)
            self.transcript.viewport().installEventFilter(self)

        def start(self) -> None:
            conv = window.current_conversation()
            if conv is None or conv.id != conv_id:
                fail("the window did not reopen the big conversation")
            doc = self.transcript.document()
            doc.documentLayout().frameBoundingRect(doc.rootFrame())   # lay it all out
            self.began = time.perf_counter()
            self.step()

        def step(self) -> None:
            bar = self.bar
            at_top = bar.value() <= bar.minimum()
            if at_top and self.transcript.earlier_count == 0:
                self.report()
                return
            self.loaded = 0
            self.waiting = "paint"
            self.guard.start(STEP_TIMEOUT_MS)
            self.t0 = time.perf_counter()
            bar.triggerAction(QAbstractSlider.SliderAction.SliderPageStepSub)
            if bar.value() <= bar.minimum() and self.transcript.earlier_count > 0:
                # The transcript loads the previous page from a zero timer.
                self.waiting = "load"

        def _on_loaded(self, count: int) -> None:
            self.loaded += count
            if self.waiting == "load":
                self.waiting = "paint"

        def eventFilter(self, obj: QObject, event: QEvent) -> bool:
            if self.waiting == "paint" and event.type() == QEvent.Type.Paint:
                self.waiting = ""
                QTimer.singleShot(0, self._stepped)
            return False

        def _stepped(self) -> None:
            self.guard.stop()
            self.steps.append(((time.perf_counter() - self.t0) * 1000, self.loaded))
            QTimer.singleShot(0, self.step)

        def report(self) -> None:
            conv = window.current_conversation()
            shown = len(self.transcript.loaded_message_ids())
            result = {"steps": self.steps, "total_s": time.perf_counter() - self.began,
                      "messages": len(conv.messages) if conv is not None else 0,
                      "shown": shown}
            sys.stdout.write("SCROLL_JSON " + json.dumps(result) + "\n")
            sys.stdout.flush()
            os._exit(0)

    scroller = Scroller()
    QTimer.singleShot(800, scroller.start)           # the window has opened and settled
    with loop:
        loop.run_forever()


# --- the parent ---------------------------------------------------------------------------

def run(home: Path, conv_id: str, messages: int, runs: int = RUNS) -> dict[str, Any]:
    """Scroll `runs` fresh windows from the end to the beginning; figures and rows."""
    from _common import Row, child_env, median, run_child

    per_run: list[dict[str, Any]] = []
    for _ in range(runs):
        found = run_child([__file__, "--child", conv_id], child_env(home), timeout=900)
        if "SCROLL_JSON" not in found:
            raise RuntimeError(f"the scrolling child reported nothing: {found}")
        result = json.loads(found["SCROLL_JSON"])
        if result["shown"] != messages:
            raise RuntimeError(f"scrolled to the top with {result['shown']} of {messages} "
                               "messages shown")
        per_run.append(result)

    loads = [[ms for ms, loaded in r["steps"] if loaded] for r in per_run]
    screens = [[ms for ms, loaded in r["steps"] if not loaded] for r in per_run]
    pages = min(len(x) for x in loads)
    # Per page (in the order a reader meets them), the median over the runs.
    page_ms = [median(run_loads[i] for run_loads in loads) for i in range(pages)]
    edge = min(EDGE_PAGES, max(1, pages // 2))
    first, last = median(page_ms[:edge]), median(page_ms[-edge:])
    worst = median(max(x) for x in loads)
    total = median(r["total_s"] for r in per_run)
    results: dict[str, Any] = {
        "runs": runs, "pages": pages, "page_ms": page_ms,
        "screens": median(len(x) for x in screens),
        "screen_ms": median(median(x) for x in screens),
        "screen_worst_ms": median(max(x) for x in screens), "total_s": total,
    }
    name = f"scroll {messages:,} msgs end → start"
    results["rows"] = [
        Row("conversation", f"{name}: slowest step bringing in an earlier page (ms)", worst,
            bar=BAR_PAGE_MS, bar_on="ours", unit="ms"),
        Row("conversation", f"{name}: earlier page, last {edge} vs first {edge} (ms)",
            last, first, "first pages", bar=BAR_FLAT, bar_note="flat", unit="ms"),
        Row("conversation", f"{name}: earlier page, median of {pages} (ms)",
            median(page_ms), unit="ms"),
        Row("conversation", f"{name}: one screen up within loaded text, median (ms)",
            results["screen_ms"], unit="ms"),
        Row("conversation", f"{name}: one screen up within loaded text, slowest (ms)",
            results["screen_worst_ms"], unit="ms"),
        Row("conversation", f"{name}: all of it, {results['screens'] + pages:.0f} steps (s)",
            total, unit="s", digits=2),
    ]
    return results


def describe(results: dict[str, Any]) -> str:
    pages = ", ".join(f"{v:.0f}" for v in results["page_ms"])
    return (f"scrolling end → start: {results['pages']} earlier pages, ms each in the order "
            f"met (median of {results['runs']} runs): {pages}; "
            f"{results['screens']:.0f} screens within loaded text")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        _child(sys.argv[2])
    else:
        sys.exit("run bench_conversation.py (it prepares the conversation and scrolls it)")
