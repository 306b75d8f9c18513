"""Benchmark: opening a big saved conversation until it is readable.

The bars: a saved conversation of 1,000 messages and 40 images opens and is
readable in < 1 s, with resident memory < 300 MB.

The conversation: 500 questions and 500 markdown answers (paragraphs, lists, Python
code, tables; 60–600 words each, with provenance and usage), 40 of the questions
carrying an image — 20 JPEG photos of 1536×1024 and 20 PNG screenshots of 1440×900, each
distinct — saved through the app's own library (`core.library`, i.e. `core.storage`).

Each measurement is a fresh process running the real window (offscreen) on the real
services in the home folder the conversation was saved to:

* click: the app starts showing a small, more recent conversation; the clock starts
  when the big one is opened as a click in the list does (`ChatActions.open_conversation`)
  and stops at the first paint of the transcript after it is shown, plus a zero-delay
  timer (first screen painted). "Fully laid out" forces the rest of Qt's lazy layout
  and paints again — everything scrollable is ready.
* launch: the big conversation is the last one shown, so the app reopens it at start;
  from before `exec` to the first screen painted (start-up included; informational).

Resident memory is the process's VmHWM (peak) from /proc/self/status once everything
is laid out; VmRSS before opening is shown for comparison.

Then `bench_scrolling` scrolls the same conversation from its end to its beginning, a
screen at a time (its own docstring says how).

Run: `.venv/bin/python tests/benchmarks/bench_conversation.py`.
"""

from __future__ import annotations

import hashlib
import io
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import bench_scrolling

RUNS = 5
MESSAGES = 1_000
IMAGES = 40
BAR_S = 1.0
BAR_MB = 300.0


# --- building the conversation ------------------------------------------------------------

def _images(tmp: Path, count: int = IMAGES) -> list[tuple[bytes, str, int, int, str]]:
    """`count` distinct images, photos and screenshots in turn:
    (data, mime, width, height, name)."""
    from bench_images import make_photo, make_screenshot
    from PIL import Image, ImageDraw

    bases = {"photo": tmp / "photo.jpg", "screen": tmp / "screen.png"}
    make_photo(bases["photo"], 1536, 1024)
    make_screenshot(bases["screen"], 1440, 900)
    rnd = random.Random(40)
    out = []
    for i in range(count):
        kind = "photo" if i % 2 == 0 else "screen"
        with Image.open(bases[kind]) as src:
            im = src.convert("RGB")
            if kind == "photo":
                im = im.transpose(Image.Transpose.ROTATE_270)   # the photo is stored upright
        draw = ImageDraw.Draw(im)
        x, y = rnd.randrange(im.width - 400), rnd.randrange(im.height - 200)
        draw.rectangle((x, y, x + 380, y + 90), fill=(rnd.randrange(256), rnd.randrange(256),
                                                      rnd.randrange(256)))
        draw.text((x + 16, y + 20), f"image {i + 1} of {count}", fill=(255, 255, 255),
                  font_size=40)
        buf = io.BytesIO()
        if kind == "photo":
            im.save(buf, "JPEG", quality=85)
            out.append((buf.getvalue(), "image/jpeg", im.width, im.height, f"IMG_{4100 + i}.jpg"))
        else:
            im.save(buf, "PNG", optimize=False)
            out.append((buf.getvalue(), "image/png", im.width, im.height,
                        f"Screenshot {i:02d}.png"))
    return out


def build_conversation(tmp: Path, messages: int = MESSAGES, image_count: int = IMAGES) -> Any:
    """`messages` messages, questions and markdown answers in turn, `image_count` of the
    questions carrying an image."""
    from bench_streaming import make_answer

    from qwenvl_desktop.core.api.types import Usage
    from qwenvl_desktop.core.conversation import Conversation, Message, Provenance, StoredImage

    rnd = random.Random(messages)
    conv = Conversation(title=f"A long visual chat ({messages:,} messages, {image_count} images)",
                        provider_id="dashscope-intl", model_id="qwen3-vl-plus")
    images = _images(tmp, image_count)
    image_every = max(1, messages // 2 // max(1, image_count))   # 1,000/40: one question in 12
    start = time.time() - 86_400 * 30
    for n in range(messages // 2):
        question = Message(role="user", created=start + n * 120,
                           text=f"Question {n + 1}: what does this part show, and why "
                                f"does the {rnd.choice(('table', 'dialog', 'chart'))} "
                                "look different from the previous one?")
        if n % image_every == 0 and n // image_every < image_count:
            data, mime, width, height, name = images[n // image_every]
            sha = hashlib.sha256(data).hexdigest()
            conv.add_image(StoredImage(sha256=sha, mime=mime, data=data, width=width,
                                       height=height, original_name=name,
                                       original_width=width * 2, original_height=height * 2,
                                       original_bytes=len(data) * 3))
            question.images.append(sha)
            question.image_tokens[sha] = 1280
        conv.append(question)
        words = rnd.choice((60, 120, 200, 300, 450, 600))
        text = make_answer(words, seed=n)
        conv.append(Message(
            role="assistant", text=text, created=start + n * 120 + 20,
            provenance=Provenance(provider="dashscope-intl", model="qwen3-vl-plus",
                                  region="Singapore",
                                  base_url="https://dashscope-intl.aliyuncs.com/compatible-mode/v1",
                                  params={"temperature": 0.7},
                                  usage=Usage(prompt_tokens=1500, completion_tokens=words,
                                              total_tokens=1500 + words),
                                  finish_reason="stop", first_token_s=0.8,
                                  total_s=words / 40)))
    conv.created, conv.updated = start, start + messages * 60
    return conv


def prepare_home(home: Path, tmp: Path) -> tuple[str, str, int, int]:
    """Save the big conversation and a small, newer one; (big id, small id, bytes, images)."""
    os.environ["QWENVL_DESKTOP_HOME"] = str(home)
    from qwenvl_desktop.core import paths
    from qwenvl_desktop.core.conversation import Conversation, Message
    from qwenvl_desktop.core.library import ConversationLibrary

    library = ConversationLibrary(paths.conversations_dir())
    big = build_conversation(tmp)
    path = library.save(big).path
    small = Conversation(title="Yesterday's question")
    small.append(Message(role="user", text="Hello?"))
    small.append(Message(role="assistant", text="Hello! How can I help?"))
    library.save(small)
    return big.id, small.id, path.stat().st_size, len(big.images)


def _set_last(home: Path, conv_id: str) -> None:
    os.environ["QWENVL_DESKTOP_HOME"] = str(home)
    from qwenvl_desktop.core.settings import Settings

    settings, _warnings = Settings.load()
    settings.ui = dict(settings.ui, last_conversation=conv_id)
    settings.last_provider, settings.last_model = "dashscope-intl", "qwen3-vl-plus"
    settings.save()


# --- the child: the real window ---------------------------------------------------------------

def _status() -> dict[str, int]:
    with open("/proc/self/status", encoding="ascii") as fh:
        return {k: int(v.split()[0]) for k, v in (line.split(":", 1) for line in fh)
                if k in ("VmRSS", "VmHWM")}


def _child(mode: str, conv_id: str) -> None:
    import asyncio

    from _common import now_ns, use_memory_keyring
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication

    from qwenvl_desktop.services import Services
    from qwenvl_desktop.ui.event_loop import AppEventLoop
    from qwenvl_desktop.ui.main_window import MainWindow

    t_exec = int(os.environ["BENCH_T0_NS"])
    use_memory_keyring()
    app = QApplication(sys.argv[:1])
    loop = AppEventLoop(app)
    asyncio.set_event_loop(loop)
    services = Services.create()
    # Someone with a saved conversation has a key; without one the window shows the
    # add-a-key panel instead of an empty transcript.
    services.keystore.set(services.catalog.get("dashscope-intl"), "sk-bench-0000")
    lines: list[str] = []
    marks: dict[str, float] = {}

    class FirstPaint(QObject):
        """Calls `then` (after a zero timer) at the next paint of the watched widget."""

        def __init__(self) -> None:
            super().__init__()
            self.then: Any = None

        def eventFilter(self, obj: QObject, event: QEvent) -> bool:
            if self.then is not None and event.type() == QEvent.Type.Paint:
                then, self.then = self.then, None
                QTimer.singleShot(0, then)
            return False

    watch = FirstPaint()

    def finish() -> None:
        transcript = window.transcript
        doc = transcript.document()
        t = time.perf_counter()
        doc.documentLayout().frameBoundingRect(doc.rootFrame())   # ensureLayoutFinished
        transcript.viewport().repaint()
        marks["full"] = marks["readable"] + time.perf_counter() - t
        conv = window.current_conversation()
        shown = conv.id if conv is not None else "-"
        status = _status()
        bar = transcript.verticalScrollBar()
        lines.extend([
            f"READABLE_S {marks['readable'] - marks['start']:.4f}",
            f"FULL_S {marks['full'] - marks['start']:.4f}",
            f"HWM_KB {status['VmHWM']}", f"RSS_KB {status['VmRSS']}",
            f"SHOWN {shown}", f"MESSAGES {len(conv.messages) if conv else 0}",
            f"AT_END {int(bar.value() >= bar.maximum() - 8)}",
            f"FRAMES {len(transcript.message_ids())}"])
        sys.stdout.write("\n".join(lines) + "\n")
        sys.stdout.flush()
        os._exit(0)

    def readable() -> None:
        marks["readable"] = time.perf_counter()
        QTimer.singleShot(0, finish)

    window = MainWindow.build(services) if mode == "click" else None
    if mode == "click":
        assert window is not None
        window.resize(1280, 860)
        window.show()

        def click() -> None:
            assert window is not None
            lines.append(f"RSS_BEFORE_KB {_status()['VmRSS']}")
            window.transcript.viewport().installEventFilter(watch)
            watch.then = readable
            marks["start"] = time.perf_counter()
            if not window.chat.open_conversation(conv_id):
                raise SystemExit("the conversation did not open")

        QTimer.singleShot(500, click)         # the window has settled by then
    else:
        marks["start"] = time.perf_counter() - (now_ns() - t_exec) / 1e9
        window = MainWindow.build(services)   # opens the last conversation itself
        window.resize(1280, 860)
        window.transcript.viewport().installEventFilter(watch)
        watch.then = readable
        window.show()
    with loop:
        loop.run_forever()


# --- the parent ----------------------------------------------------------------------------------

def main(runs: int = RUNS, scroll_runs: int = bench_scrolling.RUNS) -> dict[str, Any]:
    from _common import Row, child_env, median, now_ns, run_child

    samples: dict[str, list[dict[str, str]]] = {"click": [], "launch": []}
    with tempfile.TemporaryDirectory(prefix="bench-conversation-") as tmp_name:
        tmp = Path(tmp_name)
        home = tmp / "home"
        home.mkdir()
        built = time.perf_counter()
        big_id, small_id, size, n_images = prepare_home(home, tmp)
        built = time.perf_counter() - built
        homes = {"click": home, "launch": tmp / "home-launch"}
        # Same library, but the big conversation was the one last shown.
        import shutil

        shutil.copytree(home, homes["launch"])
        _set_last(homes["launch"], big_id)
        _set_last(home, small_id)
        for n in range(runs + 1):                  # the first pair warms the caches
            for mode in samples:
                env = child_env(homes[mode], BENCH_T0_NS=str(now_ns()))
                found = run_child([__file__, "--child", mode, big_id], env, timeout=120)
                if found.get("SHOWN") != big_id or found.get("MESSAGES") != str(MESSAGES):
                    raise RuntimeError(f"the window did not show the conversation: {found}")
                if n:
                    samples[mode].append(found)
        scrolling = bench_scrolling.run(homes["launch"], big_id, MESSAGES, scroll_runs)

    def med(mode: str, key: str) -> float:
        return median(float(s[key]) for s in samples[mode])

    readable, full = med("click", "READABLE_S"), med("click", "FULL_S")
    peak = max(med("click", "HWM_KB"), med("launch", "HWM_KB")) / 1024
    before = med("click", "RSS_BEFORE_KB") / 1024
    launch = med("launch", "READABLE_S")
    results: dict[str, Any] = {
        "runs": runs, "file_mb": size / 1e6, "images": n_images, "build_s": built,
        "readable_s": readable, "full_s": full, "launch_s": launch,
        "launch_full_s": med("launch", "FULL_S"),
        "peak_mb": peak, "rss_before_mb": before,
        "at_end": all(s["AT_END"] == "1" for s in samples["click"]),
        "all_readable_s": [float(s["READABLE_S"]) for s in samples["click"]],
        "scrolling": scrolling,
    }
    name = f"open {MESSAGES:,} msgs + {IMAGES} images"
    results["rows"] = [
        Row("conversation", f"{name} → first screen painted (s)", readable, bar=BAR_S,
            bar_on="ours", bar_op="<", unit="s", digits=3),
        Row("conversation", "… → fully laid out and painted (s)", full, unit="s", digits=3),
        Row("conversation", "launch with it as the last conversation → painted (s)", launch,
            unit="s", digits=3),
        Row("conversation", "peak resident memory, VmHWM (MB)", peak, before, "before open",
            bar=BAR_MB, bar_on="ours", bar_op="<", unit="MB", ratio=None),
        *scrolling["rows"],
    ]
    return results


def _print(results: dict[str, Any]) -> None:
    from _common import print_rows

    print(f"conversation file: {results['file_mb']:.1f} MB, {MESSAGES} messages, "
          f"{results['images']} images (built and saved in {results['build_s']:.1f} s)")
    print("open → readable: " + ", ".join(f"{v:.3f}" for v in results["all_readable_s"])
          + f" s; view at the end of the conversation: {results['at_end']}")
    print(bench_scrolling.describe(results["scrolling"]))
    print_rows(f"big conversation (median of {results['runs']} fresh processes; scrolling: "
               f"{results['scrolling']['runs']})", results["rows"])


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3])
    else:
        _print(main())
