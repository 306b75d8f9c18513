"""The answers of the next earlier page are rendered while the view stands still, so
bringing that page in costs only its insert; nothing is rendered ahead while an answer
streams."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from qwenvl_desktop.core.conversation import Conversation, Message, Provenance
from qwenvl_desktop.core.markdown_render import render_markdown
from qwenvl_desktop.ui import transcript_html
from qwenvl_desktop.ui.transcript import Transcript


@pytest.fixture
def rendered(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []

    def counting(text: str, **kwargs: object) -> str:
        calls.append(text)
        return render_markdown(text, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(transcript_html, "render_markdown", counting)
    return calls


def conversation(pairs: int) -> Conversation:
    conv = Conversation()
    for i in range(pairs):
        conv.append(Message(role="user", text=f"Question number {i}"))
        conv.append(Message(role="assistant", text=f"Answer **number** {i}",
                            provenance=Provenance("dashscope-intl", "qwen3-vl-plus")))
    return conv


def test_the_next_page_up_is_rendered_before_it_is_brought_in(
        qtbot: QtBot, view: Transcript, rendered: list[str]) -> None:
    conv = conversation(100)
    view.show_conversation(conv)
    shown = len(view.loaded_message_ids())
    assert len(rendered) == shown // 2                   # the answers on screen only
    next_page = [m.text for m in conv.messages[-2 * shown:-shown] if m.role == "assistant"]
    qtbot.waitUntil(lambda: set(next_page) <= set(rendered), timeout=10_000)
    before = len(rendered)
    view.load_earlier()
    assert len(rendered) == before                       # the page came from the cache
    assert f"Answer number {100 - shown}" in view.toPlainText()
    assert "Answer **number**" not in view.toPlainText()
    # And the page above that one is on its way too.
    qtbot.waitUntil(lambda: len(rendered) == before + len(next_page), timeout=10_000)


def test_nothing_is_rendered_ahead_while_an_answer_streams(
        qtbot: QtBot, view: Transcript, rendered: list[str]) -> None:
    conv = conversation(100)
    answer = Message(role="assistant", text="",
                     provenance=Provenance("dashscope-intl", "qwen3-vl-plus"))
    view.show_conversation(conv, streaming=answer)
    before = len(rendered)
    view.add_content(answer.id, "Streaming words")
    qtbot.waitUntil(lambda: "Streaming words" in view.toPlainText(), timeout=5000)
    qtbot.wait(600)                    # past the delay after which rendering ahead starts
    assert len(rendered) == before
    answer.text = "Streaming words"
    view.finish_answer(answer)
    qtbot.waitUntil(lambda: len(rendered) > before + 1, timeout=10_000)
