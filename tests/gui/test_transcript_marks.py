"""Messages of earlier pages are found again by their first block (`BlockMark`), the
page above is written ahead into a scratch document (`ScratchPage`), and a page comes
in as one edit: every message must still be exactly where the transcript says it is,
through pages coming in and edits before, inside and after it."""

from __future__ import annotations

from PySide6.QtCore import QUrl
from PySide6.QtGui import QTextCursor, QTextDocument
from pytestqt.qtbot import QtBot

from qwenvl_desktop.core.conversation import Conversation, Message, Provenance
from qwenvl_desktop.ui import transcript as transcript_module
from qwenvl_desktop.ui.transcript import Transcript
from qwenvl_desktop.ui.transcript_page import BlockMark, ScratchPage, insert_page


def long_conversation(pairs: int = 100) -> Conversation:
    conv = Conversation()
    for i in range(pairs):
        conv.append(Message(role="user", text=f"Question number {i}."))
        conv.append(Message(role="assistant", text=f"Answer number {i}.\n\n- one\n- two",
                            reasoning=f"Thinking about {i}",
                            provenance=Provenance("dashscope-intl", "qwen3-vl-plus")))
    return conv


def span_text(view: Transcript, message_id: str) -> str:
    span = view.message_span(message_id)
    assert span is not None
    cursor = QTextCursor(view.document())
    cursor.setPosition(span[0])
    cursor.setPosition(span[1], QTextCursor.MoveMode.KeepAnchor)
    return cursor.selection().toPlainText()


def assert_every_span_is_its_message(view: Transcript, messages: list[Message]) -> None:
    assert view.message_ids() == [m.id for m in messages]
    for message in messages:
        if message.id not in view.loaded_message_ids():
            continue
        text = span_text(view, message.id)
        number = message.text.split()[2]                      # "12." of "... number 12."
        kind = "Question" if message.role == "user" else "Answer"
        assert f"{kind} number {number}" in text, (message.id, text)
        other = "Answer" if kind == "Question" else "Question"
        assert f"{other} number" not in text, (message.id, text)


def test_every_message_is_found_through_all_pages_and_edits(view: Transcript) -> None:
    conv = long_conversation()
    view.show_conversation(conv)
    assert_every_span_is_its_message(view, list(conv.messages))
    while view.earlier_count:
        view.load_earlier()
        assert_every_span_is_its_message(view, list(conv.messages))
    # Edits in an earlier page: re-rendered, toggled, deleted; the others stay found.
    answer, question = conv.messages[41], conv.messages[80]
    answer.error = "It failed."
    view.refresh_message(answer)
    assert "It failed." in span_text(view, answer.id)
    view.anchorClicked.emit(QUrl(f"msg-reasoning:{conv.messages[3].id}"))
    assert "Thinking about 1" in span_text(view, conv.messages[3].id)
    shown = list(conv.messages)
    view.remove_message(question.id)
    shown.remove(question)
    assert_every_span_is_its_message(view, shown)
    # The first message of the document, and the first of a page.
    for message in (shown[0], shown[40]):
        view.remove_message(message.id)
        shown.remove(message)
        assert_every_span_is_its_message(view, shown)
    assert "Question number 0." not in view.toPlainText()


def test_a_page_written_ahead_is_used_only_while_its_html_is_the_same(
        qtbot: QtBot, view: Transcript) -> None:
    conv = long_conversation()
    view.show_conversation(conv)
    qtbot.waitUntil(lambda: view._ahead.pending == 0, timeout=10_000)
    ready = view._ahead._page
    assert ready is not None
    assert len(ready.parts) == transcript_module._PAGE_MESSAGES
    # Something changes the HTML of a message of that page before it comes in.
    view._expanded.add(conv.messages[-41].id)
    view.load_earlier()
    assert "Thinking about 79" in span_text(view, conv.messages[-41].id)
    assert_every_span_is_its_message(view, list(conv.messages))


def test_a_written_ahead_page_inserts_what_writing_it_then_would() -> None:
    parts = ["<p>one</p>", "<ul><li>two</li><li>three</li></ul>",
             "<table><tr><td>four</td></tr></table>", "<pre>five\nsix</pre>"]

    def written(ready: ScratchPage | None) -> tuple[str, list[int]]:
        document = QTextDocument()
        cursor = QTextCursor(document)
        cursor.insertText("link")
        positions = insert_page(cursor, parts, ready)
        return document.toHtml(), positions

    whole = ScratchPage()
    for part in parts:
        whole.add(part)
    half = ScratchPage()
    for part in parts[:2]:
        half.add(part)
    stale = ScratchPage()
    stale.add("<p>not one</p>")
    expected = written(None)
    assert written(whole) == expected
    assert written(half) == expected          # the rest written when the page comes in
    assert written(stale) == expected         # not the page: written again


def test_a_block_mark_follows_edits_before_it_and_is_found_again() -> None:
    document = QTextDocument()
    cursor = QTextCursor(document)
    cursor.insertText("first\nsecond\nthird")
    start = document.findBlockByNumber(1).position()
    mark = BlockMark(document, start)
    assert mark.position() == start
    cursor.setPosition(0)
    cursor.insertText("a longer first line\nand another\n")
    assert document.findBlock(mark.position()).text() == "second"
    cursor.movePosition(QTextCursor.MoveOperation.End)
    cursor.insertText(" and more")
    assert document.findBlock(mark.position()).text() == "second"
    mark.setPosition(document.findBlockByNumber(0).position())
    assert mark.position() == 0
