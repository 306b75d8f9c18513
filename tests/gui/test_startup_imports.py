"""Starting the window leaves the libraries it does not need yet unimported: httpx (and
what its command line pulls in), Pillow, markdown-it and Pygments on a first run; httpx
and Pillow when it reopens a conversation holding images and a located answer. Each is
imported at its first use, which the other tests exercise (downloads, attaching,
drawing, sending).

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


def _launch(home: Path) -> list[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QWENVL_DESKTOP_")}
    env.update({"QT_QPA_PLATFORM": "offscreen", "QWENVL_DESKTOP_HOME": str(home),
                "QWENVL_DESKTOP_STARTUP_PROBE": "1",
                # A subprocess cannot see the tests' memory keyring; never the real one.
                "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"})
    proc = subprocess.run([sys.executable, "-c", _CHILD], env=env, cwd=home,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    line = next(x for x in proc.stdout.splitlines() if x.startswith("LOADED "))
    loaded: list[str] = json.loads(line.removeprefix("LOADED "))
    return loaded


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
