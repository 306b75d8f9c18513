"""Finishing a long streamed answer: the finished message is complete (header, versions,
actions, reasoning toggle, status line) and Qt is told only about the blocks that
changed, not about the whole answer between the header and the tail."""

from __future__ import annotations

from PySide6.QtCore import QUrl
from pytestqt.qtbot import QtBot

from qwenvl_desktop.core.api.types import Usage
from qwenvl_desktop.core.conversation import Conversation, Message, Provenance
from qwenvl_desktop.ui import transcript as transcript_module
from qwenvl_desktop.ui.transcript import Transcript

PARAGRAPHS = [f"Paragraph {i} says something about the screenshot, in words.\n\n"
              for i in range(80)]
ANSWER = "".join(PARAGRAPHS) + "The last line."


def second_version() -> tuple[Conversation, Message]:
    """A question with two answers; the second is streaming."""
    conv = Conversation()
    question = conv.append(Message(role="user", text="What is on the screen?"))
    conv.add(Message(role="assistant", text="The first version.",
                     provenance=Provenance("dashscope-intl", "qwen3-vl-plus")), question.id)
    answer = conv.add(Message(role="assistant", status="streaming",
                              provenance=Provenance("dashscope-intl", "qwen3-vl-plus")),
                      question.id)
    return conv, answer


def streamed(qtbot: QtBot, view: Transcript) -> Message:
    conv, answer = second_version()
    assert len(ANSWER) > transcript_module._FULL_FINISH_LIMIT     # finished in place
    view.show_conversation(conv, answer)
    view.add_reasoning(answer.id, "I read the window first.")
    for piece in PARAGRAPHS:
        view.add_content(answer.id, piece)
    view.add_content(answer.id, "The last line.")
    qtbot.waitUntil(lambda: "The last line." in view.toPlainText(), timeout=5000)
    answer.text, answer.reasoning = ANSWER, "I read the window first."
    answer.status = "complete"
    answer.provenance.usage = Usage(prompt_tokens=12, completion_tokens=900)  # type: ignore
    answer.provenance.finish_reason = "stop"  # type: ignore[union-attr]
    return answer


def test_a_long_answer_finished_in_place_has_its_header_toggle_and_status(
        qtbot: QtBot, view: Transcript) -> None:
    answer = streamed(qtbot, view)
    assert "writing…" in view.toPlainText()
    view.finish_answer(answer)
    shown = view.toPlainText()
    html = view.toHtml()
    assert "writing…" not in shown
    assert view.streaming_message_id is None
    # The header: who, "2/2" with the arrow back to the first version, the actions.
    span = view.message_span(answer.id)
    assert span is not None
    header = view.document().findBlock(span[0]).text()
    assert header.startswith("qwen3-vl-plus")
    for words in ("2/2", "Copy", "Regenerate", "Delete"):
        assert words in header
    for href in ("branch-prev", "msg-copy", "msg-regen", "msg-delete"):
        assert f"{href}:{answer.id}" in html
    assert f"branch-next:{answer.id}" not in html           # nothing further that way
    # The reasoning became its collapsed toggle, right under the header.
    assert "Reasoning (5 words)" in shown
    assert "I read the window first." not in shown
    # Every paragraph once, rendered, then the status line.
    for i in range(80):
        assert shown.count(f"Paragraph {i} says") == 1
    assert shown.index("The last line.") < shown.index("12 in / 900 out tokens")
    assert "finish: stop" in shown
    # The actions act on this answer.
    asked: list[str] = []
    view.regenerate_requested.connect(asked.append)
    view.anchorClicked.emit(QUrl(f"msg-regen:{answer.id}"))
    assert asked == [answer.id]
    versions: list[tuple[str, int]] = []
    view.branch_requested.connect(lambda mid, step: versions.append((mid, step)))
    view.anchorClicked.emit(QUrl(f"branch-prev:{answer.id}"))
    assert versions == [(answer.id, -1)]


def test_finishing_in_place_reports_only_the_header_and_the_end_as_changed(
        qtbot: QtBot, view: Transcript) -> None:
    """One edit block would report one change from the header to the status line, and
    Qt would lay out every paragraph between again."""
    answer = streamed(qtbot, view)
    document = view.document()
    middle = document.find("Paragraph 40 says").position()
    changes: list[tuple[int, int, int]] = []
    document.contentsChange.connect(lambda at, removed, added: changes.append(
        (at, removed, added)))
    view.finish_answer(answer)
    assert changes
    for at, removed, added in changes:
        assert not at <= middle < at + max(removed, added), (at, removed, added, middle)
    # The paragraphs between were not touched: still there, once, in order.
    shown = view.toPlainText()
    assert shown.index("Paragraph 39 says") < shown.index("Paragraph 40 says") \
        < shown.index("Paragraph 41 says")
