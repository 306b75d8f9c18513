"""Benchmark: streaming in a conversation that holds 20 images of 1 MB, autosave on.

The bars: beside the same stream in a conversation without images, images and autosave
add ≤ 1 ms to the worst GUI stall and ≤ 0.5 points to GUI-thread busy, and the snapshot
autosave takes on the GUI thread stays ≤ 2 ms.

How it is measured:

* Two saved conversations of 20 turns each, alike in their text: one whose 20 questions
  each carry a distinct 1 MB PNG (noise, so it does not compress), one without images.
  Each run opens a fresh copy of each from the library (as a click in the list does)
  and asks one more question; the answer streams at 100 tokens/s from the loopback
  server in its own process (`bench_streaming.ServerProcess`). History images are sent
  again, as by default: the request carries all 20 (27 MB of base64).
* The real window (`bench_streaming.WindowBench`): autosave runs as in use — at the
  start of the turn, at most every 2 s while it streams, at its end.
* Worst stall: the 5 ms precise-timer probe of bench_streaming, from the send to the
  end of the turn (request building and sending included), run by run; GUI-thread busy:
  `time.thread_time()` of the GUI thread over the wall time, from the first token to
  the end, in a run without the probe; whole process busy the same with
  `time.process_time()` (the stream worker and the library writer included).
* Snapshot: every `Conversation.snapshot()` autosave takes during the turns is timed on
  the GUI thread (and the whole `save_soon` call around it).

Run: `.venv/bin/python tests/benchmarks/bench_image_chat.py`. The machine may be shared:
the figures are medians of interleaved runs, compared within the same run.
"""

from __future__ import annotations

import asyncio
import io
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qwenvl_desktop.core.conversation import Conversation

RUNS = 3
IMAGES = 20
SIDE = 580                       # 580 × 580 RGB noise: a PNG of ~1.0 MB
RATE = 100.0
TOKENS = 800                     # 8 s at 100 tokens/s: four autosaves while streaming
BAR_STALL_MS = 1.0
BAR_BUSY_POINTS = 0.5
BAR_SNAPSHOT_MS = 2.0
QUESTION = "And what changed between the last two screenshots?"


# --- the two conversations ----------------------------------------------------------------

def _png(seed: int) -> bytes:
    from PIL import Image

    noise = random_bytes(seed, SIDE * SIDE * 3)
    buffer = io.BytesIO()
    Image.frombytes("RGB", (SIDE, SIDE), noise).save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


def random_bytes(seed: int, size: int) -> bytes:
    import random

    return random.Random(seed).randbytes(size)


def build(with_images: bool, pngs: list[bytes]) -> Conversation:
    """20 turns: a question (with an image, or not) and a few hundred words of answer."""
    import hashlib

    from qwenvl_desktop.core.conversation import Conversation, Message, Provenance, StoredImage

    conv = Conversation(title="Screenshots" if with_images else "Text only")
    for n in range(IMAGES):
        question = Message(role="user", text=f"Screenshot {n}: what is wrong in it? " * 3)
        if with_images:
            data = pngs[n]
            image = StoredImage(sha256=hashlib.sha256(data).hexdigest(), mime="image/png",
                                data=data, width=SIDE, height=SIDE,
                                original_name=f"shot-{n}.png")
            conv.add_image(image)
            question.images.append(image.sha256)
            question.image_tokens[image.sha256] = 441
        conv.append(question)
        conv.append(Message(role="assistant", text=("The dialog's OK button is disabled "
                                                     "because the form is incomplete. ") * 20,
                            provenance=Provenance(provider="dashscope-intl",
                                                  model="qwen3-vl-plus")))
    return conv


def save_copies(pngs: list[bytes], runs: int) -> dict[str, list[str]]:
    """`runs` fresh copies of each conversation in the library; their ids per kind."""
    from qwenvl_desktop.core import paths
    from qwenvl_desktop.core.conversation import new_id
    from qwenvl_desktop.core.library import ConversationLibrary

    library = ConversationLibrary(paths.conversations_dir())
    ids: dict[str, list[str]] = {"images": [], "text": []}
    for kind in ids:
        conv = build(kind == "images", pngs)
        for _ in range(runs + 1):                    # one more: the warm-up
            conv.id = new_id()
            library.save(conv)
            ids[kind].append(conv.id)
    return ids


# --- timing the snapshot on the GUI thread ------------------------------------------------

@dataclass
class SaveTimes:
    snapshot_ms: list[float] = field(default_factory=list)
    save_soon_ms: list[float] = field(default_factory=list)

    def install(self) -> Callable[[], None]:
        """Wrap `Conversation.snapshot` and `ConversationLibrary.save_soon` to time them;
        returns the function that puts the originals back."""
        from qwenvl_desktop.core.conversation import Conversation
        from qwenvl_desktop.core.library import ConversationLibrary

        snapshot, save_soon = Conversation.snapshot, ConversationLibrary.save_soon

        def timed_snapshot(conv: Conversation) -> Conversation:
            began = time.perf_counter()
            try:
                return snapshot(conv)
            finally:
                self.snapshot_ms.append((time.perf_counter() - began) * 1000)

        def timed_save_soon(library: ConversationLibrary, conv: Conversation) -> Any:
            began = time.perf_counter()
            try:
                return save_soon(library, conv)
            finally:
                self.save_soon_ms.append((time.perf_counter() - began) * 1000)

        Conversation.snapshot = timed_snapshot              # type: ignore[method-assign]
        ConversationLibrary.save_soon = timed_save_soon      # type: ignore[method-assign]

        def restore() -> None:
            Conversation.snapshot = snapshot                 # type: ignore[method-assign]
            ConversationLibrary.save_soon = save_soon        # type: ignore[method-assign]

        return restore


# --- one turn in the real window ------------------------------------------------------------

@dataclass
class Turn:
    worst_stall_ms: float = 0.0
    streaming_stall_ms: float = 0.0
    busy: float = 0.0
    process_busy: float = 0.0
    saves: int = 0


async def _turn(bench: Any, conv_id: str, expected: str, probe: Any | None,
                times: SaveTimes) -> Turn:
    window = bench.window
    assert window.chat.open_conversation(conv_id)
    await asyncio.sleep(0.3)                          # shown, laid out, idle
    ended: asyncio.Future[str] = bench.loop.create_future()
    first: list[tuple[float, float, float]] = []

    def on_delta(_conv: str, _answer: str, _text: str) -> None:
        if not first:
            first.append((time.perf_counter(), time.thread_time(), time.process_time()))

    def on_ended(_conv: str, answer_id: str) -> None:
        if not ended.done():
            ended.set_result(answer_id)

    events = window.session.events
    events.content_delta.connect(on_delta)
    events.turn_ended.connect(on_ended)
    saves_before = len(times.snapshot_ms)
    try:
        if probe is not None:
            probe.start()
        window.composer.set_text(QUESTION)
        window.composer.submit()
        await ended
        end_wall, end_cpu, end_proc = time.perf_counter(), time.thread_time(), \
            time.process_time()
        if probe is not None:
            await asyncio.sleep(0.05)
            probe.stop()
    finally:
        events.content_delta.disconnect(on_delta)
        events.turn_ended.disconnect(on_ended)
    answer = window.current_conversation().messages[-1]
    if answer.status != "complete" or answer.text != expected:
        raise RuntimeError(f"the window's answer is wrong: {answer.status} {answer.error}")
    turn = Turn(saves=len(times.snapshot_ms) - saves_before)
    if first:
        turn.busy = (end_cpu - first[0][1]) / (end_wall - first[0][0])
        turn.process_busy = (end_proc - first[0][2]) / (end_wall - first[0][0])
    if probe is not None:
        turn.worst_stall_ms = probe.worst_ms
        start_s = first[0][0] - probe.start_at if first else 0.0
        turn.streaming_stall_ms = max((late for at, late in probe.late if at >= start_s),
                                      default=0.0)
    return turn


def main(runs: int = RUNS) -> dict[str, Any]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import bench_streaming
    from _common import Row, median

    expected = bench_streaming.make_answer(TOKENS)
    pngs = [_png(n) for n in range(IMAGES)]
    image_mb = sum(len(p) for p in pngs) / 1e6
    results: dict[str, Any] = {"runs": runs, "image_mb": image_mb,
                               "images": [], "text": []}
    times = SaveTimes()
    with tempfile.TemporaryDirectory(prefix="bench-image-chat-") as tmp:
        bench = bench_streaming.WindowBench(Path(tmp))
        restore = times.install()
        try:
            ids = save_copies(pngs, 2 * runs)
            with bench_streaming.ServerProcess(TOKENS, RATE) as server:
                bench.open(server.urls, server.key)
                for kind in ("text", "images"):               # warm both paths once
                    bench.run(_turn(bench, ids[kind].pop(), expected, None, times))
                times.snapshot_ms.clear()
                times.save_soon_ms.clear()
                for _ in range(runs):
                    for kind in ("text", "images"):
                        bare = bench.run(_turn(bench, ids[kind].pop(), expected, None, times))
                        probed = bench.run(_turn(bench, ids[kind].pop(), expected,
                                                 bench_streaming.StallProbe(), times))
                        results[kind].append((bare, probed))
                        if kind == "images":
                            results.setdefault("image_saves", []).extend(
                                times.snapshot_ms[-(bare.saves + probed.saves):])
                bench.close()
        finally:
            restore()
            bench.shutdown()

    def stalls(kind: str) -> list[float]:
        return [probed.worst_stall_ms for _bare, probed in results[kind]]

    def busy(kind: str) -> list[float]:
        return [bare.busy for bare, _probed in results[kind]]

    def process_busy(kind: str) -> list[float]:
        return [bare.process_busy for bare, _probed in results[kind]]

    stall_text, stall_images = median(stalls("text")), median(stalls("images"))
    busy_text, busy_images = median(busy("text")) * 100, median(busy("images")) * 100
    image_snaps = results.get("image_saves", [])
    snap_worst = max(image_snaps, default=0.0)
    results["save_soon_ms"] = list(times.save_soon_ms)
    results["snapshot_ms"] = image_snaps
    results["rows"] = [
        Row("image chat", "100 tokens/s, worst GUI stall (ms), median of runs",
            stall_images, stall_text, "no images", bar=BAR_STALL_MS, bar_on="difference",
            unit="ms"),
        Row("image chat", "100 tokens/s, GUI thread busy while streaming", busy_images,
            busy_text, "no images", bar=BAR_BUSY_POINTS, bar_on="difference", unit="%"),
        Row("image chat", "100 tokens/s, whole process busy while streaming",
            median(process_busy("images")) * 100, median(process_busy("text")) * 100,
            "no images", unit="%"),
        Row("image chat", f"autosave snapshot on the GUI thread, {IMAGES} × 1 MB (ms, worst)",
            snap_worst, median(image_snaps) if image_snaps else 0.0, "median",
            bar=BAR_SNAPSHOT_MS, bar_on="ours", unit="ms", digits=2),
    ]
    return results


def _print(results: dict[str, Any]) -> None:
    from _common import print_rows

    print(f"{IMAGES} images, {results['image_mb']:.1f} MB in all; {TOKENS} tokens at "
          f"{RATE:.0f}/s; {results['runs']} runs of each, interleaved")
    for kind in ("text", "images"):
        rows = results[kind]
        print(f"{kind:>6}: worst stall " + ", ".join(f"{p.worst_stall_ms:.1f}" for _b, p in rows)
              + " ms (while streaming: "
              + ", ".join(f"{p.streaming_stall_ms:.1f}" for _b, p in rows)
              + " ms); busy " + ", ".join(f"{b.busy * 100:.1f}" for b, _p in rows)
              + " % (process " + ", ".join(f"{b.process_busy * 100:.1f}" for b, _p in rows)
              + " %); saves per turn " + ", ".join(f"{b.saves}/{p.saves}" for b, p in rows))
    snaps = results["snapshot_ms"]
    print("snapshot (ms): " + ", ".join(f"{v:.2f}" for v in snaps))
    print("save_soon on the GUI thread, all turns (ms): "
          + ", ".join(f"{v:.2f}" for v in results["save_soon_ms"]))
    print_rows(f"image chat (median of {results['runs']} runs)", results["rows"])


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    _print(main(int(sys.argv[1]) if len(sys.argv) > 1 else RUNS))
