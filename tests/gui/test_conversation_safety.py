"""The window never loses a conversation: a delete is final but can be undone while the
window is open, and a save never overwrites another program's change."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QToolButton
from pytestqt.qtbot import QtBot
from window_harness import (  # noqa: F401 - fixtures are found by name
    close_window,
    conversation,
    make_services,
    open_window,
    provider_server_fixture,
    send,
    server_fixture,
    wait_answer,
    window_fixture,
)

import qwenvl_desktop
from qwenvl_desktop.core.conversation import Message
from qwenvl_desktop.core.library import TRASH_NAME, ConversationLibrary
from qwenvl_desktop.core.storage import atomic_write, load_conversation, save_conversation
from qwenvl_desktop.testing.provider_server import DEFAULT_KEY, ProviderServer, Script
from qwenvl_desktop.ui.main_window import MainWindow

REPO = Path(qwenvl_desktop.__file__).resolve().parent.parent
_STUCK_S = 20            # a safety net only: the test releases the writer itself


class HeldWrites:
    """The library's file writer, holding every write until the test releases it."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self._gate = threading.Event()

    def __call__(self, path: Path, data: bytes) -> None:
        self.started.set()
        if not self._gate.wait(_STUCK_S):
            raise OSError("the test never released the writer")
        atomic_write(path, data)

    def release(self) -> None:
        self._gate.set()


@pytest.fixture
def held() -> Iterator[HeldWrites]:
    gate = HeldWrites()
    yield gate
    gate.release()                          # never leave the writer thread waiting


def _undo_button(window: MainWindow) -> QToolButton:
    button = window.findChild(QToolButton, "undoDeleteButton")
    assert button is not None
    return button


def test_a_deleted_conversation_never_comes_back_and_undo_restores_it(
        qtbot: QtBot, qasync_loop: asyncio.AbstractEventLoop, server: ProviderServer,
        held: HeldWrites) -> None:
    services = make_services(server)
    services.library = ConversationLibrary(services.library.folder, write_file=held)
    window = open_window(qtbot, services)
    try:
        server.enqueue(Script(content="An answer about cats."))
        send(qtbot, window, "Tell me about cats")
        wait_answer(qtbot, window)
        cats = conversation(window)
        assert held.started.wait(_STUCK_S)    # its first save is on the writer, held
        assert not services.library.path_for(cats.id).exists()

        window.conversation_list.delete_requested.emit(cats.id)
        assert cats.id not in window.conversation_list.ids()
        held.release()
        services.library.wait()
        window.chat.refresh_list()
        assert cats.id not in window.conversation_list.ids()
        assert not services.library.path_for(cats.id).exists()
        assert list((services.library.folder / TRASH_NAME).glob(f"{cats.id}*"))

        undo = _undo_button(window)
        assert undo.isVisible()
        assert "Tell me about cats" in undo.text()
        qtbot.mouseClick(undo, Qt.MouseButton.LeftButton)
        assert cats.id in window.conversation_list.ids()
        assert conversation(window).id == cats.id
        assert [m.text for m in conversation(window).messages] == [
            "Tell me about cats", "An answer about cats."]
        assert not undo.isVisible()
    finally:
        close_window(qtbot, window)


def test_undo_stays_offered_until_the_window_closes(
        qtbot: QtBot, window: MainWindow, server: ProviderServer) -> None:
    server.enqueue(Script(content="One."), Script(content="Two."))
    send(qtbot, window, "First chat")
    wait_answer(qtbot, window)
    first = conversation(window).id
    window.chat.new_conversation()
    send(qtbot, window, "Second chat")
    wait_answer(qtbot, window)
    second = conversation(window).id
    window.conversation_list.delete_requested.emit(first)
    window.conversation_list.delete_requested.emit(second)
    window.statusBar().clearMessage()       # a passing status message does not take it away
    undo = _undo_button(window)
    assert "Second chat" in undo.text()     # the last delete first
    undo.click()
    assert "First chat" in undo.text()
    undo.click()
    assert set(window.conversation_list.ids()) >= {first, second}
    assert not undo.isVisible()


def _cli_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_TOKEN"))}
    env.update({
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])),
        "PYTHONIOENCODING": "utf-8",
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        "DASHSCOPE_API_KEY": DEFAULT_KEY,
        "NO_PROXY": "*",
    })
    return env


def test_the_terminal_continues_a_conversation_the_window_holds_and_nothing_is_lost(
        qtbot: QtBot, window: MainWindow, server: ProviderServer) -> None:
    server.enqueue(Script(content="First answer."))
    send(qtbot, window, "First question")
    wait_answer(qtbot, window)
    conv_id = conversation(window).id
    library = window.services.library if window.services else None
    assert library is not None
    library.wait()

    # Meanwhile, in a terminal: `qwenvl-desktop ask --continue <that file> …`.
    server.enqueue(Script(content="Terminal answer."))
    terminal = subprocess.run(
        [sys.executable, "-m", "qwenvl_desktop", "ask", "--continue",
         str(library.path_for(conv_id)), "Question from the terminal"],
        capture_output=True, text=True, env=_cli_env(), timeout=120, check=False)
    assert terminal.returncode == 0, terminal.stderr

    server.enqueue(Script(content="Window answer."))
    send(qtbot, window, "Question from the window")
    wait_answer(qtbot, window)
    library.wait()
    qtbot.waitUntil(lambda: "changed elsewhere" in window.banner.text(), timeout=5000)

    texts = {s.id: [m.text for m in library.load(s.id).messages] for s in library.list()}
    assert texts[conv_id] == ["First question", "First answer.",
                              "Question from the window", "Window answer."]
    others = [t for cid, t in texts.items() if cid != conv_id]
    assert others == [["First question", "First answer.",
                       "Question from the terminal", "Terminal answer."]]
    assert len(window.conversation_list.ids()) == 2


def test_save_never_overwrites_a_file_changed_elsewhere(
        qtbot: QtBot, window: MainWindow, server: ProviderServer, tmp_path: Path) -> None:
    server.enqueue(Script(content="Saved answer."), Script(content="Later answer."))
    send(qtbot, window, "Save me")
    wait_answer(qtbot, window)
    path = tmp_path / "chat.qwenvl"
    assert window.files.save_to(path)
    theirs = load_conversation(path)
    theirs.append(Message(role="user", text="Added in the terminal"))
    save_conversation(theirs, path)
    send(qtbot, window, "Later")
    wait_answer(qtbot, window)

    window.action("save").trigger()          # Ctrl+S: to the file it was saved to

    assert [m.text for m in load_conversation(path).messages][-1] == "Added in the terminal"
    copy = tmp_path / "chat (copy from this window).qwenvl"
    assert [m.text for m in load_conversation(copy).messages][-1] == "Later answer."
    assert copy.name in window.statusBar().currentMessage()
