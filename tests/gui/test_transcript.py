"""The transcript widget on its own: incremental streaming, reasoning, scrolling, links."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from PySide6.QtCore import QUrl
from PySide6.QtGui import QGuiApplication, QImage, QTextDocument
from pytestqt.qtbot import QtBot

from qwenvl_desktop.core.api.types import Usage
from qwenvl_desktop.core.conversation import Conversation, Message, Provenance, StoredImage
from qwenvl_desktop.ui import transcript as transcript_module
from qwenvl_desktop.ui.transcript import Transcript


def answer_message() -> Message:
    return Message(role="assistant", status="streaming",
                   provenance=Provenance(provider="dashscope-intl", model="qwen3-vl-plus"))


def conversation_with(answer: Message, turns: int = 1) -> Conversation:
    conv = Conversation()
    for i in range(turns):
        conv.append(Message(role="user", text=f"Question {i}"))
        if i < turns - 1:
            conv.append(Message(role="assistant", text=f"Old answer {i}",
                                provenance=Provenance("dashscope-intl", "qwen3-vl-plus")))
    conv.append(answer)
    return conv


def stream(qtbot: QtBot, view: Transcript, answer: Message, pieces: list[str],
           expect: str = "") -> None:
    """Feed deltas and wait until `expect` (default: the last line) is on screen."""
    for piece in pieces:
        view.add_content(answer.id, piece)
    expect = expect or "".join(pieces).strip().splitlines()[-1]
    qtbot.waitUntil(lambda: expect in view.toPlainText(), timeout=5000)


def test_streaming_renders_each_settled_block_once(
        qtbot: QtBot, view: Transcript, monkeypatch: pytest.MonkeyPatch) -> None:
    rendered: list[str] = []
    real = transcript_module.render_markdown

    def counting(text: str, **kwargs: object) -> str:
        rendered.append(text)
        return real(text, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(transcript_module, "render_markdown", counting)
    answer = answer_message()
    view.show_conversation(conversation_with(answer), answer)
    paragraphs = [f"Paragraph **{i}** with some words in it.\n\n" for i in range(40)]
    for i, para in enumerate(paragraphs):
        words = [w if w.endswith("\n\n") else w + " " for w in para.split(" ")]
        stream(qtbot, view, answer, words, expect=f"Paragraph {i} with some words in it.")
    whole = "".join(paragraphs)
    # Every finished paragraph was rendered exactly once; never the whole answer.
    for para in paragraphs:
        assert sum(1 for r in rendered if para in r) == 1
    assert all(len(r) < len(whole) / 4 for r in rendered)
    assert sum(len(r) for r in rendered) <= len(whole) * 1.1
    shown = view.toPlainText()
    assert "Paragraph 39 with some words in it." in shown
    assert "**" not in shown


def test_open_tail_shows_plain_text_then_renders_on_finish(
        qtbot: QtBot, view: Transcript) -> None:
    answer = answer_message()
    conv = conversation_with(answer)
    view.show_conversation(conv, answer)
    stream(qtbot, view, answer, ["Here is code:\n\n", "```python\n", "x = 1\n", "y = 2\n"])
    assert "x = 1" in view.toPlainText()
    answer.text = "Here is code:\n\n```python\nx = 1\ny = 2\n```\n"
    answer.status = "complete"
    answer.provenance.usage = Usage(prompt_tokens=10, completion_tokens=8)  # type: ignore
    answer.provenance.finish_reason = "stop"  # type: ignore[union-attr]
    view.finish_answer(answer)
    shown = view.toPlainText()
    assert view.streaming_message_id is None
    assert "```" not in shown
    assert "Copy" in shown
    assert "Regenerate" in shown
    assert "10 in / 8 out tokens" in shown
    assert "finish: stop" in shown
    assert shown.count("x = 1") == 1                # the streamed copy was replaced


def test_reasoning_open_while_streaming_collapsed_after(
        qtbot: QtBot, view: Transcript) -> None:
    answer = answer_message()
    view.show_conversation(conversation_with(answer), answer)
    view.add_reasoning(answer.id, "First I look at the image. ")
    view.add_reasoning(answer.id, "Then I count the cats.")
    qtbot.waitUntil(lambda: "count the cats" in view.toPlainText(), timeout=5000)
    assert "Reasoning" in view.toPlainText()
    stream(qtbot, view, answer, ["There are ", "three cats."])
    answer.text, answer.reasoning = "There are three cats.", \
        "First I look at the image. Then I count the cats."
    answer.status = "complete"
    view.finish_answer(answer)
    shown = view.toPlainText()
    assert "Reasoning (11 words)" in shown
    assert "count the cats" not in shown
    view.anchorClicked.emit(QUrl(f"msg-reasoning:{answer.id}"))
    assert "count the cats" in view.toPlainText()
    view.anchorClicked.emit(QUrl(f"msg-reasoning:{answer.id}"))
    assert "count the cats" not in view.toPlainText()


def test_auto_scroll_follows_until_the_person_scrolls_up(
        qtbot: QtBot, view: Transcript) -> None:
    answer = answer_message()
    view.show_conversation(conversation_with(answer, turns=3), answer)
    bar = view.verticalScrollBar()
    stream(qtbot, view, answer, [f"Line {i} of a long answer.\n\n" for i in range(60)])
    qtbot.waitUntil(lambda: bar.maximum() > 0 and bar.value() == bar.maximum(), timeout=5000)
    bar.setValue(0)                                  # the person scrolls up to read
    assert not view.following
    stream(qtbot, view, answer, [f"More {i}.\n\n" for i in range(30)])
    assert bar.value() == 0
    bar.setValue(bar.maximum())                      # back at the bottom: follow again
    assert view.following
    stream(qtbot, view, answer, [f"Tail {i}.\n\n" for i in range(30)])
    qtbot.waitUntil(lambda: bar.value() == bar.maximum(), timeout=5000)


def test_error_inline_with_retry_and_stopped_mark(view: Transcript) -> None:
    failed = Message(role="assistant", text="Half an ans", status="interrupted",
                     error="The answer was cut off; what arrived is kept.",
                     provenance=Provenance("ovh", "Qwen2.5-VL-72B-Instruct"))
    conv = conversation_with(failed)
    view.show_conversation(conv)
    shown = view.toPlainText()
    assert "Half an ans" in shown
    assert "The answer was cut off" in shown
    assert "Retry" in shown
    assert "interrupted" in shown
    retried: list[str] = []
    view.retry_requested.connect(retried.append)
    view.anchorClicked.emit(QUrl(f"msg-retry:{failed.id}"))
    assert retried == [failed.id]
    failed.status, failed.error = "stopped", ""
    view.refresh_message(failed)
    assert "stopped" in view.toPlainText()
    assert "Retry" not in view.toPlainText()


def test_thumbnails_and_action_links(qtbot: QtBot, view: Transcript) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (800, 600), "#884422").save(buffer, "PNG")
    data = buffer.getvalue()
    image = StoredImage(sha256="ab" * 32, mime="image/png", data=data, width=800, height=600,
                        original_name="photo.png")
    conv = Conversation()
    conv.add_image(image)
    question = conv.append(Message(role="user", text="What is this?", images=[image.sha256],
                                   image_tokens={image.sha256: 614}))
    answer = conv.append(Message(role="assistant", text="A brown square.\n\n```\ncode\n```",
                                 provenance=Provenance("ovh", "Qwen2.5-VL-72B-Instruct")))
    view.show_conversation(conv)
    thumb = view.loadResource(int(QTextDocument.ResourceType.ImageResource.value),
                              QUrl(f"thumb:{image.sha256}"))
    assert isinstance(thumb, QImage)
    assert not thumb.isNull()
    assert max(thumb.width(), thumb.height()) <= 160 * max(1.0, view.devicePixelRatioF())
    seen: dict[str, list[str]] = {"image": [], "edit": [], "delete": [], "regen": []}
    view.image_requested.connect(seen["image"].append)
    view.edit_requested.connect(seen["edit"].append)
    view.delete_requested.connect(seen["delete"].append)
    view.regenerate_requested.connect(seen["regen"].append)
    for href in (f"image:{image.sha256}", f"msg-edit:{question.id}",
                 f"msg-delete:{question.id}", f"msg-regen:{answer.id}"):
        view.anchorClicked.emit(QUrl(href))
    assert seen == {"image": [image.sha256], "edit": [question.id],
                    "delete": [question.id], "regen": [answer.id]}
    view.anchorClicked.emit(QUrl(f"copy-code:{answer.id}:0"))
    assert QGuiApplication.clipboard().text() == "code"
    html = view.toHtml()
    assert f"image:{image.sha256}" in html
