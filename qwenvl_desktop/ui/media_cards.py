"""Tray cards for a document and a video: what will be sent, and what it costs.

A document is one card: its first page, the page count, the page range to send (the
first pages that fit a token budget; "All" sends the rest), the size each page is sent
at and the tokens of the range. A video is a filmstrip of a few frames with its length,
the sampling controls (frames per second, most frames) and, updated as they change,
the number of frames, their size and the tokens of the whole clip on the chosen model.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..core.catalog import Model, Provider
from ..core.errors import DocumentError
from ..core.i18n import _, format_integer, ngettext
from ..core.media_groups import format_seconds
from ..core.tokens import video_frame_size
from .media_items import PendingDocument, PendingPrepared, PendingVideo, media_worker
from .theme.icons import icon

# The PDF and video modules load PDFium and FFmpeg (about half a second together): they
# are imported when a card needs them, never while the window starts.

__all__ = ["DocumentCard", "MediaCard", "PreparedCard", "VideoCard", "page_range_text"]

CARD_WIDTH = 340
PAGE_THUMB = QSize(64, 84)
FILM_FRAME = QSize(58, 40)
FILM_FRAMES = 5


def page_range_text(pages: list[int]) -> str:
    """"1-7", "1-3, 5, 9-10": pages as a person types them."""
    runs: list[str] = []
    start = previous = None
    for page in [*pages, None]:
        if page is not None and previous is not None and page == previous + 1:
            previous = page
            continue
        if start is not None:
            runs.append(str(start) if start == previous else f"{start}-{previous}")
        start = previous = page
    return ", ".join(runs)


def _small(label: QLabel) -> None:
    font = label.font()
    font.setPointSizeF(max(6.0, font.pointSizeF() * 0.85))
    label.setFont(font)
    label.setTextFormat(Qt.TextFormat.PlainText)


def _repolish(widget: QWidget) -> None:
    """Apply the style sheet again after a property it reads changed."""
    widget.style().unpolish(widget)
    widget.style().polish(widget)


class MediaCard(QFrame):
    """What the tray needs of a document or video card."""

    remove_clicked = Signal()
    changed = Signal()

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("attachmentCard")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setFixedWidth(CARD_WIDTH)
        self.title = title
        self._tokens = 0
        self.name_label = QLabel(self)
        self.name_label.setTextFormat(Qt.TextFormat.PlainText)
        bold = self.name_label.font()
        bold.setBold(True)
        self.name_label.setFont(bold)
        self.name_label.setText(self.name_label.fontMetrics().elidedText(
            title, Qt.TextElideMode.ElideMiddle, CARD_WIDTH - 60))
        self.name_label.setToolTip(title)
        self.remove_button = QToolButton(self)
        self.remove_button.setIcon(icon("close"))
        self.remove_button.setAutoRaise(True)
        self.remove_button.setAccessibleName(_("Remove {title}").format(title=title))
        self.remove_button.setToolTip(_("Remove {title}").format(title=title))
        self.remove_button.clicked.connect(self.remove_clicked)
        self.head = QHBoxLayout()
        self.head.setContentsMargins(0, 0, 0, 0)
        self.head.addWidget(self.name_label, 1)
        self.head.addWidget(self.remove_button, 0, Qt.AlignmentFlag.AlignTop)

    def tokens(self) -> int:
        return self._tokens

    def problem(self) -> str:
        """Why this card cannot be sent as it is ("" when it can)."""
        return ""

    def frames(self) -> int:
        """Pictures this card will send."""
        return 0

    def set_target(self, model: Model | None, provider: Provider | None,
                   high_resolution: bool) -> None:
        raise NotImplementedError


class DocumentCard(MediaCard):
    """A PDF: first page, page count, page range, per-page size and total tokens."""

    def __init__(self, item: PendingDocument, parent: QWidget | None = None) -> None:
        super().__init__(item.name, parent)
        self.item = item
        self._model: Model | None = None
        self._high_resolution = False
        self.thumb = QLabel(self)
        self.thumb.setFixedSize(PAGE_THUMB)
        self.thumb.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.thumb.setText("…")
        self.thumb.setAccessibleName(_("First page of {name}").format(name=item.name))
        count = item.info.page_count
        self.pages_label = QLabel(ngettext("PDF · {count} page", "PDF · {count} pages",
                                           count).format(count=count), self)
        _small(self.pages_label)
        self.range_edit = QLineEdit(page_range_text(item.pages), self)
        self.range_edit.setAccessibleName(_("Pages of {name} to send").format(name=item.name))
        self.range_edit.setToolTip(_("Pages to send, e.g. 1-5 or 1, 3, 7-9"))
        self.all_button = QToolButton(self)
        self.all_button.setText(_("All {count}").format(count=count))
        self.all_button.setToolTip(_("Send all {count} pages").format(count=count))
        self.all_button.setAccessibleName(_("Send all {count} pages of {name}").format(
            count=count, name=item.name))
        self.all_button.setVisible(len(item.pages) < count)
        self.size_label = QLabel(self)
        self.tokens_label = QLabel(self)
        for label in (self.size_label, self.tokens_label):
            _small(label)
        range_row = QHBoxLayout()
        range_row.setContentsMargins(0, 0, 0, 0)
        caption = QLabel(_("Pages"), self)
        _small(caption)
        range_row.addWidget(caption)
        range_row.addWidget(self.range_edit, 1)
        range_row.addWidget(self.all_button)
        details = QVBoxLayout()
        details.setContentsMargins(0, 0, 0, 0)
        details.setSpacing(1)
        details.addLayout(self.head)
        details.addWidget(self.pages_label)
        details.addLayout(range_row)
        details.addWidget(self.size_label)
        details.addWidget(self.tokens_label)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.thumb, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(details, 1)
        self.range_edit.textEdited.connect(self._range_edited)
        self.all_button.clicked.connect(self.send_all)
        worker = media_worker()
        worker.previewed.connect(self._on_preview)
        self._job = worker.document_preview(item.data, item.name,
                                            (PAGE_THUMB.width(), PAGE_THUMB.height()))
        self._problem = ""

    def send_all(self) -> None:
        self.range_edit.setText(f"1-{self.item.info.page_count}")
        self._range_edited(self.range_edit.text())

    def set_range(self, text: str) -> None:
        self.range_edit.setText(text)
        self._range_edited(text)

    def _range_edited(self, text: str) -> None:
        from ..core.documents import parse_page_range

        try:
            self.item.pages = parse_page_range(text, self.item.info.page_count, self.item.name)
            self._problem = ""
        except DocumentError as err:
            self._problem = str(err)
        self.all_button.setVisible(len(self.item.pages) < self.item.info.page_count
                                   or bool(self._problem))
        self._describe()
        self.changed.emit()

    def problem(self) -> str:
        return self._problem

    def frames(self) -> int:
        return len(self.item.pages)

    def set_target(self, model: Model | None, provider: Provider | None,  # noqa: ARG002
                   high_resolution: bool) -> None:
        self._model = model
        self._high_resolution = high_resolution
        self._describe()

    def _describe(self) -> None:
        item, model = self.item, self._model
        chosen = len(item.pages)
        if self._problem:
            self.size_label.setText(self._problem.split(": ", 1)[-1])
            self.size_label.setProperty("role", "problem")
            _repolish(self.size_label)
            self.tokens_label.setText("")
            self._tokens = 0
            return
        if self.size_label.property("role"):
            self.size_label.setProperty("role", None)
            _repolish(self.size_label)
        if model is None:
            self._tokens = 0
            self.size_label.setText(_("{chosen} of {page_count} pages").format(
                chosen=chosen, page_count=item.info.page_count))
            self.tokens_label.setText("")
            return
        from ..core.documents import page_size, page_tokens

        self._tokens = sum(page_tokens(item.info, item.pages, model, self._high_resolution))
        sizes = {page_size(item.info.page_sizes[p - 1], model, self._high_resolution)
                 for p in item.pages}
        shown = "×".join(map(str, next(iter(sizes)))) if len(sizes) == 1 else _("mixed sizes")
        self.size_label.setText(_("{shown} per page").format(shown=shown))
        self.tokens_label.setText(ngettext("≈ {tokens} tokens for {count} page",
                                           "≈ {tokens} tokens for {count} pages", chosen)
                                  .format(tokens=format_integer(self._tokens), count=chosen))
        self.setToolTip(_("{name}: {chosen} of {page_count} pages, each drawn at the size "
                          "{label} reads ({shown})").format(
            name=item.name, chosen=chosen, page_count=item.info.page_count, label=model.label,
            shown=shown))

    def _on_preview(self, job: int, images: list[QImage]) -> None:
        if job != self._job:
            return
        if images:
            self.thumb.setPixmap(QPixmap.fromImage(images[0]))
        else:
            self.thumb.setText(_("PDF"))


class VideoCard(MediaCard):
    """A clip: filmstrip, length, sampling controls, frame count and clip tokens."""

    def __init__(self, item: PendingVideo, parent: QWidget | None = None) -> None:
        super().__init__(item.name, parent)
        self.item = item
        self._model: Model | None = None
        self._provider: Provider | None = None
        self.film = QHBoxLayout()
        self.film.setContentsMargins(0, 0, 0, 0)
        self.film.setSpacing(2)
        self.film_cells: list[QLabel] = []
        for _cell in range(FILM_FRAMES):
            cell = QLabel(self)
            cell.setFixedSize(FILM_FRAME)
            cell.setAlignment(Qt.AlignmentFlag.AlignCenter)
            cell.setText("…")
            cell.setProperty("role", "filmCell")
            self.film.addWidget(cell)
            self.film_cells.append(cell)
        self.film.addStretch(1)
        info = item.info
        self.info_label = QLabel(
            f"{format_seconds(info.duration)} · {info.width}×{info.height} · {info.codec}", self)
        _small(self.info_label)
        self.fps_box = QDoubleSpinBox(self)
        self.fps_box.setRange(0.1, 30.0)
        self.fps_box.setDecimals(1)
        self.fps_box.setSingleStep(0.5)
        self.fps_box.setSuffix(_(" fps"))
        self.fps_box.setValue(item.fps)
        self.fps_box.setAccessibleName(_("Frames per second taken from {name}").format(
            name=item.name))
        self.max_box = QSpinBox(self)
        self.max_box.setRange(1, 512)           # DashScope's most frames in one video
        self.max_box.setPrefix("≤ ")
        self.max_box.setSuffix(_(" frames"))
        self.max_box.setValue(item.max_frames)
        self.max_box.setAccessibleName(_("Most frames taken from {name}").format(name=item.name))
        controls = QHBoxLayout()
        controls.setContentsMargins(0, 0, 0, 0)
        controls.addWidget(self.fps_box)
        controls.addWidget(self.max_box)
        controls.addStretch(1)
        self.summary_label = QLabel(self)
        self.tokens_label = QLabel(self)
        for label in (self.summary_label, self.tokens_label):
            _small(label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(1)
        layout.addLayout(self.head)
        layout.addLayout(self.film)
        layout.addWidget(self.info_label)
        layout.addLayout(controls)
        layout.addWidget(self.summary_label)
        layout.addWidget(self.tokens_label)
        self.fps_box.valueChanged.connect(self._sampling_changed)
        self.max_box.valueChanged.connect(self._sampling_changed)
        worker = media_worker()
        worker.previewed.connect(self._on_preview)
        strip = [info.duration * (i + 0.5) / FILM_FRAMES for i in range(FILM_FRAMES)] \
            if info.duration > 0 else [0.0]
        self._job = worker.video_preview(item.path, item.name, strip,
                                         (FILM_FRAME.width(), FILM_FRAME.height()))

    def _sampling_changed(self) -> None:
        self.item.fps = self.fps_box.value()
        self.item.max_frames = self.max_box.value()
        self._describe()
        self.changed.emit()

    def frames(self) -> int:
        from ..core.video import sample_times

        return len(sample_times(self.item.info, self.item.fps, self.item.max_frames))

    def set_target(self, model: Model | None, provider: Provider | None,
                   high_resolution: bool) -> None:  # noqa: ARG002 - frames have their own cap
        self._model, self._provider = model, provider
        self._describe()

    def _describe(self) -> None:
        info, model, provider = self.item.info, self._model, self._provider
        count = self.frames()
        frames = ngettext("{count} frame", "{count} frames", count).format(count=count)
        if model is None or provider is None:
            self._tokens = 0
            self.summary_label.setText(frames)
            self.tokens_label.setText("")
            return
        from ..core.video import estimate_video_tokens

        width, height = video_frame_size(info.width, info.height, count, model)
        self._tokens = estimate_video_tokens(info, count, model, provider)
        how = _("one video") if provider.takes_video(model, count) else _("images with times")
        self.summary_label.setText(_("{frames} at {width}×{height}, sent as {how}").format(
            frames=frames, width=width, height=height, how=how))
        self.tokens_label.setText(_("≈ {tokens:,} tokens for the clip").format(tokens=self._tokens))
        self.setToolTip(_("{name}: {frames} sampled at {fps:g} a second (at most "
                          "{max_frames}), read by {label} at {width}×{height}").format(
                              name=self.item.name, frames=frames, fps=self.item.fps,
                              max_frames=self.item.max_frames, label=model.label, width=width,
                              height=height))

    def _on_preview(self, job: int, images: list[QImage]) -> None:
        if job != self._job:
            return
        for cell, image in zip(self.film_cells, images, strict=False):
            cell.setPixmap(QPixmap.fromImage(image))
        for cell in self.film_cells[len(images):]:
            cell.hide() if images else cell.setText("?")


class PreparedCard(MediaCard):
    """A document or clip given back for editing: sent again exactly as before."""

    def __init__(self, item: PendingPrepared, parent: QWidget | None = None) -> None:
        super().__init__(item.name, parent)
        self.item = item
        media = item.media
        self._tokens = media.tokens
        shown = len(media.frames)
        what = (ngettext("{count} page", "{count} pages", shown).format(count=shown)
                if media.kind == "document" else
                _("{count} frames · {duration}").format(
                    count=shown, duration=format_seconds(media.duration)))
        self.info_label = QLabel(_("{what} (as sent before)").format(what=what), self)
        self.tokens_label = QLabel(_("≈ {tokens:,} tokens").format(tokens=media.tokens), self)
        for label in (self.info_label, self.tokens_label):
            _small(label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(self.head)
        layout.addWidget(self.info_label)
        layout.addWidget(self.tokens_label)
        layout.addStretch(1)

    def frames(self) -> int:
        return len(self.item.media.frames)

    def set_target(self, model: Model | None, provider: Provider | None,
                   high_resolution: bool) -> None:
        """Already prepared: the cost is what it was when it was sent."""
