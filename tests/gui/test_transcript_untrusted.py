"""The transcript with hostile model output: deep nesting that once vanished, and links."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication, QMouseEvent, QTextCursor
from PySide6.QtWidgets import QApplication, QMainWindow
from pytestqt.qtbot import QtBot
from transcript_harness import shown_transcript

from qwenvl_desktop.core.conversation import Conversation, Message, Provenance
from qwenvl_desktop.ui.link_guard import LinkConfirmDialog
from qwenvl_desktop.ui.transcript import Transcript


@pytest.fixture
def view(qtbot: QtBot) -> Transcript:
    return shown_transcript(qtbot, 760, 500)


def _answer(text: str) -> Conversation:
    conv = Conversation()
    conv.append(Message(role="user", text="Show me"))
    conv.append(Message(role="assistant", text=text,
                        provenance=Provenance("dashscope-intl", "qwen3-vl-plus")))
    return conv


# --- no text dropped ------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "".join("  " * depth + f"- level{depth}x\n" for depth in range(14)) + "\nafter0x\n",
    ">" * 30 + " quoted0x\n\nafter1x\n",
    "| one0x | two0x |\n|---|---|\n| three0x | four0x | five0x |\n",
])
def test_deep_and_ragged_markdown_is_on_screen_whole(view: Transcript, text: str) -> None:
    view.show_conversation(_answer(text))
    shown = view.toPlainText()
    for word in (w for w in text.replace("|", " ").replace(">", " ").split()
                 if w.endswith("x")):
        assert word in shown


# --- links ----------------------------------------------------------------------------------

class Opener:
    """Stands in for QDesktopServices.openUrl: records what would have been opened."""

    def __init__(self) -> None:
        self.opened: list[str] = []

    def __call__(self, url: QUrl) -> bool:
        self.opened.append(url.toString())
        return True


@pytest.fixture
def opener(monkeypatch: pytest.MonkeyPatch) -> Opener:
    recorder = Opener()
    monkeypatch.setattr(QDesktopServices, "openUrl", recorder)
    return recorder


def anchor_point(view: Transcript, text: str) -> QPoint:
    """Where, in the viewport, the link whose text contains `text` is drawn."""
    document = view.document()
    block = document.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fragment = it.fragment()
            if fragment.charFormat().isAnchor() and text in fragment.text():
                cursor = QTextCursor(document)
                cursor.setPosition(fragment.position() + 1)
                return view.cursorRect(cursor).center()
            it += 1
        block = block.next()
    raise AssertionError(f"no link with the text {text!r}")


def hover(view: Transcript, point: QPoint) -> None:
    """A mouse move over the viewport (QTest.mouseMove moves no pointer offscreen)."""
    event = QMouseEvent(QEvent.Type.MouseMove, QPointF(point),
                        QPointF(view.viewport().mapToGlobal(point)), Qt.MouseButton.NoButton,
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(view.viewport(), event)


def click_link(qtbot: QtBot, view: Transcript, text: str) -> LinkConfirmDialog:
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton,
                     pos=anchor_point(view, text))
    qtbot.waitUntil(lambda: view.link_guard.dialog is not None
                    and view.link_guard.dialog.isVisible())
    dialog = view.link_guard.dialog
    assert dialog is not None
    return dialog


DECEPTIVE = "Sign in at [https://example.com/safe](https://evil.example/login?next=%2F)."


def test_a_deceptive_link_opens_only_after_a_confirmation(
        qtbot: QtBot, view: Transcript, opener: Opener) -> None:
    view.show_conversation(_answer(DECEPTIVE))
    dialog = click_link(qtbot, view, "example.com/safe")
    assert opener.opened == []                                  # one click opened nothing
    assert "⚠" in dialog.lead_label.text()
    assert "https://example.com/safe" in dialog.lead_label.text()
    address = dialog.address_label.text()
    assert "<b><span style='font-size:large'>evil.example</span></b>" in address
    assert "login" in address
    assert dialog.cancel_button.isDefault()
    assert dialog.open_button is not None
    qtbot.mouseClick(dialog.open_button, Qt.MouseButton.LeftButton)
    assert opener.opened == ["https://evil.example/login?next=%2F"]


def test_copy_link_is_the_alternative_and_opens_nothing(
        qtbot: QtBot, view: Transcript, opener: Opener) -> None:
    view.show_conversation(_answer(DECEPTIVE))
    dialog = click_link(qtbot, view, "example.com/safe")
    with qtbot.waitSignal(view.copied):
        qtbot.mouseClick(dialog.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == "https://evil.example/login?next=%2F"
    assert opener.opened == []
    qtbot.waitUntil(lambda: view.link_guard.dialog is None)


def test_an_honest_model_link_still_asks_first(qtbot: QtBot, view: Transcript,
                                               opener: Opener) -> None:
    view.show_conversation(_answer("See [the docs](https://docs.example/guide)."))
    dialog = click_link(qtbot, view, "the docs")
    assert "⚠" not in dialog.lead_label.text()
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert opener.opened == []


def test_an_image_placeholder_is_not_a_one_click_link(qtbot: QtBot, view: Transcript,
                                                      opener: Opener) -> None:
    view.show_conversation(_answer("![chart](https://tracker.example/pixel.png?id=7)"))
    dialog = click_link(qtbot, view, "[image: chart]")
    assert dialog.windowTitle() == "Open image link?"
    assert opener.opened == []


def test_hovering_a_link_shows_its_real_target(qtbot: QtBot, opener: Opener) -> None:
    window = QMainWindow()
    qtbot.addWidget(window)
    view = Transcript(window)
    window.setCentralWidget(view)
    window.resize(760, 500)
    window.show()
    qtbot.waitExposed(window)
    view.show_conversation(_answer(DECEPTIVE + "\n\nPlain words here."))
    hover(view, anchor_point(view, "example.com/safe"))
    qtbot.waitUntil(lambda: "evil.example" in window.statusBar().currentMessage())
    assert "⚠" in window.statusBar().currentMessage()
    assert "https://evil.example/login?next=%2F" in view.link_guard.hovered
    hover(view, QPoint(5, view.viewport().height() - 5))
    qtbot.waitUntil(lambda: window.statusBar().currentMessage() == "")
    assert opener.opened == []


def test_a_model_link_imitating_an_action_does_nothing(qtbot: QtBot, view: Transcript,
                                                        opener: Opener) -> None:
    conv = _answer("x")
    question = conv.messages[0]
    conv.messages[1].text = (f"[Delete your question](msg-delete:{question.id}) or "
                             "[open this](file:///etc/passwd)")
    view.show_conversation(conv)
    deleted: list[str] = []
    view.delete_requested.connect(deleted.append)
    with pytest.raises(AssertionError, match="no link"):
        anchor_point(view, "Delete your question")
    assert f"(msg-delete:{question.id})" in view.toPlainText()     # its target, as text
    assert deleted == []
    assert opener.opened == []
