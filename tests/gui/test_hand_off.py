"""What the running window does with the files a later launch hands it (`ui/app.py`):
conversations open as they are, images become a new question, and handing the same
file over twice (a second double-click) never lists the conversation twice.

The socket between the two processes is tested in `tests/e2e/test_single_instance.py`
and `test_single_instance_server.py`; this is the window's end, in-process.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image
from pytestqt.qtbot import QtBot
from window_harness import (  # noqa: F401 - fixtures are found by name
    conversation,
    provider_server_fixture,
    server_fixture,
    window_fixture,
)

from qwenvl_desktop.core.conversation import Conversation, Message
from qwenvl_desktop.core.storage import save_conversation
from qwenvl_desktop.ui.app import open_files
from qwenvl_desktop.ui.main_window import MainWindow


def _conversation_file(folder: Path, title: str) -> Path:
    conv = Conversation(title=title)
    conv.append(Message(role="user", text=f"A question in {title}"))
    conv.append(Message(role="assistant", text="An answer"))
    path = folder / "handed.qwenvl"
    save_conversation(conv, path)
    return path


def _image_file(folder: Path) -> Path:
    path = folder / "screenshot.png"
    Image.new("RGB", (64, 48), (30, 120, 200)).save(path)
    return path


def _titles(window: MainWindow) -> list[str]:
    assert window.services is not None
    return [s.title for s in window.services.library.list()]


def test_a_handed_conversation_opens_once_and_images_start_a_question(
        qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    chat = _conversation_file(tmp_path, "Handed over")

    open_files(window, [chat])
    assert conversation(window).title == "Handed over"
    assert [m.text for m in conversation(window).messages] == [
        "A question in Handed over", "An answer"]
    handed_id = conversation(window).id

    # The same file double-clicked again, with an image beside it.
    image = _image_file(tmp_path)
    open_files(window, [chat, image])

    assert _titles(window).count("Handed over") == 1
    shown = conversation(window)
    assert shown.id != handed_id                             # a new conversation...
    assert not shown.messages                                # ...still empty
    qtbot.waitUntil(lambda: [a.name for a in window.composer.attachments()]
                    == ["screenshot.png"], timeout=5000)
    assert window.isVisible()


def test_a_handed_file_that_cannot_be_read_is_explained_and_changes_nothing(
        qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    before = conversation(window).id
    broken = tmp_path / "broken.qwenvl"
    broken.write_text("not a conversation", "utf-8")

    open_files(window, [broken])

    assert conversation(window).id == before
    assert "broken.qwenvl" in window.files.last_error
