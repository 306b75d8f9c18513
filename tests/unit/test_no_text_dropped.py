"""No renderer drops text: every word of an answer reaches the transcript and both exports.

markdown-it stops parsing at its nesting limit and drops what lies deeper (a list nested
ten levels, a 30-deep `>` quote), and GFM tables drop cells past the header's count.
These tests throw deep, ragged and long markdown at the transcript's renderer, the HTML
export and the Markdown export, and look for every word in what each of them writes.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qwenvl_desktop.core.conversation import Conversation, Message
from qwenvl_desktop.core.export import export_html, export_markdown
from qwenvl_desktop.core.markdown_render import render_markdown

PROPERTY = settings(max_examples=150, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.function_scoped_fixture])

_WORD = re.compile(r"w[a-z]{2,7}")


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text))


def _outputs(text: str, folder: Path) -> dict[str, str]:
    """What the person reads of `text`: the transcript's HTML and both exports."""
    conv = Conversation(title="t", messages=[Message(role="user", text="q"),
                                             Message(role="assistant", text=text)])
    html_out = export_html(conv, folder / "c.html").read_text(encoding="utf-8")
    md_out = export_markdown(conv, folder / "c.md").read_text(encoding="utf-8")
    return {"transcript": render_markdown(text), "html export": html_out,
            "markdown export": md_out}


def _missing(text: str, folder: Path) -> dict[str, list[str]]:
    wanted = _words(text)
    return {where: sorted(w for w in wanted if w not in out)
            for where, out in _outputs(text, folder).items()
            if any(w not in out for w in wanted)}


# --- the cases found by hand ------------------------------------------------------------------

def test_a_list_nested_deeper_than_the_parser_allows_keeps_every_level(tmp_path: Path) -> None:
    text = "".join("  " * depth + f"- wlevel{chr(97 + depth)}\n" for depth in range(16))
    text += "\nwafter the list\n"
    assert _missing(text, tmp_path) == {}


def test_a_thirty_deep_quote_keeps_its_text_and_what_follows(tmp_path: Path) -> None:
    text = ">" * 30 + " wdeepest quote\n\nwafterwards\n"
    assert _missing(text, tmp_path) == {}
    assert "wdeepest" in render_markdown(text)


def test_deep_quotes_of_lists_and_lists_of_quotes(tmp_path: Path) -> None:
    mixed = "".join(f"{'> - ' * depth}wmix{chr(97 + depth)}\n" for depth in range(1, 14))
    assert _missing(mixed, tmp_path) == {}


def test_ragged_table_rows_keep_their_extra_cells(tmp_path: Path) -> None:
    text = ("| wone | wtwo |\n|---|---|\n| wthree | wfour | wfive | wsix |\n| wseven |\n\n"
            "wtail\n")
    assert _missing(text, tmp_path) == {}
    html = render_markdown(text)
    assert html.count("<tr>") == 3          # still a table, with the extra cells kept


def test_a_very_long_line_is_kept_whole(tmp_path: Path) -> None:
    words = [f"wl{chr(97 + i % 26)}{chr(97 + i // 26 % 26)}{chr(97 + i // 676)}"
             for i in range(6000)]
    assert _missing(" ".join(words), tmp_path) == {}


def test_every_word_of_a_code_fence_info_string_is_shown(tmp_path: Path) -> None:
    text = "```wpython wtitle wextra\nwcode\n```\n"
    assert _missing(text, tmp_path) == {}


def test_a_reference_definition_is_shown_not_swallowed(tmp_path: Path) -> None:
    text = "See [wlabel][wref].\n\n[wref]: https://example.com/wtarget \"wtitle\"\n"
    assert _missing(text, tmp_path) == {}


# --- the property -----------------------------------------------------------------------------

words = st.from_regex(r"w[a-z]{2,7}", fullmatch=True)
marks = st.sampled_from(["*", "**", "_", "`", "```", "~~~", "~~", "[", "]", "(", ")", "](",
                         "|", "#", "-", "---", ":", "!", "![", "<", ">", "\\", "    ", "\t",
                         "1.", "+", "=", "\"", "'", "{", "}", "$"])
prefix = st.lists(st.sampled_from(["> ", ">", "- ", "* ", "+ ", "1. ", "9) ", "  ", "    ",
                                   "| ", "# "]), max_size=40).map("".join)
line = st.tuples(prefix, st.lists(words | marks, min_size=1, max_size=12)).map(
    lambda parts: parts[0] + " ".join(parts[1]))
document = st.lists(line | st.just(""), min_size=1, max_size=25).map("\n".join)


@PROPERTY
@given(text=document)
def test_every_word_of_any_input_is_in_every_rendering(text: str, tmp_path: Path) -> None:
    assert _missing(text, tmp_path) == {}


@pytest.mark.parametrize("depth", [5, 9, 10, 19, 20, 21, 40, 200])
def test_quotes_and_lists_at_every_depth_around_the_limit(depth: int, tmp_path: Path) -> None:
    quote = ">" * depth + " wquoted\n\nwnext\n"
    items = "".join("    " * d + f"1. witem{chr(97 + d % 26)}{chr(97 + d // 26)}\n"
                    for d in range(depth))
    assert _missing(quote, tmp_path) == {}
    assert _missing(items, tmp_path) == {}
