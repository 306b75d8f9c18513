"""The transcript with hostile model output: deep nesting that once vanished, and links."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytestqt.qtbot import QtBot

from qwenvl_desktop.core.conversation import Conversation, Message, Provenance
from qwenvl_desktop.ui.transcript import Transcript


@pytest.fixture
def view(qtbot: QtBot) -> Iterator[Transcript]:
    widget = Transcript()
    widget.resize(760, 500)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


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
