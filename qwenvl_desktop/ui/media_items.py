"""Documents and videos waiting in the tray, the worker that reads them, and sending them.

A PDF or a video is read on a worker thread when it is attached (PDFium parses the
file, FFmpeg decodes the first frame), so a bad file is reported at once, by name and
reason, without the window stalling. Previews (a page, a filmstrip) are drawn there
too. The pages and frames that are sent are made only when the message is sent
(`prepare_items`), at the size the chosen model reads them.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import itertools
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from ..core.errors import explain
from ..core.i18n import _

if TYPE_CHECKING:
    from PIL import Image

    from ..core.catalog import Model, Provider
    from ..core.documents import DocumentInfo
    from ..core.images import PreparedImage
    from ..core.media import PreparedMedia
    from ..core.video import VideoInfo
    from .attachment_tray import AttachmentTray

__all__ = [
    "DOCUMENT_SUFFIXES",
    "MediaIntake",
    "MediaWorker",
    "PendingDocument",
    "PendingPrepared",
    "PendingVideo",
    "media_kind",
    "media_worker",
    "pil_to_qimage",
    "prepare_items",
]

log = logging.getLogger(__name__)

DOCUMENT_SUFFIXES = (".pdf",)


@dataclass
class PendingDocument:
    """A PDF in the tray: its bytes, what PDFium said of it and the pages chosen."""

    data: bytes
    name: str
    info: DocumentInfo
    pages: list[int] = field(default_factory=list)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass
class PendingVideo:
    """A video in the tray: where it is, what FFmpeg said of it, and how to sample it."""

    path: Path
    name: str
    info: VideoInfo
    fps: float = 2.0
    max_frames: int = 32

    @property
    def sha256(self) -> str:
        # The file stays on disk; its place, size and time identify it well enough to
        # refuse the same clip twice without reading gigabytes.
        stat = self.path.stat() if self.path.exists() else None
        key = f"{self.path.resolve()}|{stat.st_size if stat else 0}|" \
              f"{stat.st_mtime_ns if stat else 0}"
        return hashlib.sha256(key.encode()).hexdigest()


@dataclass
class PendingPrepared:
    """A document or clip already sent once, given back as it was (edit and resend)."""

    media: PreparedMedia

    @property
    def name(self) -> str:
        return self.media.name

    @property
    def sha256(self) -> str:
        return hashlib.sha256("".join(f.sha256 for f in self.media.frames).encode()).hexdigest()


def media_kind(path: Path) -> str:
    """"document", "video" or "" (an image, or something the image reader judges)."""
    from ..core.video import is_video_name

    name = path.name.lower()
    if name.endswith(DOCUMENT_SUFFIXES):
        return "document"
    if is_video_name(name):
        return "video"
    try:
        with path.open("rb") as handle:
            head = handle.read(1024)
    except OSError:
        return ""
    return "document" if b"%PDF-" in head else ""


def pil_to_qimage(image: Image.Image) -> QImage:
    """A QImage that owns a copy of the pixels (safe to build off the GUI thread)."""
    rgba = image.convert("RGBA")
    raw = rgba.tobytes()
    qimage = QImage(raw, rgba.width, rgba.height, rgba.width * 4, QImage.Format.Format_RGBA8888)
    return qimage.copy()


# --- the worker -------------------------------------------------------------------------

class MediaWorker(QObject):
    """Reads documents and videos, and draws their previews, on one worker thread.

    PDFium is not thread-safe and FFmpeg decodes on threads of its own: one worker is
    enough and keeps them apart. Results arrive as queued signals on the GUI thread.
    """

    #: job id, DocumentInfo / VideoInfo (None on failure), the explained failure
    inspected = Signal(int, object, str)
    #: job id, list of QImage (empty when nothing could be drawn)
    previewed = Signal(int, list)

    def __init__(self) -> None:
        super().__init__()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="media")
        self._ids = itertools.count(1)

    def _submit(self, work: Callable[[int], None]) -> int:
        job = next(self._ids)
        self._pool.submit(work, job)
        return job

    def inspect_document(self, data: bytes, name: str) -> int:
        def work(job: int) -> None:
            from ..core.documents import inspect_document
            try:
                info: Any = inspect_document(data, name)
            except Exception as err:   # every failure becomes the person's message
                self.inspected.emit(job, None, explain(err))
                return
            self.inspected.emit(job, info, "")
        return self._submit(work)

    def inspect_video(self, path: Path, name: str) -> int:
        def work(job: int) -> None:
            from ..core.video import inspect_video
            try:
                info: Any = inspect_video(path, name)
            except Exception as err:
                self.inspected.emit(job, None, explain(err))
                return
            self.inspected.emit(job, info, "")
        return self._submit(work)

    def document_preview(self, data: bytes, name: str, box: tuple[int, int]) -> int:
        def work(job: int) -> None:
            from ..core.documents import render_thumbnail
            try:
                images = [pil_to_qimage(render_thumbnail(data, name, 1, box))]
            except Exception as err:    # no thumbnail; the card still says what it is
                log.warning("no preview of %s: %s", name, explain(err))
                images = []
            self.previewed.emit(job, images)
        return self._submit(work)

    def video_preview(self, path: Path, name: str, times: list[float],
                      box: tuple[int, int]) -> int:
        def work(job: int) -> None:
            from ..core.video import decode_frames
            try:
                frames = decode_frames(path, times, None, name)
                images = []
                for _when, frame in frames:
                    frame.thumbnail(box)
                    images.append(pil_to_qimage(frame))
            except Exception as err:    # no filmstrip; the card still says what it is
                log.warning("no preview of %s: %s", name, explain(err))
                images = []
            self.previewed.emit(job, images)
        return self._submit(work)


_worker: MediaWorker | None = None


def media_worker() -> MediaWorker:
    """The process-wide media worker, created on first use (in the GUI thread)."""
    global _worker
    if _worker is None:
        _worker = MediaWorker()
    return _worker


# --- attaching ---------------------------------------------------------------------------

class MediaIntake(QObject):
    """Attaches documents and videos to a tray: a "reading…" card while the media worker
    reads the file, then its card, or `failed(message)` naming the file and the reason.

    A card removed while its file is read is the person changing their mind: the result
    is dropped. `target()` gives the model (and high-resolution choice) the default page
    range is fitted to.
    """

    failed = Signal(str)

    def __init__(self, tray: AttachmentTray, target: Callable[[], tuple[Model | None, bool]],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._tray = tray
        self._target = target
        self._jobs: dict[int, tuple[int, Path, bytes]] = {}   # job -> (card, file, bytes)
        media_worker().inspected.connect(self._inspected)

    def start(self, path: Path, kind: str, errors: list[str]) -> bool:
        """Start reading `path` ("document" or "video"); False (reason in `errors`) if not."""
        # Imported here: PDFium and FFmpeg load in about half a second, never at start-up.
        from ..core.documents import read_document_file
        from ..core.errors import InputError

        worker = media_worker()
        data = b""
        if kind == "document":
            try:
                data = read_document_file(path)
            except InputError as err:
                errors.append(explain(err))
                return False
            if any(a.sha256 == hashlib.sha256(data).hexdigest()
                   for a in self._tray.attachments()):
                errors.append(_("{name}: this document is attached already.").format(
                    name=path.name))
                return False
        handle = self._tray.add_pending(path.name, _("reading…"))
        job = (worker.inspect_document(data, path.name) if kind == "document"
               else worker.inspect_video(path, path.name))
        self._jobs[job] = (handle, path, data)
        return True

    def busy(self) -> int:
        return len(self._jobs)

    def clear(self) -> None:
        self._jobs.clear()

    def _inspected(self, job: int, info: object, error: str) -> None:
        from ..core.documents import DocumentInfo, default_pages
        from ..core.video import VideoInfo

        entry = self._jobs.pop(job, None)
        if entry is None:
            return
        handle, path, data = entry
        if handle not in self._tray.pending_handles():
            return
        self._tray.remove(handle)
        if error:
            self.failed.emit(error)
            return
        model, high_resolution = self._target()
        if isinstance(info, DocumentInfo):
            pages = (default_pages(info, model, high_resolution) if model is not None
                     else list(range(1, min(info.page_count, 5) + 1)))
            self._tray.add(PendingDocument(data=data, name=path.name, info=info, pages=pages))
        elif isinstance(info, VideoInfo):
            item = PendingVideo(path=path, name=path.name, info=info)
            if self._tray.contains_item(item):
                self.failed.emit(_("{name}: this video is attached already.").format(
                    name=path.name))
                return
            self._tray.add(item)


# --- sending ----------------------------------------------------------------------------

def frame_total(items: Sequence[object]) -> int:
    """How many pictures the items will send (for the per-image byte budget)."""
    from .attachment_tray import PendingAttachment

    total = 0
    for item in items:
        if isinstance(item, PendingAttachment):
            total += 1
        elif isinstance(item, PendingDocument):
            total += len(item.pages)
        elif isinstance(item, PendingVideo):
            from ..core.video import sample_times

            total += len(sample_times(item.info, item.fps, item.max_frames))
        elif isinstance(item, PendingPrepared):
            total += len(item.media.frames)
    return total


async def prepare_items(items: Sequence[object], *, model: Model, provider: Provider,
                        high_resolution: bool) -> list[PreparedImage | PreparedMedia]:
    """Make every tray item what is sent: images prepared, pages rendered, frames
    sampled — on worker threads, in the order the person attached them."""
    from ..core.images import image_byte_budget, prepare_image_async
    from .attachment_tray import PendingAttachment

    budget = image_byte_budget(provider, frame_total(items))
    prepared: list[PreparedImage | PreparedMedia] = []
    for item in items:
        if isinstance(item, PendingAttachment):
            prepared.append(await prepare_image_async(
                item.data, name=item.name, model=model, provider=provider,
                high_resolution=high_resolution, max_bytes=budget,
                source_url=item.source_url))
        elif isinstance(item, PendingDocument):
            # Imported per kind: a message of images never loads PDFium or FFmpeg.
            from ..core.documents import prepare_document

            prepared.append(await asyncio.to_thread(functools.partial(
                prepare_document, item.data, name=item.name, pages=list(item.pages),
                model=model, provider=provider, high_resolution=high_resolution,
                max_bytes=budget)))
        elif isinstance(item, PendingVideo):
            from ..core.video import prepare_video

            prepared.append(await asyncio.to_thread(functools.partial(
                prepare_video, item.path, name=item.name, fps=item.fps,
                max_frames=item.max_frames, model=model, provider=provider,
                max_bytes=budget)))
        elif isinstance(item, PendingPrepared):
            prepared.append(item.media)
    return prepared
