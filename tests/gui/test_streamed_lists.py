"""Numbered lists keep their numbers while an answer streams in, and after.

The transcript renders an answer in pieces while it streams (each finished block once,
then the open tail); a list split across pieces showed 1, 1, 2, 3 until the end, and a
long answer (whose pieces stay as they were rendered) kept wrong numbers for good.
"""

from __future__ import annotations

import re

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
from qwenvl_desktop.testing.provider_server.script import split_pieces
from qwenvl_desktop.ui import transcript as transcript_module
from qwenvl_desktop.ui.main_window import MainWindow

# Two lists: one numbered as typed with blank lines between the items, one numbered
# "1." throughout (markdown counts on from the first number) with a code block in
# each item.
LISTS = (
    "Steps:\n\n"
    "1. Open the **File** menu.\n\n2. Pick *Save as*.\n\n3. Name the file.\n\n"
    "4. Press Enter.\n\n"
    "Then check it:\n\n"
    "1. Install the checker:\n\n   ```bash\n   pip install checker\n   ```\n\n"
    "1. Run it:\n\n   ```bash\n   checker report.pdf\n   ```\n\n"
    "1. Read what it prints.\n\n"
)
EXPECTED = ["1.", "2.", "3.", "4.", "1.", "2.", "3."]
ENDING = "That is all there is to it."


def shown_numbers(window: MainWindow) -> list[str]:
    """The number in front of each item of every numbered list in the transcript."""
    numbers = []
    block = window.transcript.document().begin()
    while block.isValid():
        text_list = block.textList()
        if text_list is not None and block.text().strip():
            numbers.append(text_list.itemText(block))
        block = block.next()
    return numbers


def typed_numbers_in_items(window: MainWindow) -> list[str]:
    """List items whose own text starts with a number ("3. 3. Name"): a plain line
    that landed inside a rendered list."""
    found = []
    block = window.transcript.document().begin()
    while block.isValid():
        if block.textList() is not None and re.match(r"\s*\d+[.)]\s", block.text()):
            found.append(block.text())
        block = block.next()
    return found


def test_numbers_are_right_while_the_list_streams(
        qtbot: QtBot, window: MainWindow, server: ProviderServer) -> None:
    answer = LISTS + ENDING
    # Word by word at 60 words a second (so the open tail is rendered between the
    # items), then the stream waits before its last paragraph.
    sent_before_stall = len(split_pieces(LISTS, None))
    server.enqueue(Script(content=answer, tokens_per_second=60, stall=True,
                          fault_after=sent_before_stall))
    send(qtbot, window, "How do I save and check it?")
    qtbot.waitUntil(lambda: server.stalls >= 1, timeout=20000)
    assert window.transcript.streaming_message_id is not None      # still streaming
    # Everything up to the stall is on screen, rendered, with its numbers.
    qtbot.waitUntil(lambda: shown_numbers(window) == EXPECTED, timeout=5000)
    assert "Read what it prints." in transcript_text(window)
    assert typed_numbers_in_items(window) == []
    window.action("stop").trigger()
    wait_answer(qtbot, window)
    assert shown_numbers(window) == EXPECTED


def test_every_state_while_streaming_and_the_end_of_a_long_answer(
        qtbot: QtBot, window: MainWindow, server: ProviderServer) -> None:
    # Longer than what the transcript renders again whole when an answer ends, so the
    # pieces rendered while streaming are the ones that stay.
    intro = "".join(f"Paragraph {i}: " + "a few words about saving files. " * 12 + "\n\n"
                    for i in range(12))
    assert len(intro) > transcript_module._FULL_FINISH_LIMIT
    answer = intro + LISTS + ENDING
    # Cut into pieces that split items anywhere, a few a second.
    server.enqueue(Script(content=answer, chunks=90, delay=0.03))
    send(qtbot, window, "Tell me everything")
    seen: list[list[str]] = []

    def record_until_done() -> bool:
        numbers = shown_numbers(window)
        if not seen or seen[-1] != numbers:
            seen.append(numbers)
        conv = window.current_conversation()
        return (conv is not None and not window.session.is_streaming(conv.id)
                and window.transcript.streaming_message_id is None)

    qtbot.waitUntil(record_until_done, timeout=30000)
    answer_message = wait_answer(qtbot, window)
    assert answer_message.status == "complete"
    assert shown_numbers(window) == EXPECTED
    assert ENDING in transcript_text(window)
    # Every state on the way showed the first items of the final numbering, never a
    # restart; and some were seen part-way.
    for numbers in seen:
        assert numbers == EXPECTED[:len(numbers)], seen
    assert any(0 < len(numbers) < len(EXPECTED) for numbers in seen), seen
