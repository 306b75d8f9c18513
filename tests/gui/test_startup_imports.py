"""Starting the window leaves the libraries it does not need yet unimported: httpx (and
what its command line pulls in), Pillow, markdown-it and Pygments on a first run; httpx
and Pillow when it reopens a conversation holding images and a located answer. Each is
imported at its first use, which the other tests exercise (downloads, attaching,
drawing, sending), or, once the window is idle, by the warm-up. The "Loading…" frame
waits for still less: not for storage, the markdown renderer, or PySide's QStyle and
QMessageBox types.

The real app runs in a subprocess (`python -m qwenvl_desktop`'s `main()`, with the
start-up probe closing it once it is ready and idle), so nothing this test process
imported counts.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from PySide6.QtCore import QBuffer, QByteArray, QIODevice
from PySide6.QtGui import QColor, QImage

from qwenvl_desktop.core.conversation import Conversation, Message, StoredImage
from qwenvl_desktop.core.library import ConversationLibrary
from qwenvl_desktop.core.settings import Settings

_CHILD = """
import json, sys
from qwenvl_desktop.__main__ import main
status = main([])
heavy = ("httpx", "httpx_sse", "PIL", "markdown_it", "pygments", "rich", "click")
print("LOADED " + json.dumps([name for name in heavy if name in sys.modules]))
sys.exit(status)
"""


# Records what exists when the "Loading…" frame has been painted, and the style at idle.
_FRAME_CHILD = """
import gc, json, sys
from PySide6.QtWidgets import QApplication
from qwenvl_desktop.ui import app as ui_app

watched = ("qwenvl_desktop.core.storage", "qwenvl_desktop.core.conversation",
           "qwenvl_desktop.core.markdown_render")
seen = {}
probe = ui_app._StartupProbe
first_frame, idle = probe.first_frame, probe._idle

def at_first_frame(self):
    seen["modules"] = [name for name in watched if name in sys.modules]
    seen["types"] = sorted({o.__qualname__ for o in gc.get_objects() if isinstance(o, type)
                            and o.__qualname__ in ("QStyle.PixelMetric", "QMessageBox.Icon")})
    first_frame(self)

def at_idle(self):
    app = QApplication.instance()
    app.setStyleSheet("")           # under a style sheet, style() is the sheet's own
    seen["style"] = app.style().name()
    seen["later"] = [name for name in watched if name in sys.modules]
    idle(self)

probe.first_frame, probe._idle = at_first_frame, at_idle
from qwenvl_desktop.__main__ import main
status = main([])
print("SEEN " + json.dumps(seen))
sys.exit(status)
"""


# Keeps the window open past idle until the warm-up has run, and says what it imported.
_WARM_CHILD = """
import json, sys, threading
from PySide6.QtCore import QTimer
from qwenvl_desktop.core import warm_up
from qwenvl_desktop.ui import app as ui_app

heavy = ("httpx", "PIL", "markdown_it", "pygments")
seen = {"started": []}
start = warm_up.start_warm_up

def recording_start(*args, **kwargs):
    warm = start(*args, **kwargs)
    seen["started"].append(warm)
    return warm

warm_up.start_warm_up = recording_start
probe = ui_app._StartupProbe
idle = probe._idle

def at_idle(self):
    seen["at_idle"] = [name for name in heavy if name in sys.modules]
    seen["own_at_idle"] = [name for name in warm_up.OWN_MODULES if name in sys.modules]
    polls = []

    def check():
        polls.append(1)
        started = seen["started"]
        own_loaded = all(name in sys.modules for name in warm_up.OWN_MODULES)
        if started and started[0].done.is_set() and own_loaded or len(polls) > 1200:  # 60 s
            timer.stop()
            seen["after"] = [name for name in warm_up.WARM_MODULES if name in sys.modules]
            seen["own"] = [name for name in warm_up.OWN_MODULES if name in sys.modules]
            seen["failed"] = started[0].failed if started else None
            seen["threads"] = [w.thread.name for w in started]
            seen["on_main"] = [w.thread is threading.main_thread() for w in started]
            idle(self)

    timer = QTimer(self)
    timer.timeout.connect(check)
    timer.start(50)

probe._idle = at_idle
from qwenvl_desktop.__main__ import main
status = main([])
seen.pop("started")
print("WARM " + json.dumps(seen))
sys.exit(status)
"""


def _launch(home: Path) -> list[str]:
    loaded: list[str] = _run_child(home, _CHILD, "LOADED ")
    return loaded


def _run_child(home: Path, code: str, tag: str, **extra_env: str) -> Any:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QWENVL_DESKTOP_")}
    env.update({"QT_QPA_PLATFORM": "offscreen", "QWENVL_DESKTOP_HOME": str(home),
                "QWENVL_DESKTOP_STARTUP_PROBE": "1",
                # A subprocess cannot see the tests' memory keyring; never the real one.
                "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring", **extra_env})
    proc = subprocess.run([sys.executable, "-c", code], env=env, cwd=home,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    line = next(x for x in proc.stdout.splitlines() if x.startswith(tag))
    return json.loads(line.removeprefix(tag))


def _png(width: int, height: int) -> bytes:
    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(QColor("#4e79a7"))
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    assert image.save(buffer, "PNG")
    return bytes(data.data())


def test_first_run_imports_no_network_image_or_markdown_library(isolated_home: Path) -> None:
    assert _launch(isolated_home) == []


def test_reopening_a_conversation_with_images_imports_neither_httpx_nor_pillow(
        isolated_home: Path) -> None:
    from qwenvl_desktop.core import paths

    data = _png(64, 48)
    sha = hashlib.sha256(data).hexdigest()
    conv = Conversation(title="Screenshot question", provider_id="dashscope-intl",
                        model_id="qwen3-vl-plus")
    conv.add_image(StoredImage(sha256=sha, mime="image/png", data=data, width=64, height=48,
                               original_name="shot.png"))
    question = Message(role="user", text="Where is the button?")
    question.images.append(sha)
    conv.append(question)
    # A located answer: the transcript offers its grounding link (drawn with Pillow only
    # when the person opens it).
    conv.append(Message(role="assistant", text='The button: ```json\n[{"bbox_2d": '
                        '[10, 10, 200, 300], "label": "button"}]\n```\nand some `code`.'))
    ConversationLibrary(paths.conversations_dir()).save(conv)
    settings, _warnings = Settings.load()
    settings.ui = dict(settings.ui, last_conversation=conv.id)
    settings.save()

    loaded = _launch(isolated_home)

    assert "httpx" not in loaded, loaded
    assert "PIL" not in loaded, loaded
    assert "markdown_it" in loaded, "the answer was not rendered: the home was not reopened"


def test_the_loading_frame_waits_for_neither_storage_nor_markdown_nor_the_style_type(
        isolated_home: Path) -> None:
    """What the first frame does not wait for: the conversation model, its file storage
    and the markdown renderer are imported after it (the panes need them), and PySide's
    QStyle and QMessageBox types are not built for it. Qt is told to start on Fusion
    instead of being asked which style it has; the window is on Fusion all the same, even
    when the desktop asks for another style (qt5ct and the like set QT_STYLE_OVERRIDE)."""
    seen = _run_child(isolated_home, _FRAME_CHILD, "SEEN ", QT_STYLE_OVERRIDE="windows")

    assert seen["modules"] == [], seen
    assert seen["types"] == [], seen
    assert seen["later"] == ["qwenvl_desktop.core.storage", "qwenvl_desktop.core.conversation",
                             "qwenvl_desktop.core.markdown_render"], seen
    assert seen["style"].lower() == "fusion", seen


def test_once_idle_the_window_imports_what_the_first_send_and_attachment_need_in_the_background(
        isolated_home: Path) -> None:
    """The first send needs httpx (≈ 200 ms to import), the first attachment Pillow, the
    first answer markdown-it and Pygments. None is imported to start the window; a beat
    after it is idle, one background thread imports them all."""
    from qwenvl_desktop.core.warm_up import OWN_MODULES, WARM_MODULES

    seen = _run_child(isolated_home, _WARM_CHILD, "WARM ")

    assert seen["at_idle"] == [], seen
    assert seen["own_at_idle"] == [], seen
    assert seen["threads"] == ["warm-up"], seen
    assert seen["on_main"] == [False], seen
    assert seen["failed"] == [], seen
    assert seen["after"] == list(WARM_MODULES), seen
    # Then the product's own modules for them, by the GUI thread.
    assert seen["own"] == list(OWN_MODULES), seen
