"""The attachment tray above the message input: what will be sent, and what it costs.

One card per image: a thumbnail, the size it has → the size the model will see
(`tokens.target_size`), its token estimate for the chosen model, and a remove button;
one card per document or video (media_cards.py); below the cards, the total tokens.
Thumbnails are decoded on a worker thread (a 4K PNG takes tens of milliseconds); a
decode that fails there means the file is truncated or corrupt, and the card is
replaced by a message saying so.
"""

from __future__ import annotations

import hashlib
import itertools
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QSize, Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..core.catalog import Model, Provider
from ..core.i18n import _, ngettext
from ..core.tokens import target_size
from .media_cards import DocumentCard, MediaCard, PreparedCard, VideoCard
from .media_items import PendingDocument, PendingPrepared, PendingVideo
from .theme.icons import icon
from .theme.tokens import FONT_SCALE
from .widgets import InlineNote

if TYPE_CHECKING:
    from ..core.images import ImageInfo

__all__ = ["AttachmentCard", "AttachmentTray", "PendingAttachment", "PendingItem",
           "make_thumbnail"]

THUMB = QSize(96, 72)
_CARD_WIDTH = 150


@dataclass
class PendingAttachment:
    """An image waiting in the tray: the original bytes and what is known about them."""

    data: bytes
    name: str
    info: ImageInfo
    source_url: str = ""

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


PendingItem = PendingAttachment | PendingDocument | PendingVideo | PendingPrepared
"""Anything the tray holds for the next message."""


# --- thumbnails off the GUI thread ----------------------------------------------------

def make_thumbnail(data: bytes, size: QSize = THUMB) -> QImage:
    """A small upright preview; raises OSError/ValueError when the data cannot be decoded.

    Runs on a worker thread: QImage (unlike QPixmap) may be built off the GUI thread.
    Decoding every pixel here also catches files whose header is fine but whose data
    is truncated, which the header-only `inspect_image` cannot see.
    """
    # Pillow is imported here, on the worker, not to start the window.
    from PIL import ImageOps

    from ..core.image_checks import open_checked

    # open_checked, not Image.open: Pillow's own bomb check refuses a 108 MP phone photo.
    with open_checked(data, "image") as im:
        im.draft("RGB", (size.width() * 2, size.height() * 2))   # JPEG: decode scaled
        im.load()
        upright = ImageOps.exif_transpose(im)
        upright.thumbnail((size.width(), size.height()))
        rgba = upright.convert("RGBA")
        raw = rgba.tobytes()
        image = QImage(raw, rgba.width, rgba.height, rgba.width * 4,
                       QImage.Format.Format_RGBA8888)
        return image.copy()       # own the pixels; `raw` goes away with this frame


class _Thumbnailer(QObject):
    """Runs thumbnail jobs on two worker threads; results arrive as a queued signal."""

    done = Signal(int, QImage, str)     # job id, image (null on failure), error text

    def __init__(self) -> None:
        super().__init__()
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="thumbnails")
        self._ids = itertools.count(1)

    def submit(self, data: bytes) -> int:
        job = next(self._ids)
        self._pool.submit(self._run, job, data)
        return job

    def _run(self, job: int, data: bytes) -> None:
        try:
            image = make_thumbnail(data)
        except Exception as err:   # any decoder failure means: cannot be shown or sent
            self.done.emit(job, QImage(), type(err).__name__)
            return
        self.done.emit(job, image, "")


_thumbnailer: _Thumbnailer | None = None


def _get_thumbnailer() -> _Thumbnailer:
    """The process-wide thumbnailer, created on first use (in the GUI thread)."""
    global _thumbnailer
    if _thumbnailer is None:
        _thumbnailer = _Thumbnailer()
    return _thumbnailer


# --- the cards --------------------------------------------------------------------------

class AttachmentCard(QFrame):
    """One image (or one download in progress) in the tray."""

    remove_clicked = Signal()

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("attachmentCard")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setFixedWidth(_CARD_WIDTH)
        self.thumb = QLabel(self)
        self.thumb.setFixedSize(THUMB)
        self.thumb.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.thumb.setText("…")
        self.name_label = QLabel(self)
        self.name_label.setToolTip(title)
        self.size_label = QLabel(self)
        self.tokens_label = QLabel(self)
        for label in (self.name_label, self.size_label, self.tokens_label):
            label.setTextFormat(Qt.TextFormat.PlainText)
        small = self.size_label.font()
        small.setPointSizeF(max(6.0, small.pointSizeF() * FONT_SCALE.caption))
        self.size_label.setFont(small)
        self.tokens_label.setFont(small)
        self.remove_button = QToolButton(self)
        self.remove_button.setIcon(icon("close"))
        self.remove_button.setAutoRaise(True)
        self.remove_button.setAccessibleName(_("Remove {title}").format(title=title))
        self.remove_button.setToolTip(_("Remove {title}").format(title=title))
        self.remove_button.clicked.connect(self.remove_clicked)

        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.thumb)
        top.addWidget(self.remove_button, 0, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(1)
        layout.addLayout(top)
        layout.addWidget(self.name_label)
        layout.addWidget(self.size_label)
        layout.addWidget(self.tokens_label)
        self._set_name(title)

    def _set_name(self, title: str) -> None:
        metrics = self.name_label.fontMetrics()
        self.name_label.setText(metrics.elidedText(title, Qt.TextElideMode.ElideMiddle,
                                                   _CARD_WIDTH - 10))

    def set_thumbnail(self, image: QImage) -> None:
        self.thumb.setPixmap(QPixmap.fromImage(image))


class _Entry:
    """A card and what it shows: an attachment, or a download or read still running."""

    def __init__(self, card: AttachmentCard | MediaCard,
                 attachment: PendingItem | None) -> None:
        self.card = card
        self.attachment = attachment
        self.tokens = 0
        self.job = 0


# --- the tray ---------------------------------------------------------------------------

class AttachmentTray(QWidget):
    """Cards for every image of the next message, the token total and inline notes.

    `changed()` fires when images are added or removed. `remove_requested(handle)`
    fires when the × of a download in progress is clicked (the composer cancels it).
    `decode_failed(name, message)` fires when an image turns out to be unreadable.
    """

    changed = Signal()
    remove_requested = Signal(int)
    decode_failed = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._entries: dict[int, _Entry] = {}
        self._handles = itertools.count(1)
        self._model: Model | None = None
        self._provider: Provider | None = None
        self._high_resolution = False

        self.strip = QWidget(self)
        self.strip_layout = QHBoxLayout(self.strip)
        self.strip_layout.setContentsMargins(0, 0, 0, 0)
        self.strip_layout.addStretch(1)
        self.scroller = QScrollArea(self)
        self.scroller.setObjectName("trayScroller")
        self.scroller.setWidget(self.strip)
        self.scroller.setWidgetResizable(True)
        self.scroller.setFrameShape(QFrame.Shape.NoFrame)
        self.scroller.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroller.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.scroller.setFixedHeight(THUMB.height() + 80)
        self.total_label = QLabel(self)
        self.total_label.setAccessibleName(_("Image tokens for this message"))
        self.vision_note = InlineNote(self)
        self.vision_note.setAccessibleName(_("Vision warning"))
        self.error_note = InlineNote(self)
        self.error_note.setAccessibleName(_("Attachment problems"))

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.scroller)
        layout.addWidget(self.total_label)
        layout.addWidget(self.vision_note)
        layout.addWidget(self.error_note)
        _get_thumbnailer().done.connect(self._on_thumbnail)
        self._update()

    # --- content -----------------------------------------------------------------------

    def add(self, attachment: PendingItem) -> int:
        """Add a card for an image, a document or a video; returns its handle."""
        if not isinstance(attachment, PendingAttachment):
            return self._add_media(attachment)
        handle = next(self._handles)
        card = AttachmentCard(attachment.name, self.strip)
        card.remove_clicked.connect(lambda h=handle: self.remove(h))
        entry = _Entry(card, attachment)
        self._entries[handle] = entry
        self.strip_layout.insertWidget(self.strip_layout.count() - 1, card)
        entry.job = _get_thumbnailer().submit(attachment.data)
        self._describe(entry)
        self._update()
        self.changed.emit()
        return handle

    def _add_media(self, item: PendingDocument | PendingVideo | PendingPrepared) -> int:
        handle = next(self._handles)
        card: MediaCard
        if isinstance(item, PendingDocument):
            card = DocumentCard(item, self.strip)
        elif isinstance(item, PendingVideo):
            card = VideoCard(item, self.strip)
        else:
            card = PreparedCard(item, self.strip)
        card.remove_clicked.connect(lambda h=handle: self.remove(h))
        card.changed.connect(self._media_changed)
        entry = _Entry(card, item)
        self._entries[handle] = entry
        self.strip_layout.insertWidget(self.strip_layout.count() - 1, card)
        self._describe(entry)
        self._update()
        self.changed.emit()
        return handle

    def _media_changed(self) -> None:
        self._update()
        self.changed.emit()

    def media_card(self, handle: int) -> MediaCard:
        card = self._entries[handle].card
        assert isinstance(card, MediaCard)
        return card

    def problems(self) -> list[str]:
        """Why documents or videos in the tray cannot be sent as they are set now."""
        return [p for e in self._entries.values() if isinstance(e.card, MediaCard)
                and (p := e.card.problem())]

    def add_pending(self, title: str, status: str = _("downloading…")) -> int:
        """A card for a download or a read still running; its × emits `remove_requested`."""
        handle = next(self._handles)
        card = AttachmentCard(title, self.strip)
        card.thumb.setText("⇣" if status.startswith("download") else "…")
        card.size_label.setText(status)
        card.remove_button.setToolTip(_("Cancel the download of {title}").format(title=title)
                                      if status.startswith("download")
                                      else _("Remove {title}").format(title=title))
        card.remove_clicked.connect(lambda h=handle: self.remove_requested.emit(h))
        self._entries[handle] = _Entry(card, None)
        self.strip_layout.insertWidget(self.strip_layout.count() - 1, card)
        self._update()
        return handle

    def remove(self, handle: int) -> None:
        entry = self._entries.pop(handle, None)
        if entry is None:
            return
        entry.card.hide()
        entry.card.deleteLater()
        self._update()
        if entry.attachment is not None:
            self.changed.emit()

    def clear(self) -> None:
        """Remove every card (downloads too) and every note."""
        had_images = bool(self.attachments())
        for handle in list(self._entries):
            entry = self._entries.pop(handle)
            entry.card.hide()
            entry.card.deleteLater()
        self.error_note.clear_message()
        self._update()
        if had_images:
            self.changed.emit()

    def attachments(self) -> list[PendingItem]:
        """The images, documents and videos of the message, in the order they were added."""
        return [e.attachment for e in self._entries.values() if e.attachment is not None]

    def handles(self) -> list[int]:
        return [h for h, e in self._entries.items() if e.attachment is not None]

    def pending_count(self) -> int:
        return sum(1 for e in self._entries.values() if e.attachment is None)

    def pending_handles(self) -> list[int]:
        return [h for h, e in self._entries.items() if e.attachment is None]

    def contains_item(self, item: PendingItem) -> bool:
        return any(a.sha256 == item.sha256 for a in self.attachments())

    def card(self, handle: int) -> AttachmentCard:
        card = self._entries[handle].card
        assert isinstance(card, AttachmentCard)
        return card

    def contains(self, data: bytes) -> bool:
        digest = hashlib.sha256(data).hexdigest()
        return any(a.sha256 == digest for a in self.attachments())

    # --- estimates ---------------------------------------------------------------------

    def set_target(self, model: Model | None, high_resolution: bool = False,
                   provider: Provider | None = None) -> None:
        """Re-estimate every card for this model (sizes and tokens change with it); the
        provider decides how a video is sent, and so what it costs."""
        self._model = model
        self._provider = provider
        self._high_resolution = high_resolution
        for entry in self._entries.values():
            self._describe(entry)
        self._update()

    def total_tokens(self) -> int:
        return sum(e.card.tokens() if isinstance(e.card, MediaCard) else e.tokens
                   for e in self._entries.values() if e.attachment is not None)

    def token_estimate(self, handle: int) -> int:
        entry = self._entries[handle]
        return entry.card.tokens() if isinstance(entry.card, MediaCard) else entry.tokens

    def _describe(self, entry: _Entry) -> None:
        att = entry.attachment
        if isinstance(entry.card, MediaCard):
            entry.card.set_target(self._model, self._provider, self._high_resolution)
            return
        if not isinstance(att, PendingAttachment) or not isinstance(entry.card, AttachmentCard):
            return
        info, model = att.info, self._model
        frames = _(", {frames} frames (first is sent)").format(
            frames=info.frames) if info.frames > 1 else ""
        tip = (_("{name}\n{format}, {width}×{height}, {value:,.0f} kB{frames}").format(
            name=att.name, format=info.format, width=info.width, height=info.height,
            value=info.bytes / 1000, frames=frames))
        if att.source_url:
            tip += _("\nfrom {source_url}").format(source_url=att.source_url)
        if model is None:
            entry.tokens = 0
            entry.card.size_label.setText(f"{info.width}×{info.height}")
            entry.card.tokens_label.setText("")
        else:
            from ..core.images import estimate_tokens

            width, height = target_size(info.width, info.height, model, self._high_resolution)
            entry.tokens = estimate_tokens(info, model, self._high_resolution)
            entry.card.size_label.setText(f"{info.width}×{info.height} → {width}×{height}")
            entry.card.tokens_label.setText(_("≈ {tokens:,} tokens").format(tokens=entry.tokens))
            tip += (_("\n{label} sees it at {width}×{height}: {tokens:,} tokens").format(
                label=model.label, width=width, height=height, tokens=entry.tokens))
        entry.card.setToolTip(tip)
        entry.card.thumb.setAccessibleName(_("Thumbnail of {name}").format(name=att.name))

    # --- notes -------------------------------------------------------------------------

    def show_errors(self, messages: list[str]) -> None:
        """Show problems with what was just dropped, pasted or picked (one per line)."""
        if messages:
            self.error_note.show_message("\n".join(messages), "error")
        else:
            self.error_note.clear_message()
        self._update()

    def show_info(self, message: str) -> None:
        self.error_note.show_message(message, "info")
        self._update()

    def clear_notes(self) -> None:
        self.error_note.clear_message()
        self._update()

    def vision_warning(self) -> str:
        return self.vision_note.text() if self.vision_note.isVisibleTo(self) else ""

    def error_text(self) -> str:
        return self.error_note.text() if self.error_note.isVisibleTo(self) else ""

    # --- internals ---------------------------------------------------------------------

    def _update(self) -> None:
        items = self.attachments()
        images = [a for a in items if isinstance(a, PendingAttachment)]
        documents = [a for a in items if isinstance(a, PendingDocument)
                     or (isinstance(a, PendingPrepared) and a.media.kind == "document")]
        videos = [a for a in items if isinstance(a, PendingVideo)
                  or (isinstance(a, PendingPrepared) and a.media.kind == "video")]
        busy = self.pending_count()
        self.scroller.setVisible(bool(self._entries))
        model = self._model
        if items or busy:
            parts = []
            if images or not (documents or videos):
                parts.append(ngettext("{count} image", "{count} images", len(images))
                             .format(count=len(images)))
            if documents:
                parts.append(ngettext("{count} document", "{count} documents", len(documents))
                             .format(count=len(documents)))
            if videos:
                parts.append(ngettext("{count} video", "{count} videos", len(videos))
                             .format(count=len(videos)))
            if model is not None and items:
                mode = _(" (high resolution)") if self._high_resolution else ""
                kind = _("image tokens") if not (documents or videos) else "tokens"
                parts.append(_("≈ {total_tokens:,} {kind} on {label}{mode}").format(
                    total_tokens=self.total_tokens(), kind=kind, label=model.label, mode=mode))
            if busy:
                parts.append(_("{busy} downloading or being read").format(busy=busy))
            self.total_label.setText(" · ".join(parts))
            self.total_label.show()
        else:
            self.total_label.clear()
            self.total_label.hide()
        if items and model is not None and not model.vision:
            self.vision_note.show_message(
                _("{id} cannot see images; pick a vision model or remove the images.").format(
                    id=model.id),
                "warning")
        else:
            self.vision_note.clear_message()
        self.setVisible(bool(self._entries) or bool(self.error_note.text()))

    def _on_thumbnail(self, job: int, image: QImage, error: str) -> None:
        for handle, entry in self._entries.items():
            if entry.job != job or entry.attachment is None:
                continue
            if error or image.isNull():
                name = entry.attachment.name
                self.remove(handle)
                message = (_("{name}: the file is truncated or corrupt; it cannot be shown or "
                             "sent").format(name=name))
                self.decode_failed.emit(name, message)
            elif isinstance(entry.card, AttachmentCard):
                entry.card.set_thumbnail(image)
            return
