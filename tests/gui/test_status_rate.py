"""The transcript's status line shows tokens/s by the shared rule (core/output_rate)."""

from __future__ import annotations

from pytestqt.qtbot import QtBot
from window_harness import (  # noqa: F401 - fixtures are found by name
    provider_server_fixture,
    send,
    server_fixture,
    transcript_text,
    wait_answer,
    window_fixture,
)

from qwenvl_desktop.core.api.types import Usage
from qwenvl_desktop.core.conversation import Message, Provenance
from qwenvl_desktop.testing.provider_server import ProviderServer, Script
from qwenvl_desktop.ui.main_window import MainWindow
from qwenvl_desktop.ui.transcript_html import status_line


def answer(out: int, first: float, total: float) -> Message:
    return Message(role="assistant", text="…", provenance=Provenance(
        provider="segmind", model="qwen2p5-vl-32b-instruct",
        usage=Usage(prompt_tokens=900, completion_tokens=out, total_tokens=900 + out),
        finish_reason="stop", first_token_s=first, total_s=total))


def test_status_line_rate_only_when_it_means_something() -> None:
    assert status_line(answer(389, 0.82, 6.4)) == (
        "qwen2p5-vl-32b-instruct · 900 in / 389 out tokens · first token 0.82 s · "
        "69.5 tokens/s · finish: stop")
    # Segmind's blocking reply, revealed at once: no "256,000.0 tokens/s".
    assert status_line(answer(513, 4.2, 4.202)) == (
        "qwen2p5-vl-32b-instruct · 900 in / 513 out tokens · first token 4.20 s · "
        "finish: stop")


def test_a_paced_stream_shows_its_rate(
        qtbot: QtBot, window: MainWindow, server: ProviderServer) -> None:
    words = " ".join(f"word{i}" for i in range(60))
    server.enqueue(Script(content=words, tokens_per_second=40))     # about 1.5 s
    send(qtbot, window, "Count slowly")
    answer_message = wait_answer(qtbot, window)
    assert answer_message.status == "complete"
    assert "tokens/s" in transcript_text(window)
