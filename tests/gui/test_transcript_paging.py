"""Long conversations open on their last messages; earlier ones come in pages. Finishing
a long answer keeps the blocks rendered while it streamed."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QUrl
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot

from qwenvl_desktop.core.conversation import Conversation, Message, Provenance
from qwenvl_desktop.core.markdown_render import render_markdown
from qwenvl_desktop.ui import transcript as transcript_module
from qwenvl_desktop.ui import transcript_html
from qwenvl_desktop.ui.transcript import Transcript


def long_conversation(pairs: int = 100) -> Conversation:
    conv = Conversation()
    for i in range(pairs):
        conv.append(Message(role="user", text=f"Question number {i}"))
        conv.append(Message(role="assistant", text=f"Answer number {i}\n\n```\ncode {i}\n```",
                            reasoning=f"Thinking about {i}",
                            provenance=Provenance("dashscope-intl", "qwen3-vl-plus")))
    return conv


def test_opens_on_the_last_page_and_loads_earlier_from_the_link(view: Transcript) -> None:
    conv = long_conversation()
    view.show_conversation(conv)
    assert view.message_ids() == [m.id for m in conv.messages]   # all of them, in order
    loaded = view.loaded_message_ids()
    assert loaded == [m.id for m in conv.messages[-len(loaded):]]
    assert len(loaded) == transcript_module._PAGE_MESSAGES
    shown = view.toPlainText()
    assert "Question number 99" in shown
    assert "Question number 0\n" not in shown
    assert f"Show earlier messages ({200 - len(loaded)} more)" in shown
    view.anchorClicked.emit(QUrl("transcript:earlier"))
    assert len(view.loaded_message_ids()) == 2 * len(loaded)
    assert view.loaded_message_ids() == [m.id for m in conv.messages[-2 * len(loaded):]]
    view.load_all()
    assert view.earlier_count == 0
    shown = view.toPlainText()
    assert "Show earlier messages" not in shown
    assert shown.index("Question number 0\n") < shown.index("Question number 1\n")
    assert shown.index("Answer number 98") < shown.index("Question number 99")


def test_scrolling_to_the_top_loads_a_page_and_keeps_the_view(
        qtbot: QtBot, view: Transcript) -> None:
    conv = long_conversation()
    view.show_conversation(conv)
    bar = view.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0 and bar.value() == bar.maximum(), timeout=5000)
    first = view.loaded_message_ids()[0]
    before = len(view.loaded_message_ids())
    with qtbot.waitSignal(view.earlier_loaded, timeout=5000):
        bar.setValue(0)                               # the person scrolls to the top
    assert len(view.loaded_message_ids()) == 2 * before
    assert bar.value() > 0                            # the same text stays in view
    assert not view.following
    # The message that was at the top is still at the top of the viewport.
    top = view.cursorForPosition(view.viewport().rect().topLeft()).position()
    start = view._starts[first].position()
    assert abs(top - start) < 40


def test_actions_work_on_messages_of_an_earlier_page(view: Transcript) -> None:
    conv = long_conversation()
    view.show_conversation(conv)
    view.load_earlier()
    question, answer = conv.messages[120], conv.messages[121]
    assert question.id in view.loaded_message_ids()
    seen: dict[str, list[str]] = {"edit": [], "delete": [], "retry": []}
    view.edit_requested.connect(seen["edit"].append)
    view.delete_requested.connect(seen["delete"].append)
    view.retry_requested.connect(seen["retry"].append)
    for href in (f"msg-edit:{question.id}", f"msg-delete:{answer.id}",
                 f"msg-retry:{answer.id}"):
        view.anchorClicked.emit(QUrl(href))
    assert seen == {"edit": [question.id], "delete": [answer.id], "retry": [answer.id]}
    view.anchorClicked.emit(QUrl(f"msg-copy:{question.id}"))
    assert QGuiApplication.clipboard().text() == "Question number 60"
    view.anchorClicked.emit(QUrl(f"copy-code:{answer.id}:0"))
    assert QGuiApplication.clipboard().text() == "code 60"
    # Reasoning toggles in place, and only that message changes.
    before = view.toPlainText()
    view.anchorClicked.emit(QUrl(f"msg-reasoning:{answer.id}"))
    after = view.toPlainText()
    assert "Thinking about 60" in after
    assert "Thinking about 60" not in before
    assert after.replace("Thinking about 60", "").replace("▾", "▸").split() == before.split()
    view.anchorClicked.emit(QUrl(f"msg-reasoning:{answer.id}"))
    assert view.toPlainText() == before
    # A message of the earlier page re-rendered does not disturb its neighbours.
    answer.error = "It failed."
    view.refresh_message(answer)
    shown = view.toPlainText()
    assert shown.index("Question number 60") < shown.index("It failed.") \
        < shown.index("Question number 61")
    view.remove_message(question.id)
    assert "Question number 60" not in view.toPlainText()
    assert question.id not in view.message_ids()


def test_showing_again_uses_the_rendered_cache(
        view: Transcript, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = render_markdown

    def counting(text: str, **kwargs: object) -> str:
        calls.append(text)
        return real(text, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(transcript_html, "render_markdown", counting)
    conv = long_conversation(10)
    view.show_conversation(conv)
    assert len(calls) == 10
    view.show_conversation(conv)
    assert len(calls) == 10                        # nothing rendered a second time
    conv.messages[-1].text = "Changed"
    view.show_conversation(conv)
    assert calls[-1] == "Changed"
    assert len(calls) == 11


def test_finish_renders_only_the_tail_of_a_long_answer(
        qtbot: QtBot, view: Transcript, monkeypatch: pytest.MonkeyPatch) -> None:
    rendered: list[str] = []
    real = render_markdown

    def counting(text: str, **kwargs: object) -> str:
        rendered.append(text)
        return real(text, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(transcript_module, "render_markdown", counting)
    monkeypatch.setattr(transcript_html, "render_markdown", counting)
    conv = Conversation()
    conv.append(Message(role="user", text="Write a lot"))
    answer = conv.append(Message(role="assistant", status="streaming",
                                 provenance=Provenance("dashscope-intl", "qwen3-vl-plus")))
    view.show_conversation(conv, answer)
    view.add_reasoning(answer.id, "Let me think about a long answer.")
    paragraphs = [f"Paragraph {i} " + "word " * 30 + "\n\n" for i in range(60)]
    tail = "The last paragraph, still open"
    for para in paragraphs:
        view.add_content(answer.id, para)
    view.add_content(answer.id, tail)
    qtbot.waitUntil(lambda: tail in view.toPlainText(), timeout=5000)
    answer.text = "".join(paragraphs) + tail
    answer.reasoning = "Let me think about a long answer."
    answer.status = "complete"
    assert len(answer.text) > transcript_module._FULL_FINISH_LIMIT
    rendered.clear()
    view.finish_answer(answer)
    # Only the open tail was rendered at the end: never the whole answer again.
    assert rendered == [tail]
    shown = view.toPlainText()
    assert view.streaming_message_id is None
    assert "writing…" not in shown
    assert "Regenerate" in shown
    assert "Reasoning (7 words)" in shown
    assert "Let me think" not in shown
    assert shown.count("Paragraph 0 ") == 1
    assert shown.count(tail) == 1
    assert view.loaded_message_ids()[-1] == answer.id
    # The finished answer behaves like any other: reasoning toggles, re-renders from cache.
    view.anchorClicked.emit(QUrl(f"msg-reasoning:{answer.id}"))
    assert "Let me think" in view.toPlainText()
    assert len(rendered) == 1
    # The next question takes Regenerate away without rendering the answer again.
    question = conv.append(Message(role="user", text="And now?"))
    conv.append(Message(role="assistant", status="streaming"))   # as a turn does
    view.append_message(question)
    shown = view.toPlainText()
    assert "Regenerate" not in shown
    assert shown.index(tail) < shown.index("And now?")
    assert len(rendered) == 1


def test_a_long_open_tail_stays_plain_text(
        qtbot: QtBot, view: Transcript, monkeypatch: pytest.MonkeyPatch) -> None:
    rendered: list[str] = []
    real = render_markdown

    def counting(text: str, **kwargs: object) -> str:
        rendered.append(text)
        return real(text, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(transcript_module, "render_markdown", counting)
    conv = Conversation()
    answer = conv.append(Message(role="assistant", status="streaming"))
    view.show_conversation(conv, answer)
    lines = [f"line_{i} = {i}\n" for i in range(300)]     # ~3,500 characters, unfinished
    view.add_content(answer.id, "```python\n")
    for line in lines[:10]:
        view.add_content(answer.id, line)
    qtbot.waitUntil(lambda: any("line_9 = 9" in r for r in rendered), timeout=5000)
    for line in lines[10:]:
        view.add_content(answer.id, line)
    qtbot.waitUntil(lambda: "line_299 = 299" in view.toPlainText(), timeout=5000)
    view.add_content(answer.id, "x")               # one more flush, the tail timer again
    qtbot.waitUntil(lambda: view.toPlainText().endswith("x"), timeout=5000)
    qtbot.waitUntil(lambda: not view._tail_timer.isActive(), timeout=5000)
    limit = transcript_module._TAIL_RENDER_LIMIT
    assert all(len(r) <= limit for r in rendered)
