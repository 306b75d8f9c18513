"""The transcript: the messages of one conversation in one QTextBrowser.

Each message is a run of root-level blocks, written by one `insertHtml`; a QTextCursor
kept at its first position (Qt moves cursors along with edits before them) finds it
again to re-render it — or, for messages of earlier pages, their first block
(`BlockMark`: cursors cost every edit before them a step each). No QTextFrame per
message: inserting frames one by one costs more the more there are (1,000 messages:
~14 s), while plain HTML inserts cost the same at any size. A question's "bubble" is a
one-cell table inside its HTML.

A long conversation opens on its most recent messages (`_PAGE_MESSAGES`, at most
`_PAGE_CHARS` of text); the first block of the document is a "Show earlier messages"
link, and earlier messages come a page at a time from that link or when the view is
scrolled to the top, keeping what is on screen in place. Rendered markdown is cached
by message id, so showing a conversation again costs only the insert.

The answer being streamed lives in the blocks at the end of the document:

* deltas are coalesced and appended as plain text with a QTextCursor at the end;
* when `SettledSplitter` reports finished markdown blocks, they are rendered once and
  inserted before the open tail; only the tail is re-rendered (without Pygments, and
  only while it is short), throttled so that rendering takes at most ~10 % of the time
  (so a long answer never stutters);
* on finish the settled blocks stay: only the tail is rendered, the header, reasoning
  toggle and status line are written around them (a short answer is rendered once
  whole instead, for exact spacing and nesting).

Numbered lists keep their numbers across those pieces (`ListNumbering`, and see
`_tail_cursor` for the Qt side of it).

So the cost of a token never depends on how long the answer already is, and neither
does finishing an answer.

A message with siblings (another answer to the same question, an edited question)
shows "‹ 2/3 ›" in its header; the arrows ask for the other versions
(`branch_requested`). When the visible branch changes, `sync_path` keeps the messages
before the fork where they are and replaces only what follows it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Concatenate, ParamSpec, TypeVar

from PySide6.QtCore import QSize, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import (
    QColor,
    QGuiApplication,
    QImage,
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
)
from PySide6.QtWidgets import QTextBrowser, QWidget

from qwenvl_desktop.core.conversation import Conversation, Message
from qwenvl_desktop.core.list_numbering import ListNumbering
from qwenvl_desktop.core.markdown_render import SettledSplitter, code_blocks, render_markdown

from ..core.i18n import _
from .grounding_links import LocatedImages
from .link_guard import LinkGuard
from .theme import TranscriptColors, transcript_colors
from .theme.tokens import LAYOUT
from .transcript_ahead import OPEN_DELAY_MS, RenderAhead
from .transcript_html import (
    ICON_RESOURCE,
    THUMB_BOX,
    RenderCache,
    footer_html,
    header_html,
    message_html,
    reasoning_html,
    retag_code_links,
)
from .transcript_page import BlockMark, ScratchPage, insert_page
from .transcript_style import TranscriptLook, rounded

__all__ = ["Transcript"]

# Streamed text is appended at most every _FLUSH_MS (the worker hands it over at the same
# pace); the open tail is re-rendered as markdown at most every _TAIL_MIN_MS — until then
# it shows as plain text, so nothing waits, only its formatting lags a little.
_FLUSH_MS = 50
_TAIL_MIN_MS = 400
# An open block longer than this (a long unfinished code block or table) stays plain
# text until it settles or the answer ends: re-rendering 1,500 characters takes a few
# milliseconds, 6,000 took up to 60 ms — a visible stall.
_TAIL_RENDER_LIMIT = 1500
# An answer shorter than this is rendered once whole when it ends (exact list numbering
# and spacing); a longer one keeps the blocks rendered while it streamed.
_FULL_FINISH_LIMIT = 4096
# A conversation opens on its last messages; earlier ones come in pages of this size.
_PAGE_MESSAGES = 40
_PAGE_CHARS = 60_000
_EARLIER = "transcript:earlier"
# What QTextCursor.insertText turns into a new block.
_BLOCK_BREAK = re.compile("\r\n|[\r\n\u2029]")


_P = ParamSpec("_P")
_R = TypeVar("_R")


def _one_edit(method: Callable[Concatenate[Transcript, _P], _R]) -> Callable[
        Concatenate[Transcript, _P], _R]:
    """Run a method's document edits as one edit block: Qt lays the document out, sizes
    the scroll bar and signals the change once at the end, not after each insert or
    removal (a settling table was 5 separate edits, each laid out and scrolled to)."""
    def edit(self: Transcript, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        cursor = QTextCursor(self.document())
        cursor.beginEditBlock()
        try:
            return method(self, *args, **kwargs)
        finally:
            cursor.endEditBlock()
    return edit


@dataclass
class _Stream:
    """Book-keeping for the answer being streamed at the end of the document."""

    message_id: str
    marker: QTextCursor                 # at the first position of the streamed region
    body: int                           # offsets from the marker: the block after the header
    splitter: SettledSplitter
    # A list split over settled pieces is numbered as one (core/list_numbering.py).
    numbering: ListNumbering = field(default_factory=ListNumbering)
    content: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)   # the settled blocks, as rendered
    reasoning_chars: int = 0
    content_chars: int = 0
    settled_chars: int = 0
    content_start: int = -1             # offset where the answer's text begins
    tail_start: int = -1                # offset where the open tail begins (content phase)
    code_links: int = 0
    table_links: int = 0
    pending_reasoning: list[str] = field(default_factory=list)
    pending_content: list[str] = field(default_factory=list)
    tail_dirty: bool = False
    last_tail_render: float = 0.0
    tail_render_cost: float = 0.0

    @property
    def start(self) -> int:
        return self.marker.position()


class Transcript(QTextBrowser):
    """Shows one conversation; streams the answer being written at its end."""

    delete_requested = Signal(str)
    edit_requested = Signal(str)
    regenerate_requested = Signal(str)
    retry_requested = Signal(str)
    branch_requested = Signal(str, int)     # message id, -1 (previous) or +1 (next)
    image_requested = Signal(str)
    copied = Signal(str)
    grounding_requested = Signal(str, str)   # answer id, image sha256 ("": its first)
    table_requested = Signal(str, str, int)  # "copy-table" | "save-table", message id, n
    earlier_loaded = Signal(int)        # how many earlier messages a page brought in

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("transcript")
        self.setAccessibleName(_("Transcript"))
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self.setUndoRedoEnabled(False)
        self.document().setUndoRedoEnabled(False)
        self.document().setDocumentMargin(0)    # margins: TranscriptLook
        self.anchorClicked.connect(self._on_anchor)
        # Model-written links: hover shows the target, opening asks first (link_guard).
        self.link_guard = LinkGuard(self)
        self.link_guard.copied.connect(self.copied)
        self._conversation: Conversation | None = None
        # Messages shown, in document order, each with a cursor at its first position.
        self._starts: dict[str, QTextCursor | BlockMark] = {}
        # Earlier finished messages not shown yet (oldest first).
        self._earlier: list[Message] = []
        self._cache = RenderCache()
        self._ahead = RenderAhead(self._html, lambda: self._stream is not None, self)
        self._expanded: set[str] = set()
        self._thumbs: dict[str, QImage] = {}
        # Thumbnails with what an answer located painted in, and the catalog behind them.
        self.located = LocatedImages()
        self._colors: TranscriptColors = transcript_colors(self.palette())
        self._stream: _Stream | None = None
        self._follow = True
        self._paging = False
        self._flush_timer = QTimer(self)
        self._flush_timer.setSingleShot(True)
        self._flush_timer.timeout.connect(self._flush)
        self._tail_timer = QTimer(self)
        self._tail_timer.setSingleShot(True)
        self._tail_timer.timeout.connect(self._render_tail)
        bar = self.verticalScrollBar()
        bar.valueChanged.connect(self._on_scrolled)
        bar.rangeChanged.connect(self._on_range)
        # Line length held readable, icons in the scheme's colours (transcript_style.py).
        self.look = TranscriptLook(self)

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
        """Ids of the finished messages the transcript holds, in order (the streamed one
        excluded), the earlier ones not loaded yet included."""
        return [m.id for m in self._earlier] + list(self._starts)

    def loaded_message_ids(self) -> list[str]:
        """Ids of the finished messages in the document now, in order."""
        return list(self._starts)

    @property
    def earlier_count(self) -> int:
        """How many earlier messages wait behind "Show earlier messages"."""
        return len(self._earlier)

    def show_conversation(self, conversation: Conversation | None,
                          streaming: Message | None = None) -> None:
        """Show a conversation from its most recent messages; `streaming` is its answer
        still being written."""
        self._drop_stream()
        self._ahead.stop()
        self._conversation = conversation
        self._starts.clear()
        self._earlier.clear()
        self._thumbs.clear()
        self.located.clear()
        self._colors = transcript_colors(self.palette())
        self._paging = True
        try:
            self.document().clear()
            self.look.reset()
            self._follow = True
            if conversation is None:
                return
            finished = [m for m in conversation.messages
                        if streaming is None or m.id != streaming.id]
            split = _page_split(finished)
            self._earlier = finished[:split]
            self._starts = self._insert_messages(self._end_cursor(), finished[split:])
            self._update_earlier_link()
            if streaming is not None:
                self.begin_answer(streaming)
        finally:
            self._paging = False
        self._render_ahead(OPEN_DELAY_MS)
        self.scroll_to_end()

    def load_earlier(self) -> int:
        """Show the previous page of messages above the first one shown, keeping the view
        where it is; how many were added."""
        if not self._earlier or self._paging:
            return 0
        split = _page_split(self._earlier)
        page, self._earlier = self._earlier[split:], self._earlier[:split]
        bar = self.verticalScrollBar()
        layout = self.document().documentLayout()
        first = next(iter(self._starts.values()), None)
        old_top = layout.blockBoundingRect(self.document().findBlock(
            first.position())).top() if first is not None else 0.0
        old_value = bar.value()
        self._paging = True
        try:
            self._follow = False
            cursor = QTextCursor(self.document())
            # One edit for the layout: each edit at the top re-positions every block
            # after it (~1.5 µs a block: 30 ms at the top of 20,000 blocks), and the page
            # and the link were four.
            cursor.beginEditBlock()
            try:
                cursor.setPosition(self.document().firstBlock().length() - 1)
                starts = self._insert_messages(cursor, page, self._ahead.take(), fixed=True)
                self._starts = {**starts, **self._starts}
                self._update_earlier_link()
            finally:
                cursor.endEditBlock()
            if first is not None:
                layout.frameBoundingRect(self.document().rootFrame())   # lay it all out
                top = layout.blockBoundingRect(self.document().findBlock(
                    first.position())).top()
                bar.setValue(old_value + round(top - old_top))
        finally:
            self._paging = False
        self._render_ahead(0)
        self._on_scrolled(bar.value())
        self.earlier_loaded.emit(len(page))
        return len(page)

    def load_all(self) -> None:
        """Show every earlier message (e.g. before printing or exporting the view)."""
        while self._earlier:
            self.load_earlier()

    def append_message(self, message: Message) -> None:
        """Add a finished message (e.g. the person's turn) after the last one."""
        stream = self._stream
        cursor = self._end_cursor()
        if stream is not None:
            cursor.setPosition(stream.start - 1)
        self._starts.update(self._insert_messages(cursor, [message]))
        self._refresh_previous_answer(message)

    def refresh_message(self, message: Message) -> None:
        """Re-render one finished message in place (error added, reasoning toggled...)."""
        span = self._span(message.id)
        if span is None:
            return
        cursor = QTextCursor(self.document())
        cursor.setPosition(span[0])
        cursor.setPosition(span[1], QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        self._clear_block_format(cursor)
        cursor.insertHtml(self._html(message))
        self._starts[message.id].setPosition(span[0])

    def remove_message(self, message_id: str) -> None:
        self._earlier = [m for m in self._earlier if m.id != message_id]
        span = self._span(message_id)
        if span is None:
            return
        del self._starts[message_id]
        cursor = QTextCursor(self.document())
        cursor.setPosition(span[0] - 1)          # with the separator before it
        cursor.setPosition(span[1], QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()

    def sync_path(self, streaming: Message | None = None) -> None:
        """Bring the document in line with the conversation's visible branch: the
        messages before the first difference stay as they are (and where they are on
        screen), the rest is replaced; `streaming` is an answer still being written."""
        conversation = self._conversation
        if conversation is None:
            return
        expected = [m for m in conversation.messages
                    if streaming is None or m.id != streaming.id]
        have = self.message_ids()
        same = 0
        while (same < min(len(have), len(expected))
               and have[same] == expected[same].id):
            same += 1
        if same < len(self._earlier):
            self.show_conversation(conversation, streaming)     # the fork is off-screen
            return
        bar = self.verticalScrollBar()
        value, follow = bar.value(), self._follow
        self._paging = True
        try:
            self._drop_stream(remove=True)
            loaded = list(self._starts)
            cut = same - len(self._earlier)
            if cut < len(loaded):
                self._cursor_to_end(self._starts[loaded[cut]].position() - 1)
                for message_id in loaded[cut:]:
                    del self._starts[message_id]
            self._starts.update(self._insert_messages(self._end_cursor(), expected[same:]))
            # The last answer kept may have gained or lost "Regenerate".
            kept = [m for m in expected[:same] if m.role == "assistant" and m.id in self._starts]
            if kept:
                self._refresh_header(kept[-1])
            # A question whose answer changed: its thumbnails show that answer's marks.
            if same and expected[same - 1].role == "user" and expected[same - 1].images:
                self.refresh_message(expected[same - 1])
            if streaming is not None:
                self.begin_answer(streaming)
        finally:
            self._paging = False
        if follow:
            self.scroll_to_end()
        else:
            bar.setValue(value)

    # --- streaming ----------------------------------------------------------------

    @_one_edit
    def begin_answer(self, message: Message) -> None:
        """Start showing `message` (an assistant turn) as it streams in."""
        self._drop_stream(remove=True)
        cursor = self._end_cursor()
        cursor.insertBlock(QTextBlockFormat(), QTextCharFormat())
        start = cursor.position()
        title = message.provenance.model if message.provenance else _("Assistant")
        writing = _("— writing…")
        cursor.insertHtml(f"<p><b>{title}</b> <span style='color:{self._colors.muted}'>"
                          f"{writing}</span></p>")
        cursor.insertBlock(QTextBlockFormat(), QTextCharFormat())
        marker = QTextCursor(self.document())
        marker.setPosition(start)
        self._stream = _Stream(message_id=message.id, marker=marker,
                               body=cursor.position() - start, splitter=SettledSplitter())
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
        """Turn the streamed region into the finished message.

        The blocks rendered while streaming stay as they are: only the open tail is
        rendered, and the header, reasoning toggle and status line are written around
        them. A short answer (or one whose text is not what streamed) is rendered whole.
        """
        stream = self._stream
        if stream is None or stream.message_id != message.id:
            if message.id in self._starts:
                self.refresh_message(message)
            return
        self._flush()
        self._flush_timer.stop()
        self._tail_timer.stop()
        self._stream = None
        start = stream.start
        streamed = "".join(stream.content)
        if (len(message.text) < _FULL_FINISH_LIMIT or streamed != message.text
                or message.id in self._expanded):
            self._finish_whole(start, message)
        else:
            self._finish_in_place(stream, message)
            self._finish_top(stream, message)
        marker = QTextCursor(self.document())
        marker.setPosition(start)
        self._starts[message.id] = marker
        question = self.located.question_to_redraw(self._conversation, message)
        if question is not None:
            self.refresh_message(question)

    # --- internals: streaming -----------------------------------------------------

    @_one_edit
    def _finish_whole(self, start: int, message: Message) -> None:
        cursor = self._cursor_to_end(start)
        self._clear_block_format(cursor)
        cursor.insertHtml(self._html(message))

    # The end and the top of a long answer are finished in separate edit blocks: one
    # edit block reports a single changed range, from the header to the tail, and Qt
    # lays out every block in it again (the whole answer); two edits lay out only
    # their own blocks, the ones between are only moved.
    @_one_edit
    def _finish_in_place(self, stream: _Stream, message: Message) -> None:
        # 1. The open tail, rendered like the settled blocks before it.
        tail = stream.numbering.continued(stream.splitter.flush())
        cursor = self._tail_cursor(stream)
        if tail.strip():
            rendered, _count = self._render(stream, tail)
            stream.html.append(rendered)
            cursor.insertHtml(rendered)
        # 2. Error and status line after it.
        footer = footer_html(message, self._colors)
        if footer:
            cursor.insertBlock(QTextBlockFormat(), QTextCharFormat())
            cursor.insertHtml(footer)
        self._cache.put(message, self._colors.code, "".join(stream.html))

    @_one_edit
    def _finish_top(self, stream: _Stream, message: Message) -> None:
        start = stream.start
        cursor = QTextCursor(self.document())
        # 3. The streamed reasoning becomes its (collapsed) toggle.
        if stream.reasoning_chars:
            end = start + stream.content_start - 1
            cursor.setPosition(start + stream.body - 1)
            cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
            cursor.removeSelectedText()
        toggle = reasoning_html(message, False, self._colors)
        if toggle:
            cursor.setPosition(start + stream.body - 1)
            cursor.insertBlock(QTextBlockFormat(), QTextCharFormat())
            cursor.insertHtml(toggle)
        # 4. The final header instead of "writing…".
        cursor.setPosition(start)
        cursor.setPosition(start + stream.body - 1, QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        cursor.insertHtml(header_html(message, self._colors,
                                      is_last_answer=self._is_last_answer(message),
                                      branch=self._branch(message)))

    def _schedule_flush(self) -> None:
        if not self._flush_timer.isActive():
            self._flush_timer.start(_FLUSH_MS)

    def _tail_cursor(self, stream: _Stream) -> QTextCursor:
        """Remove the open tail; a cursor where it began, in a block of its own.

        The block the tail began in stays when its text is removed, with its block
        format — and so in the list the tail was last rendered as. `insertHtml` there
        merges the new HTML's first item into that old list and starts the HTML's own
        list with its second item, numbered from the start again: a list streamed as
        "1. …" then "2. …" showed 1, 1, 2, 3. Leaving that list first fixes it.
        """
        cursor = self._cursor_to_end(stream.start + stream.tail_start)
        self._clear_block_format(cursor)
        return cursor

    def _append_plain(self, text: str) -> None:
        """Streamed text after the rendered tail, as plain text. New lines get a plain
        block: `insertText` would give them the block format of the line before, and
        after a rendered list item that is the list — "3. three" typed after item 2
        showed as "3. 3. three" until the tail was rendered again."""
        cursor = self._end_cursor()
        fmt = self._plain_format(False)
        lines = _BLOCK_BREAK.split(text)
        cursor.insertText(lines[0], fmt)
        for line in lines[1:]:
            cursor.insertBlock(QTextBlockFormat(), fmt)
            if line:
                cursor.insertText(line, fmt)

    def _end_cursor(self) -> QTextCursor:
        cursor = QTextCursor(self.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        return cursor

    def _cursor_to_end(self, position: int) -> QTextCursor:
        """Remove everything from `position` on; a cursor there."""
        cursor = QTextCursor(self.document())
        cursor.setPosition(position)
        cursor.movePosition(QTextCursor.MoveOperation.End, QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        return cursor

    @staticmethod
    def _clear_block_format(cursor: QTextCursor) -> None:
        cursor.setBlockFormat(QTextBlockFormat())
        cursor.setCharFormat(QTextCharFormat())

    def _plain_format(self, muted: bool) -> QTextCharFormat:
        fmt = QTextCharFormat()
        if muted:
            fmt.setForeground(QColor(self._colors.muted))
            fmt.setFontItalic(True)
        else:
            fmt.setForeground(QColor(self._colors.text))
        return fmt

    @_one_edit
    def _flush(self) -> None:
        stream = self._stream
        if stream is None:
            return
        if stream.pending_reasoning:
            text = "".join(stream.pending_reasoning)
            stream.pending_reasoning.clear()
            if stream.content_start < 0:  # reasoning comes first; later pieces wait
                if stream.reasoning_chars == 0:
                    cursor = self._end_cursor()
                    cursor.insertText(_("Reasoning\n"), self._plain_format(True))
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
        if stream.content_start < 0:
            cursor = self._end_cursor()
            if stream.reasoning_chars:
                cursor.insertBlock(QTextBlockFormat(), QTextCharFormat())
            stream.content_start = stream.tail_start = cursor.position() - stream.start
        stream.content.append(text)
        stream.content_chars += len(text)
        settled = stream.splitter.feed(text)
        if settled:
            # Finished blocks are rendered once, before the open tail; the tail follows.
            stream.settled_chars += len(settled)
            cursor = self._tail_cursor(stream)
            settled = stream.numbering.continued(settled)
            stream.numbering.settled(settled)
            rendered, count = self._render(stream, settled)
            stream.html.append(rendered)
            cursor.insertHtml(rendered)
            stream.code_links += count
            stream.table_links += rendered.count('href="copy-table:')
            cursor.insertBlock(QTextBlockFormat(), QTextCharFormat())
            stream.tail_start = cursor.position() - stream.start
            rest = stream.splitter.tail
            if rest:
                cursor.insertText(rest, self._plain_format(False))
            stream.tail_dirty = bool(rest)
        else:
            self._append_plain(text)
            stream.tail_dirty = True

    def _render(self, stream: _Stream, markdown: str,
                highlight: bool = True) -> tuple[str, int]:
        """Rendered markdown whose copy links name the message, and how many it has."""
        rendered = render_markdown(markdown, palette=self._colors.code,
                                   first_code_index=stream.code_links, highlight=highlight,
                                   first_table_index=stream.table_links)
        return retag_code_links(rendered, stream.message_id)

    @_one_edit
    def _render_tail(self) -> None:
        stream = self._stream
        if stream is None or not stream.tail_dirty or stream.tail_start < 0:
            return
        if stream.pending_content:
            # The flush due within 16 ms may settle blocks; rendering the tail now as well
            # would put both costs in one stall. The flush starts this timer again.
            return
        tail_text = stream.splitter.tail
        stream.tail_dirty = False
        if not tail_text.strip() or len(tail_text) > _TAIL_RENDER_LIMIT:
            return
        began = time.perf_counter()
        # Without Pygments: the colours come when the block settles.
        rendered = self._render(stream, stream.numbering.continued(tail_text),
                                highlight=False)[0]
        self._tail_cursor(stream).insertHtml(rendered)
        stream.last_tail_render = time.perf_counter()
        stream.tail_render_cost = stream.last_tail_render - began

    def _drop_stream(self, remove: bool = False) -> None:
        stream, self._stream = self._stream, None
        self._flush_timer.stop()
        self._tail_timer.stop()
        if stream is not None and remove:
            self._cursor_to_end(stream.start - 1)      # with the separator before it

    # --- internals: finished messages --------------------------------------------

    def _is_last_answer(self, message: Message) -> bool:
        conversation = self._conversation or Conversation()
        last_answer = next((m for m in reversed(conversation.messages)
                            if m.role == "assistant"), None)
        return last_answer is not None and last_answer.id == message.id

    def _branch(self, message: Message) -> tuple[int, int] | None:
        """Which of its siblings the message is (None when it has none)."""
        conversation = self._conversation
        if conversation is None or message.id not in conversation:
            return None
        position = conversation.branch_position(message.id)
        return position if position[1] > 1 else None

    def _html(self, message: Message) -> str:
        return message_html(message, self._conversation or Conversation(), self._colors,
                            is_last_answer=self._is_last_answer(message),
                            reasoning_expanded=message.id in self._expanded,
                            cache=self._cache, branch=self._branch(message))

    def _insert_messages(self, cursor: QTextCursor, messages: list[Message],
                         ready: ScratchPage | None = None,
                         fixed: bool = False) -> dict[str, QTextCursor | BlockMark]:
        """Insert messages after the block `cursor` ends (one new block each); their
        start markers, in order. `cursor` ends after the last one. `ready`: these
        messages written ahead (used as far as their HTML is still the same). `fixed`:
        mark them by their first block (earlier pages, see `BlockMark`)."""
        starts: dict[str, QTextCursor | BlockMark] = {}
        document = self.document()
        positions = insert_page(cursor, [self._html(message) for message in messages],
                                ready)
        for message, position in zip(messages, positions, strict=True):
            if fixed:
                starts[message.id] = BlockMark(document, position)
                continue
            marker = QTextCursor(document)
            marker.setPosition(position)
            starts[message.id] = marker
        return starts

    def message_span(self, message_id: str) -> tuple[int, int] | None:
        """Where a shown message's blocks begin and end (None when it is not loaded)."""
        return self._span(message_id)

    def _span(self, message_id: str) -> tuple[int, int] | None:
        """Where a shown message's blocks begin and end (the separator after it excluded)."""
        marker = self._starts.get(message_id)
        if marker is None:
            return None
        ids = list(self._starts)
        index = ids.index(message_id)
        if index + 1 < len(ids):
            end = self._starts[ids[index + 1]].position() - 1
        elif self._stream is not None:
            end = self._stream.start - 1
        else:
            end = self.document().characterCount() - 1
        return marker.position(), end

    def _render_ahead(self, delay_ms: int) -> None:
        """Prepare the next earlier page while the view stands still."""
        self._ahead.start(self._earlier[_page_split(self._earlier):], delay_ms)

    def _update_earlier_link(self) -> None:
        """The document's first block: the link to earlier messages, or nothing."""
        cursor = QTextCursor(self.document())
        cursor.movePosition(QTextCursor.MoveOperation.EndOfBlock,
                            QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        count = len(self._earlier)
        if count:
            fmt = QTextBlockFormat()
            fmt.setAlignment(Qt.AlignmentFlag.AlignHCenter)
            fmt.setBottomMargin(8)
            cursor.setBlockFormat(fmt)
            more = _("Show earlier messages ({count} more)").format(count=count)
            cursor.insertHtml(f'<a href="{_EARLIER}" style="color:{self._colors.link}">'
                              f"{more}</a>")
        else:
            cursor.setBlockFormat(QTextBlockFormat())

    def _refresh_previous_answer(self, message: Message) -> None:
        """A new turn takes "Regenerate" away from the answer before it (its header only:
        a long answer is not rendered again for that)."""
        conversation = self._conversation
        if conversation is None or message.role != "user":
            return
        answers = [m for m in conversation.messages if m.role == "assistant"
                   and m.id in self._starts]
        if answers:
            self._refresh_header(answers[-1])

    def _refresh_header(self, message: Message) -> None:
        """Write a shown answer's first paragraph (who, versions, actions) again (not a
        question's: its header sits inside its bubble's table)."""
        marker = self._starts.get(message.id)
        if marker is None:
            return
        start = marker.position()
        block = self.document().findBlock(start)
        cursor = QTextCursor(self.document())
        cursor.setPosition(start)
        cursor.setPosition(block.position() + block.length() - 1,
                           QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        cursor.insertHtml(header_html(message, self._colors,
                                      is_last_answer=self._is_last_answer(message),
                                      branch=self._branch(message)))
        marker.setPosition(start)

    # --- scrolling ------------------------------------------------------------------

    def scroll_to_end(self) -> None:
        bar = self.verticalScrollBar()
        bar.setValue(bar.maximum())
        self._follow = True

    def _on_scrolled(self, value: int) -> None:
        bar = self.verticalScrollBar()
        self._follow = value >= bar.maximum() - 8
        if (value <= bar.minimum() and bar.maximum() > 0 and self._earlier
                and not self._paging):
            # Scrolled to the top: bring in the previous page once this event is done.
            QTimer.singleShot(0, self._load_earlier_at_top)

    def _load_earlier_at_top(self) -> None:
        bar = self.verticalScrollBar()
        if bar.value() <= bar.minimum():
            self.load_earlier()

    def _on_range(self, _minimum: int, maximum: int) -> None:
        if self._follow and not self._paging:
            self.verticalScrollBar().setValue(maximum)

    # --- links and resources ----------------------------------------------------------

    def _on_anchor(self, url: QUrl) -> None:
        href = url.toString()
        scheme, _, rest = href.partition(":")
        if scheme in ("http", "https", "mailto"):
            self.link_guard.activate(url)
            return
        if href == _EARLIER:
            self.load_earlier()
            return
        conversation = self._conversation
        if conversation is None:
            return
        if scheme == "image":
            self.image_requested.emit(rest)
            return
        if scheme == "grounding":
            answer_id, _, sha = rest.partition(":")
            self.grounding_requested.emit(answer_id, sha)
            return
        if scheme in ("copy-table", "save-table"):
            message_id, _, index = rest.rpartition(":")
            if index.isdigit():
                self.table_requested.emit(scheme, message_id, int(index))
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
        if scheme in ("branch-prev", "branch-next"):
            self.branch_requested.emit(rest, -1 if scheme == "branch-prev" else 1)
        elif scheme in actions:
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
        if href.startswith(("athumb:", "icon:")) and self._conversation is not None:
            return self.located.resource(href, self._conversation, lambda sha: self.loadResource(
                int(QTextDocument.ResourceType.ImageResource.value), f"thumb:{sha}"))
        if href.startswith(ICON_RESOURCE):
            return self.look.icon(href[len(ICON_RESOURCE):], self.devicePixelRatioF())
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
                scaled = max(image.width(), image.height()) > box
                thumb = image.scaled(QSize(box, box), Qt.AspectRatioMode.KeepAspectRatio,
                                     Qt.TransformationMode.SmoothTransformation) \
                    if scaled else image
                used = ratio if scaled else 1.0
                thumb = rounded(thumb, LAYOUT.thumb_radius * used)
                thumb.setDevicePixelRatio(used)
                self._thumbs[sha] = thumb
            return thumb
        if kind == int(QTextDocument.ResourceType.ImageResource.value):
            return QImage()
        return super().loadResource(kind, name)



def _page_split(messages: list[Message]) -> int:
    """Where the last page of `messages` begins: at most `_PAGE_MESSAGES` messages and
    about `_PAGE_CHARS` of text (at least one message)."""
    chars = 0
    index = len(messages)
    while index > 0 and len(messages) - index < _PAGE_MESSAGES:
        chars += len(messages[index - 1].text) + len(messages[index - 1].reasoning)
        if chars > _PAGE_CHARS and index < len(messages):
            break
        index -= 1
    return index
