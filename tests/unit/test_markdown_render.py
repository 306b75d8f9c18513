"""Markdown → Qt-friendly HTML, code copy links, and the streaming settled/tail split."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qwenvl_desktop.core.markdown_render import (
    SettledSplitter,
    code_blocks,
    render_markdown,
    split_settled,
)

SAMPLE = """# Result

| Name | Count |
|:-----|------:|
| a    |     1 |

```python
def f(x):
    return "<b>" if x else None
```

Some `inline <code>` and ~~old~~ text.

~~~
plain tilde block
~~~
"""


# --- rendering -----------------------------------------------------------------------

def test_tables_carry_border_and_padding_attributes() -> None:
    html = render_markdown(SAMPLE)
    assert re.search(r'<table border="1" cellspacing="0" cellpadding="\d+"', html)
    assert '<th align="left">Name</th>' in html
    assert '<td align="right">1</td>' in html
    assert "text-align" not in html   # Qt ignores it on cells; align= is used instead


def test_code_block_is_a_one_cell_table_with_inline_highlighting() -> None:
    html = render_markdown(SAMPLE)
    block = html[html.index('<table width="100%"'):]
    block = block[: block.index("</table>")]
    assert 'bgcolor="#' in block
    assert block.count("<td") == 1
    assert "<pre" in block
    assert "monospace" in block
    assert re.search(r'<span style="color: #[0-9A-Fa-f]+; font-weight: bold">def</span>', block)
    assert "&lt;b&gt;" in block
    assert "<b>" not in block
    assert "class=" not in html   # nothing relies on a stylesheet


def test_inline_code_strike_and_headings() -> None:
    html = render_markdown(SAMPLE)
    assert re.search(r'<code style="[^"]*background-color:#[0-9a-f]+">inline &lt;code&gt;</code>',
                     html)
    assert "<s>old</s>" in html
    assert "<h1>Result</h1>" in html


@pytest.mark.parametrize("lang", ["", "nosuchlanguage", "{r}", "<script>", "py", "c++",
                                  "tsx", "PYTHON"])
def test_any_info_string_renders(lang: str) -> None:
    html = render_markdown(f"```{lang}\nprint(1) < 2\n```\n")
    assert "<script>" not in html
    assert "print" in html
    assert "&lt;" in html


def test_highlight_off_keeps_layout_without_colours() -> None:
    plain = render_markdown("```python\ndef f(): return '<x>'\n```\n", highlight=False)
    assert 'bgcolor="#' in plain
    assert 'href="copy-code:0"' in plain
    assert "<span" not in plain
    assert "def f(): return '&lt;x&gt;'</pre>" in plain


def test_unknown_language_falls_back_to_plain_text() -> None:
    html = render_markdown("```nosuchlanguage\nif x then <y>\n```\n")
    assert "if x then &lt;y&gt;" in html
    assert "nosuchlanguage" in html   # shown as the block's label


def test_raw_html_is_shown_not_interpreted() -> None:
    html = render_markdown('<script>alert(1)</script>\n\nHi <b onclick="x()">there</b>')
    assert "<script" not in html
    assert "<b " not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_links_are_kept_but_unsafe_schemes_and_images_are_not() -> None:
    html = render_markdown("[a](https://example.com) [b](javascript:alert(1)) "
                           "![cat](https://example.com/cat.png)")
    assert '<a href="https://example.com">a</a>' in html
    assert 'href="javascript:' not in html
    assert "<img" not in html
    assert '<a href="https://example.com/cat.png">[image: cat]</a>' in html


def test_dark_palette_changes_code_colours() -> None:
    light = render_markdown(SAMPLE)
    dark = render_markdown(SAMPLE, dark=True)
    light_bg = set(re.findall(r'bgcolor="(#[0-9a-f]+)"', light))
    dark_bg = set(re.findall(r'bgcolor="(#[0-9a-f]+)"', dark))
    assert len(light_bg) == len(dark_bg) == 1
    assert light_bg != dark_bg
    assert light != dark


# --- copy links ----------------------------------------------------------------------

def test_copy_links_number_blocks_in_order_and_match_code_blocks() -> None:
    text = ("```sh\necho one\n```\n\n- item\n\n  ```\n  in a list\n  ```\n\n"
            "> ```js\n> quoted()\n> ```\n\n    indented code\n")
    html = render_markdown(text)
    assert re.findall(r'href="copy-code:(\d+)"', html) == ["0", "1", "2", "3"]
    assert code_blocks(text) == ["echo one", "in a list", "quoted()", "indented code"]


def test_copy_link_numbering_continues_across_pieces() -> None:
    html = render_markdown("```\nx\n```\n", first_code_index=5)
    assert 'href="copy-code:5"' in html
    assert "copy-code:" not in render_markdown("```\nx\n```\n", copy_links=False)


def test_code_blocks_keep_inner_blank_lines_and_html() -> None:
    assert code_blocks("````md\n```\n<b>\n\n```\n````\n") == ["```\n<b>\n\n```"]
    assert code_blocks("no code here") == []


# --- split_settled / SettledSplitter ---------------------------------------------------

@pytest.mark.parametrize(("text", "settled"), [
    ("", ""),
    ("one line", ""),
    ("para\n", ""),
    ("para\n\n", "para\n\n"),
    ("para\n\nnext", "para\n\n"),
    ("a\n\nb\n\nc", "a\n\nb\n\n"),
    ("a\n  \t\nb", "a\n  \t\n"),                               # whitespace-only is blank
    ("a\r\n\r\nb", "a\r\n\r\n"),                               # CRLF
    ("a\n\n```py\ncode\n\nmore", "a\n\n"),                     # blank inside open fence
    ("```py\ncode\n\nmore\n```\n\nafter", "```py\ncode\n\nmore\n```\n\n"),
    ("~~~\n```\n\n~~~\n\nx", "~~~\n```\n\n~~~\n\n"),          # ``` does not close ~~~
    ("````\n```\n\n```\n\n````\n\nz", "````\n```\n\n```\n\n````\n\n"),
    ("```\nx\n````\n\ny", "```\nx\n````\n\n"),                # longer closer is fine
    ("````\nx\n```\n\ny", ""),                                 # shorter closer is not
    ("``` a`b\n\nc", "``` a`b\n\n"),                          # backtick info: not a fence
    ("~~~ a`b\n\nc", ""),                                      # ...but fine for tildes
    ("1. step\n   ```sh\n   ls\n\n   ```\n\nok", "1. step\n   ```sh\n   ls\n\n   ```\n\n"),
    ("- ```\n  x\n\n  ```\n\nok", "- ```\n  x\n\n  ```\n\n"),  # fence on the item line
    ("> ```\n> x\n>\n> y", ""),                               # blank quote line: open
    ("> ```\n> x\n\ny", "> ```\n> x\n\n"),                     # quote ended: fence too
    ("> > ```\n> x\n\ny", "> > ```\n> x\n\n"),
    ("```\n    ```\n\nstill code", ""),                        # closer indented too far
])
def test_split_settled(text: str, settled: str) -> None:
    assert split_settled(text) == (settled, text[len(settled):])


def test_feeding_char_by_char_equals_splitting_whole() -> None:
    text = SAMPLE + "\n```js\nlet a = `x`;\n\n```\n\nTail paragraph\nstill open"
    splitter = SettledSplitter()
    pieces = [s for s in (splitter.feed(c) for c in text) if s is not None]
    settled, tail = split_settled(text)
    assert "".join(pieces) == settled
    assert splitter.tail == tail == "Tail paragraph\nstill open"
    assert splitter.flush() == tail
    assert splitter.tail == ""


def test_fence_spanning_chunks() -> None:
    splitter = SettledSplitter()
    assert splitter.feed("Intro\n\n``") == "Intro\n\n"
    assert splitter.feed("`pyt") is None
    assert splitter.feed("hon\nx = 1\n\n") is None
    assert splitter.in_fence
    assert splitter.feed("y = 2\n`") is None
    assert splitter.feed("``\n") is None
    assert not splitter.in_fence
    assert splitter.feed("\nAfter") == "```python\nx = 1\n\ny = 2\n```\n\n"
    assert splitter.tail == "After"


def test_tail_stays_short_however_long_the_answer() -> None:
    splitter = SettledSplitter()
    total = 0
    for i in range(2000):
        out = splitter.feed(f"Paragraph {i} with some words.\n\n")
        total += len(out or "")
        assert len(splitter.tail) == 0
    assert total == sum(len(f"Paragraph {i} with some words.\n\n") for i in range(2000))


def test_reset_forgets_an_open_fence() -> None:
    splitter = SettledSplitter()
    splitter.feed("```\ncode\n")
    splitter.reset()
    assert splitter.feed("text\n\n") == "text\n\n"


_alphabet = st.sampled_from(["\n", "\n\n", "```", "~~~", "````", "`", " ", "  ", "py", "x",
                             "> ", "- ", "1. ", "\r\n", "\t", "a`b"])


@settings(max_examples=300, deadline=None, database=None)
@given(st.lists(_alphabet, max_size=60), st.data())
def test_any_chunking_gives_the_same_settled_text(parts: list[str], data: st.DataObject) -> None:
    text = "".join(parts)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(text)), max_size=12)))
    splitter = SettledSplitter()
    out: list[str] = []
    start = 0
    for cut in [*cuts, len(text)]:
        piece = splitter.feed(text[start:cut])
        if piece is not None:
            out.append(piece)
        start = cut
    settled, tail = split_settled(text)
    assert "".join(out) == settled
    assert splitter.tail == tail
    # Settled text always ends on a blank line outside any fence.
    assert settled == "" or settled.endswith("\n")
