"""The window title names the conversation shown, from the moment it has a name."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from window_harness import (  # noqa: F401 - fixtures are found by name
    conversation,
    provider_server_fixture,
    send,
    server_fixture,
    wait_answer,
    window_fixture,
)

from qwenvl_desktop.core.conversation import Conversation, Message
from qwenvl_desktop.core.storage import save_conversation
from qwenvl_desktop.testing.provider_server import ProviderServer, Script
from qwenvl_desktop.ui.main_window import MainWindow

APP = "Qwen-VL Desktop"


def titled(name: str) -> str:
    return f"{name} — {APP}"


def test_title_follows_new_send_rename_switch_open_and_delete(
        qtbot: QtBot, window: MainWindow, server: ProviderServer, tmp_path: Path) -> None:
    # A new, empty conversation.
    assert window.windowTitle() == titled("New conversation")
    # Named by its first question as soon as the question is sent — before the answer
    # has finished (the answer here waits until the test lets it go).
    server.enqueue(Script(content="Cats sleep a lot.", stall=True, fault_after=1))
    send(qtbot, window, "Why do cats sleep so much?\nAnd where?")
    qtbot.waitUntil(lambda: window.windowTitle() == titled("Why do cats sleep so much?"),
                    timeout=5000)
    assert window.session.is_streaming(conversation(window).id)
    # The list shows it under that name too, while it streams.
    qtbot.waitUntil(lambda: conversation(window).id in window.conversation_list.ids(),
                    timeout=5000)
    qtbot.waitUntil(lambda: "Cats" in window.transcript.toPlainText(), timeout=5000)
    window.action("stop").trigger()
    wait_answer(qtbot, window)
    cats = conversation(window).id

    # Renamed from the list.
    window.conversation_list.rename_requested.emit(cats, "Feline notes")
    assert window.windowTitle() == titled("Feline notes")

    # Another, new conversation: its own title; back to the first: the first's title.
    qtbot.mouseClick(window.conversation_list.new_button, Qt.MouseButton.LeftButton)
    assert window.windowTitle() == titled("New conversation")
    server.enqueue(Script(content="Dogs like walks."))
    send(qtbot, window, "Do dogs like walks?")
    wait_answer(qtbot, window)
    dogs = conversation(window).id
    assert window.windowTitle() == titled("Do dogs like walks?")
    window.conversation_list.open_requested.emit(cats)
    assert window.windowTitle() == titled("Feline notes")

    # Renaming a conversation that is not shown leaves the title alone.
    window.conversation_list.rename_requested.emit(dogs, "Canine notes")
    assert window.windowTitle() == titled("Feline notes")

    # A conversation file opened.
    shared = Conversation(title="Shared  with\nyou", messages=[
        Message(role="user", text="Hello"), Message(role="assistant", text="Hi")])
    path = tmp_path / "shared.qwenvl"
    save_conversation(shared, path)
    assert window.files.open_path(path)
    assert window.windowTitle() == titled("Shared with you")     # one line, spaces folded

    # The shown conversation deleted: the one shown next gives its title.
    window.conversation_list.delete_requested.emit(conversation(window).id)
    shown = conversation(window)
    assert shown.id != shared.id
    assert window.windowTitle() == titled(shown.title)


def test_a_title_with_qts_placeholder_is_shown_as_typed(
        qtbot: QtBot, window: MainWindow, server: ProviderServer) -> None:
    """Qt reads "[*]" in a window title as the unsaved-changes mark and hides it: the
    title the desktop shows (the native window's) must still say what was typed."""
    server.enqueue(Script(content="It marks a change."))
    send(qtbot, window, "What does [*] mean in a title?")
    wait_answer(qtbot, window)
    handle = window.windowHandle()
    assert handle is not None
    assert handle.title() == titled("What does [*] mean in a title?")
