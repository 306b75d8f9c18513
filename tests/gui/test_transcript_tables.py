"""Tables in the transcript: a grid of plain cells, drawn in the colours Qt drew its
collapsed-border tables in (lines in the border colour made lighter, the right and bottom
edge in the border colour), without collapsed borders (Qt paints those ~3× slower)."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QColor, QImage, QPainter, QTextDocument, QTextFrame, QTextTable
from PySide6.QtWidgets import QApplication

from qwenvl_desktop.core.markdown_render import render_markdown
from qwenvl_desktop.ui.theme import code_palette
from qwenvl_desktop.ui.theme.tokens import DARK, LIGHT, Scheme

TABLE = """| Stage | Input | Tokens |
|---|:---:|---:|
| frame | 28×4096 | 1234 |
| tile | 640×480 | 12 |
"""


def tables(frame: QTextFrame) -> list[QTextTable]:
    found = []
    for child in frame.childFrames():
        if isinstance(child, QTextTable):
            found.append(child)
        found.extend(tables(child))
    return found


def document(html: str) -> QTextDocument:
    doc = QTextDocument()
    doc.setDocumentMargin(10)
    doc.setHtml(html)
    doc.setTextWidth(500)
    return doc


@pytest.mark.parametrize("s", [LIGHT, DARK], ids=["light", "dark"])
def test_table_cells_and_text_as_written_without_collapsed_borders(
        qapp: QApplication, s: Scheme) -> None:
    doc = document(render_markdown(TABLE, palette=code_palette(s)))
    found = tables(doc.rootFrame())
    assert found
    assert not any(t.format().borderCollapse() for t in found)
    grid = [t for t in found if t.rows() == 3]
    assert len(grid) == 1
    cells = [[grid[0].cellAt(r, c).firstCursorPosition().block().text() for c in range(3)]
             for r in range(3)]
    assert cells == [["Stage", "Input", "Tokens"], ["frame", "28×4096", "1234"],
                     ["tile", "640×480", "12"]]
    text = doc.toPlainText()
    for word in ("Stage", "28×4096", "1234", "Copy as CSV"):
        assert word in text


@pytest.mark.parametrize("s", [LIGHT, DARK], ids=["light", "dark"])
def test_table_lines_are_drawn_in_the_colours_of_qt_collapsed_borders(
        qapp: QApplication, s: Scheme) -> None:
    palette = code_palette(s)
    rule = QColor(s.table_border).lighter(150).name()
    assert palette.table_rule == rule
    assert palette.table_cell_bg == s.base
    doc = document(f'<body bgcolor="{s.base}">'
                   + render_markdown(TABLE, palette=palette) + "</body>")
    size = doc.size().toSize()
    image = QImage(size, QImage.Format.Format_RGB32)
    image.fill(QColor(s.base))
    painter = QPainter(image)
    doc.drawContents(painter)
    painter.end()
    # Down the middle of the first column: the top edge and the lines between rows in
    # the lighter colour, the bottom edge in the border colour, cells in between.
    column = [image.pixelColor(14, y).name() for y in range(size.height())]
    top = column.index(s.table_header_bg)
    bottom = column.index(s.table_border, top)
    assert column[top - 1] == rule                 # the top edge
    assert column[bottom - 2] == s.base            # the last row's cell, its line, the edge
    assert column[bottom - 1] == rule
    assert column[bottom + 1] == s.base
    if rule != s.base:                             # (light: the lighter colour is white)
        between = column[top:bottom]
        runs = [y for y in range(1, len(between)) if between[y] == rule
                and between[y - 1] != rule]
        assert len(runs) == 3                      # under the header, between the rows, last
