"""The transcript: every message of one conversation in one QTextBrowser.

Finished messages each live in their own QTextFrame (so one can be re-rendered without
touching the others). The answer being streamed is different: it lives in plain
root-level blocks at the end of the document, because Qt lays out root-level blocks
incrementally while an edit inside a child frame re-lays out the whole frame — a
per-token cost that grows with the answer (measured: 7× slower per token after 20k
tokens). While streaming:

* deltas are coalesced and appended as plain text with a QTextCursor at the end;
* when `SettledSplitter` reports finished markdown blocks, they are rendered once and
  inserted before the open tail; only the tail is re-rendered, throttled so that
  rendering takes at most ~10 % of the time (BRIEF §6);
* on finish the streamed region is replaced by the message's frame, rendered once.

So the cost of a token never depends on how long the answer already is.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from PySide6.QtCore import QSize, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import (
    QColor,
    QDesktopServices,
    QGuiApplication,
    QImage,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
    QTextFrame,
    QTextFrameFormat,
)
from PySide6.QtWidgets import QTextBrowser, QWidget

from qwenvl_desktop.core.conversation import Conversation, Message
from qwenvl_desktop.core.markdown_render import SettledSplitter, code_blocks, render_markdown

from .theme import TranscriptColors, transcript_colors
from .transcript_html import THUMB_BOX, message_html, retag_code_links

__all__ = ["Transcript"]

_FLUSH_MS = 16
_TAIL_MIN_MS = 100
# An open block longer than this (a huge unfinished code block) stays plain text until
# it settles or the answer ends: re-rendering it would cost more than it shows.
_TAIL_RENDER_LIMIT = 6000


@dataclass
class _Stream:
    """Book-keeping for the answer being streamed at the end of the document."""

    message_id: str
    start: int
    splitter: SettledSplitter
    content: list[str] = field(default_factory=list)
    reasoning_chars: int = 0
    content_chars: int = 0
    settled_chars: int = 0
    tail_start: int = -1                # where the open tail begins (content phase)
    code_links: int = 0
    pending_reasoning: list[str] = field(default_factory=list)
    pending_content: list[str] = field(default_factory=list)
    tail_dirty: bool = False
    last_tail_render: float = 0.0
    tail_render_cost: float = 0.0


class Transcript(QTextBrowser):
    """Shows one conversation; streams the answer being written at its end."""

    delete_requested = Signal(str)
    edit_requested = Signal(str)
    regenerate_requested = Signal(str)
    retry_requested = Signal(str)
    image_requested = Signal(str)
    copied = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("transcript")
        self.setAccessibleName("Transcript")
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self.setUndoRedoEnabled(False)
        self.document().setUndoRedoEnabled(False)
        self.document().setDocumentMargin(12)
        self.anchorClicked.connect(self._on_anchor)
        self._conversation: Conversation | None = None
        self._frames: dict[str, QTextFrame] = {}
        self._expanded: set[str] = set()
        self._thumbs: dict[str, QImage] = {}
        self._colors: TranscriptColors = transcript_colors(self.palette())
        self._stream: _Stream | None = None
        self._follow = True
        self._flush_timer = QTimer(self)
        self._flush_timer.setSingleShot(True)
        self._flush_timer.timeout.connect(self._flush)
        self._tail_timer = QTimer(self)
        self._tail_timer.setSingleShot(True)
        self._tail_timer.timeout.connect(self._render_tail)
        bar = self.verticalScrollBar()
        bar.valueChanged.connect(self._on_scrolled)
        bar.rangeChanged.connect(self._on_range)

    # --- public -------------------------------------------------------------------

    @property
    def conversation(self) -> Conversation | None:
        return self._conversation

    @property
    def streaming_message_id(self) -> str | None:
        return self._stream.message_id if self._stream else None

    @property
    def following(self) -> bool:
        """True while the view sticks to the end of the answer."""
        return self._follow

    def message_ids(self) -> list[str]:
        """Ids of the finished messages shown, in order (the streamed one excluded)."""
        return list(self._frames)

    def show_conversation(self, conversation: Conversation | None,
                          streaming: Message | None = None) -> None:
        """Render a whole conversation; `streaming` is its answer still being written."""
        self._drop_stream()
        self._conversation = conversation
        self._frames.clear()
        self._thumbs.clear()
        self._colors = transcript_colors(self.palette())
        doc = self.document()
        doc.clear()
        self._follow = True
        if conversation is None:
            return
        for message in conversation.messages:
            if streaming is not None and message.id == streaming.id:
                continue
            self._append_frame(message)
        if streaming is not None:
            self.begin_answer(streaming)
        self.scroll_to_end()

    def append_message(self, message: Message) -> None:
        """Add a finished message (e.g. the person's turn) at the end."""
        self._append_frame(message)
        self._refresh_previous_answer(message)

    def refresh_message(self, message: Message) -> None:
        """Re-render one finished message in place (error added, reasoning toggled...)."""
        frame = self._frames.get(message.id)
        if frame is None:
            return
        cursor = QTextCursor(self.document())
        cursor.setPosition(frame.firstPosition())
        cursor.setPosition(frame.lastPosition(), QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        cursor.insertHtml(self._html(message))

    def remove_message(self, message_id: str) -> None:
        frame = self._frames.pop(message_id, None)
        if frame is None:
            return
        cursor = QTextCursor(self.document())
        cursor.setPosition(frame.firstPosition() - 1)
        cursor.setPosition(frame.lastPosition() + 1, QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()

    # --- streaming ----------------------------------------------------------------

    def begin_answer(self, message: Message) -> None:
        """Start showing `message` (an assistant turn) as it streams in."""
        self._drop_stream()
        cursor = self._end_cursor()
        start = cursor.position()
        title = message.provenance.model if message.provenance else "Assistant"
        cursor.insertHtml(f"<p><b>{title}</b> <span style='color:{self._colors.muted}'>"
                          "— writing…</span></p>")
        cursor.insertBlock()
        self._stream = _Stream(message_id=message.id, start=start, splitter=SettledSplitter())
        if message.reasoning:
            self.add_reasoning(message.id, message.reasoning)
        if message.text:
            self.add_content(message.id, message.text)
        self._flush()

    def add_reasoning(self, message_id: str, text: str) -> None:
        stream = self._stream
        if stream is None or stream.message_id != message_id or not text:
            return
        stream.pending_reasoning.append(text)
        self._schedule_flush()

    def add_content(self, message_id: str, text: str) -> None:
        stream = self._stream
        if stream is None or stream.message_id != message_id or not text:
            return
        stream.pending_content.append(text)
        self._schedule_flush()

    def finish_answer(self, message: Message) -> None:
        """Replace the streamed region with the message's final, fully rendered frame."""
        stream = self._stream
        if stream is None or stream.message_id != message.id:
            if message.id in self._frames:
                self.refresh_message(message)
            return
        self._drop_stream(remove=True)
        self._append_frame(message)

    # --- internals: streaming -----------------------------------------------------

    def _schedule_flush(self) -> None:
        if not self._flush_timer.isActive():
            self._flush_timer.start(_FLUSH_MS)

    def _end_cursor(self) -> QTextCursor:
        cursor = QTextCursor(self.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        return cursor

    def _plain_format(self, muted: bool) -> QTextCharFormat:
        fmt = QTextCharFormat()
        if muted:
            fmt.setForeground(QColor(self._colors.muted))
            fmt.setFontItalic(True)
        else:
            fmt.setForeground(QColor(self._colors.text))
        return fmt

    def _flush(self) -> None:
        stream = self._stream
        if stream is None:
            return
        if stream.pending_reasoning:
            text = "".join(stream.pending_reasoning)
            stream.pending_reasoning.clear()
            if stream.tail_start < 0:     # reasoning comes first; later pieces wait
                if stream.reasoning_chars == 0:
                    cursor = self._end_cursor()
                    cursor.insertText("Reasoning\n", self._plain_format(True))
                stream.reasoning_chars += len(text)
                self._end_cursor().insertText(text, self._plain_format(True))
        if stream.pending_content:
            text = "".join(stream.pending_content)
            stream.pending_content.clear()
            self._flush_content(stream, text)
        if stream.tail_dirty and not self._tail_timer.isActive():
            wait = max(_TAIL_MIN_MS, stream.tail_render_cost * 10_000)
            since = (time.perf_counter() - stream.last_tail_render) * 1000
            self._tail_timer.start(int(max(0.0, wait - since)))

    def _flush_content(self, stream: _Stream, text: str) -> None:
        if stream.tail_start < 0:
            cursor = self._end_cursor()
            if stream.reasoning_chars:
                cursor.insertBlock()
            stream.tail_start = cursor.position()
        stream.content.append(text)
        stream.content_chars += len(text)
        settled = stream.splitter.feed(text)
        if settled:
            # Finished blocks are rendered once, before the open tail; the tail follows.
            stream.settled_chars += len(settled)
            cursor = self._replace_tail(stream)
            rendered, count = self._render(stream, settled)
            cursor.insertHtml(rendered)
            stream.code_links += count
            cursor.insertBlock()
            stream.tail_start = cursor.position()
            rest = stream.splitter.tail
            if rest:
                cursor.insertText(rest, self._plain_format(False))
            stream.tail_dirty = bool(rest)
        else:
            self._end_cursor().insertText(text, self._plain_format(False))
            stream.tail_dirty = True

    def _render(self, stream: _Stream, markdown: str) -> tuple[str, int]:
        """Rendered markdown whose copy links name the message, and how many it has."""
        rendered = render_markdown(markdown, dark=self._colors.dark,
                                   first_code_index=stream.code_links)
        return retag_code_links(rendered, stream.message_id)

    def _replace_tail(self, stream: _Stream) -> QTextCursor:
        """Remove the open tail; return a cursor where it began."""
        cursor = QTextCursor(self.document())
        cursor.setPosition(stream.tail_start)
        cursor.movePosition(QTextCursor.MoveOperation.End, QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        return cursor

    def _render_tail(self) -> None:
        stream = self._stream
        if stream is None or not stream.tail_dirty or stream.tail_start < 0:
            return
        if stream.pending_content:
            self._flush()
        tail_text = stream.splitter.tail
        stream.tail_dirty = False
        if not tail_text.strip() or len(tail_text) > _TAIL_RENDER_LIMIT:
            return
        began = time.perf_counter()
        cursor = self._replace_tail(stream)
        cursor.insertHtml(self._render(stream, tail_text)[0])
        stream.last_tail_render = time.perf_counter()
        stream.tail_render_cost = stream.last_tail_render - began

    def _drop_stream(self, remove: bool = False) -> None:
        stream, self._stream = self._stream, None
        self._flush_timer.stop()
        self._tail_timer.stop()
        if stream is not None and remove:
            cursor = QTextCursor(self.document())
            cursor.setPosition(stream.start)
            cursor.movePosition(QTextCursor.MoveOperation.End, QTextCursor.MoveMode.KeepAnchor)
            cursor.removeSelectedText()

    # --- internals: finished messages --------------------------------------------

    def _html(self, message: Message) -> str:
        conversation = self._conversation or Conversation()
        last_answer = next((m for m in reversed(conversation.messages)
                            if m.role == "assistant"), None)
        return message_html(message, conversation, self._colors,
                            is_last_answer=last_answer is not None
                            and last_answer.id == message.id,
                            reasoning_expanded=message.id in self._expanded)

    def _append_frame(self, message: Message) -> None:
        cursor = self.document().rootFrame().lastCursorPosition()
        fmt = QTextFrameFormat()
        fmt.setPadding(10)
        fmt.setBottomMargin(10)
        if message.role == "user":
            fmt.setBackground(QColor(self._colors.user_bg))
            fmt.setBorder(1)
            fmt.setBorderBrush(QColor(self._colors.user_border))
            fmt.setBorderStyle(QTextFrameFormat.BorderStyle.BorderStyle_Solid)
        frame = cursor.insertFrame(fmt)
        frame.lastCursorPosition().insertHtml(self._html(message))
        self._frames[message.id] = frame

    def _refresh_previous_answer(self, message: Message) -> None:
        """A new turn takes "Regenerate" away from the answer before it."""
        conversation = self._conversation
        if conversation is None or message.role != "user":
            return
        answers = [m for m in conversation.messages if m.role == "assistant"
                   and m.id in self._frames]
        if answers:
            self.refresh_message(answers[-1])

    # --- scrolling ------------------------------------------------------------------

    def scroll_to_end(self) -> None:
        bar = self.verticalScrollBar()
        bar.setValue(bar.maximum())
        self._follow = True

    def _on_scrolled(self, value: int) -> None:
        bar = self.verticalScrollBar()
        self._follow = value >= bar.maximum() - 8

    def _on_range(self, _minimum: int, maximum: int) -> None:
        if self._follow:
            self.verticalScrollBar().setValue(maximum)

    # --- links and resources ----------------------------------------------------------

    def _on_anchor(self, url: QUrl) -> None:
        href = url.toString()
        scheme, _, rest = href.partition(":")
        if scheme in ("http", "https", "mailto"):
            QDesktopServices.openUrl(url)
            return
        conversation = self._conversation
        if conversation is None:
            return
        if scheme == "image":
            self.image_requested.emit(rest)
            return
        if scheme == "copy-code":
            message_id, _, index = rest.rpartition(":")
            try:
                text = self._message_text(message_id)
                self._copy(code_blocks(text)[int(index)])
            except (KeyError, IndexError, ValueError):
                return
            return
        actions = {"msg-delete": self.delete_requested, "msg-edit": self.edit_requested,
                   "msg-regen": self.regenerate_requested, "msg-retry": self.retry_requested}
        if scheme in actions:
            actions[scheme].emit(rest)
        elif scheme == "msg-copy":
            try:
                self._copy(self._message_text(rest))
            except KeyError:
                return
        elif scheme == "msg-reasoning":
            self._expanded.symmetric_difference_update({rest})
            try:
                self.refresh_message(conversation.message(rest))
            except KeyError:
                return

    def _message_text(self, message_id: str) -> str:
        conversation = self._conversation
        if conversation is None:
            raise KeyError(message_id)
        stream = self._stream
        if stream is not None and stream.message_id == message_id:
            return "".join(stream.content)
        return conversation.message(message_id).text

    def _copy(self, text: str) -> None:
        QGuiApplication.clipboard().setText(text)
        self.copied.emit(text)

    def loadResource(self, kind: int, name: QUrl | str) -> object:
        """Thumbnails are made on demand from the conversation's stored image bytes."""
        href = name.toString() if isinstance(name, QUrl) else name
        if href.startswith("thumb:") and self._conversation is not None:
            sha = href[len("thumb:"):]
            thumb = self._thumbs.get(sha)
            if thumb is None:
                stored = self._conversation.images.get(sha)
                if stored is None:
                    return QImage()
                image = QImage.fromData(stored.data)
                if image.isNull():
                    return QImage()
                ratio = self.devicePixelRatioF()
                box = round(THUMB_BOX * ratio)
                thumb = image.scaled(QSize(box, box), Qt.AspectRatioMode.KeepAspectRatio,
                                     Qt.TransformationMode.SmoothTransformation) \
                    if max(image.width(), image.height()) > box else image
                thumb.setDevicePixelRatio(ratio if thumb is not image else 1.0)
                self._thumbs[sha] = thumb
            return thumb
        if kind == int(QTextDocument.ResourceType.ImageResource.value):
            return QImage()
        return super().loadResource(kind, name)
