"""`qwenvl-desktop --self-test`: prove the app works on this machine, installed or frozen.

A bundle can build cleanly and still fail in a person's hands: a Qt plugin, a Pillow
codec, the CA file or a keyring backend is found at run time, not at build time. So
the self-test uses only what the app ships (no pytest) and runs the real thing: the
main window, offscreen, on real services, sends one question with a generated image to
the loopback provider server it starts itself; the answer streams over a socket, is
rendered in the transcript, saved to a conversation file and reopened.

It never touches the person's data: a temporary QWENVL_DESKTOP_HOME and an in-memory
keyring are used for the request, and provider key variables are ignored. The real
keyring backend is only *looked at*; a machine without a secure one gets a warning,
not a failure, since most CI machines have none. With QWENVL_REQUIRE_SECURE_KEYRING=1
(CI's Secret Service step) a missing secure keyring fails, and a throwaway entry under
its own service name is written, read back and deleted, proving the bundle carries
the backend's whole chain (D-Bus, the encrypted session).

The checks that need no window are here; the window's are in `selftest_window`.

Output: one line per check (``ok   name: details`` / ``warn name: …`` /
``FAIL name: reason``), then a summary. Exit status 0 only if nothing failed. A
watchdog ends a run that hangs.
"""

from __future__ import annotations

import importlib
import io
import os
import ssl
import sys
import tempfile
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, TextIO

import keyring

from . import __version__
from .core.errors import explain
from .testing.provider_server import Script

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


def require(condition: object, reason: str) -> None:
    if not condition:
        raise CheckFailed(reason)


def version_of(distribution: str) -> str:
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
        """Print the summary line; the exit status (0 only when nothing failed)."""
        total = self.passed + len(self.failed)
        warned = f", {_count(self.warnings, 'warning')}" if self.warnings else ""
        if self.failed:
            print(f"self-test FAILED: {len(self.failed)} of {_count(total, 'check')} failed "
                  f"({', '.join(self.failed)}){warned}", file=self.out, flush=True)
            return 1
        print(f"self-test passed: {_count(total, 'check')} ok{warned} "
              f"(qwenvl-desktop {__version__})", file=self.out, flush=True)
        return 0


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


# --- checks that need no window -----------------------------------------------------------

def check_environment(home: Path) -> str:
    import PySide6
    from PySide6.QtCore import qVersion

    pyside = PySide6.__version__
    # PySide6 6.12 on Python 3.11 aborts with "none_dealloc" after a while.
    major_minor = tuple(int(p) for p in pyside.split(".")[:2])
    require(not (sys.version_info < (3, 12) and major_minor >= (6, 12)),
            f"PySide6 {pyside} on Python {sys.version.split()[0]} crashes (none_dealloc); "
            "use PySide6 < 6.12 with Python 3.11")
    kind = "frozen bundle" if getattr(sys, "frozen", False) else "installed package"
    return (f"qwenvl-desktop {__version__} ({kind}), Python {sys.version.split()[0]}, "
            f"PySide6 {pyside} (Qt {qVersion()}), temporary home {home}")


def check_tls() -> str:
    import certifi
    import httpx

    where = Path(certifi.where())
    require(where.is_file(), f"certifi's CA bundle is missing ({where})")
    bundled = ssl.create_default_context(cafile=str(where)).cert_store_stats()["x509_ca"]
    require(bundled > 0, f"certifi's CA bundle {where} holds no certificates")
    context = httpx.create_ssl_context()    # what the app's HTTP client uses
    require(context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname,
            "httpx's TLS context does not verify certificates")
    loaded = context.cert_store_stats()["x509_ca"]
    # SSL_CERT_DIR certificates are loaded lazily, so the count may be 0 then.
    require(loaded > 0 or os.environ.get("SSL_CERT_DIR"),
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
                require(back.format == fmt and back.size == (48, 32),
                        f"{fmt} read back as {back.format} {back.size}")
            info = inspect_image(data, f"sample.{ext}")     # the app's own reader
        except CheckFailed:
            raise
        except Exception as err:
            raise CheckFailed(f"{fmt}: {_describe(err)}") from err
        require((info.width, info.height) == (48, 32), f"{fmt}: the app read {info}")
    names = ", ".join(fmt for fmt, _ in IMAGE_FORMATS)
    return f"{names} written and read back (Pillow {PIL.__version__})"


def check_markdown() -> str:
    import re

    import markdown_it
    import pygments

    from .core.markdown_render import code_blocks, render_markdown

    sample = ANSWER + "\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"
    html = render_markdown(sample)
    require(re.search(r'<span style="[^"]*color:\s*#[0-9a-fA-F]{3,6}[^"]*">def</span>', html),
            "the code block was not syntax-highlighted")
    require('border="1"' in html, "the table was not rendered")
    require("**" not in html, "emphasis was left as raw markdown")
    require(code_blocks(sample) == [f"{CODE_LINE}\n    return f'hello {{name}}'"],
            "the code block's text was not found for its Copy link")
    return (f"markdown-it-py {markdown_it.__version__} and Pygments {pygments.__version__}: "
            "emphasis, a highlighted code block and a table rendered")


_PLATFORM_BACKENDS = {"linux": ("keyring.backends.SecretService", "secretstorage"),
                      "darwin": ("keyring.backends.macOS",),
                      "win32": ("keyring.backends.Windows",)}

# Set to 1 where a secure keyring must be present (CI's Secret Service step): its absence
# is then a failure, and a throwaway entry is written, read back and deleted.
REQUIRE_KEYRING_VARIABLE = "QWENVL_REQUIRE_SECURE_KEYRING"
PROBE_SERVICE = "qwenvl-desktop-self-test"
_KEYRING_WAIT = 20.0


def keyring_required() -> bool:
    return os.environ.get(REQUIRE_KEYRING_VARIABLE, "").strip() not in ("", "0")


def check_instance_socket(home: Path) -> str:
    """The local socket a second launch hands its files over (QtNetwork is in the
    bundle, and this machine lets the user listen and connect)."""
    from PySide6.QtNetwork import QLocalServer, QLocalSocket

    from .ui.single_instance import server_name

    name = server_name(home / "self-test")
    server = QLocalServer()
    client = QLocalSocket()
    try:
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        require(server.listen(name), f"cannot listen on {name}: {server.errorString()}")
        client.connectToServer(name)
        require(client.waitForConnected(2000), f"cannot connect: {client.errorString()}")
        accepted, _timed_out = server.waitForNewConnection(2000)
        require(accepted, "the connection never arrived")
        peer = server.nextPendingConnection()
        client.write(b"ping\n")
        client.waitForBytesWritten(2000)
        require(peer.waitForReadyRead(2000) and bytes(peer.readAll().data()) == b"ping\n",
                "the message never arrived")
        peer.abort()
    finally:
        client.abort()
        server.close()
    return f"listens and answers on {name}"


def check_keyring(report: Report) -> None:
    """Look at the machine's keyring backend. Only when a secure keyring is required
    is it written to (a throwaway entry under its own service name, deleted after)."""
    name = "keyring backend"
    required = keyring_required()
    try:
        from .core.secrets import KeyStore

        # The platform's backend must be in the bundle even if no service runs here.
        for module in _PLATFORM_BACKENDS.get(sys.platform, ()):
            importlib.import_module(module)
        backend = keyring.get_keyring()
        store = KeyStore(backend, environ={}, wait=_KEYRING_WAIT)
    except Exception as err:
        report.fail(name, _describe(err))
        return
    label = f"{type(backend).__module__}.{type(backend).__name__}"
    if store.secure:
        report.ok(name, f"{label} is a secure OS keyring; keys would be kept in "
                        f"{store.backend_name}")
        if required:
            report.check("keyring round trip", lambda: _round_trip(store.backend_name))
    elif required:
        report.fail(name, f"{label} is not a secure OS keyring, and "
                          f"{REQUIRE_KEYRING_VARIABLE}=1 says one must be present. "
                          f"{store.warning or ''}")
    else:
        report.warn(name, f"{label} is not a secure OS keyring, so keys typed into the app "
                          "would be kept for the session only. This is a warning, not a "
                          "failure: CI machines and sessions without an unlocked keyring have "
                          f"none ({REQUIRE_KEYRING_VARIABLE}=1 makes it one). The request "
                          "below uses an in-memory keyring either way.")


def _round_trip(backend_name: str) -> str:
    """Write, read back and delete a throwaway entry through the real backend, each call
    bounded (a hung keyring fails the check instead of the whole run)."""
    import secrets as stdlib_secrets

    from .core.bounded_call import SerialWorker
    from .core.keyring_backend import trouble_for

    backend = keyring.get_keyring()
    token = f"self-test-{stdlib_secrets.token_hex(8)}"
    worker = SerialWorker("keyring self-test")
    steps: list[tuple[str, Callable[[], object]]] = [
        ("write", lambda: backend.set_password(PROBE_SERVICE, "probe", token)),
        ("read", lambda: backend.get_password(PROBE_SERVICE, "probe")),
        ("delete", lambda: backend.delete_password(PROBE_SERVICE, "probe")),
        ("read after delete", lambda: backend.get_password(PROBE_SERVICE, "probe")),
    ]
    results: dict[str, object] = {}
    for step, func in steps:
        call = worker.submit(func)
        require(call.wait(_KEYRING_WAIT),
                f"the keyring did not answer the {step} within {_KEYRING_WAIT:g} s")
        if call.error is not None:
            raise CheckFailed(f"{step}: {trouble_for(call.error).reason}")
        results[step] = call.result
    require(results["read"] == token, "the entry written was not read back")
    require(results["read after delete"] is None, "the entry was not deleted")
    return (f"wrote, read back and deleted a throwaway entry ({PROBE_SERVICE}) in "
            f"{backend_name}")


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


def _log_to(home: Path) -> Callable[[], None]:
    """Send the app's log records to the temporary home while the self-test runs; the
    returned function puts the person's log file back."""
    import logging

    from .core.logs import setup_logging

    root = logging.getLogger()
    previous = [h for h in root.handlers if getattr(h, "_qwenvl", False)]
    for handler in previous:
        root.removeHandler(handler)
    setup_logging(level=root.level or logging.INFO, folder=home)

    def restore() -> None:
        for handler in [h for h in root.handlers if getattr(h, "_qwenvl", False)]:
            root.removeHandler(handler)
            handler.close()
        for handler in previous:
            root.addHandler(handler)

    return restore


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
    previous_backend = keyring.get_keyring()
    try:
        with tempfile.TemporaryDirectory(prefix="qwenvl-self-test-",
                                         ignore_cleanup_errors=True) as tmp:
            home = Path(tmp)
            os.environ["QWENVL_DESKTOP_HOME"] = str(home)
            restore_logging = _log_to(home)
            report.check("environment", lambda: check_environment(home))
            report.check("tls certificates", check_tls)
            report.check("image formats", check_image_formats)
            report.check("markdown renderer", check_markdown)
            from .selftest_media import check_pdf, check_video

            report.check("pdf renderer", check_pdf)
            report.check("video decoder", check_video)
            from .selftest_text import check_text_services, check_translations

            report.check("text services", check_text_services)
            report.check("translations", check_translations)
            check_keyring(report)
            # Imported only now: keyring would take any backend class defined before it
            # first chooses one, and this one must never stand in for the real backend.
            from .testing.memory_keyring import MemoryKeyring

            # Nothing below may reach the real keyring, even by accident.
            keyring.set_keyring(MemoryKeyring())
            try:
                from .selftest_window import run_window

                run_window(report, home, answer, timeout)
            except Exception as err:
                report.fail("window", f"the window could not run: {_describe(err)}")
            finally:
                restore_logging()
            # After the window: Qt's sockets want the application's event dispatcher.
            report.check("instance socket", lambda: check_instance_socket(home))
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
