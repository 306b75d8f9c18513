"""Ordered lists rendered in pieces (a streaming answer) keep the numbers the whole
answer gives them."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from qwenvl_desktop.core.list_numbering import ListNumbering
from qwenvl_desktop.core.markdown_render import SettledSplitter, render_markdown


class _Numbers(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.lists: list[list[int] | None] = []      # the next number; None: bullets
        self.shown: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "ol":
            self.lists.append([int(dict(attrs).get("start") or 1)])
        elif tag == "ul":
            self.lists.append(None)
        elif tag == "li" and self.lists:
            counter = self.lists[-1]
            depth = "  " * (len(self.lists) - 1)
            if counter is None:
                self.shown.append(depth + "•")
            else:
                self.shown.append(f"{depth}{counter[0]}")
                counter[0] += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("ol", "ul") and self.lists:
            self.lists.pop()


def numbers(html: str) -> list[str]:
    """The mark each list item shows, in order, indented by its depth."""
    parser = _Numbers()
    parser.feed(html)
    return parser.shown


def pieces(text: str) -> list[str]:
    """The settled pieces and the tail, fed line by line as a stream would."""
    splitter = SettledSplitter()
    out = [settled for line in text.splitlines(keepends=True)
           if (settled := splitter.feed(line))]
    return [*out, splitter.flush()]


def rendered_in_pieces(text: str) -> str:
    """The answer as the transcript renders it while streaming: settled pieces one by
    one, then what is left, each numbered by one ListNumbering."""
    numbering = ListNumbering()
    html = []
    for piece in pieces(text):
        piece = numbering.continued(piece)
        html.append(render_markdown(piece))
        numbering.settled(piece)
    return "".join(html)


LOOSE = "Steps:\n\n1. Open it.\n\n2. Save it.\n\n3. Close it.\n\nDone.\n"
LAZY = "Steps:\n\n1. Open it.\n\n1. Save it.\n\n1. Close it.\n"
CODE_IN_ITEMS = ("1. Install:\n\n   ```bash\n   pip install x\n   ```\n\n"
                 "1. Run:\n\n   ```bash\n   x --help\n   ```\n\n1. Read the output.\n")
# A piece may start with the end of an item's code block, then the next item.
CODE_THEN_ITEM = ("1. Install:\n\n   ```bash\n   pip install x\n   ```\n1. Run it.\n\n"
                  "1. Read the output.\n")
STARTS_AT_FIVE = "5) five\n\n5) six\n6) seven\n"
NESTED = ("1. Fruit:\n\n   1. apple\n   2. pear\n\n   3. plum\n\n"
          "1. Vegetables\n")


@pytest.mark.parametrize("text", [LOOSE, LAZY, CODE_IN_ITEMS, CODE_THEN_ITEM, STARTS_AT_FIVE,
                                  NESTED])
def test_pieces_show_the_numbers_of_the_whole(text: str) -> None:
    # (A piece indented into an item is drawn at the top level until the answer ends
    # and is rendered whole: only the numbers are compared.)
    whole = [mark.strip() for mark in numbers(render_markdown(text))]
    assert [mark.strip() for mark in numbers(rendered_in_pieces(text))] == whole
    assert len(whole) >= 3


def test_without_numbering_the_pieces_restart() -> None:
    """What this fixes: each piece on its own restarts at its first item's number."""
    html = "".join(render_markdown(piece) for piece in pieces(LAZY))
    assert numbers(html) == ["1", "1", "1"]
    assert numbers(rendered_in_pieces(LAZY)) == ["1", "2", "3"]


def test_a_paragraph_ends_the_list() -> None:
    numbering = ListNumbering()
    numbering.settled("1. one\n2. two\n\n")
    assert numbering.continued("1. three\n") == "3. three\n"
    numbering.settled("Between the lists.\n\n")
    assert numbering.continued("1. again\n") == "1. again\n"


def test_another_delimiter_or_a_deeper_item_is_left_as_written() -> None:
    numbering = ListNumbering()
    numbering.settled("1. one\n\n")
    assert numbering.continued("1) other list\n") == "1) other list\n"
    assert numbering.continued("   1. nested in one\n") == "   1. nested in one\n"
    assert numbering.continued("\n1. two\n") == "\n2. two\n"


def test_text_inside_the_last_item_keeps_the_list_open() -> None:
    numbering = ListNumbering()
    numbering.settled("10.  ten\n\n")            # its text starts at column 5
    numbering.settled("     more about ten\n\n")
    assert numbering.continued("1. eleven\n") == "11. eleven\n"
    numbering.settled("    not indented enough\n\n")
    assert numbering.continued("1. new\n") == "1. new\n"


def test_start_zero_and_blank_pieces() -> None:
    numbering = ListNumbering()
    numbering.settled("0. zero\n\n")
    numbering.settled("\n")
    assert numbering.continued("7. one\n") == "1. one\n"
    numbering.reset()
    assert numbering.continued("7. seven\n") == "7. seven\n"
