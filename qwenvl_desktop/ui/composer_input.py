"""The composer's text field, and how images offered by other apps are recognised.

Drops and pastes arrive as QMimeData in many shapes: file URLs from file managers,
encoded bytes (image/png, image/jpeg) or Qt's own image from browsers and screenshot
tools, web links from a browser's address bar, or links and paths pasted as text.
These helpers tell them apart; the composer decides what to do with each. Text is
text: a pasted web link goes in as text (the composer offers to fetch it), Ctrl+Shift+V
pastes only the plain text, whatever else the clipboard holds.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

from PySide6.QtCore import QBuffer, QIODevice, QMimeData, Qt, QUrl, Signal
from PySide6.QtGui import QGuiApplication, QImage, QKeyEvent
from PySide6.QtWidgets import QPlainTextEdit, QWidget

from ..core.i18n import _

__all__ = [
    "ComposerInput",
    "ImageHost",
    "encoded_image",
    "name_from_url",
    "offers_image",
    "png_bytes",
    "remote_links",
    "text_urls",
    "timestamp",
]


class ImageHost(Protocol):
    """What the text field needs from the composer that owns it."""

    def is_streaming(self) -> bool: ...

    def add_mime(self, mime: QMimeData, *, pasted: bool = False) -> None: ...

    def offer_links(self, urls: list[str]) -> None: ...


_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp", ".tif", ".tiff",
                   ".avif", ".jfif")
# Raw encoded image formats offered by other apps, best first (kept byte for byte).
_IMAGE_MIME = ("image/png", "image/jpeg", "image/webp", "image/gif", "image/bmp",
               "image/tiff", "image/avif")


def timestamp() -> str:
    """Local time as YYYYmmdd-HHMMSS, for names of pasted and dropped images."""
    return f"{datetime.now():%Y%m%d-%H%M%S}"


def name_from_url(url: str, fallback: str) -> str:
    """The file name a link points at (percent-decoded), or `fallback-host`."""
    parts = urlsplit(url)
    tail = unquote(parts.path.rsplit("/", 1)[-1]) if parts.path else ""
    return tail or (f"{fallback}-{parts.hostname}" if parts.hostname else fallback)


def text_urls(text: str) -> list[QUrl] | None:
    """URLs when the text is nothing but links or image paths (one per line); else None."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not lines or len(lines) > 50:
        return None
    urls: list[QUrl] = []
    for line in lines:
        low = line.lower()
        if low.startswith(("http://", "https://", "file://")) and " " not in line:
            urls.append(QUrl(line))
        elif low.endswith(_IMAGE_SUFFIXES) and Path(line).expanduser().is_absolute() \
                and Path(line).expanduser().is_file():
            urls.append(QUrl.fromLocalFile(str(Path(line).expanduser())))
        else:
            return None
    return urls


def encoded_image(mime: QMimeData) -> tuple[bytes, str] | None:
    """Image bytes offered by another app: encoded as they were, else Qt's image as PNG."""
    formats = mime.formats()
    for kind in _IMAGE_MIME:
        if kind in formats:
            data = bytes(mime.data(kind).data())
            if data:
                return data, kind.split("/", 1)[1].replace("jpeg", "jpg")
    if mime.hasImage():
        image = mime.imageData()
        if isinstance(image, QImage) and not image.isNull():
            return png_bytes(image), "png"
    return None


def png_bytes(image: QImage) -> bytes:
    """A QImage (clipboard, screenshot) encoded losslessly as PNG."""
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    # Quality 50 maps to a middle zlib level: lossless, and fast enough for 4K shots.
    # PySide6 6.11 takes the format as str at run time; its stubs say bytes.
    image.save(buffer, "PNG", 50)  # type: ignore[call-overload]
    return bytes(buffer.data().data())


def offers_image(mime: QMimeData) -> bool:
    """Whether a drop or paste is (or claims to be) images rather than plain text."""
    if mime.hasUrls() or mime.hasImage():
        return True
    formats = mime.formats()
    if any(kind in formats for kind in (*_IMAGE_MIME, "image/svg+xml")):
        return True
    return mime.hasText() and text_urls(mime.text()) is not None


def remote_links(mime: QMimeData) -> list[str] | None:
    """The web links a paste or drop is made of, when it is nothing but web links and
    carries no image data of its own (None otherwise)."""
    if encoded_image(mime) is not None or "image/svg+xml" in mime.formats():
        return None
    urls = list(mime.urls()) if mime.hasUrls() else []
    if not urls and mime.hasText():
        urls = text_urls(mime.text()) or []
    if not urls or not all(u.scheme() in ("http", "https") for u in urls):
        return None
    return [u.toString() for u in urls]


class ComposerInput(QPlainTextEdit):
    """The message field: Enter sends, Shift+Enter breaks the line, images go to the tray."""

    submitted = Signal()
    escape_pressed = Signal()

    def __init__(self, host: ImageHost, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._host = host
        self.setAccessibleName(_("Message"))
        self.setPlaceholderText(_("Ask about an image… (Enter sends, Shift+Enter: new line; "
                                  "drop or paste images)"))
        self.setTabChangesFocus(True)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            mods = event.modifiers()
            if mods & Qt.KeyboardModifier.ShiftModifier:
                self.textCursor().insertText("\n")
                event.accept()
                return
            if not mods & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier
                           | Qt.KeyboardModifier.MetaModifier):
                event.accept()
                self.submitted.emit()
                return
        plain_paste = (Qt.KeyboardModifier.ControlModifier
                       | Qt.KeyboardModifier.ShiftModifier)
        if key == Qt.Key.Key_V and event.modifiers() == plain_paste:
            # Paste as plain text: the clipboard's text only, never an image or a fetch.
            event.accept()
            self.insertPlainText(QGuiApplication.clipboard().text())
            return
        if key == Qt.Key.Key_Escape and self._host.is_streaming():
            event.accept()
            self.escape_pressed.emit()
            return
        super().keyPressEvent(event)

    # Paste and drops on the text both come through these two.
    def canInsertFromMimeData(self, source: QMimeData) -> bool:
        return offers_image(source) or super().canInsertFromMimeData(source)

    def insertFromMimeData(self, source: QMimeData) -> None:
        links = remote_links(source)
        if links:
            # A link is text; fetching it is offered, never done on paste.
            self.insertPlainText(source.text() if source.hasText() else "\n".join(links))
            self._host.offer_links(links)
            return
        if offers_image(source):
            self._host.add_mime(source, pasted=True)
            return
        super().insertFromMimeData(source)
