"""Every wire fault ends inline in the transcript: a readable message, the partial answer
kept, a Retry action, no dialog, and the window still usable."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from PySide6.QtCore import QUrl
from PySide6.QtWidgets import QDialog, QMessageBox
from pytestqt.qtbot import QtBot
from window_harness import (  # noqa: F401 - fixtures are found by name
    close_window,
    conversation,
    make_services,
    open_window,
    provider_server_fixture,
    send,
    server_fixture,
    transcript_text,
    wait_answer,
    window_fixture,
)

from qwenvl_desktop.testing.provider_server import ProviderServer, Script
from qwenvl_desktop.ui.main_window import MainWindow

PARTIAL = "Partial answer that breaks off somewhere in the middle"

FAULTS: dict[str, tuple[dict[str, Any], str, bool]] = {
    # name: (script fields, words the message must contain, partial text kept?)
    "dropped": ({"content": PARTIAL, "drop_after": 3}, "cut off", True),
    "401": ({"status": 401}, "HTTP 401", False),
    "429": ({"status": 429}, "HTTP 429", False),
    "html-502": ({"html_status": 502}, "502", False),
    "error-event": ({"content": PARTIAL, "error_event": True, "fault_after": 3},
                    "mid-answer", True),
    "no-finish": ({"content": PARTIAL, "no_finish": True, "fault_after": 3},
                  "cut off", True),
}


def no_dialogs(window: MainWindow) -> bool:
    return not [d for d in window.findChildren(QDialog) if d.isVisible()] and \
        not [b for b in window.findChildren(QMessageBox) if b.isVisible()]


@pytest.mark.parametrize("fault", list(FAULTS))
def test_fault_shows_inline_message_and_keeps_partial(
        qtbot: QtBot, window: MainWindow, server: ProviderServer, fault: str) -> None:
    fields, words, partial = FAULTS[fault]
    server.enqueue(Script(**fields))
    send(qtbot, window, f"Trigger {fault}")
    answer = wait_answer(qtbot, window)
    assert answer.status in ("error", "interrupted")
    assert words in answer.error
    shown = transcript_text(window)
    assert answer.error.splitlines()[0][:40] in shown
    assert "Retry" in shown
    assert f"Trigger {fault}" in shown              # the person's turn is kept
    if partial:
        assert answer.text
        assert PARTIAL.startswith(answer.text.strip()[:10])
        assert answer.text.strip()[:10] in shown
    assert no_dialogs(window)
    # Retry asks the same question again; the failed answer stays on its own branch.
    server.enqueue(Script(content="Recovered."))
    window.transcript.anchorClicked.emit(QUrl(f"msg-retry:{answer.id}"))
    qtbot.waitUntil(lambda: len(server.requests) >= 2, timeout=5000)
    again = wait_answer(qtbot, window)
    assert again.text == "Recovered."
    assert again.status == "complete"
    conv = conversation(window)
    assert [m.role for m in conv.messages] == ["user", "assistant"]
    assert "Recovered." in transcript_text(window)
    assert conv.siblings(again.id) == [answer.id, again.id]


def test_stall_past_the_read_timeout_ends_inline(
        qtbot: QtBot, qasync_loop: asyncio.AbstractEventLoop, server: ProviderServer) -> None:
    win = open_window(qtbot, make_services(server, read_timeout=0.5))
    try:
        server.enqueue(Script(content=PARTIAL, stall=True, fault_after=3))
        send(qtbot, win, "Stall please")
        answer = wait_answer(qtbot, win)
        assert answer.status == "interrupted"
        assert "too long" in answer.error or "timed out" in answer.error.lower()
        assert answer.text.strip()
        assert answer.text.strip()[:10] in transcript_text(win)
        assert no_dialogs(win)
        server.release_stalls()
        server.enqueue(Script(content="Fine now."))
        send(qtbot, win, "Again")
        assert wait_answer(qtbot, win).text == "Fine now."
    finally:
        close_window(qtbot, win)


def test_missing_key_refuses_before_sending_and_keeps_the_text(
        qtbot: QtBot, qasync_loop: asyncio.AbstractEventLoop, server: ProviderServer) -> None:
    services = make_services(server, keys=False)
    services.keystore.set(services.catalog.get("ovh"), "ovh-key-0123456789")
    win = open_window(qtbot, services)
    try:
        send(qtbot, win, "Hello there")
        qtbot.waitUntil(lambda: win.banner.isVisible(), timeout=5000)
        assert "No API key" in win.banner.text()
        assert win.banner.action_button.isVisible()
        assert win.composer.text() == "Hello there"      # given back, nothing lost
        assert server.requests == []
        assert conversation(win).messages == []
    finally:
        close_window(qtbot, win)
