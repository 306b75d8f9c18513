"""Benchmark: streaming a long answer into the real window, against the minimal reader.

The bars:

(a) a 20,000-token answer with code blocks and tables, streamed as fast as the loopback
    server can send it, is fully rendered in the transcript in ≤ 1.5 × the time the
    minimal reader takes just to read and parse the same stream, and the whole process
    spends ≤ 2 × its CPU time;
(b) at 100 tokens/s the GUI thread is ≤ 5 % busy and no event-loop stall exceeds 16 ms;
(c) the cost per token does not grow with the answer's length (2k vs 20k tokens).

How it is measured:

* The provider server (`qwenvl_desktop.testing.ProviderServer`, DashScope dialect, one
  SSE event per token) runs in a *separate process*, so neither side pays for the
  server's CPU or fights it for the GIL; it is the same server for both sides.
* "Ours" is the real window (`MainWindow.build` on the real `Services`, pointed at the
  server, keys in an in-memory keyring) driven the way a person drives it: text in the
  composer, `submit()`; the answer goes through `ChatSession` → `send_turn` →
  `ChatClient` → `Transcript`. The clock stops when `turn_ended` has been handled
  (the final render and the autosave included) and the transcript's document has been
  laid out to the end and its viewport painted.
* "The minimal reader" (`minimal_reader`) is what anyone would write to read the
  stream: `httpx.AsyncClient.stream()` posting a minimal request, `aiter_lines()`,
  `json.loads` of each `data:` payload, the content deltas joined — none of the app's
  code — under `asyncio.run` (stdlib loop). The same on the qasync loop is printed too,
  to show what the loop itself costs.
* CPU is given twice: the GUI thread's (`time.thread_time()` read on it) and the whole
  process's (`time.process_time()`: the stream worker thread, which reads and decodes,
  shares the interpreter lock with the GUI thread, so the GUI thread's figure alone
  hides half the work). The server runs in another process and counts in neither.
* Stalls come from a 5 ms precise QTimer recording how late each tick is.

Run: `.venv/bin/python tests/benchmarks/bench_streaming.py`.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qwenvl_desktop.ui.main_window import MainWindow
    from qwenvl_desktop.ui.transcript import Transcript

RUNS_FAST = 5
RUNS_PACED = 3
LONG_TOKENS = 20_000
SHORT_TOKENS = 2_000
PACED_RATE = 100.0
PACED_TOKENS = 1_000             # ~10 s at 100 tokens/s
PROBE_MS = 5
BAR_RATIO = 1.5
BAR_BUSY = 0.05
BAR_STALL_MS = 16.0
QUESTION = "Explain the data pipeline in detail, with code and tables."


# --- a realistic long answer ------------------------------------------------------------

_TEXT = (
    "the model reads each image tile and maps it to visual tokens before the decoder "
    "attends over text and pixels together so that layout order and small print survive "
    "resizing while the pipeline batches requests streams partial answers keeps latency "
    "low and records usage for every call including retries timeouts and errors which "
    "matters when screenshots contain dense tables code or dialogs with several buttons"
)
_WORDS = _TEXT.split()
_IDENTS = ("frame", "tile", "batch", "tokens", "result", "width", "height", "scale",
           "buffer", "cursor", "payload", "retries", "budget", "request", "response")


def _sentence(rnd: random.Random) -> str:
    words = [rnd.choice(_WORDS) for _ in range(rnd.randint(8, 22))]
    if rnd.random() < 0.3:
        words[rnd.randrange(len(words))] = f"`{rnd.choice(_IDENTS)}`"
    if rnd.random() < 0.2:
        i = rnd.randrange(len(words))
        words[i] = f"**{words[i]}**"
    return " ".join(words).capitalize() + "."


def _paragraph(rnd: random.Random) -> str:
    return " ".join(_sentence(rnd) for _ in range(rnd.randint(2, 5)))


def _bullets(rnd: random.Random) -> str:
    marker = rnd.choice(("-", "*", "1."))
    return "\n".join(f"{marker} {_sentence(rnd)}" for _ in range(rnd.randint(3, 6)))


def _code(rnd: random.Random) -> str:
    name = rnd.choice(_IDENTS)
    lines = [f"def process_{name}({name}: list[int], scale: float = 1.0) -> dict[str, int]:",
             f'    """Resize every {name} and count the tokens it costs."""',
             "    result: dict[str, int] = {}"]
    for _ in range(rnd.randint(4, 14)):
        a, b = rnd.choice(_IDENTS), rnd.choice(_IDENTS)
        lines.append(rnd.choice((
            f"    {a} = round({b} * scale) + {rnd.randint(1, 64)}",
            f"    for {a} in range(len({b})):",
            f"        result[\"{a}\"] = result.get(\"{a}\", 0) + {rnd.randint(1, 9)}",
            f"    if {a} > {rnd.randint(100, 4000)}:  # cap at the model's limit",
            f"        {a} = min({a}, {b}) // 2",
        )))
    lines.append("    return result")
    return "```python\n" + "\n".join(lines) + "\n```"


def _table(rnd: random.Random) -> str:
    cols = rnd.randint(3, 4)
    head = ["Stage", "Input", "Tokens", "Notes"][:cols]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * cols]
    for _ in range(rnd.randint(4, 8)):
        cells = [rnd.choice(_IDENTS), f"{rnd.randint(28, 4096)}×{rnd.randint(28, 4096)}",
                 str(rnd.randint(4, 16384)), " ".join(rnd.choice(_WORDS) for _ in range(4))]
        rows.append("| " + " | ".join(cells[:cols]) + " |")
    return "\n".join(rows)


_MAKERS: dict[str, Callable[[random.Random], str]] = {
    "paragraph": _paragraph, "list": _bullets, "code": _code, "table": _table}


def make_answer(tokens: int, seed: int = 20_000) -> str:
    """A markdown answer of exactly `tokens` server tokens (the loopback server streams
    one whitespace-led word per event): headings, paragraphs, lists, Python code blocks
    and tables, in a realistic mix."""
    from qwenvl_desktop.testing.provider_server import split_pieces

    rnd = random.Random(seed)
    blocks: list[str] = []
    count = 0
    section = 0
    while True:
        section += 1
        kind = rnd.choice(("heading", "paragraph", "paragraph", "list", "code", "table"))
        block = (f"## {section}. {_sentence(rnd)[:-1]}" if kind == "heading"
                 else _MAKERS[kind](rnd))
        n = len(split_pieces("\n\n" + block, None))
        if count + n > tokens:
            break
        blocks.append(block)
        count += n
    # Top up to the exact count with one last paragraph of single words.
    text = "\n\n".join(blocks)
    missing = tokens - len(split_pieces(text, None))
    if missing > 0:
        text += "\n\n" + " ".join(rnd.choice(_WORDS) for _ in range(missing)) + "."
    return text


# --- the server, in its own process -------------------------------------------------------

def _serve(tokens: int, rate: float) -> None:
    from qwenvl_desktop.testing.provider_server import ProviderServer, Script

    script = Script(content=make_answer(tokens), tokens_per_second=rate)
    with ProviderServer(default=script) as server:
        from _common import server_urls

        sys.stdout.write("URLS " + json.dumps(server_urls(server)) + "\n")
        sys.stdout.write(f"KEY {server.api_key}\n")
        sys.stdout.flush()
        sys.stdin.read()                       # serve until the parent closes stdin
        if server.errors:
            sys.stderr.write("\n".join(server.errors))


class ServerProcess:
    """`python bench_streaming.py --serve TOKENS RATE`, for a `with` block."""

    def __init__(self, tokens: int, rate: float = 0.0) -> None:
        self.args = [sys.executable, __file__, "--serve", str(tokens), str(rate)]
        self.urls: dict[str, str] = {}
        self.key = ""
        self._proc: subprocess.Popen[str] | None = None

    def __enter__(self) -> ServerProcess:
        proc = subprocess.Popen(self.args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                text=True, cwd=Path(__file__).parent)
        self._proc = proc
        assert proc.stdout is not None
        for _ in range(2):
            key, _, value = proc.stdout.readline().strip().partition(" ")
            if key == "URLS":
                self.urls = json.loads(value)
            elif key == "KEY":
                self.key = value
        if not self.urls or not self.key:
            proc.kill()
            raise RuntimeError("the provider server process did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        proc = self._proc
        if proc is not None:
            assert proc.stdin is not None
            proc.stdin.close()
            proc.wait(timeout=30)


# --- the minimal reader: read and parse, nothing else --------------------------------------

@dataclass
class Read:
    wall_s: float
    thread_cpu_s: float
    process_cpu_s: float
    text: str


async def minimal_reader(base_url: str, key: str) -> Read:
    """Post, read lines, `json.loads` each `data:` payload, join the content deltas."""
    import httpx
    from _common import MODEL

    body = {"model": MODEL, "stream": True,
            "messages": [{"role": "user", "content": QUESTION}]}
    async with httpx.AsyncClient(timeout=30.0) as http:
        wall0, cpu0, proc0 = time.perf_counter(), time.thread_time(), time.process_time()
        parts: list[str] = []
        async with http.stream("POST", base_url + "/chat/completions", json=body,
                               headers={"Authorization": f"Bearer {key}"}) as response:
            async for line in response.aiter_lines():
                if not line.startswith("data:"):
                    continue
                payload = line[5:].strip()
                if payload == "[DONE]":
                    break
                for choice in json.loads(payload)["choices"]:
                    parts.append(choice["delta"].get("content") or "")
        return Read(time.perf_counter() - wall0, time.thread_time() - cpu0,
                    time.process_time() - proc0, "".join(parts))


# --- the real window -------------------------------------------------------------------------

@dataclass
class Turn:
    wall_s: float
    cpu_s: float                      # GUI thread
    process_cpu_s: float              # every thread of this process
    worst_stall_ms: float = 0.0
    stalls: list[tuple[float, float]] = field(default_factory=list)   # (at s, late ms)


def finish_render(transcript: Transcript) -> None:
    """Lay the whole document out (QTextDocumentLayout lays out lazily) and paint the
    view once, so "rendered" means on screen, not merely inserted."""
    doc = transcript.document()
    doc.documentLayout().frameBoundingRect(doc.rootFrame())   # ensureLayoutFinished()
    transcript.viewport().repaint()


class StallProbe:
    """A precise 5 ms timer; how late each tick is, beyond its interval."""

    def __init__(self) -> None:
        from PySide6.QtCore import Qt, QTimer

        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(PROBE_MS)
        self.timer.timeout.connect(self._tick)
        self.start_at = 0.0
        self.last = 0.0
        self.ticks = 0
        self.late: list[tuple[float, float]] = []

    def start(self) -> None:
        self.start_at = self.last = time.perf_counter()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.ticks += 1
        self.late.append((now - self.start_at, (now - self.last) * 1000 - PROBE_MS))
        self.last = now

    @property
    def worst_ms(self) -> float:
        return max((late for _at, late in self.late), default=0.0)


class WindowBench:
    """The real window on the server's URLs, in this process, on the qasync loop."""

    def __init__(self, home: Path) -> None:
        from _common import use_memory_keyring
        from PySide6.QtWidgets import QApplication

        from qwenvl_desktop.ui.event_loop import AppEventLoop
        from qwenvl_desktop.ui.theme import apply_theme

        os.environ["QWENVL_DESKTOP_HOME"] = str(home)
        use_memory_keyring()
        existing = QApplication.instance()
        self.app = existing if isinstance(existing, QApplication) else QApplication([])
        # The app's theme (palette and style sheet) as `ui/app.py` applies it: widgets
        # under a style sheet paint differently, and the person always has it.
        apply_theme(self.app, "system")
        self.loop = AppEventLoop(self.app)     # with the app's own thread pool
        asyncio.set_event_loop(self.loop)
        self.window: MainWindow | None = None

    def open(self, urls: dict[str, str], key: str) -> MainWindow:
        from _common import services_for

        from qwenvl_desktop.ui.main_window import MainWindow

        self.close()
        window = MainWindow.build(services_for(urls, key))
        gc.freeze()                   # as `ui/app.py` does once the panes are built
        window.resize(1280, 860)
        window.show()
        self.window = window
        self.run(asyncio.sleep(0.3))
        return window

    def run(self, coro: Any) -> Any:
        asyncio.set_event_loop(self.loop)
        return self.loop.run_until_complete(coro)

    def turn(self, expected: str, probe: StallProbe | None = None) -> Turn:
        return self.run(self._turn(expected, probe))

    async def _turn(self, expected: str, probe: StallProbe | None) -> Turn:
        window = self.window
        assert window is not None
        window.chat.new_conversation()            # an empty transcript every time
        await asyncio.sleep(0.1)
        ended: asyncio.Future[str] = self.loop.create_future()

        def on_ended(_conv: str, answer_id: str) -> None:
            if not ended.done():
                ended.set_result(answer_id)

        window.session.events.turn_ended.connect(on_ended)
        try:
            if probe is not None:
                probe.start()
            wall0, cpu0, proc0 = time.perf_counter(), time.thread_time(), time.process_time()
            window.composer.set_text(QUESTION)
            window.composer.submit()
            await ended
            finish_render(window.transcript)
            wall, cpu = time.perf_counter() - wall0, time.thread_time() - cpu0
            proc = time.process_time() - proc0
            if probe is not None:
                await asyncio.sleep(0.05)         # one more tick after the final paint
                probe.stop()
        finally:
            window.session.events.turn_ended.disconnect(on_ended)
        conv = window.current_conversation()
        assert conv is not None
        answer = conv.messages[-1]
        if answer.status != "complete" or answer.text != expected:
            raise RuntimeError(f"the window's answer is wrong: {answer.status} "
                               f"{len(answer.text)} chars, {answer.error}")
        last_words = expected.split()[-3:]
        shown = window.transcript.toPlainText()
        if " ".join(last_words).rstrip(".") not in shown:
            raise RuntimeError("the end of the answer is not in the transcript")
        turn = Turn(wall, cpu, proc)
        if probe is not None:
            turn.worst_stall_ms = probe.worst_ms
            turn.stalls = sorted(probe.late, key=lambda s: -s[1])[:3]
        return turn

    def idle_share(self, seconds: float) -> tuple[float, float]:
        """(GUI thread, whole process) CPU share of the idle window, stall probe running."""
        async def idle() -> tuple[float, float]:
            probe = StallProbe()
            probe.start()
            wall0, cpu0, proc0 = time.perf_counter(), time.thread_time(), time.process_time()
            await asyncio.sleep(seconds)
            probe.stop()
            wall = time.perf_counter() - wall0
            return (time.thread_time() - cpu0) / wall, (time.process_time() - proc0) / wall

        gui, process = self.run(idle())
        return float(gui), float(process)

    def close(self) -> None:
        window, self.window = self.window, None
        if window is None:
            return
        closed: asyncio.Future[None] = self.loop.create_future()
        window.shut_down.connect(lambda: closed.done() or closed.set_result(None))
        window.close()
        if not window.is_shut_down:
            self.run(closed)
        window.deleteLater()

    def shutdown(self) -> None:
        self.close()
        self.loop.shutdown_executor()
        self.loop.close()
        asyncio.set_event_loop(None)


# --- the runs ----------------------------------------------------------------------------------

def _interleaved(bench: WindowBench, tokens: int, runs: int) -> dict[str, list[float]]:
    from _common import PROVIDER

    expected = make_answer(tokens)
    out: dict[str, list[float]] = {k: [] for k in (
        "ours", "ours_cpu", "ours_proc", "raw", "raw_cpu", "raw_proc", "raw_qasync")}
    with ServerProcess(tokens) as server:
        bench.open(server.urls, server.key)
        url = server.urls[PROVIDER]

        def read_once(on_qasync: bool) -> Read:
            if on_qasync:
                read = bench.run(minimal_reader(url, server.key))
            else:
                read = asyncio.run(minimal_reader(url, server.key))
                asyncio.set_event_loop(bench.loop)
            if read.text != expected:
                raise RuntimeError("the minimal reader read a different answer")
            return read

        read_once(False)                          # warm both paths once
        bench.turn(expected)
        for _ in range(runs):
            read = read_once(False)
            out["raw"].append(read.wall_s)
            out["raw_cpu"].append(read.thread_cpu_s)
            out["raw_proc"].append(read.process_cpu_s)
            turn = bench.turn(expected)
            out["ours"].append(turn.wall_s)
            out["ours_cpu"].append(turn.cpu_s)
            out["ours_proc"].append(turn.process_cpu_s)
            out["raw_qasync"].append(read_once(True).wall_s)
        bench.close()
    return out


def _paced(bench: WindowBench, runs: int) -> dict[str, Any]:
    """Each run streams the paced answer twice: once bare, for the CPU shares (the
    probe's own ticks would count as busy), once with the stall probe."""
    from _common import PROVIDER

    expected = make_answer(PACED_TOKENS)
    shares: list[float] = []
    proc_shares: list[float] = []
    stalls: list[float] = []
    worst: list[tuple[float, float]] = []
    raw_shares: list[float] = []
    raw_proc_shares: list[float] = []
    with ServerProcess(PACED_TOKENS, PACED_RATE) as server:
        bench.open(server.urls, server.key)
        idle, idle_proc = bench.idle_share(2.0)
        for n in range(runs):
            turn = bench.turn(expected)
            shares.append(turn.cpu_s / turn.wall_s)
            proc_shares.append(turn.process_cpu_s / turn.wall_s)
            duration = turn.wall_s
            turn = bench.turn(expected, StallProbe())
            stalls.append(turn.worst_stall_ms)
            worst.extend(turn.stalls)
            if n == 0:
                # The floor: only reading and parsing the same paced stream, same loop.
                read = bench.run(minimal_reader(server.urls[PROVIDER], server.key))
                if read.text != expected:
                    raise RuntimeError("the minimal reader read a different answer")
                raw_shares.append(read.thread_cpu_s / read.wall_s)
                raw_proc_shares.append(read.process_cpu_s / read.wall_s)
        bench.close()
    return {"shares": shares, "proc_shares": proc_shares, "stalls": stalls,
            "idle_share": idle, "idle_proc_share": idle_proc, "duration_s": duration,
            "raw_shares": raw_shares, "raw_proc_shares": raw_proc_shares,
            "top_stalls": sorted(worst, key=lambda s: -s[1])[:5]}


def main(runs_fast: int = RUNS_FAST, runs_paced: int = RUNS_PACED) -> dict[str, Any]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from _common import Row, median

    with tempfile.TemporaryDirectory(prefix="bench-streaming-") as tmp:
        bench = WindowBench(Path(tmp))
        try:
            long = _interleaved(bench, LONG_TOKENS, runs_fast)
            short = _interleaved(bench, SHORT_TOKENS, runs_fast)
            paced = _paced(bench, runs_paced)
        finally:
            bench.shutdown()

    def ms(data: dict[str, list[float]], key: str) -> float:
        return median(data[key]) * 1000

    def per_token(data: dict[str, list[float]], key: str, tokens: int) -> float:
        return median(data[key]) / tokens * 1e6

    def pct(key: str) -> float:
        return median(paced[key]) * 100

    name = f"{LONG_TOKENS:,}-token answer"
    results: dict[str, Any] = {"runs_fast": runs_fast, "runs_paced": runs_paced,
                               "long": long, "short": short, "paced": paced}
    rate = f"{PACED_RATE:.0f} tokens/s"
    results["rows"] = [
        Row("streaming", f"{name}, wall (ms)", ms(long, "ours"), ms(long, "raw"),
            "minimal reader", bar=BAR_RATIO, unit="ms"),
        Row("streaming", f"{name}, whole-process CPU (ms)", ms(long, "ours_proc"),
            ms(long, "raw_proc"), "minimal reader", bar=2.0, unit="ms"),
        Row("streaming", f"{name}, GUI-thread CPU (ms)", ms(long, "ours_cpu"),
            ms(long, "raw_cpu"), "minimal reader", unit="ms"),
        Row("streaming", "minimal reader on the qasync loop instead, wall (ms)", None,
            ms(long, "raw_qasync"), ratio=median(long["raw_qasync"]) / median(long["raw"]),
            unit="ms"),
        Row("streaming", f"{rate}: GUI thread busy", pct("shares"), pct("raw_shares"),
            "minimal reader", bar=BAR_BUSY * 100, bar_on="ours", unit="%"),
        Row("streaming", f"{rate}: whole process busy", pct("proc_shares"),
            pct("raw_proc_shares"), "minimal reader", unit="%"),
        Row("streaming", "idle window, 5 ms stall probe running: GUI thread busy",
            paced["idle_share"] * 100, unit="%"),
        Row("streaming", "idle window, 5 ms stall probe running: whole process busy",
            paced["idle_proc_share"] * 100, unit="%"),
        Row("streaming", f"{rate}: worst stall (ms), median of runs", median(paced["stalls"]),
            bar=BAR_STALL_MS, bar_on="ours", unit="ms"),
        Row("streaming", f"{rate}: worst stall of all runs (ms)", max(paced["stalls"]),
            bar=BAR_STALL_MS, bar_on="ours", unit="ms"),
        Row("streaming", "wall per token, 20k vs 2k (µs)", per_token(long, "ours", LONG_TOKENS),
            per_token(short, "ours", SHORT_TOKENS), "at 2k", bar=1.25, bar_note="≈ 1×",
            unit="µs"),
        Row("streaming", "GUI CPU per token, 20k vs 2k (µs)",
            per_token(long, "ours_cpu", LONG_TOKENS), per_token(short, "ours_cpu", SHORT_TOKENS),
            "at 2k", bar=1.25, bar_note="≈ 1×", unit="µs"),
        Row("streaming", "process CPU per token, 20k vs 2k (µs)",
            per_token(long, "ours_proc", LONG_TOKENS),
            per_token(short, "ours_proc", SHORT_TOKENS), "at 2k", bar=1.25, bar_note="≈ 1×",
            unit="µs"),
    ]
    return results


def _print(results: dict[str, Any]) -> None:
    from _common import print_rows

    def listed(values: list[float], scale: float = 1000, digits: int = 0) -> str:
        return ", ".join(f"{v * scale:.{digits}f}" for v in values)

    for name in ("long", "short"):
        data = results[name]
        print(f"{name}: ours {listed(data['ours'])} ms (process CPU "
              f"{listed(data['ours_proc'])}); minimal reader {listed(data['raw'])} ms "
              f"(process CPU {listed(data['raw_proc'])})")
    paced = results["paced"]
    print(f"paced: GUI busy {listed(paced['shares'], 100, 1)} %, process busy "
          f"{listed(paced['proc_shares'], 100, 1)} %; minimal reader on qasync "
          f"{listed(paced['raw_shares'], 100, 1)} % (process "
          f"{listed(paced['raw_proc_shares'], 100, 1)} %)"
          + f"; idle window with the probe {paced['idle_share'] * 100:.1f} %"
          + "; worst stalls " + ", ".join(f"{v:.1f}" for v in paced["stalls"])
          + f" ms; stream {paced['duration_s']:.1f} s; top stalls (at s, ms late): "
          + ", ".join(f"({a:.2f}, {b:.1f})" for a, b in paced["top_stalls"]))
    print_rows(f"streaming (median of {results['runs_fast']} fast / "
               f"{results['runs_paced']} paced runs)", results["rows"])


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--serve":
        _serve(int(sys.argv[2]), float(sys.argv[3]))
    else:
        _print(main())
