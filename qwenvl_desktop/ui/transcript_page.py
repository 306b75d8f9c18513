"""Messages written into the transcript as one insert instead of one per message.

Every edit of the transcript's document moves each QTextCursor it holds (one per shown
message) and, in a shown view, re-positions the layout of everything after it: an
earlier page of 40 messages written message by message at the top of a 1,000-message
conversation took 0.3 s at its first page and 1.8 s by its eighth. So the page is
first written into a scratch document that nobody shows or points into, exactly as it
would be into the transcript (a fresh block, then the message's HTML, per message), and
then copied into the transcript in one edit: the same blocks and formats (the same
`toHtml()`), at the same offsets, for about a fifth of the time, and flat.

Writing the scratch document is about a third of what the page then costs (~28 of
~85 ms of CPU for 40 messages), and it needs nothing from the transcript but the
messages' HTML. So `ScratchPage` can also be written ahead, a message at a time in
idle time (transcript_ahead.py), and used when the page comes in if its HTML is still
exactly what the transcript would write.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable

from PySide6.QtGui import (
    QTextBlock,
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
    QTextDocumentFragment,
)

__all__ = ["BlockMark", "ScratchPage", "insert_page"]

_TAGS = itertools.count(1)


class ScratchPage:
    """Messages' HTML written one after another into a document of their own."""

    def __init__(self) -> None:
        self._document = QTextDocument()
        self._document.setUndoRedoEnabled(False)
        self._writer = QTextCursor(self._document)
        self._parts: list[str] = []
        self._offsets: list[int] = []
        self._fragment: QTextDocumentFragment | None = None

    @property
    def parts(self) -> list[str]:
        """The HTML written so far, in order."""
        return self._parts

    def add(self, part: str) -> None:
        """Write one message's HTML after the others, in a block of its own."""
        self._fragment = None
        self._writer.insertBlock(QTextBlockFormat(), QTextCharFormat())
        self._offsets.append(self._writer.position())
        self._parts.append(part)
        self._writer.insertHtml(part)

    def fragment(self) -> QTextDocumentFragment:
        """The page as one fragment (made once: copying the document costs ~4 ms)."""
        if self._fragment is None:
            self._fragment = QTextDocumentFragment(self._document)
        return self._fragment

    def insert(self, cursor: QTextCursor) -> list[int]:
        """Insert the page after the block `cursor` ends, as one edit; the document
        position where each message begins. `cursor` ends after the last."""
        if not self._offsets:
            return []
        base = cursor.position()
        # The scratch document's first block is empty: it adds nothing to the block the
        # cursor is in, so an offset there is an offset from the cursor here.
        cursor.insertFragment(self.fragment())
        return [base + offset for offset in self._offsets]


def insert_page(cursor: QTextCursor, parts: Iterable[str],
                ready: ScratchPage | None = None) -> list[int]:
    """Insert each HTML part after the block `cursor` ends, each in a new block, as one
    edit; the document position where each part begins. `cursor` ends after the last.

    `ready` is a page written ahead, maybe not to its end: used when what it holds is
    exactly the first of these parts (then only the rest is written now)."""
    parts = list(parts)
    page = ready
    if page is None or page.parts != parts[:len(page.parts)]:
        page = ScratchPage()
    for part in parts[len(page.parts):]:
        page.add(part)
    return page.insert(cursor)


class BlockMark:
    """Where a message of an earlier page begins: the block it begins with, found again
    through Qt's handle to it (which edits elsewhere leave alone, at no cost) — a
    QTextCursor does the same job but is moved by every step of every edit before it:
    with ~1,000 of them, inserting a page at the top spent ~25 ms moving them.

    The handle is checked against a tag kept in the block's user state (the transcript
    does not use it otherwise); should the block be gone, the tag is looked for."""

    __slots__ = ("_block", "_document", "_tag")

    def __init__(self, document: QTextDocument, position: int) -> None:
        self._document = document
        self._block = QTextBlock()
        self._tag = 0
        self.setPosition(position)

    def position(self) -> int:
        block = self._block
        if not block.isValid() or block.userState() != self._tag:
            block = self._find()
        return block.position()

    def setPosition(self, position: int) -> None:
        """Mark the block that begins at `position` (messages begin at a block)."""
        block = self._document.findBlock(position)
        self._tag = next(_TAGS)
        block.setUserState(self._tag)
        self._block = block

    def _find(self) -> QTextBlock:
        block = self._document.firstBlock()
        while block.isValid():
            if block.userState() == self._tag:
                self._block = block
                return block
            block = block.next()
        raise LookupError("a message's first block is gone from the transcript")
