"""Several conversations streaming at once in the real window.

Three conversations each send a question; the loopback server answers all three at
the same time, paced, each with words that name its own conversation. The window must
keep running its event loop meanwhile (a timer probe keeps firing — counted, never
timed), and every conversation must end with exactly its own question and its own
answer: in memory, on screen when shown, and in its saved file.
"""

from __future__ import annotations

from PySide6.QtCore import QTimer
from pytestqt.qtbot import QtBot
from window_harness import (  # noqa: F401 - fixtures are found by name
    conversation,
    provider_server_fixture,
    send,
    server_fixture,
    transcript_text,
    window_fixture,
)

from qwenvl_desktop.testing.provider_server import ProviderServer, Script
from qwenvl_desktop.ui.main_window import MainWindow

NAMES = ("alpha", "bravo", "charlie")
# Long enough (3 s at 100 tokens/s) that the three streams overlap even on a slow
# machine: sending the next question takes a fraction of that.
WORDS = 300
RATE = 100.0


def answer_for(name: str) -> str:
    return " ".join(f"{name}{i}" for i in range(WORDS)) + f"\n\nEnd of **{name}**."


def question_for(name: str) -> str:
    return f"Tell me about {name}"


def foreign_words(text: str, name: str) -> list[str]:
    """Words in `text` that belong to another conversation's answer."""
    return [w for w in text.split() if any(w.startswith(other) for other in NAMES
                                           if other != name)]


def test_three_conversations_stream_at_once_and_keep_their_own_text(
        qtbot: QtBot, window: MainWindow, server: ProviderServer) -> None:
    session = window.session
    # The probe records how many conversations were streaming each time it fired.
    seen: list[int] = []
    probe = QTimer(window)
    probe.setInterval(10)
    probe.timeout.connect(lambda: seen.append(len(session.streaming_ids())))
    probe.start()

    ids: dict[str, str] = {}
    for n, name in enumerate(NAMES):
        server.enqueue(Script(content=answer_for(name), tokens_per_second=RATE))
        if n:
            window.chat.new_conversation()
        send(qtbot, window, question_for(name))
        # The server hands out scripts in the order requests arrive: wait for this one
        # before the next conversation asks.
        qtbot.waitUntil(lambda n=n: len(server.requests) == n + 1, timeout=5000)
        ids[name] = conversation(window).id

    qtbot.waitUntil(lambda: len(session.streaming_ids()) == len(NAMES)
                    or 3 in seen, timeout=5000)
    # While all three stream, look at the first one again (its partial answer is
    # shown from the session) and come back to the last one.
    window.chat.open_conversation(ids["alpha"])
    assert conversation(window).id == ids["alpha"]
    qtbot.waitUntil(lambda: "alpha1" in transcript_text(window), timeout=5000)
    assert not foreign_words(transcript_text(window), "alpha")
    window.chat.open_conversation(ids["charlie"])

    qtbot.waitUntil(lambda: not session.streaming_ids(), timeout=30000)
    probe.stop()

    # The event loop kept running while all three were streaming.
    assert 3 in seen, f"the probe never fired with three streams running: {set(seen)}"

    # Each request carried only its own conversation's question.
    asked = [r.json["messages"][-1]["content"] for r in server.requests]
    asked_text = [c if isinstance(c, str) else "".join(p.get("text", "") for p in c)
                  for c in asked]
    assert asked_text == [question_for(name) for name in NAMES]

    library = window.services.library if window.services else None
    assert library is not None
    for name in NAMES:
        window.chat.open_conversation(ids[name])
        conv = conversation(window)
        assert [m.role for m in conv.messages] == ["user", "assistant"]
        question, answer = conv.messages
        assert question.text == question_for(name)
        assert answer.status == "complete"
        assert answer.text == answer_for(name)
        shown = transcript_text(window)
        assert f"{name}{WORDS - 1}" in shown
        assert f"End of {name}." in shown                    # rendered markdown
        assert not foreign_words(shown, name)
        saved = library.load(ids[name])
        assert [m.text for m in saved.messages] == [question_for(name), answer_for(name)]
