"""Getting images into the composer: drops, paste, downloads, screenshots, bad files.

Drops are simulated the way Qt delivers them: QDragEnterEvent, QDragMoveEvent and
QDropEvent carrying a QMimeData, sent to the widget under the pointer.
"""

from __future__ import annotations

import asyncio
import functools
import io
import re
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import keyring
import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, QPoint, QRect, Qt, QTimer, QUrl
from PySide6.QtGui import (
    QColor,
    QGuiApplication,
    QImage,
    QPixmap,
)
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot
from qt_drops import simulate_drop

from qwenvl_desktop.core.catalog import load_builtin
from qwenvl_desktop.core.secrets import KeyStore
from qwenvl_desktop.services import Services
from qwenvl_desktop.ui import screenshot
from qwenvl_desktop.ui.composer import Composer

# --- sample files -----------------------------------------------------------------------


def png_bytes(width: int, height: int, colour: tuple[int, int, int] = (40, 120, 200)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, "PNG")
    return buffer.getvalue()


def jpeg_bytes(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 80, 20)).save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


def noisy_png(width: int, height: int) -> bytes:
    """A PNG whose pixel data is large enough that cutting it loses rows."""
    image = Image.effect_noise((width, height), 64).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def bomb_png(width: int = 30000, height: int = 30000) -> bytes:
    """A valid PNG header announcing 900 megapixels (no decoder will ever see pixels)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + chunk(b"IEND", b""))


@functools.cache
def samples() -> dict[str, bytes]:
    """Every sample file's bytes, made once per session (encoding them is the slow part)."""
    whole = noisy_png(600, 400)
    return {
        "photo.png": png_bytes(1920, 1080),
        "second.jpg": jpeg_bytes(800, 600),
        "notes.png": b"These are my meeting notes, not a picture.\n" * 20,
        "logo.svg": (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" '
                     b'width="10" height="10"><rect width="10" height="10"/></svg>\n'),
        "paper.pdf": b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n",
        "empty.png": b"",
        "tiny.png": png_bytes(8, 8),
        "strip.png": png_bytes(3300, 11),
        "bomb.png": bomb_png(),
        "truncated.png": whole[: len(whole) // 2],
    }


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    made: dict[str, Path] = {}
    for name, data in samples().items():
        path = tmp_path / name
        path.write_bytes(data)
        made[name] = path
    folder = tmp_path / "holiday"
    folder.mkdir()
    made["holiday"] = folder
    return made


# --- the composer on services with a fake web ---------------------------------------------

PAGES: dict[str, tuple[int, str, bytes]] = {
    "https://images.example/cat.png": (200, "image/png", png_bytes(640, 480, (10, 10, 10))),
    "https://images.example/page": (200, "text/html", b"<html><body>hi</body></html>"),
    "https://images.example/huge.png": (200, "image/png", b"\x89PNG" + b"\0" * 21_000_000),
}


def fake_web(request: httpx.Request) -> httpx.Response:
    status, ctype, body = PAGES.get(str(request.url), (404, "text/plain", b"not found"))
    return httpx.Response(status, headers={"content-type": ctype}, content=body)


@pytest.fixture
def services(qasync_loop: asyncio.AbstractEventLoop, qtbot: QtBot) -> Iterator[Services]:
    http = httpx.AsyncClient(transport=httpx.MockTransport(fake_web))
    svc = Services.create(http=http, keystore=KeyStore(keyring.get_keyring()))
    yield svc
    closing = qasync_loop.create_task(http.aclose())
    qtbot.waitUntil(closing.done)


@pytest.fixture
def composer(qtbot: QtBot, services: Services) -> Composer:
    widget = Composer(services)
    qtbot.addWidget(widget)
    provider = load_builtin().get("dashscope-intl")
    widget.set_target(provider, provider.model("qwen3-vl-plus"))
    widget.resize(700, 300)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def drop(target: QWidget, mime: QMimeData) -> None:
    """Deliver a drag-and-drop the way Qt does: enter, move, drop."""
    assert simulate_drop(target, mime), "the drag was refused at the door"


def file_mime(*paths: Path) -> QMimeData:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    return mime


def names(composer: Composer) -> list[str]:
    return [a.name for a in composer.attachments()]


# --- drops ------------------------------------------------------------------------------

def test_dropping_image_files_adds_one_card_each(composer: Composer,
                                                 files: dict[str, Path]) -> None:
    drop(composer, file_mime(files["photo.png"], files["second.jpg"]))
    assert names(composer) == ["photo.png", "second.jpg"]
    photo = composer.attachments()[0]
    assert (photo.info.width, photo.info.height) == (1920, 1080)
    assert photo.data == files["photo.png"].read_bytes()
    assert composer.tray.error_text() == ""


def test_drop_on_the_text_field_attaches_instead_of_inserting_a_path(
        composer: Composer, files: dict[str, Path]) -> None:
    composer.set_text("What is this?")
    drop(composer.input.viewport(), file_mime(files["photo.png"]))
    assert names(composer) == ["photo.png"]
    assert composer.text() == "What is this?"


@pytest.mark.parametrize(("name", "reason"), [
    ("holiday", "folder"),
    ("notes.png", "text file"),
    ("logo.svg", "SVG"),
    ("paper.pdf", "PDF"),
    ("empty.png", "empty"),
    ("tiny.png", "too small"),
    ("strip.png", "at most 200:1"),
    ("bomb.png", "decompression bomb"),
])
def test_bad_files_are_named_with_a_reason_and_nothing_is_lost(
        composer: Composer, files: dict[str, Path], qtbot: QtBot,
        name: str, reason: str) -> None:
    drop(composer, file_mime(files["photo.png"]))
    errors: list[str] = []
    composer.error.connect(errors.append)

    drop(composer, file_mime(files[name]))

    # Documents are read on the media worker: their verdict arrives a moment later.
    qtbot.waitUntil(lambda: len(errors) >= 1)
    assert len(errors) == 1
    assert errors[0].startswith(f"{name}:")
    assert reason in errors[0]
    assert errors[0] in composer.tray.error_text()       # shown in place, too
    assert composer.tray.error_note.isVisible()
    assert names(composer) == ["photo.png"]               # nothing already attached lost


def test_mixed_drop_keeps_the_good_and_reports_the_bad(composer: Composer,
                                                       files: dict[str, Path]) -> None:
    errors: list[str] = []
    composer.error.connect(errors.append)
    drop(composer, file_mime(files["photo.png"], files["notes.png"], files["second.jpg"],
                             files["logo.svg"]))
    assert names(composer) == ["photo.png", "second.jpg"]
    assert [e.split(":")[0] for e in errors] == ["notes.png", "logo.svg"]


def test_truncated_file_is_reported_when_its_pixels_fail(
        composer: Composer, files: dict[str, Path], qtbot: QtBot) -> None:
    with qtbot.waitSignal(composer.error) as blocker:
        drop(composer, file_mime(files["truncated.png"]))
    assert blocker.args[0].startswith("truncated.png:")
    assert "truncated or corrupt" in blocker.args[0]
    assert names(composer) == []
    assert "truncated.png" in composer.tray.error_text()


def test_dropped_image_data_from_another_app(composer: Composer) -> None:
    image = QImage(320, 200, QImage.Format.Format_RGB32)
    image.fill(QColor("tomato"))
    mime = QMimeData()
    mime.setImageData(image)
    drop(composer, mime)
    assert len(composer.attachments()) == 1
    item = composer.attachments()[0]
    assert re.fullmatch(r"dropped-\d{8}-\d{6}\.png", item.name)
    assert (item.info.width, item.info.height) == (320, 200)


def test_dropped_encoded_bytes_keep_their_format_and_url_name(composer: Composer) -> None:
    mime = QMimeData()
    mime.setData("image/jpeg", jpeg_bytes(400, 300))
    mime.setUrls([QUrl("https://images.example/photos/beach")])
    drop(composer, mime)
    item = composer.attachments()[0]
    assert item.name == "beach.jpg"
    assert item.info.format == "JPEG"
    assert item.source_url == "https://images.example/photos/beach"


def test_dropped_web_link_is_downloaded_with_a_progress_card(composer: Composer,
                                                             qtbot: QtBot) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl("https://images.example/cat.png")])
    drop(composer, mime)
    assert composer.tray.pending_count() == 0       # offered, not fetched on its own
    qtbot.mouseClick(composer.link_offer.attach_button, Qt.MouseButton.LeftButton)
    assert composer.tray.pending_count() == 1
    assert "downloading" in composer.tray.total_label.text()
    qtbot.waitUntil(lambda: names(composer) == ["cat.png"])
    assert composer.tray.pending_count() == 0
    assert composer.attachments()[0].source_url == "https://images.example/cat.png"


@pytest.mark.parametrize(("url", "reason"), [
    ("https://images.example/page", "not an image"),
    ("https://images.example/missing.png", "HTTP 404"),
    ("https://images.example/huge.png", "limit"),
])
def test_bad_web_links_are_explained(composer: Composer, qtbot: QtBot, url: str,
                                     reason: str) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl(url)])
    drop(composer, mime)
    with qtbot.waitSignal(composer.error) as blocker:
        qtbot.mouseClick(composer.link_offer.attach_button, Qt.MouseButton.LeftButton)
    assert reason in blocker.args[0]
    assert composer.tray.pending_count() == 0
    assert names(composer) == []


def test_non_image_drops_are_refused_with_a_message(composer: Composer) -> None:
    errors: list[str] = []
    composer.error.connect(errors.append)
    mime = QMimeData()
    mime.setText("just some words")
    drop(composer, mime)
    assert errors
    assert "not an image" in errors[0]

    mime = QMimeData()
    mime.setUrls([QUrl("ftp://files.example/pic.png")])
    drop(composer, mime)
    assert "only image files and http(s) image links" in errors[-1]
    assert names(composer) == []


# --- paste ------------------------------------------------------------------------------

def test_ctrl_v_pastes_a_clipboard_image(composer: Composer, qtbot: QtBot) -> None:
    image = QImage(500, 300, QImage.Format.Format_RGB32)
    image.fill(QColor("steelblue"))
    QGuiApplication.clipboard().setImage(image)
    composer.input.setFocus()
    qtbot.keyClick(composer.input, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert len(composer.attachments()) == 1
    assert re.fullmatch(r"pasted-\d{8}-\d{6}\.png", composer.attachments()[0].name)
    assert composer.text() == ""


def test_ctrl_v_of_a_file_url_attaches_and_plain_text_still_pastes(
        composer: Composer, files: dict[str, Path], qtbot: QtBot) -> None:
    QGuiApplication.clipboard().setText(QUrl.fromLocalFile(str(files["photo.png"])).toString())
    qtbot.keyClick(composer.input, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert names(composer) == ["photo.png"]

    QGuiApplication.clipboard().setText("plain words")
    qtbot.keyClick(composer.input, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert composer.text() == "plain words"
    assert names(composer) == ["photo.png"]


def test_duplicate_image_is_reported_not_added_twice(composer: Composer,
                                                     files: dict[str, Path]) -> None:
    composer.add_files([files["photo.png"]])
    errors: list[str] = []
    composer.error.connect(errors.append)
    composer.add_files([files["photo.png"]])
    assert names(composer) == ["photo.png"]
    assert errors == ["photo.png: this image is attached already."]


# --- screenshots ------------------------------------------------------------------------

def test_capture_full_grabs_the_virtual_desktop_and_shows_the_window_again(
        qtbot: QtBot) -> None:
    window = QWidget()
    qtbot.addWidget(window)
    window.resize(300, 200)
    window.show()
    qtbot.waitExposed(window)

    image = screenshot.capture_full(window)

    assert image is not None
    virtual = screenshot.virtual_geometry()
    scale = max(s.devicePixelRatio() for s in QGuiApplication.screens())
    assert (image.width(), image.height()) == (round(virtual.width() * scale),
                                               round(virtual.height() * scale))
    assert window.isVisible()


def test_region_capture_crops_to_the_dragged_rectangle(qtbot: QtBot) -> None:
    def drag() -> None:
        overlay = next(w for w in QApplication.topLevelWidgets()
                       if isinstance(w, screenshot.RegionOverlay) and w.isVisible())
        QTest.mousePress(overlay, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                         QPoint(10, 20))
        QTest.mouseMove(overlay, QPoint(60, 50))
        QTest.mouseRelease(overlay, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                           QPoint(110, 70))

    QTimer.singleShot(0, drag)
    image = screenshot.capture_region(None)
    assert image is not None
    assert (image.width(), image.height()) == (100, 50)


def test_region_capture_escape_cancels(qtbot: QtBot) -> None:
    def escape() -> None:
        overlay = next(w for w in QApplication.topLevelWidgets()
                       if isinstance(w, screenshot.RegionOverlay) and w.isVisible())
        QTest.keyClick(overlay, Qt.Key.Key_Escape)

    QTimer.singleShot(0, escape)
    assert screenshot.capture_region(None) is None


def test_screenshot_lands_in_the_tray_with_its_name(composer: Composer) -> None:
    composer.capture_full_screen()
    assert len(composer.attachments()) == 1
    assert re.fullmatch(r"screenshot-\d{8}-\d{6}\.png", composer.attachments()[0].name)
    assert composer.isVisible()


class FakeScreen:
    """A monitor as QScreen describes it, whose grab is a plain colour."""

    def __init__(self, rect: QRect, colour: str, dpr: float = 1.0, works: bool = True) -> None:
        self.rect, self.colour, self.dpr, self.works = rect, colour, dpr, works

    def geometry(self) -> QRect:
        return self.rect

    def devicePixelRatio(self) -> float:
        return self.dpr

    def refreshRate(self) -> float:
        return 60.0

    def grabWindow(self, window: int = 0) -> QPixmap:
        if not self.works:
            return QPixmap()
        pixmap = QPixmap(round(self.rect.width() * self.dpr),
                         round(self.rect.height() * self.dpr))
        pixmap.fill(QColor(self.colour))
        return pixmap


class FakeDesktop:
    """Stands in for QGuiApplication's screen list: the monitors of another machine."""

    def __init__(self, *screens: FakeScreen) -> None:
        self._screens = list(screens)

    def screens(self) -> list[FakeScreen]:
        return self._screens

    def platformName(self) -> str:
        return "wayland"


def test_several_monitors_are_stitched_by_their_place(monkeypatch: pytest.MonkeyPatch) -> None:
    # A 1x monitor on the left and a HiDPI (2x) one to its right, top-aligned.
    desktop = FakeDesktop(FakeScreen(QRect(0, 0, 800, 600), "red"),
                          FakeScreen(QRect(800, 0, 400, 300), "blue", dpr=2.0))
    monkeypatch.setattr(screenshot, "QGuiApplication", desktop)
    assert screenshot.virtual_geometry() == QRect(0, 0, 1200, 600)

    image = screenshot.grab_virtual_desktop()

    assert (image.width(), image.height()) == (2400, 1200)    # drawn at the finest scale
    assert image.pixelColor(100, 100) == QColor("red")
    assert image.pixelColor(1599, 1199) == QColor("red")
    assert image.pixelColor(1700, 100) == QColor("blue")
    assert image.pixelColor(2399, 599) == QColor("blue")
    assert image.pixelColor(2000, 1000) == QColor("black")     # no monitor there


def test_unreadable_screen_is_explained_in_the_tray(composer: Composer,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    desktop = FakeDesktop(FakeScreen(QRect(0, 0, 800, 600), "red", works=False))
    monkeypatch.setattr(screenshot, "QGuiApplication", desktop)
    errors: list[str] = []
    composer.error.connect(errors.append)
    composer.capture_full_screen()
    assert composer.attachments() == []
    assert errors
    assert "does not let apps capture the screen" in errors[0]
    assert "Ctrl+V" in composer.tray.error_text()
    assert composer.isVisible()
