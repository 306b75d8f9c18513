"""Tables in answers as data: parsed from Markdown and HTML, written as CSV and TSV."""

from __future__ import annotations

import csv
import io
import re

import pytest

from qwenvl_desktop.core.markdown_render import render_markdown
from qwenvl_desktop.core.tables import find_tables, parse_html_table, split_html_tables

MARKDOWN = """Here is the receipt:

| Item | Note | Price |
|------|------|------:|
| Coffee, large | "extra hot" | 3.50 |
| Bagel |  | 2.00 |
| Tea \\| milk | say ""hi"" | |
"""

OCR_HTML = """```html
<html><body><table border="1">
<thead><tr><th>Name</th><th>Address</th><th>Remark</th></tr></thead>
<tbody>
<tr><td>Smith, John</td><td>12 "Elm" St.</td><td></td></tr>
<tr><td>O'Brien</td><td></td><td>line one<br>line two</td></tr>
<tr><td colspan="2">Total, all rows</td><td>2</td></tr>
</tbody></table></body></html>
```"""


def _read_csv(text: str, delimiter: str = ",") -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def test_markdown_table_round_trips_through_csv_and_tsv() -> None:
    (table,) = find_tables(MARKDOWN)
    expected = [["Item", "Note", "Price"],
                ["Coffee, large", '"extra hot"', "3.50"],
                ["Bagel", "", "2.00"],
                ["Tea | milk", 'say ""hi""', ""]]
    assert table.grid() == expected
    assert _read_csv(table.to_csv()) == expected
    assert _read_csv(table.to_tsv(), "\t") == expected
    assert table.to_csv().splitlines()[1] == '"Coffee, large","""extra hot""",3.50'


def test_html_table_round_trips_through_csv_with_spans_and_line_breaks() -> None:
    (table,) = find_tables(OCR_HTML)
    assert table.source == "html"
    expected = [["Name", "Address", "Remark"],
                ["Smith, John", '12 "Elm" St.', ""],
                ["O'Brien", "", "line one\nline two"],
                ["Total, all rows", "", "2"]]
    assert table.grid() == expected
    assert _read_csv(table.to_csv()) == expected
    assert _read_csv(table.to_tsv(), "\t") == expected
    assert table.rows[0][0].header
    assert not table.rows[1][0].header


def test_rowspans_fill_the_grid_below() -> None:
    table = parse_html_table('<table><tr><td rowspan="2">A</td><td>B</td></tr>'
                             '<tr><td>C</td></tr><tr><td>D</td><td>E</td></tr></table>')
    assert table is not None
    assert table.grid() == [["A", "B"], ["", "C"], ["D", "E"]]


def test_hostile_spans_and_broken_html_stay_bounded() -> None:
    table = parse_html_table('<table><tr><td colspan="99999999">x<td rowspan="-3">y'
                             '<tr><td colspan="abc">z</table>')
    assert table is not None
    rows, columns = table.size
    assert rows == 2
    assert columns <= 101
    assert table.grid()[1][0] == "z"
    assert parse_html_table("<table></table>") is None


def test_entities_and_tags_in_cells_become_text() -> None:
    table = parse_html_table('<table><tr><td>&amp; &lt;b&gt; <b>bold</b>'
                             '<script>alert(1)</script></td></tr></table>')
    assert table is not None
    assert table.grid() == [["& <b> boldalert(1)"]]


def test_tables_inside_other_code_blocks_are_code() -> None:
    text = '```python\nhtml = "<table><tr><td>x</td></tr></table>"\n```'
    assert find_tables(text) == []
    assert split_html_tables(text)[0].table is None


def test_html_rendering_comes_from_the_cells_never_the_model_html() -> None:
    hostile = ('<table onclick="steal()"><tr><td style="background:url(https://evil/)">'
               '<a href="https://evil.example">click</a><img src=x onerror=alert(1)>'
               '</td></tr></table>')
    html = render_markdown(hostile)
    assert "evil" not in html
    assert "onclick" not in html
    assert "onerror" not in html
    assert "<a " not in html.split("</table>")[0]
    assert ">click</td>" in html
    # Raw HTML that is not a table stays escaped text.
    assert "&lt;div onclick" in render_markdown('<div onclick="x()">hi</div>')


def test_render_numbers_links_in_the_order_find_tables_returns() -> None:
    text = MARKDOWN + "\n\n" + OCR_HTML + "\n\nand\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"
    html = render_markdown(text)
    copy_links = [int(n) for n in re.findall(r'href="copy-table:(\d+)"', html)]
    save_links = [int(n) for n in re.findall(r'href="save-table:(\d+)"', html)]
    tables = find_tables(text)
    assert copy_links == save_links == list(range(len(tables))) == [0, 1, 2]
    assert [t.source for t in tables] == ["markdown", "html", "markdown"]
    assert "Smith, John" in html
    assert "line one<br>line two" in html
    assert 'colspan="2"' in html
    # Rendered in pieces (as while streaming), the numbers continue.
    piece = render_markdown("| a | b |\n|---|---|\n| 1 | 2 |\n", first_table_index=5)
    assert 'href="copy-table:5"' in piece


def test_exports_have_no_table_links() -> None:
    html = render_markdown(MARKDOWN + OCR_HTML, copy_links=False)
    assert "copy-table" not in html
    assert "Save as CSV" not in html
    assert html.count("<table") == 2


@pytest.mark.parametrize("wrapper", [
    "{t}", "<html><body>{t}</body></html>", "```html\n{t}\n```",
    "```\n<html>\n<body>{t}</body>\n</html>\n```"])
def test_ocr_wrappers_are_recognised(wrapper: str) -> None:
    text = "Result:\n" + wrapper.format(t="<table><tr><td>1</td><td>2</td></tr></table>") + \
        "\nEnd."
    segments = split_html_tables(text)
    tables = [s for s in segments if s.table is not None]
    assert len(tables) == 1
    assert tables[0].table is not None
    assert tables[0].table.grid() == [["1", "2"]]
    rest = "".join(s.text for s in segments if s.table is None)
    assert "<html>" not in rest
    assert "```" not in rest
    assert rest.startswith("Result:")
    assert rest.rstrip().endswith("End.")


def test_text_outside_cells_is_kept_as_a_caption() -> None:
    html = render_markdown("<table><caption>Q3 &amp; Q4</caption>stray"
                           "<tr><td>1</td></tr></table>")
    assert "<i>Q3 &amp; Q4 stray</i>" in html
    (table,) = find_tables("<table><caption>Totals</caption><tr><td>1</td></tr></table>")
    assert table.caption == "Totals"
    assert table.grid() == [["1"]]
