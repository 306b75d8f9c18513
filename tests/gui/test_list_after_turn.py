"""The conversation list after an answer ends: its refresh waits for the next turn of
the event loop (out of the answer's finishing stall), and still comes."""

from __future__ import annotations

from pytestqt.qtbot import QtBot
from window_harness import (  # noqa: F401 - fixtures are found by name
    conversation,
    provider_server_fixture,
    send,
    server_fixture,
    wait_answer,
    window_fixture,
)

from qwenvl_desktop.testing.provider_server import ProviderServer, Script
from qwenvl_desktop.ui.main_window import MainWindow


def row_text(window: MainWindow, conv_id: str) -> str:
    ids = window.conversation_list.ids()
    if conv_id not in ids:
        return ""
    return window.conversation_list.list_widget.item(ids.index(conv_id)).text()


def answered_and_listed(qtbot: QtBot, window: MainWindow, server: ProviderServer,
                        question: str, answer: str) -> str:
    """Send `question`, let `answer` stream in, wait until the list's row previews it;
    the conversation's id."""
    server.enqueue(Script(content=answer))
    send(qtbot, window, question)
    wait_answer(qtbot, window)
    conv_id = conversation(window).id
    qtbot.waitUntil(lambda: answer in row_text(window, conv_id), timeout=5000)
    return conv_id


def test_the_list_shows_the_conversation_with_its_answer_after_each_turn(
        qtbot: QtBot, window: MainWindow, server: ProviderServer) -> None:
    # Listed, no longer marked as streaming, previewing the answer.
    conv_id = answered_and_listed(qtbot, window, server, "How many cats?",
                                  "Three cats sit on the sofa.")
    assert not row_text(window, conv_id).startswith("● ")
    # The next turn updates the same row.
    assert answered_and_listed(qtbot, window, server, "And now?",
                               "One of them is asleep.") == conv_id
    assert not row_text(window, conv_id).startswith("● ")
    assert window.conversation_list.ids().count(conv_id) == 1


def test_a_refresh_asked_for_after_the_turn_is_not_deferred(
        qtbot: QtBot, window: MainWindow, server: ProviderServer) -> None:
    """Only the refresh that follows an answer's end waits; a rename shows at once."""
    conv_id = answered_and_listed(qtbot, window, server, "What is this?",
                                  "A dialog with two buttons.")
    window.session.rename(conv_id, "Buttons")
    assert row_text(window, conv_id).startswith("Buttons")
