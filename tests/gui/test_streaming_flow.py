"""The real window against the loopback server: send, stream, stop, regenerate, edit."""

from __future__ import annotations

from PySide6.QtCore import QUrl
from pytestqt.qtbot import QtBot
from window_harness import (  # noqa: F401 - fixtures are found by name
    conversation,
    last_answer,
    provider_server_fixture,
    send,
    server_fixture,
    transcript_text,
    wait_answer,
    window_fixture,
)

from qwenvl_desktop.testing.provider_server import ProviderServer, Script
from qwenvl_desktop.ui.main_window import MainWindow

MARKDOWN_ANSWER = (
    "The dialog shows an **error**.\n\n"
    "```python\nprint('fixed')\n```\n\n"
    "| col | val |\n|---|---|\n| a | 1 |\n\n"
    "That is all."
)


def last_user_text(server: ProviderServer) -> str:
    """The text of the last user message the server received (string or parts)."""
    content = server.requests[-1].json["messages"][-1]["content"]
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content)


def test_type_send_stream_and_finish_with_status_line(
        qtbot: QtBot, window: MainWindow, server: ProviderServer) -> None:
    server.enqueue(Script(content=MARKDOWN_ANSWER, reasoning="Let me look at it.",
                          usage={"prompt_tokens": 42, "completion_tokens": 17,
                                 "total_tokens": 59}))
    send(qtbot, window, "What is wrong in this dialog?")
    # The person's turn and the answer's region appear at once; the composer is empty.
    qtbot.waitUntil(lambda: window.transcript.streaming_message_id is not None
                    or window.session.streaming_ids() == [], timeout=5000)
    assert window.composer.text() == ""
    answer = wait_answer(qtbot, window)
    assert answer.status == "complete"
    assert answer.text == MARKDOWN_ANSWER
    assert answer.reasoning == "Let me look at it."
    shown = transcript_text(window)
    assert "What is wrong in this dialog?" in shown
    assert "print('fixed')" in shown
    assert "That is all." in shown
    assert "```" not in shown                      # rendered, not raw markdown
    assert "Reasoning (5 words)" in shown          # collapsed after the answer finished
    assert "Let me look at it." not in shown
    assert "42 in / 17 out tokens" in shown
    assert "first token" in shown
    # 17 tokens sent at once by the loopback: a rate would say nothing (output_rate).
    assert "tokens/s" not in shown
    assert "finish: stop" in shown
    # The server saw the person's text.
    assert last_user_text(server) == "What is wrong in this dialog?"
    # The window is usable again.
    assert not window.composer.is_streaming()


def test_tokens_appear_while_streaming(
        qtbot: QtBot, window: MainWindow, server: ProviderServer) -> None:
    words = " ".join(f"word{i}" for i in range(60))
    server.enqueue(Script(content=words, tokens_per_second=200))
    send(qtbot, window, "Count")
    qtbot.waitUntil(lambda: "word10" in transcript_text(window), timeout=5000)
    # Part of the answer is on screen before the end has been sent.
    assert window.transcript.streaming_message_id is not None
    answer = wait_answer(qtbot, window)
    assert answer.text == words
    assert "word59" in transcript_text(window)


def test_stop_mid_stream_keeps_partial_answer_marked_stopped(
        qtbot: QtBot, window: MainWindow, server: ProviderServer) -> None:
    server.enqueue(Script(content="Partial words then a long stall", stall=True,
                          fault_after=2))
    send(qtbot, window, "Tell me")
    qtbot.waitUntil(lambda: "Partial" in transcript_text(window), timeout=5000)
    window.action("stop").trigger()
    answer = wait_answer(qtbot, window)
    assert answer.status == "stopped"
    assert answer.text.startswith("Partial")
    shown = transcript_text(window)
    assert "Partial" in shown
    assert "stopped" in shown
    qtbot.waitUntil(lambda: server.client_closes >= 1, timeout=5000)   # closed at once
    # Usable again: a second message goes through.
    server.enqueue(Script(content="Second answer."))
    send(qtbot, window, "Again")
    assert wait_answer(qtbot, window).text == "Second answer."


def test_regenerate_shows_a_new_answer_and_keeps_the_first(
        qtbot: QtBot, window: MainWindow, server: ProviderServer) -> None:
    server.enqueue(Script(content="First try."))
    send(qtbot, window, "Describe the picture")
    wait_answer(qtbot, window)
    server.enqueue(Script(content="Second try."))
    window.action("regenerate").trigger()
    qtbot.waitUntil(lambda: len(server.requests) == 2, timeout=5000)
    answer = wait_answer(qtbot, window)
    assert answer.text == "Second try."
    conv = conversation(window)
    assert [m.role for m in conv.messages] == ["user", "assistant"]
    assert conv.messages[0].text == "Describe the picture"
    shown = transcript_text(window)
    assert "Second try." in shown
    assert "First try." not in shown
    assert "\ufffc 2/2 \ufffc" in shown
    # The same question was asked again, without the earlier answer.
    resent = server.requests[-1].json["messages"]
    assert len(resent) == 1
    # The first answer is kept: one step back.
    window.action("branch_prev").trigger()
    shown = transcript_text(window)
    assert "First try." in shown
    assert "Second try." not in shown
    assert "\ufffc 1/2 \ufffc" in shown


def test_edit_and_resend_starts_a_new_branch_from_the_edited_message(
        qtbot: QtBot, window: MainWindow, server: ProviderServer) -> None:
    server.enqueue(Script(content="Answer one."), Script(content="Answer two."))
    send(qtbot, window, "Question one")
    wait_answer(qtbot, window)
    send(qtbot, window, "Question two")
    wait_answer(qtbot, window)
    conv = conversation(window)
    first_question = conv.messages[0]
    window.transcript.edit_requested.emit(first_question.id)   # the "Edit" link
    assert window.composer.text() == "Question one"
    server.enqueue(Script(content="Edited answer."))
    send(qtbot, window, "Question one, edited")
    qtbot.waitUntil(lambda: len(server.requests) == 3, timeout=5000)
    answer = wait_answer(qtbot, window)
    assert answer.text == "Edited answer."
    assert [m.text for m in conv.messages] == ["Question one, edited", "Edited answer."]
    sent = server.requests[-1].json["messages"]
    assert len(sent) == 1
    assert last_user_text(server) == "Question one, edited"
    shown = transcript_text(window)
    assert "Question two" not in shown
    assert "Answer one." not in shown
    assert "Question one, edited" in shown
    # The original question and everything after it are one click away.
    window.transcript.anchorClicked.emit(QUrl(f"branch-prev:{conv.messages[0].id}"))
    assert [m.text for m in conv.messages] == [
        "Question one", "Answer one.", "Question two", "Answer two."]
    assert "Question two" in transcript_text(window)


def test_copy_and_delete_message_actions(
        qtbot: QtBot, window: MainWindow, server: ProviderServer) -> None:
    from PySide6.QtGui import QGuiApplication

    server.enqueue(Script(content="Use this:\n\n```sh\nls -la\n```\n"))
    send(qtbot, window, "How to list files?")
    answer = wait_answer(qtbot, window)
    window.transcript.anchorClicked.emit(QUrl(f"copy-code:{answer.id}:0"))
    assert QGuiApplication.clipboard().text() == "ls -la"
    window.transcript.anchorClicked.emit(QUrl(f"msg-copy:{answer.id}"))
    assert QGuiApplication.clipboard().text() == answer.text
    window.transcript.anchorClicked.emit(QUrl(f"msg-delete:{answer.id}"))
    conv = conversation(window)
    assert [m.role for m in conv.messages] == ["user"]
    assert "ls -la" not in transcript_text(window)
    assert last_answer(window) is None
