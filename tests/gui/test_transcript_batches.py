"""A batch of streamed text changes the transcript's document in one edit: Qt lays the
document out, resizes the scroll bar and scrolls once per batch, not once per insert."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot
from transcript_harness import shown_transcript

from qwenvl_desktop.core.conversation import Conversation, Message, Provenance
from qwenvl_desktop.ui.transcript import Transcript


@pytest.fixture
def view(qtbot: QtBot) -> Transcript:
    return shown_transcript(qtbot, 700, 300)


def test_a_batch_that_settles_a_table_is_one_document_change(
        qtbot: QtBot, view: Transcript) -> None:
    answer = Message(role="assistant", status="streaming",
                     provenance=Provenance(provider="dashscope-intl", model="qwen3-vl-plus"))
    conv = Conversation()
    conv.append(Message(role="user", text="A table, please"))
    conv.append(answer)
    view.show_conversation(conv, answer)
    view.add_content(answer.id, "Some words first.\n\n| a | b |\n|---|---|\n| 1 | ")
    # The open tail is shown as a table as it comes.
    qtbot.waitUntil(lambda: "Copy as CSV" in view.toPlainText(), timeout=5000)
    seen: list[str] = []           # the document as each change signal finds it
    view.document().contentsChange.connect(lambda *_change: seen.append(view.toPlainText()))
    # The table settles (its tail removed, the table rendered and inserted, a block for
    # the new tail, the tail's text): all of it is in the first change signalled.
    view.add_content(answer.id, "2 |\n| 3 | 4 |\n\nThen the rest")
    qtbot.waitUntil(lambda: "Then the rest" in view.toPlainText(), timeout=5000)
    first = seen[0]
    assert "Then the rest" in first
    assert "\n3\n4\n" in first
    assert first.count("Copy as CSV") == 1
    bar = view.verticalScrollBar()
    assert bar.value() == bar.maximum()          # still following the end
