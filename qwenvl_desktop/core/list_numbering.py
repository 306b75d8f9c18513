"""Numbered lists that keep their numbers when an answer is rendered in pieces.

While an answer streams, the transcript renders each finished block once
(`markdown_render.SettledSplitter` cuts at blank lines) and then the open tail. A list
whose items are separated by blank lines, or by an item's own code block, is therefore
rendered in several pieces, and each piece is a list of its own: markdown numbers a list
from its first item's number, so a piece that starts with "1." (or any number that is
not the next one) restarts the count. Rendered whole, the same text is one list numbered
1, 2, 3….

`ListNumbering` gives each piece the numbers it has in the whole answer: it remembers
where the settled text left an ordered list (the next number, the delimiter, the column
where the last item's text begins), and when the next piece starts with an item of that
list it changes that item's number to the next one — markdown then numbers the rest of
the piece from there. A piece that lies wholly inside the last item (indented to its
text: a code block, a second paragraph, a nested list) leaves the list open.

Only the numbers that markdown would compute anyway change; the text the person copies
is the answer as written. Qt-free and linear in the piece's length.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .markdown_render import markdown_tokens

__all__ = ["ListNumbering"]

# An ordered-list item at the start of a line: indent (at most 3 spaces: 4 would be
# code), the number (at most 9 digits), the delimiter, then a space or the line's end.
_ITEM = re.compile(r"( {0,3})(\d{1,9})([.)])(?=[ \t]|\r?\n|$)")
_ANY_ITEM_LINE = re.compile(r"^ {0,3}\d{1,9}[.)](?:[ \t]|\r?$)", re.MULTILINE)
_LINE = re.compile(r"[^\n]+\n?|\n")


@dataclass(frozen=True)
class _OpenList:
    next_number: int
    delimiter: str
    content_column: int
    """Where the last item's text begins: lines indented this far belong to it."""


class ListNumbering:
    """Carries an ordered list's count from one rendered piece of an answer to the next."""

    def __init__(self) -> None:
        self._open: _OpenList | None = None

    def reset(self) -> None:
        self._open = None

    def continued(self, markdown: str) -> str:
        """`markdown` (the next settled piece, or the open tail) with the next item of
        the list the settled pieces ended with numbered to continue it.

        That item is the piece's first line that is not blank and not indented into the
        last item (a piece may begin with the end of the last item's code block)."""
        open_list = self._open
        if open_list is None:
            return markdown
        for line in _LINE.finditer(markdown):
            text = line.group()
            if not text.strip():
                continue
            if _indent_width(text) >= open_list.content_column:
                continue                        # still inside the last item
            item = _ITEM.match(markdown, line.start(), line.end())
            if (item is None or item.group(3) != open_list.delimiter
                    or int(item.group(2)) == open_list.next_number):
                # Not an item of that list (another delimiter starts a new list), or
                # numbered right already.
                return markdown
            return (f"{markdown[:item.start(2)]}{open_list.next_number}"
                    f"{markdown[item.end(2):]}")
        return markdown

    def settled(self, markdown: str) -> None:
        """Note a piece that was rendered for good (after `continued`), in order."""
        if not markdown.strip():
            return                  # blank lines neither end nor continue a list
        if self._open is not None and _inside_item(markdown, self._open.content_column):
            return                  # more of the last item: the list goes on after it
        self._open = _list_at_end(markdown) if _ANY_ITEM_LINE.search(markdown) else None


def _indent_width(line: str) -> int:
    """How far a line is indented (a tab counts to the next multiple of 4)."""
    return len(line[:len(line) - len(line.lstrip(" \t"))].expandtabs(4))


def _inside_item(markdown: str, column: int) -> bool:
    """Every non-blank line is indented at least to `column`."""
    return all(_indent_width(line) >= column for line in markdown.splitlines()
               if line.strip())


def _list_at_end(markdown: str) -> _OpenList | None:
    """The ordered list `markdown` ends with (at the top level), or None."""
    tokens = markdown_tokens(markdown)
    top = [index for index, token in enumerate(tokens) if token.level == 0]
    if not top or tokens[top[-1]].type != "ordered_list_close":
        return None
    opening = next(i for i in reversed(top) if tokens[i].type == "ordered_list_open")
    items = [tokens[i] for i in range(opening, top[-1])
             if tokens[i].type == "list_item_open" and tokens[i].level == 1]
    if not items or items[-1].map is None:
        return None
    given = tokens[opening].attrGet("start")          # only when it is not 1
    start = 1 if given is None else int(given)
    lines = markdown.splitlines()
    row = items[-1].map[0]
    last_line = lines[row] if row < len(lines) else ""
    return _OpenList(next_number=start + len(items), delimiter=items[-1].markup,
                     content_column=_content_column(last_line))


def _content_column(line: str) -> int:
    """Where an item's text begins on its first line ("12. text" → 4): after the marker
    and one to four spaces; with none, or five or more, one column after the marker."""
    item = _ITEM.match(line)
    if item is None:
        return 0
    marker_end = item.end(3)
    spaces = len(line[marker_end:]) - len(line[marker_end:].lstrip(" "))
    if spaces == 0 or spaces > 4 or not line[marker_end:].strip():
        return marker_end + 1
    return marker_end + spaces
