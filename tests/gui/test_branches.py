"""Nothing is lost: Retry, Regenerate and Edit start a new branch and keep the old one.

Finding 1 of the session issue: Q1 → answer; Q2 → HTTP 400; Q3 → answer; Retry on Q2
used to delete Q3 and its answer from the screen and the file, with no undo.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QTextCursor
from pytestqt.qtbot import QtBot
from window_harness import (  # noqa: F401 - fixtures are found by name
    close_window,
    conversation,
    make_services,
    open_window,
    provider_server_fixture,
    send,
    server_fixture,
    transcript_text,
    wait_answer,
    window_fixture,
)

from qwenvl_desktop.core.conversation import Conversation, Message
from qwenvl_desktop.core.storage import dumps, save_conversation
from qwenvl_desktop.testing.provider_server import ProviderServer, Script
from qwenvl_desktop.ui.main_window import MainWindow


def saved_texts(window: MainWindow, conv_id: str) -> list[str]:
    """Every message text in the conversation's library file, once its saves landed."""
    services = window.services
    assert services is not None
    services.library.wait()
    doc = json.loads(services.library.path_for(conv_id).read_bytes())
    return [m["text"] for m in doc["conversation"]["messages"]]


def three_turns_with_a_failure_in_the_middle(
        qtbot: QtBot, window: MainWindow, server: ProviderServer, how: str,
        tmp_path: Path) -> Message:
    """Q1 → answer, Q2 → a failed answer, Q3 → answer; the failed answer."""
    if how == "http-400":
        server.enqueue(Script(content="Answer one."), Script(status=400),
                       Script(content="Answer three."))
        for question in ("Question one", "Question two", "Question three"):
            send(qtbot, window, question)
            wait_answer(qtbot, window)
    else:
        # An old conversation whose middle answer was cut off, opened from a file.
        old = Conversation(title="Old chat")
        for role, text, status in (("user", "Question one", "complete"),
                                   ("assistant", "Answer one.", "complete"),
                                   ("user", "Question two", "complete"),
                                   ("assistant", "Answer tw", "interrupted"),
                                   ("user", "Question three", "complete"),
                                   ("assistant", "Answer three.", "complete")):
            old.append(Message(role=role, text=text, status=status))  # type: ignore[arg-type]
        path = tmp_path / "old.qwenvl"
        save_conversation(old, path)
        assert window.files.open_path(path)
    conv = conversation(window)
    failed = conv.messages[3]
    assert failed.status == ("error" if how == "http-400" else "interrupted")
    assert [m.text for m in conv.messages][4:] == ["Question three", "Answer three."]
    return failed


@pytest.mark.parametrize("how", ["http-400", "interrupted"])
def test_retry_in_the_middle_keeps_the_later_turns_on_another_branch(
        qtbot: QtBot, window: MainWindow, server: ProviderServer, how: str,
        tmp_path: Path) -> None:
    failed = three_turns_with_a_failure_in_the_middle(qtbot, window, server, how, tmp_path)
    conv = conversation(window)
    requests_before = len(server.requests)
    server.enqueue(Script(content="Answer two, retried."))
    window.transcript.anchorClicked.emit(QUrl(f"msg-retry:{failed.id}"))   # the Retry link
    qtbot.waitUntil(lambda: len(server.requests) == requests_before + 1, timeout=5000)
    retried = wait_answer(qtbot, window)
    assert retried.text == "Answer two, retried."
    # Asked with the history up to the question being retried, nothing after it.
    sent = [m["content"] for m in server.requests[-1].json["messages"]]
    assert sent == ["Question one", "Answer one.", "Question two"]
    # Nothing was lost: the file still holds the later turn and its answer ...
    texts = saved_texts(window, conv.id)
    assert "Question three" in texts
    assert "Answer three." in texts
    assert "Answer two, retried." in texts
    # ... the visible branch is the new one, and the old one is a click away.
    assert [m.text for m in conv.messages] == [
        "Question one", "Answer one.", "Question two", "Answer two, retried."]
    shown = transcript_text(window)
    assert "Question three" not in shown
    assert "\ufffc 2/2 \ufffc" in shown
    window.transcript.anchorClicked.emit(QUrl(f"branch-prev:{retried.id}"))
    shown = transcript_text(window)
    assert "Question three" in shown
    assert "Answer three." in shown
    assert "Answer two, retried." not in shown
    assert "\ufffc 1/2 \ufffc" in shown
    assert [m.text for m in conv.messages][4:] == ["Question three", "Answer three."]


def two_versions_of_the_second_answer(qtbot: QtBot, window: MainWindow,
                                      server: ProviderServer) -> Conversation:
    """Q1 → A1, Q2 → A2, then Regenerate: A2b beside A2."""
    server.enqueue(Script(content="Answer one."), Script(content="Answer two."),
                   Script(content="Answer two, again."))
    send(qtbot, window, "Question one")
    wait_answer(qtbot, window)
    send(qtbot, window, "Question two")
    wait_answer(qtbot, window)
    window.action("regenerate").trigger()
    qtbot.waitUntil(lambda: len(server.requests) == 3, timeout=5000)
    wait_answer(qtbot, window)
    return conversation(window)


def test_the_keyboard_switches_versions(qtbot: QtBot, window: MainWindow,
                                        server: ProviderServer) -> None:
    conv = two_versions_of_the_second_answer(qtbot, window, server)
    window.transcript.setFocus()
    qtbot.keyClick(window, Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier)
    assert conv.messages[-1].text == "Answer two."
    assert "\ufffc 1/2 \ufffc" in transcript_text(window)
    qtbot.keyClick(window, Qt.Key.Key_Right, Qt.KeyboardModifier.AltModifier)
    assert conv.messages[-1].text == "Answer two, again."
    # The arrows are links: Tab reaches them and Enter follows them.
    transcript = window.transcript
    transcript.moveCursor(QTextCursor.MoveOperation.Start)
    for _ in range(60):
        qtbot.keyClick(transcript, Qt.Key.Key_Tab)
        if transcript.textCursor().charFormat().anchorHref().startswith("branch-prev:"):
            break
    assert transcript.textCursor().charFormat().anchorHref() == (
        f"branch-prev:{conv.messages[-1].id}")
    qtbot.keyClick(transcript, Qt.Key.Key_Return)
    assert conv.messages[-1].text == "Answer two."


def test_delete_says_what_goes_and_undo_brings_it_all_back(
        qtbot: QtBot, window: MainWindow, server: ProviderServer) -> None:
    conv = two_versions_of_the_second_answer(qtbot, window, server)
    question_two = conv.messages[2]
    undo = window.turns.undo_button
    assert not undo.isVisible()
    window.transcript.anchorClicked.emit(QUrl(f"msg-delete:{question_two.id}"))
    assert [m.text for m in conv.messages] == ["Question one", "Answer one."]
    assert "Question two" not in transcript_text(window)
    assert window.statusBar().currentMessage().startswith(
        "Deleted the question and 2 later messages (on 2 branches).")
    assert undo.isVisible()
    assert "Question two" not in saved_texts(window, conv.id)
    qtbot.mouseClick(undo, Qt.MouseButton.LeftButton)
    assert [m.text for m in conv.messages] == [
        "Question one", "Answer one.", "Question two", "Answer two, again."]
    assert "\ufffc 2/2 \ufffc" in transcript_text(window)
    assert sorted(saved_texts(window, conv.id)) == sorted([
        "Question one", "Answer one.", "Question two", "Answer two.", "Answer two, again."])
    assert not undo.isVisible()
    # The same with the menu's Undo Delete (Ctrl+Z), twice over.
    window.transcript.anchorClicked.emit(QUrl(f"msg-delete:{conv.messages[-1].id}"))
    window.transcript.anchorClicked.emit(QUrl(f"msg-delete:{conv.messages[0].id}"))
    assert conv.messages == []
    assert "Answer" not in transcript_text(window)
    window.action("undo_delete").trigger()
    assert [m.text for m in conv.messages] == [
        "Question one", "Answer one.", "Question two", "Answer two."]
    assert "/2 \ufffc" not in transcript_text(window)     # one version left of each
    window.action("undo_delete").trigger()                 # shown again, where it was
    assert [m.text for m in conv.messages][-1] == "Answer two, again."
    assert "\ufffc 2/2 \ufffc" in transcript_text(window)
    assert not undo.isVisible()


def test_the_shown_version_survives_closing_and_reopening(
        qtbot: QtBot, qasync_loop: asyncio.AbstractEventLoop,
        server: ProviderServer) -> None:
    first = open_window(qtbot, make_services(server))
    conv = two_versions_of_the_second_answer(qtbot, first, server)
    first.action("branch_prev").trigger()
    conv_id = conv.id
    close_window(qtbot, first)
    second = open_window(qtbot, make_services(server))
    try:
        reopened = conversation(second)
        assert reopened.id == conv_id
        assert [m.text for m in reopened.messages][-1] == "Answer two."
        assert len(reopened.all_messages()) == 5
        assert "\ufffc 1/2 \ufffc" in transcript_text(second)
    finally:
        close_window(qtbot, second)


def test_an_old_format_1_file_opens(qtbot: QtBot, window: MainWindow,
                                    tmp_path: Path) -> None:
    old = Conversation(title="From version 1")
    old.append(Message(role="user", text="Old question"))
    old.append(Message(role="assistant", text="Old answer"))
    doc = json.loads(dumps(old))
    doc["version"] = 1
    del doc["conversation"]["chosen"]
    for raw in doc["conversation"]["messages"]:
        del raw["parent"]
    path = tmp_path / "v1.qwenvl"
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert window.files.open_path(path)
    assert [m.text for m in conversation(window).messages] == ["Old question", "Old answer"]
    assert "Old answer" in transcript_text(window)
