"""The self-test's end-to-end part: the real window, offscreen, against the loopback server.

`run_window` builds the main window on real services (their one provider pointed at a
`ProviderServer` it starts), attaches a generated PNG through the composer, sends one
question, waits for the streamed answer to be rendered, saves the conversation to a
file and reopens it, then shuts everything down the way the app does: through the
window's close. Every step is a check printed by `selftest.Report`; the steps after a
failed one are reported as not run, and a time limit ends a step that never finishes.
"""

from __future__ import annotations

import asyncio
import base64
import gc
import hashlib
import io
import sys
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw
from PySide6.QtCore import Qt, QTimer, qInstallMessageHandler
from PySide6.QtGui import QTextCursor, QTextDocument
from PySide6.QtWidgets import QApplication

from .core.secrets import KeyStore
from .core.settings import Settings
from .core.storage import load_conversation
from .selftest import (
    ANSWER,
    ANSWER_END,
    CODE_LINE,
    GUI_CHECKS,
    MODEL_ID,
    PROVIDER_ID,
    QUESTION,
    REASONING,
    Report,
    require,
    version_of,
)
from .services import Services
from .testing.memory_keyring import MemoryKeyring
from .testing.provider_server import DEFAULT_KEY, ProviderServer, Script
from .ui.app import create_application
from .ui.event_loop import AppEventLoop
from .ui.main_window import MainWindow
from .ui.theme import apply_theme

__all__ = ["card_png", "run_window", "until"]


def card_png() -> bytes:
    """A 320×200 PNG: four coloured squares on white (what the question asks about)."""
    image = Image.new("RGB", (320, 200), "white")
    draw = ImageDraw.Draw(image)
    for i, colour in enumerate(((220, 40, 40), (40, 160, 60), (40, 80, 220), (240, 190, 20))):
        x = 20 + i * 75
        draw.rectangle((x, 60, x + 60, 140), fill=colour)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _highlight_colours(document: QTextDocument, line: str) -> set[str]:
    """Text colours used on the rendered code line `line` inside a code box (a table)."""
    block = document.begin()
    while block.isValid():
        if block.text().strip() == line and QTextCursor(block).currentTable() is not None:
            colours: set[str] = set()
            fragments = block.begin()
            while not fragments.atEnd():
                fragment = fragments.fragment()
                brush = fragment.charFormat().foreground()
                if fragment.text().strip() and brush.style() != Qt.BrushStyle.NoBrush:
                    colours.add(brush.color().name())
                fragments += 1
            return colours
        block = block.next()
    return set()


def _image_parts(body: Any) -> list[str]:
    """The image URLs in the last message of a chat request body."""
    content = body["messages"][-1]["content"]
    if not isinstance(content, list):
        return []
    return [part["image_url"]["url"] for part in content if part.get("type") == "image_url"]


async def until(condition: Callable[[], bool]) -> None:
    """Wait for a condition while Qt and asyncio keep running (the watchdog bounds it)."""
    # Polling: these are states of several widgets and tasks with no one signal for them.
    while not condition():  # noqa: ASYNC110
        await asyncio.sleep(0.01)


@dataclass
class _Session:
    """The objects of one end-to-end run and what was seen along the way."""

    home: Path
    server: ProviderServer
    answer: Script
    services: Services | None = None
    window: MainWindow | None = None
    deltas: int = 0
    refusals: list[str] = field(default_factory=list)
    sent_image: bytes = b""
    waiting_for: str = ""

    def waiting(self) -> str:
        """What a step that timed out was waiting for, for the FAIL line."""
        if self.waiting_for == "answer":
            return f"; {self.deltas} piece(s) of the answer had arrived"
        return ""

    @property
    def win(self) -> MainWindow:
        require(self.window is not None, "the window was not built")
        assert self.window is not None
        return self.window

    # --- the checks, in order ------------------------------------------------------------

    async def event_loop(self) -> str:
        loop = asyncio.get_running_loop()
        require(isinstance(loop, AppEventLoop), f"running on {type(loop).__name__}")
        # Without these hooks, leaving an httpx stream early misbehaves.
        require(sys.get_asyncgen_hooks().firstiter is not None,
                "asyncio's async-generator hooks are not installed")
        fired: asyncio.Future[str] = loop.create_future()
        QTimer.singleShot(0, lambda: fired.set_result("qt"))
        require(await fired == "qt", "a Qt timer did not wake the coroutine")
        worker = await asyncio.to_thread(threading.get_ident)
        require(worker != threading.get_ident(), "the worker ran on the GUI thread")
        return (f"qasync {version_of('qasync')}: Qt timers, asyncio tasks and worker threads "
                "interleave; async-generator hooks installed")

    async def build_window(self) -> str:
        settings, _warnings = Settings.load()
        settings.set_base_url_override(PROVIDER_ID, self.server.base_url_for(PROVIDER_ID))
        settings.last_provider, settings.last_model = PROVIDER_ID, MODEL_ID
        settings.connect_timeout, settings.read_timeout, settings.max_retries = 5.0, 20.0, 0
        settings.save()
        self.services = services = Services.create(
            keystore=KeyStore(MemoryKeyring(), environ={}))
        services.keystore.set(services.catalog.get(PROVIDER_ID), DEFAULT_KEY)
        self.window = window = MainWindow.build(services)
        window.session.events.content_delta.connect(self._on_delta)
        window.session.events.refused.connect(
            lambda _conv, refusal: self.refusals.append(refusal.text))
        window.composer.error.connect(self.refusals.append)
        window.show()
        provider, model = window.models.target()
        require((provider.id, model.id) == (PROVIDER_ID, MODEL_ID),
                f"the window chose {provider.id} / {model.id}")
        platform = QApplication.platformName()
        return (f"main window on the '{platform}' platform, {provider.id} / {model.id} "
                f"pointed at {self.server.root_url}")

    def _on_delta(self, _conv: str, _answer: str, _text: str) -> None:
        self.deltas += 1

    async def attach_image(self) -> str:
        composer = self.win.composer
        png = card_png()
        require(composer.add_image_bytes(png, "self-test-card.png"),
                "; ".join(self.refusals) or "the composer refused the image")
        require(len(composer.attachments()) == 1, "the image is not in the tray")
        return (f"320×200 PNG ({len(png)} bytes) in the composer's tray, "
                f"~{composer.tray.total_tokens()} image tokens estimated")

    async def request(self) -> str:
        window = self.win
        conv = window.current_conversation()
        require(conv is not None, "no conversation is shown")
        assert conv is not None
        window.composer.set_text(QUESTION)
        self.waiting_for = "answer"
        window.composer.submit()

        def ended() -> bool:
            answer = conv.messages[-1] if conv.messages else None
            return bool(self.refusals) or (
                answer is not None and answer.role == "assistant"
                and answer.status != "streaming" and not window.session.is_streaming(conv.id)
                and window.transcript.streaming_message_id is None)

        await until(ended)
        self.waiting_for = ""
        require(not self.refusals, f"the window refused to send: {'; '.join(self.refusals)}")
        answer = conv.messages[-1]
        require(answer.status == "complete",
                f"the answer ended '{answer.status}': {answer.error or 'no reason given'}")
        require(answer.text == ANSWER, f"the answer arrived changed: {answer.text[:80]!r}")
        require(answer.reasoning == REASONING, "the reasoning was not kept apart")
        require(self.deltas > 1, f"the answer came in {self.deltas} piece(s), not streamed")
        posts = [r for r in self.server.requests if r.method == "POST"]
        require(len(posts) == 1, f"the server saw {len(posts)} chat requests")
        record = posts[0]
        require(record.headers.get("authorization") == f"Bearer {DEFAULT_KEY}",
                "the request did not carry the key in the provider's auth header")
        urls = _image_parts(record.json)
        require(len(urls) == 1 and urls[0].startswith("data:image/png;base64,"),
                "the request did not carry the image as a PNG data URI")
        self.sent_image = base64.b64decode(urls[0].split(",", 1)[1])
        with Image.open(io.BytesIO(self.sent_image)) as sent:
            size = sent.size
        prov = answer.provenance
        require(prov is not None and prov.usage is not None and prov.finish_reason == "stop",
                "the answer's provenance (usage, finish reason) is missing")
        assert prov is not None
        assert prov.usage is not None
        return (f"{self.deltas} pieces streamed in {prov.total_s or 0:.2f} s; image sent as "
                f"{size[0]}×{size[1]} PNG ({len(self.sent_image)} bytes); usage "
                f"{prov.usage.prompt_tokens} in / {prov.usage.completion_tokens} out tokens")

    async def transcript(self) -> str:
        transcript = self.win.transcript
        shown = transcript.toPlainText()
        for expected in (QUESTION, "four coloured squares", CODE_LINE, ANSWER_END):
            require(expected in shown, f"the transcript does not show {expected!r}")
        require("```" not in shown and "**" not in shown, "markdown shown raw, not rendered")
        colours = _highlight_colours(transcript.document(), CODE_LINE)
        require(len(colours) >= 2, "the code block was not rendered with syntax highlighting")
        return f"answer rendered; code block highlighted in {len(colours)} colours"

    async def save_and_reopen(self) -> str:
        window = self.win
        original = window.current_conversation()
        assert original is not None
        path = self.home / "self-test.qwenvl"
        require(window.files.save_to(path), f"saving failed: {window.files.last_error}")
        loaded = load_conversation(path)
        require([m.role for m in loaded.messages] == ["user", "assistant"],
                "the saved conversation lost messages")
        user, answer = loaded.messages
        require(answer.text == ANSWER and answer.reasoning == REASONING,
                "the answer changed on the way through the file")
        require(len(user.images) == 1 and user.images[0] in loaded.images,
                "the image is not in the saved file")
        stored = loaded.images[user.images[0]]
        require(stored.data == self.sent_image
                and hashlib.sha256(stored.data).hexdigest() == stored.sha256,
                "the saved image is not the one that was sent")
        with Image.open(io.BytesIO(stored.data)) as image:
            require(image.size == (stored.width, stored.height), "the saved image is damaged")
        # Move to a fresh conversation first, so that reopening has to bring the saved
        # one back (the window shows an already-listed conversation rather than a copy).
        window.chat.new_conversation()
        require(window.current_conversation() is not original, "New did not start a new one")
        require(window.files.open_path(path), f"reopening failed: {window.files.last_error}")
        reopened = window.current_conversation()
        require(reopened is not None
                and [m.text for m in reopened.messages] == [QUESTION, ANSWER],
                "the reopened conversation is not the saved one")
        require(ANSWER_END in window.transcript.toPlainText(),
                "the reopened conversation is not shown")
        return (f"{path.name} ({path.stat().st_size} bytes) saved, loaded and reopened in the "
                f"window; image {stored.width}×{stored.height} and answer intact")

    async def shut_down(self) -> str:
        window, services = self.window, self.services
        if window is not None:
            window.close()                   # closeEvent: stop streams, autosave, close
            await until(lambda: window.is_shut_down and not window.isVisible())
            window.deleteLater()
        if services is not None:
            await services.aclose()
            require(services.http_is_closed, "the HTTP client is still open")
        self.server.stop()
        require(not self.server.errors, f"the loopback server failed: {self.server.errors}")
        leftover = await _finish_background_work()
        require(not leftover, f"{leftover} background task(s) never finished")
        return "window closed, HTTP client closed, loopback server stopped, no task left"


async def _finish_background_work() -> int:
    """Do what `asyncio.run` does before closing its loop; returns tasks still pending.

    Async generators left suspended (an HTTP stream left after its last event) are
    closed by a task their finaliser schedules when they are collected; collected as
    the loop stops, that task would be left pending ("Task was destroyed but it is
    pending"). So collect them now, let their tasks run, and close the rest.
    """
    gc.collect()
    for _ in range(3):               # finaliser → call_soon → create_task → first step
        await asyncio.sleep(0)
    loop = asyncio.get_running_loop()
    await loop.shutdown_asyncgens()
    others = asyncio.all_tasks() - {asyncio.current_task()}
    if not others:
        return 0
    _done, pending = await asyncio.wait(others, timeout=5)
    return len(pending)


async def _run_gui(report: Report, session: _Session, limit_s: float) -> None:
    steps: list[tuple[str, Callable[[], Awaitable[str]]]] = list(zip(GUI_CHECKS, (
        session.event_loop, session.build_window, session.attach_image, session.request,
        session.transcript, session.save_and_reopen), strict=True))
    reported: list[str] = []

    async def chain() -> None:
        for name, step in steps:
            reported.append(name)
            if not await report.check_async(name, step):
                return

    try:
        async with asyncio.timeout(limit_s):
            await chain()
    except TimeoutError:
        report.fail(reported[-1], f"did not finish within {limit_s:g} s{session.waiting()}")
    for name, _step in steps[len(reported):]:
        report.fail(name, f"not run, because '{reported[-1]}' failed")
    try:
        async with asyncio.timeout(15):
            await report.check_async("shutdown", session.shut_down)
    except TimeoutError:
        report.fail("shutdown", "the window did not close within 15 s")


def _qt_message(_kind: Any, _context: Any, message: str) -> None:
    # The offscreen platform says this for every window shown; it means nothing here.
    if "does not support propagateSizeHints" not in message:
        sys.stderr.write(message + "\n")


def run_window(report: Report, home: Path, answer: Script, timeout: float) -> None:
    """Run the window's checks on a qasync loop; `timeout` bounds all but the shutdown."""
    previous_handler = qInstallMessageHandler(_qt_message)
    app = create_application([])
    app.setQuitOnLastWindowClosed(False)    # the loop ends when the checks do, not before
    apply_theme(app, "system")
    loop = AppEventLoop(app)
    asyncio.set_event_loop(loop)
    server = ProviderServer(default=answer).start()
    session = _Session(home=home, server=server, answer=answer)
    try:
        loop.run_until_complete(_run_gui(report, session, timeout))
    finally:
        server.stop()
        loop.close()
        asyncio.set_event_loop(None)
        qInstallMessageHandler(previous_handler)
