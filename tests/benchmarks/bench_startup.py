"""Benchmark: launch → main window shown and idle, the app against a bare PySide6 window.

The bar: the app is shown and idle in at most 1.3 × the time a bare
PySide6 script (QApplication + QMainWindow, shown) takes to get there; 2 × for now
(`BAR`, `GOAL`).

The app starts in two homes, each launch interleaved with the bare window's:

* first run: a fresh, empty `QWENVL_DESKTOP_HOME` and the machine's own keyring (here
  no D-Bus, so keyring's `fail` backend): the welcome panel;
* an everyday home: a key in the keyring (an in-memory keyring already holding it,
  `_seeded_keyring.py`, chosen through keyring's own `PYTHON_KEYRING_BACKEND`), 200
  saved conversations, and as the last one shown a conversation of 300 messages with
  10 images, which the app reopens. The home is built once and used once by the app
  (so whatever the app writes on a first start, such as the library index, is there);
  each measured launch gets a fresh copy of it.

Each launch is a fresh `python` process, timed from just before `exec` (the parent's
`time.time()` is passed in `QWENVL_DESKTOP_STARTUP_T0`), so interpreter start-up is in
both. Both children use the same definition of "shown and idle":

1. the window is ready — bare: shown; app: shown *and* its panes built on the real
   services (`MainWindow.attach` has returned; a "Loading…" frame does not count);
2. then the first paint event of that window (any of its widgets) arrives;
3. then a zero-delay timer fires, i.e. the event queue that paint was part of has
   been worked through. The child prints the elapsed time and exits.

The app child runs the real entry point (`qwenvl_desktop.__main__.main()` with no
arguments, what `python -m qwenvl_desktop` does) with the app's own start-up probe
switched on
(`QWENVL_DESKTOP_STARTUP_PROBE=1`, see `qwenvl_desktop/ui/app.py`): it prints
`startup-frame-ms` at its first ("Loading…") frame and `startup-idle-ms` at step 3,
then closes its window the normal way. The bare child measures itself the same way.

Run: `.venv/bin/python tests/benchmarks/bench_startup.py`.
"""

# Only the standard library at module level: the children import this file too, and
# anything imported here would be start-up cost in both.
from __future__ import annotations

import os
import sys
import time
from typing import Any

RUNS = 7
BAR = 2.0
GOAL = 1.3
SAVED_CONVERSATIONS = 200
LAST_MESSAGES = 300
LAST_IMAGES = 10
WINDOW_SIZE = (1280, 800)
# The app's start-up probe (qwenvl_desktop/ui/app.py); the bare child reads T0 too.
PROBE_ENV = "QWENVL_DESKTOP_STARTUP_PROBE"
T0_ENV = "QWENVL_DESKTOP_STARTUP_T0"


# --- the children ---------------------------------------------------------------------

def _memory_and_size(is_ours: Any) -> list[str]:
    from PySide6.QtWidgets import QApplication

    with open("/proc/self/status", encoding="ascii") as fh:
        status = dict(line.split(":", 1) for line in fh if ":" in line)
    window = next((w for w in QApplication.topLevelWidgets() if is_ours(w)), None)
    size = f"{window.width()}x{window.height()}" if window is not None else "?"
    return [f"RSS_KB {status['VmRSS'].split()[0]}", f"HWM_KB {status['VmHWM'].split()[0]}",
            f"SIZE {size}"]


def _idle_probe(is_ours: Any, stages: list[tuple[str, Any]]) -> None:
    """Install the paint → zero-timer probe. `is_ours(widget)` picks the window's
    widgets; each stage `(name, ready)` is reached at the first paint of the window
    after `ready()` holds, plus a zero-delay timer. The last stage prints and exits."""
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication, QWidget

    t0 = float(os.environ[T0_ENV])
    out: list[str] = []

    def reached(name: str, last: bool) -> None:
        out.append(f"{name}_MS {(time.time() - t0) * 1000:.2f}")
        if not last:
            return
        out.extend(_memory_and_size(is_ours))
        sys.stdout.write("\n".join(out) + "\n")
        sys.stdout.flush()
        os._exit(0)

    class PaintWatch(QObject):
        next_stage = 0

        def eventFilter(self, obj: QObject, event: QEvent) -> bool:
            if (self.next_stage < len(stages) and event.type() == QEvent.Type.Paint
                    and isinstance(obj, QWidget) and is_ours(obj.window())):
                # One paint may complete several stages (the panes may be built
                # before the frame is first painted).
                while self.next_stage < len(stages) and stages[self.next_stage][1]():
                    name = stages[self.next_stage][0]
                    self.next_stage += 1
                    last = self.next_stage == len(stages)
                    QTimer.singleShot(0, lambda n=name, end=last: reached(n, end))
            return False

    app = QApplication.instance()
    assert app is not None
    watch = PaintWatch(app)
    app.installEventFilter(watch)


def _child_bare() -> None:
    from PySide6.QtWidgets import QApplication, QMainWindow

    app = QApplication(sys.argv[:1])
    window = QMainWindow()
    window.setWindowTitle("bare")
    window.resize(*WINDOW_SIZE)
    window.show()
    _idle_probe(lambda w: w is window, [("READY", lambda: True)])
    app.exec()


def _child_app() -> None:
    import contextlib
    import io

    from qwenvl_desktop import __main__ as entry

    # The app's probe prints its figures and closes the window the normal way; memory
    # is read after that (resident memory barely falls at close; the peak is kept).
    sys.argv = [sys.argv[0]]
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        status = entry.main()
    figures = dict(line.split(" ", 1) for line in printed.getvalue().splitlines()
                   if line.startswith("startup-"))
    from PySide6.QtWidgets import QApplication

    from qwenvl_desktop.ui.main_window import MainWindow

    # CPU until idle, as the bare child (which exits there) is measured; not the close.
    lines = [f"FRAME_MS {figures['startup-frame-ms']}",
             f"READY_MS {figures['startup-idle-ms']}",
             f"CPU_MS {figures['startup-cpu-ms']}",
             *_memory_and_size(lambda w: isinstance(w, MainWindow))]
    # What the window showed, for the parent to check the everyday home was used.
    window = next(w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow))
    conv = window.current_conversation()
    services = window.services
    assert services is not None
    lines += [f"SHOWN {conv.id if conv is not None else '-'}",
              f"MESSAGES {len(conv.messages) if conv is not None else 0}",
              f"KEY {services.keystore.source(services.catalog.get('dashscope-intl'))}"]
    sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()
    sys.exit(status)


# --- the everyday home ------------------------------------------------------------------

KEY_ID = "dashscope-intl"
KEY = "sk-bench-startup-0000"


def prepare_home(home: Any, tmp: Any) -> str:
    """200 saved conversations and the last one shown (300 messages, 10 images); its id."""
    import random

    os.environ["QWENVL_DESKTOP_HOME"] = str(home)
    from bench_conversation import build_conversation
    from bench_streaming import make_answer

    from qwenvl_desktop.core import paths
    from qwenvl_desktop.core.conversation import Conversation, Message
    from qwenvl_desktop.core.library import ConversationLibrary
    from qwenvl_desktop.core.settings import Settings

    library = ConversationLibrary(paths.conversations_dir())
    rnd = random.Random(200)
    start = time.time() - 86_400 * 200
    for n in range(SAVED_CONVERSATIONS - 1):
        conv = Conversation(title=f"Question {n + 1} about a screenshot",
                            provider_id="dashscope-intl", model_id="qwen3-vl-plus")
        for turn in range(rnd.randint(1, 8)):
            conv.append(Message(role="user", text=f"What does part {turn + 1} show?",
                                created=start + n * 3600 + turn * 60))
            conv.append(Message(role="assistant", created=start + n * 3600 + turn * 60 + 20,
                                text=make_answer(rnd.choice((40, 120, 300)), seed=n * 10 + turn)))
        conv.created, conv.updated = start + n * 3600, start + n * 3600 + 600
        library.save(conv)
    last = build_conversation(tmp, LAST_MESSAGES, LAST_IMAGES)
    library.save(last)
    settings, _warnings = Settings.load()
    settings.ui = dict(settings.ui, last_conversation=last.id)
    settings.last_provider, settings.last_model = "dashscope-intl", "qwen3-vl-plus"
    settings.save()
    return str(last.id)


# --- the parent -------------------------------------------------------------------------

def _launch(kind: str, home: Any) -> dict[str, str]:
    from _common import child_env, run_child
    from _seeded_keyring import KEYS_ENV, keys_value

    extra = {PROBE_ENV: "1"}
    if kind == "home":
        extra.update(PYTHON_KEYRING_BACKEND="_seeded_keyring.SeededKeyring",
                     **{KEYS_ENV: keys_value({KEY_ID: KEY})})
    env = child_env(home, **extra)
    env[T0_ENV] = repr(time.time())
    return run_child([__file__, "--child", "bare" if kind == "bare" else "app"], env,
                     timeout=60)


KINDS = ("bare", "first", "home")


def main(runs: int = RUNS) -> dict[str, Any]:
    import shutil
    import tempfile
    from pathlib import Path

    from _common import Row, median

    samples: dict[str, list[dict[str, str]]] = {kind: [] for kind in KINDS}
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        template = Path(tmp) / "home-template"
        template.mkdir()
        built = time.perf_counter()
        last_id = prepare_home(template, Path(tmp))
        built = time.perf_counter() - built
        for kind in KINDS:        # warm the page cache and .pyc files; the home's first start
            _launch(kind, template if kind == "home" else Path(tmp) / f"warm-{kind}")
        for n in range(runs):                        # interleaved: drift hits all alike
            for kind in KINDS:
                home = Path(tmp) / f"{kind}-{n}"
                if kind == "home":
                    shutil.copytree(template, home)
                else:
                    home.mkdir()                     # a fresh, empty home every launch
                found = _launch(kind, home)
                if kind == "home" and (found["SHOWN"] != last_id or found["KEY"] != "keyring"
                                       or found["MESSAGES"] != str(LAST_MESSAGES)):
                    raise RuntimeError(f"the everyday home was not what the app showed: {found}")
                samples[kind].append(found)
                if kind != "bare":
                    shutil.rmtree(home, ignore_errors=True)

    def med(kind: str, key: str) -> float:
        return median(float(s[key]) for s in samples[kind])

    bare = med("bare", "READY_MS")
    results: dict[str, Any] = {
        "runs": runs, "build_s": built, "bare_ms": bare,
        "all_ms": {kind: [float(s["READY_MS"]) for s in samples[kind]] for kind in KINDS},
        "size": {kind: samples[kind][0]["SIZE"] for kind in KINDS},
    }
    goal = f"goal {GOAL}×"
    results["rows"] = [
        Row("startup", "first run (empty home) → window with panes shown and idle (ms)",
            med("first", "READY_MS"), bare, "bare window", bar=BAR, bar_note=goal, unit="ms"),
        Row("startup", f"everyday home (key in keyring, {SAVED_CONVERSATIONS} conversations, "
            f"last of {LAST_MESSAGES} msgs + {LAST_IMAGES} images) → shown and idle (ms)",
            med("home", "READY_MS"), bare, "bare window", bar=BAR, bar_note=goal, unit="ms"),
        Row("startup", "first run → first frame painted (ms, \"Loading…\")",
            med("first", "FRAME_MS"), bare, "bare window", unit="ms"),
        Row("startup", "everyday home → first frame painted (ms, \"Loading…\")",
            med("home", "FRAME_MS"), bare, "bare window", unit="ms"),
        Row("startup", "first run: CPU time of the launch (ms)", med("first", "CPU_MS"),
            med("bare", "CPU_MS"), "bare window", unit="ms"),
        Row("startup", "everyday home: CPU time of the launch (ms)", med("home", "CPU_MS"),
            med("bare", "CPU_MS"), "bare window", unit="ms"),
        Row("startup", "first run: resident memory when idle (MB)",
            med("first", "RSS_KB") / 1024, med("bare", "RSS_KB") / 1024, "bare window",
            unit="MB"),
        Row("startup", "everyday home: resident memory when idle (MB)",
            med("home", "RSS_KB") / 1024, med("bare", "RSS_KB") / 1024, "bare window",
            unit="MB"),
    ]
    return results


def _print(results: dict[str, Any]) -> None:
    from _common import print_rows

    names = {"bare": "bare PySide6 window", "first": "first run, empty home",
             "home": "everyday home"}
    print(f"(everyday home built in {results['build_s']:.1f} s)")
    for kind, values in results["all_ms"].items():
        print(f"{names[kind]} ({results['size'][kind]}): "
              + ", ".join(f"{v:.0f}" for v in values) + " ms")
    print_rows(f"startup (median of {results['runs']} fresh processes each)", results["rows"])


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        {"bare": _child_bare, "app": _child_app}[sys.argv[2]]()
    else:
        _print(main())
