"""The window after a failed turn: the failed answer says its question goes again, and
the next question reaches DashScope (which refuses two user turns in a row) with it."""

from __future__ import annotations

from pytestqt.qtbot import QtBot
from window_harness import (  # noqa: F401 - fixtures are found by name
    provider_server_fixture,
    send,
    server_fixture,
    transcript_text,
    wait_answer,
    window_fixture,
)

from qwenvl_desktop.testing.provider_server import ProviderServer, Script
from qwenvl_desktop.ui.main_window import MainWindow
from qwenvl_desktop.ui.transcript_html import UNANSWERED_NOTE


def test_the_unanswered_question_is_said_and_sent_with_the_next(
        qtbot: QtBot, window: MainWindow, server: ProviderServer) -> None:
    server.enqueue(Script(content="A red square."), Script(status=400),
                   Script(content="Both answered."))
    send(qtbot, window, "What is this?")
    assert wait_answer(qtbot, window).status == "complete"
    assert UNANSWERED_NOTE not in transcript_text(window)
    send(qtbot, window, "And its colour?")
    assert wait_answer(qtbot, window).status == "error"
    assert UNANSWERED_NOTE in transcript_text(window)
    send(qtbot, window, "Answer both, please.")
    answer = wait_answer(qtbot, window)
    assert answer.status == "complete", answer.error
    assert answer.text == "Both answered."
    sent = [(m["role"], m["content"]) for m in server.requests[-1].json["messages"]]
    assert sent == [("user", "What is this?"), ("assistant", "A red square."),
                    ("user", "And its colour?\n\nAnswer both, please.")]
    # The conversation still holds each question as it was asked, the failed answer too.
    conv = window.current_conversation()
    assert conv is not None
    assert [m.role for m in conv.messages] == ["user", "assistant"] * 3
    assert transcript_text(window).count(UNANSWERED_NOTE) == 1
