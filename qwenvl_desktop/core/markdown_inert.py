"""Markdown that shows raw HTML as text and loads no remote image, in any viewer.

The Markdown export is opened in editors and previews that render raw HTML; copied
verbatim, a model's `<img src=…>`, `<iframe>` or `![](https://…)` made such a viewer
send requests the moment the file was opened. `inert_markdown` keeps the text as it
was written and only escapes what would start HTML (`<` before a letter, `/`, `!` or
`?`) or an image (`![`), outside code: code blocks and code spans stay byte for byte.

The escaping is checked, not trusted: the result is parsed the way an HTML-enabled
viewer parses it (CommonMark with raw HTML on, GFM tables), and if anything would
still render as HTML or as an image, the whole text goes into a fenced code block.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

__all__ = ["inert_markdown", "is_inert"]

_TAG_START = re.compile(r"[A-Za-z/!?]")
_BACKTICKS = re.compile(r"`+")


@functools.cache
def _viewer() -> MarkdownIt:
    """A parser that sees what an HTML-enabled Markdown viewer sees."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


def is_inert(markdown: str) -> bool:
    """True when `markdown` renders no raw HTML and no image."""
    for token in _viewer().parse(markdown):
        if token.type == "html_block":
            return False
        if token.type == "inline" and any(child.type in ("html_inline", "image")
                                           for child in token.children or ()):
            return False
    return True


def inert_markdown(text: str) -> str:
    """`text` with raw HTML and images turned into text and links (see the module)."""
    if is_inert(text):
        return text
    escaped = _escape(text)
    if is_inert(escaped):
        return escaped
    # A construct the escaping did not foresee: show it all as code, which is inert.
    longest = max((len(run) for run in _BACKTICKS.findall(text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text}\n{fence}"


def _code_lines(text: str) -> set[int]:
    """Lines inside fenced or indented code blocks (left exactly as they are)."""
    lines: set[int] = set()
    for token in _viewer().parse(text):
        if token.type in ("fence", "code_block") and token.map:
            lines.update(range(*token.map))
    return lines


def _escape(text: str) -> str:
    code = _code_lines(text)
    out: list[str] = []
    run: list[str] = []          # consecutive lines of one paragraph-like stretch

    def flush() -> None:
        if run:
            out.extend(_escape_run("\n".join(run)).split("\n"))
            run.clear()

    for number, line in enumerate(text.split("\n")):
        if number in code or not line.strip():
            flush()
            out.append(line)
        else:
            run.append(line)
    flush()
    return "\n".join(out)


def _escape_run(text: str) -> str:
    """Escape HTML and image starts in prose, skipping over code spans."""
    out: list[str] = []
    i, end = 0, len(text)
    while i < end:
        char = text[i]
        if char == "\\":
            out.append(text[i:i + 2])
            i += 2
        elif char == "`":
            length = len(_BACKTICKS.match(text, i).group())  # type: ignore[union-attr]
            close = _closing_run(text, i + length, length)
            stop = close + length if close >= 0 else i + length
            out.append(text[i:stop])
            i = stop
        elif text.startswith("![", i):
            out.append("\\![")
            i += 2
        elif char == "<" and _TAG_START.match(text, i + 1):
            out.append("\\<")
            i += 1
        else:
            out.append(char)
            i += 1
    return "".join(out)


def _closing_run(text: str, start: int, length: int) -> int:
    """Where a backtick run of exactly `length` begins at or after `start`, or -1."""
    for match in _BACKTICKS.finditer(text, start):
        if len(match.group()) == length:
            return match.start()
    return -1
