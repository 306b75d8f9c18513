"""Tables in answers as data: Markdown tables and the HTML `<table>` OCR models return.

`qwen-vl-ocr` and document parsing answer with HTML tables (often in a ```html fence,
sometimes wrapped in `<html><body>`). The transcript never lets model HTML through, so
such a table is parsed here — with the standard library's HTML parser, which copes
with unclosed cells and stray tags — into rows of cells, and drawn from that structure.
Markdown tables come from the same markdown-it parse the renderer uses, so the n-th
table here is the n-th table on screen.

Every table can be written as CSV or TSV (the `csv` module: quotes, commas, line breaks
and empty cells survive a round trip). Spanned cells are written once, at their
top-left position, with empty cells for the rest of the span.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Literal

__all__ = ["Cell", "Segment", "Table", "find_tables", "markdown_tables", "parse_html_table",
           "split_html_tables"]

_MAX_SPAN = 100          # a colspan="100000" must not make a grid of a billion cells
_TABLE_TAG = re.compile(r"<(/?)table\b[^>]*>", re.IGNORECASE)
_WRAPPER = re.compile(r"\s*(?:<!doctype[^>]*>|</?html[^>]*>|</?body[^>]*>|\s)*", re.IGNORECASE)
_FENCE_OPEN = re.compile(r"^( {0,3})(`{3,}|~{3,})([^`\n]*)$")


@dataclass(frozen=True)
class Cell:
    text: str
    colspan: int = 1
    rowspan: int = 1
    header: bool = False


@dataclass(frozen=True)
class Table:
    """A table as rows of cells (spans kept), from Markdown or HTML."""

    rows: tuple[tuple[Cell, ...], ...]
    source: Literal["markdown", "html"] = "markdown"
    caption: str = ""
    """Text in an HTML table outside its cells (a <caption>, stray words): shown above
    the table, never dropped, not part of the CSV."""

    def grid(self) -> list[list[str]]:
        """The table as a rectangle of strings, spans expanded to empty cells."""
        taken: dict[tuple[int, int], str] = {}
        width = 0
        for r, row in enumerate(self.rows):
            c = 0
            for cell in row:
                while (r, c) in taken:
                    c += 1
                for dr in range(cell.rowspan):
                    for dc in range(cell.colspan):
                        taken[(r + dr, c + dc)] = cell.text if dr == dc == 0 else ""
                c += cell.colspan
                width = max(width, c)
        height = max([r + 1 for r, _ in taken] or [0])
        return [[taken.get((r, c), "") for c in range(width)] for r in range(height)]

    def to_csv(self, delimiter: str = ",") -> str:
        """CSV (or TSV with delimiter "\\t"), RFC 4180 quoting, CRLF line ends."""
        out = io.StringIO()
        writer = csv.writer(out, delimiter=delimiter, quoting=csv.QUOTE_MINIMAL,
                            lineterminator="\r\n")
        writer.writerows(self.grid())
        return out.getvalue()

    def to_tsv(self) -> str:
        return self.to_csv("\t")

    @property
    def size(self) -> tuple[int, int]:
        """(rows, columns)."""
        grid = self.grid()
        return len(grid), max((len(r) for r in grid), default=0)


@dataclass(frozen=True)
class Segment:
    """A stretch of an answer: Markdown, or one HTML table (its source text kept)."""

    text: str
    table: Table | None = None


# --- HTML -------------------------------------------------------------------------------

class _TableParser(HTMLParser):
    """Rows and cells of the outermost table; inner tables' text joins their cell."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[list[Cell]] = []
        self.depth = 0
        self.in_head = False
        self.cell: list[str] | None = None
        self.cell_attrs: tuple[int, int, bool] = (1, 1, False)
        self.row_open = False
        self.loose: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.depth += 1
            return
        if self.depth != 1:
            if tag == "br" and self.cell is not None:
                self.cell.append("\n")
            return
        if tag == "thead":
            self.in_head = True
        elif tag in ("tbody", "tfoot"):
            self.in_head = False
        elif tag == "tr":
            self._end_cell()
            self.rows.append([])
            self.row_open = True
        elif tag in ("td", "th"):
            self._end_cell()
            if not self.row_open:
                self.rows.append([])
                self.row_open = True
            values = dict(attrs)
            self.cell = []
            self.cell_attrs = (_span(values.get("colspan")), _span(values.get("rowspan")),
                               tag == "th" or self.in_head)
        elif self.cell is not None and (tag == "br" or (tag in ("p", "div", "li")
                                                         and self.cell)):
            self.cell.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            if self.depth == 1:
                self._end_cell()
            self.depth = max(0, self.depth - 1)
            return
        if self.depth != 1:
            return
        if tag in ("td", "th"):
            self._end_cell()
        elif tag == "tr":
            self._end_cell()
            self.row_open = False
        elif tag == "thead":
            self.in_head = False

    def handle_data(self, data: str) -> None:
        if self.cell is not None and self.depth >= 1:
            self.cell.append(data)
        elif self.depth >= 1 and data.strip():
            self.loose.append(" ".join(data.split()))

    def _end_cell(self) -> None:
        if self.cell is None:
            return
        lines = "".join(self.cell).split("\n")
        text = "\n".join(" ".join(line.split()) for line in lines).strip("\n")
        colspan, rowspan, header = self.cell_attrs
        self.rows[-1].append(Cell(text, colspan, rowspan, header))
        self.cell = None


def _span(value: str | None) -> int:
    try:
        return min(_MAX_SPAN, max(1, int((value or "1").strip())))
    except ValueError:
        return 1


def parse_html_table(html: str) -> Table | None:
    """The first table in `html`, or None when it has no cells."""
    parser = _TableParser()
    parser.feed(html)
    parser.close()
    parser._end_cell()
    rows = tuple(tuple(r) for r in parser.rows if r)
    return Table(rows, "html", " ".join(parser.loose)) if rows else None


def _table_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each outermost `<table>…</table>` (nesting counted)."""
    spans = []
    depth = 0
    start = 0
    for match in _TABLE_TAG.finditer(text):
        if not match.group(1):
            if depth == 0:
                start = match.start()
            depth += 1
        elif depth:
            depth -= 1
            if depth == 0:
                spans.append((start, match.end()))
    return spans


def _fences(text: str) -> list[tuple[int, int, str, int, int]]:
    """Fenced code blocks: (start, end, info, content start, content end)."""
    fences = []
    position = 0
    lines = text.splitlines(keepends=True)
    open_fence: tuple[int, str, str, int] | None = None   # start, marker, info, content
    for line in lines:
        body = line.rstrip("\r\n")
        if open_fence is None:
            match = _FENCE_OPEN.match(body)
            if match:
                open_fence = (position, match.group(2), match.group(3).strip(),
                              position + len(line))
        else:
            start, marker, info, content = open_fence
            stripped = body.strip()
            if (stripped.startswith(marker[0] * len(marker))
                    and not stripped.strip(marker[0])):
                fences.append((start, position + len(line), info, content, position))
                open_fence = None
        position += len(line)
    if open_fence is not None:
        start, _marker, info, content = open_fence
        fences.append((start, len(text), info, content, len(text)))
    return fences


def _whole_fence_table(text: str, fence: tuple[int, int, str, int, int]) -> Table | None:
    """The table a ```html fence consists of (wrappers aside), or None."""
    _start, _end, info, content_start, content_end = fence
    if info.split()[:1] not in ([], ["html"], ["HTML"], ["xml"]):
        return None
    content = text[content_start:content_end]
    spans = _table_spans(content)
    if len(spans) != 1:
        return None
    start, end = spans[0]
    if _WRAPPER.fullmatch(content[:start]) is None or _WRAPPER.fullmatch(content[end:]) is None:
        return None
    return parse_html_table(content[start:end])


def split_html_tables(text: str) -> list[Segment]:
    """`text` cut into Markdown and HTML-table segments, in order.

    A table counts when it stands in the text (wrappers such as `<html><body>` around
    it go with it) or when a ```html fence holds nothing but it; tables inside other
    code blocks are code, left alone.
    """
    if "<table" not in text.lower():
        return [Segment(text)]
    cuts: list[tuple[int, int, Table]] = []
    fences = _fences(text)
    for fence in fences:
        table = _whole_fence_table(text, fence)
        if table is not None:
            cuts.append((fence[0], fence[1], table))
    for start, end in _table_spans(text):
        if any(f[0] <= start < f[1] for f in fences):
            continue
        table = parse_html_table(text[start:end])
        if table is None:
            continue
        start, end = _with_wrappers(text, start, end)
        cuts.append((start, end, table))
    cuts.sort(key=lambda c: c[0])
    segments: list[Segment] = []
    position = 0
    for start, end, table in cuts:
        if start < position:
            continue
        if start > position:
            segments.append(Segment(text[position:start]))
        segments.append(Segment(text[start:end], table))
        position = end
    if position < len(text):
        segments.append(Segment(text[position:]))
    return segments


_OPENERS = re.compile(r"(?:<!doctype[^>]*>|<html[^>]*>|<body[^>]*>|\s)*\Z", re.IGNORECASE)
_CLOSERS = re.compile(r"(?:</body\s*>|</html\s*>|[ \t])*", re.IGNORECASE)


def _with_wrappers(text: str, start: int, end: int) -> tuple[int, int]:
    """Widen a table's span over `<html><body>` before it and `</body></html>` after."""
    line_start = text.rfind("\n", 0, start) + 1
    before = _OPENERS.search(text, line_start, start)
    if before is not None and before.group(0).strip():
        start = before.start()
    after = _CLOSERS.match(text, end)
    if after is not None and after.group(0).strip():
        end = after.end()
    return start, end


# --- Markdown ---------------------------------------------------------------------------

def markdown_tables(text: str) -> list[Table]:
    """The Markdown tables in `text`, in the order the renderer draws them."""
    if "|" not in text:
        return []
    from .markdown_render import markdown_tokens

    tables: list[Table] = []
    rows: list[tuple[Cell, ...]] = []
    row: list[Cell] = []
    cell: str | None = None
    header = False
    for token in markdown_tokens(text):
        kind = token.type
        if kind == "table_open":
            rows = []
        elif kind == "thead_open":
            header = True
        elif kind == "thead_close":
            header = False
        elif kind == "tr_open":
            row = []
        elif kind in ("th_open", "td_open"):
            cell = ""
        elif kind == "inline" and cell is not None:
            cell = _inline_text(list(token.children or []))
        elif kind in ("th_close", "td_close"):
            row.append(Cell(cell or "", header=header))
            cell = None
        elif kind == "tr_close":
            rows.append(tuple(row))
        elif kind == "table_close":
            tables.append(Table(tuple(rows), "markdown"))
    return tables


def _inline_text(children: list[object]) -> str:
    parts: list[str] = []
    for child in children:
        kind = getattr(child, "type", "")
        if kind in ("text", "code_inline", "html_inline"):
            parts.append(str(getattr(child, "content", "")))
        elif kind in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif kind == "image":
            parts.append(str(getattr(child, "content", "")))
    return "".join(parts).strip()


def find_tables(text: str) -> list[Table]:
    """Every table of an answer — Markdown and HTML — in the order they appear."""
    tables: list[Table] = []
    for segment in split_html_tables(text):
        if segment.table is not None:
            tables.append(segment.table)
        else:
            tables.extend(markdown_tables(segment.text))
    return tables
