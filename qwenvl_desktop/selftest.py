"""`qwenvl-desktop --self-test`: prove the app works on this machine, installed or frozen.

A bundle can build cleanly and still fail in a person's hands: a Qt plugin, a Pillow
codec, the CA file or a keyring backend is found at run time, not at build time. So
the self-test uses only what the app ships (no pytest) and runs the real thing: the
main window, offscreen, on real services, sends one question with a generated image to
the loopback provider server it starts itself; the answer streams over a socket, is
rendered in the transcript, saved to a conversation file and reopened.

It never touches the person's data: a temporary QWENVL_DESKTOP_HOME and an in-memory
keyring are used for the request, and provider key variables are ignored. The real
keyring backend is only *looked at* (never read or written); a machine without a
secure one gets a warning, not a failure, since CI machines have none.

Output: one line per check (``ok   name: details`` / ``warn name: …`` /
``FAIL name: reason``), then a summary. Exit status 0 only if nothing failed. A
watchdog ends a run that hangs.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import importlib
import io
import os
import ssl
import sys
import tempfile
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from . import __version__
from .core.errors import explain
from .testing.provider_server import DEFAULT_KEY, ProviderServer, Script

if TYPE_CHECKING:
    from PySide6.QtGui import QTextDocument

    from .services import Services
    from .ui.main_window import MainWindow

__all__ = ["ANSWER", "GUI_CHECKS", "QUESTION", "REASONING", "Report", "main", "run"]

PROVIDER_ID = "dashscope-intl"     # its own dialect, sent to the loopback server
MODEL_ID = "qwen3-vl-plus"
QUESTION = "What does this self-test card show?"
REASONING = "Four coloured squares on white; describe them briefly."
CODE_LINE = "def greet(name):"
ANSWER = ("The card shows **four coloured squares** on a white background.\n\n"
          f"```python\n{CODE_LINE}\n    return f'hello {{name}}'\n```\n\n"
          "End of the self-test answer.")
ANSWER_END = "End of the self-test answer."
GUI_CHECKS = ("event loop", "window", "attach image", "request", "transcript",
              "save and reopen")
IMAGE_FORMATS = (("PNG", "png"), ("JPEG", "jpg"), ("WEBP", "webp"), ("GIF", "gif"),
                 ("BMP", "bmp"), ("TIFF", "tiff"))


class CheckFailed(Exception):
    """A check found something wrong; the message is the reason printed."""


def _require(condition: object, reason: str) -> None:
    if not condition:
        raise CheckFailed(reason)


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:    # a bundle may leave the metadata out
        return "(version unknown)"


def _describe(err: BaseException) -> str:
    return str(err) if isinstance(err, CheckFailed) else explain(err)


@dataclass
class Report:
    """Prints one line per check as it ends, and counts them."""

    out: TextIO
    passed: int = 0
    warnings: int = 0
    failed: list[str] = field(default_factory=list)

    def _line(self, tag: str, name: str, text: str) -> None:
        print(f"{tag:<4} {name}: {' '.join(text.split())}", file=self.out, flush=True)

    def ok(self, name: str, detail: str) -> None:
        self.passed += 1
        self._line("ok", name, detail)

    def warn(self, name: str, detail: str) -> None:
        self.warnings += 1
        self._line("warn", name, detail)

    def fail(self, name: str, reason: str) -> None:
        self.failed.append(name)
        self._line("FAIL", name, reason)

    def check(self, name: str, func: Callable[[], str]) -> bool:
        try:
            detail = func()
        except Exception as err:
            self.fail(name, _describe(err))
            return False
        self.ok(name, detail)
        return True

    async def check_async(self, name: str, func: Callable[[], Awaitable[str]]) -> bool:
        try:
            detail = await func()
        except Exception as err:
            self.fail(name, _describe(err))
            return False
        self.ok(name, detail)
        return True

    def summary(self) -> int:
        total = self.passed + len(self.failed)
        plural = "s" if self.warnings != 1 else ""
        warned = f", {self.warnings} warning{plural}" if self.warnings else ""
        if self.failed:
            print(f"self-test FAILED: {len(self.failed)} of {total} checks failed "
                  f"({', '.join(self.failed)}){warned}", file=self.out, flush=True)
            return 1
        print(f"self-test passed: {total} checks ok{warned} (qwenvl-desktop {__version__})",
              file=self.out, flush=True)
        return 0


# --- checks that need no window -----------------------------------------------------------

def check_environment(home: Path) -> str:
    import PySide6
    from PySide6.QtCore import qVersion

    pyside = PySide6.__version__
    # BRIEF §6: PySide6 6.12 on Python 3.11 aborts with "none_dealloc" after a while.
    major_minor = tuple(int(p) for p in pyside.split(".")[:2])
    _require(not (sys.version_info < (3, 12) and major_minor >= (6, 12)),
             f"PySide6 {pyside} on Python {sys.version.split()[0]} crashes (none_dealloc); "
             "use PySide6 < 6.12 with Python 3.11")
    kind = "frozen bundle" if getattr(sys, "frozen", False) else "installed package"
    return (f"qwenvl-desktop {__version__} ({kind}), Python {sys.version.split()[0]}, "
            f"PySide6 {pyside} (Qt {qVersion()}), temporary home {home}")


def check_tls() -> str:
    import certifi
    import httpx

    where = Path(certifi.where())
    _require(where.is_file(), f"certifi's CA bundle is missing ({where})")
    bundled = ssl.create_default_context(cafile=str(where)).cert_store_stats()["x509_ca"]
    _require(bundled > 0, f"certifi's CA bundle {where} holds no certificates")
    context = httpx.create_ssl_context()    # what the app's HTTP client uses
    _require(context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname,
             "httpx's TLS context does not verify certificates")
    loaded = context.cert_store_stats()["x509_ca"]
    # SSL_CERT_DIR certificates are loaded lazily, so the count may be 0 then.
    _require(loaded > 0 or os.environ.get("SSL_CERT_DIR"),
             "httpx's TLS context has no CA certificates: HTTPS would fail")
    return (f"{loaded} CA certificates in the HTTP client's context, certifi bundle "
            f"{where.name} ({bundled}); {ssl.OPENSSL_VERSION}")


def _sample(size: tuple[int, int] = (48, 32)) -> Any:
    """A small picture with flat colours and a gradient."""
    from PIL import Image, ImageDraw

    image = Image.linear_gradient("L").resize(size).convert("RGB")
    draw = ImageDraw.Draw(image)
    draw.rectangle((4, 4, size[0] // 2, size[1] // 2), fill=(200, 30, 40))
    return image


def check_image_formats() -> str:
    import PIL
    from PIL import Image

    from .core.images import inspect_image

    for fmt, ext in IMAGE_FORMATS:
        buffer = io.BytesIO()
        _sample().save(buffer, fmt)
        data = buffer.getvalue()
        try:
            with Image.open(io.BytesIO(data)) as back:
                back.load()
                _require(back.format == fmt and back.size == (48, 32),
                         f"{fmt} read back as {back.format} {back.size}")
            info = inspect_image(data, f"sample.{ext}")     # the app's own reader
        except CheckFailed:
            raise
        except Exception as err:
            raise CheckFailed(f"{fmt}: {_describe(err)}") from err
        _require((info.width, info.height) == (48, 32), f"{fmt}: the app read {info}")
    names = ", ".join(fmt for fmt, _ in IMAGE_FORMATS)
    return f"{names} written and read back (Pillow {PIL.__version__})"


def check_markdown() -> str:
    import re

    import markdown_it
    import pygments

    from .core.markdown_render import code_blocks, render_markdown

    sample = ANSWER + "\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"
    html = render_markdown(sample)
    _require(re.search(r'<span style="[^"]*color:\s*#[0-9a-fA-F]{3,6}[^"]*">def</span>', html),
             "the code block was not syntax-highlighted")
    _require('border="1"' in html, "the table was not rendered")
    _require("**" not in html, "emphasis was left as raw markdown")
    _require(code_blocks(sample) == [f"{CODE_LINE}\n    return f'hello {{name}}'"],
             "the code block's text was not found for its Copy link")
    return (f"markdown-it-py {markdown_it.__version__} and Pygments {pygments.__version__}: "
            "emphasis, a highlighted code block and a table rendered")


_PLATFORM_BACKENDS = {"linux": ("keyring.backends.SecretService", "secretstorage"),
                      "darwin": ("keyring.backends.macOS",),
                      "win32": ("keyring.backends.Windows",)}


def check_keyring(report: Report) -> None:
    """Look at the machine's keyring backend, without reading or writing any entry."""
    name = "keyring backend"
    try:
        import keyring

        from .core.secrets import KeyStore

        # The platform's backend must be in the bundle even if no service runs here.
        for module in _PLATFORM_BACKENDS.get(sys.platform, ()):
            importlib.import_module(module)
        backend = keyring.get_keyring()
        store = KeyStore(backend, environ={})
    except Exception as err:
        report.fail(name, _describe(err))
        return
    label = f"{type(backend).__module__}.{type(backend).__name__}"
    if store.secure:
        report.ok(name, f"{label} is a secure OS keyring; keys would be kept in "
                        f"{store.backend_name}")
    else:
        report.warn(name, f"{label} is not a secure OS keyring, so keys typed into the app "
                          "would be kept for the session only. This is a warning, not a "
                          "failure: CI machines and sessions without an unlocked keyring have "
                          "none. The request below uses an in-memory keyring either way.")


# --- the window, end to end --------------------------------------------------------------

def card_png() -> bytes:
    """A 320×200 PNG: four coloured squares on white (what the question asks about)."""
    from PIL import Image, ImageDraw

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
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QTextCursor

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

    @property
    def win(self) -> MainWindow:
        _require(self.window is not None, "the window was not built")
        assert self.window is not None
        return self.window

    # --- the checks, in order ------------------------------------------------------------

    async def event_loop(self) -> str:
        from PySide6.QtCore import QTimer

        from .ui.event_loop import AppEventLoop

        loop = asyncio.get_running_loop()
        _require(isinstance(loop, AppEventLoop), f"running on {type(loop).__name__}")
        # BRIEF §6: without these hooks, leaving an httpx stream early misbehaves.
        _require(sys.get_asyncgen_hooks().firstiter is not None,
                 "asyncio's async-generator hooks are not installed")
        fired: asyncio.Future[str] = loop.create_future()
        QTimer.singleShot(0, lambda: fired.set_result("qt"))
        _require(await fired == "qt", "a Qt timer did not wake the coroutine")
        worker = await asyncio.to_thread(threading.get_ident)
        _require(worker != threading.get_ident(), "the worker ran on the GUI thread")
        return (f"qasync {_version('qasync')}: Qt timers, asyncio tasks and worker threads "
                "interleave; async-generator hooks installed")

    async def build_window(self) -> str:
        from PySide6.QtWidgets import QApplication

        from .core.secrets import KeyStore
        from .core.settings import Settings
        from .services import Services
        from .testing.memory_keyring import MemoryKeyring
        from .ui.main_window import MainWindow

        settings, _warnings = Settings.load()
        settings.set_base_url_override(PROVIDER_ID, self.server.base_url_for(PROVIDER_ID))
        settings.last_provider, settings.last_model = PROVIDER_ID, MODEL_ID
        settings.connect_timeout, settings.read_timeout, settings.max_retries = 5.0, 20.0, 0
        settings.save()
        self.services = services = Services.create(
            keystore=KeyStore(MemoryKeyring(), environ={}))
        services.keystore.set(services.catalog.get(PROVIDER_ID), DEFAULT_KEY)
        self.window = window = MainWindow.build(services)
        window.controller.content_delta.connect(self._on_delta)
        window.controller.refused.connect(lambda _conv, reason: self.refusals.append(reason))
        window.composer.error.connect(self.refusals.append)
        window.show()
        provider, model = window.chat.target()
        _require((provider.id, model.id) == (PROVIDER_ID, MODEL_ID),
                 f"the window chose {provider.id} / {model.id}")
        platform = QApplication.platformName()
        return (f"main window on the '{platform}' platform, {provider.id} / {model.id} "
                f"pointed at {self.server.root_url}")

    def _on_delta(self, _conv: str, _answer: str, _text: str) -> None:
        self.deltas += 1

    async def attach_image(self) -> str:
        composer = self.win.composer
        png = card_png()
        _require(composer.add_image_bytes(png, "self-test-card.png"),
                 "; ".join(self.refusals) or "the composer refused the image")
        _require(len(composer.attachments()) == 1, "the image is not in the tray")
        return (f"320×200 PNG ({len(png)} bytes) in the composer's tray, "
                f"~{composer.tray.total_tokens()} image tokens estimated")

    async def request(self) -> str:
        from PIL import Image

        window = self.win
        conv = window.current_conversation()
        _require(conv is not None, "no conversation is shown")
        assert conv is not None
        window.composer.set_text(QUESTION)
        window.composer.submit()

        def ended() -> bool:
            answer = conv.messages[-1] if conv.messages else None
            return bool(self.refusals) or (
                answer is not None and answer.role == "assistant"
                and answer.status != "streaming" and not window.controller.is_streaming(conv.id)
                and window.transcript.streaming_message_id is None)

        await until(ended)
        _require(not self.refusals, f"the window refused to send: {'; '.join(self.refusals)}")
        answer = conv.messages[-1]
        _require(answer.status == "complete", f"the answer ended '{answer.status}': "
                                              f"{answer.error or 'no reason given'}")
        _require(answer.text == ANSWER, f"the answer arrived changed: {answer.text[:80]!r}")
        _require(answer.reasoning == REASONING, "the reasoning was not kept apart")
        _require(self.deltas > 1, f"the answer came in {self.deltas} piece(s), not streamed")
        posts = [r for r in self.server.requests if r.method == "POST"]
        _require(len(posts) == 1, f"the server saw {len(posts)} chat requests")
        record = posts[0]
        _require(record.headers.get("authorization") == f"Bearer {DEFAULT_KEY}",
                 "the request did not carry the key in the provider's auth header")
        urls = _image_parts(record.json)
        _require(len(urls) == 1 and urls[0].startswith("data:image/png;base64,"),
                 "the request did not carry the image as a PNG data URI")
        self.sent_image = base64.b64decode(urls[0].split(",", 1)[1])
        with Image.open(io.BytesIO(self.sent_image)) as sent:
            size = sent.size
        prov = answer.provenance
        _require(prov is not None and prov.usage is not None and prov.finish_reason == "stop",
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
            _require(expected in shown, f"the transcript does not show {expected!r}")
        _require("```" not in shown and "**" not in shown, "markdown shown raw, not rendered")
        colours = _highlight_colours(transcript.document(), CODE_LINE)
        _require(len(colours) >= 2, "the code block was not rendered with syntax highlighting")
        return f"answer rendered; code block highlighted in {len(colours)} colours"

    async def save_and_reopen(self) -> str:
        from PIL import Image

        from .core.storage import load_conversation

        window = self.win
        original = window.current_conversation()
        assert original is not None
        path = self.home / "self-test.qwenvl"
        _require(window.files.save_to(path), f"saving failed: {window.files.last_error}")
        loaded = load_conversation(path)
        _require([m.role for m in loaded.messages] == ["user", "assistant"],
                 "the saved conversation lost messages")
        user, answer = loaded.messages
        _require(answer.text == ANSWER and answer.reasoning == REASONING,
                 "the answer changed on the way through the file")
        _require(len(user.images) == 1 and user.images[0] in loaded.images,
                 "the image is not in the saved file")
        stored = loaded.images[user.images[0]]
        _require(stored.data == self.sent_image
                 and hashlib.sha256(stored.data).hexdigest() == stored.sha256,
                 "the saved image is not the one that was sent")
        with Image.open(io.BytesIO(stored.data)) as image:
            _require(image.size == (stored.width, stored.height), "the saved image is damaged")
        _require(window.files.open_path(path), f"reopening failed: {window.files.last_error}")
        reopened = window.current_conversation()
        _require(reopened is not None and reopened is not original
                 and [m.text for m in reopened.messages] == [QUESTION, ANSWER],
                 "the reopened conversation is not the saved one")
        _require(ANSWER_END in window.transcript.toPlainText(),
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
            _require(services.http.is_closed, "the HTTP client is still open")
        self.server.stop()
        _require(not self.server.errors, f"the loopback server failed: {self.server.errors}")
        return "window closed, HTTP client closed, loopback server stopped"


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
        report.fail(reported[-1], f"did not finish within {limit_s:g} s")
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
        print(message, file=sys.stderr, flush=True)


def _gui(report: Report, home: Path, answer: Script, timeout: float) -> None:
    from PySide6.QtCore import qInstallMessageHandler

    from .ui.app import create_application
    from .ui.event_loop import AppEventLoop
    from .ui.theme import apply_theme

    previous_handler = qInstallMessageHandler(_qt_message)
    app = create_application([])
    app.setQuitOnLastWindowClosed(False)    # the loop ends when the checks do, not before
    apply_theme(app, "system")
    loop = AppEventLoop(app)
    # A plain pool for asyncio.to_thread: closed by loop.close(), unlike a live QThread.
    loop.set_default_executor(ThreadPoolExecutor(max_workers=2,
                                                 thread_name_prefix="self-test"))
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


# --- entry points ------------------------------------------------------------------------

def _watchdog(seconds: float, out: TextIO) -> threading.Timer:
    """Ends the process if the run hangs somewhere asyncio cannot interrupt."""
    def abort() -> None:
        print(f"FAIL watchdog: the self-test hung for {seconds:g} s; aborting", file=out,
              flush=True)
        os._exit(1)

    timer = threading.Timer(seconds, abort)
    timer.daemon = True
    timer.start()
    return timer


def run(*, answer: Script | None = None, timeout: float = 60.0,
        out: TextIO | None = None) -> int:
    """Run every check; `answer` is what the loopback server replies (tests make it
    fail); `timeout` bounds the window part. Returns the exit status."""
    out = out if out is not None else sys.stdout
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    answer = answer if answer is not None else Script(content=ANSWER, reasoning=REASONING)
    report = Report(out)
    watchdog = _watchdog(timeout + 45, out)
    saved_home = os.environ.get("QWENVL_DESKTOP_HOME")
    import keyring

    previous_backend = keyring.get_keyring()
    try:
        with tempfile.TemporaryDirectory(prefix="qwenvl-self-test-",
                                         ignore_cleanup_errors=True) as tmp:
            home = Path(tmp)
            os.environ["QWENVL_DESKTOP_HOME"] = str(home)
            report.check("environment", lambda: check_environment(home))
            report.check("tls certificates", check_tls)
            report.check("image formats", check_image_formats)
            report.check("markdown renderer", check_markdown)
            check_keyring(report)
            from .testing.memory_keyring import MemoryKeyring

            # Nothing below may reach the real keyring, even by accident.
            keyring.set_keyring(MemoryKeyring())
            try:
                _gui(report, home, answer, timeout)
            except Exception as err:
                report.fail("window", f"the window could not run: {_describe(err)}")
    finally:
        keyring.set_keyring(previous_backend)
        if saved_home is None:
            os.environ.pop("QWENVL_DESKTOP_HOME", None)
        else:
            os.environ["QWENVL_DESKTOP_HOME"] = saved_home
        watchdog.cancel()
    return report.summary()


def main() -> int:
    """`qwenvl-desktop --self-test`."""
    return run()
