"""`<think>…</think>` in answer text: split into reasoning, whatever the chunking."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qwenvl_desktop.core.api.think_tags import CLOSE, OPEN, ThinkSplitter, ThinkTagFilter
from qwenvl_desktop.core.api.types import ContentDelta, Finish, ReasoningDelta, Usage


def split(chunks: list[str], *, preopened: bool = False) -> tuple[str, str]:
    splitter = ThinkSplitter(preopened=preopened)
    pieces = [p for chunk in chunks for p in splitter.feed(chunk)] + splitter.close()
    reasoning = "".join(text for kind, text in pieces if kind == "reasoning")
    answer = "".join(text for kind, text in pieces if kind == "answer")
    return reasoning, answer


@pytest.mark.parametrize(("chunks", "preopened", "reasoning", "answer"), [
    (["<think>\nLook at the chart.\n</think>\n\nIt rises."], False,
     "Look at the chart.\n", "It rises."),
    # The tags cut anywhere, even one character at a time.
    (["<th", "ink>", "a b", "</th", "ink", ">", "\n", "answer"], False, "a b", "answer"),
    (list("<think>xy</think>z"), False, "xy", "z"),
    # A template that opened the tag: only the close appears.
    (["The user wants", " a count.</thi", "nk>\n\nThree."], True,
     "The user wants a count.", "Three."),
    # Pre-opened, but the model wrote the open tag anyway.
    (["<think>r</think>a"], True, "r", "a"),
    # Whitespace before the open tag is not answer text.
    (["\n\n", "  <think>r</think>a"], False, "r", "a"),
    # No tags: all answer; a tag later in the answer is quoted text, kept as is.
    (["Plain answer about <think> tags."], False, "", "Plain answer about <think> tags."),
    (["<thinking> is not the tag"], False, "", "<thinking> is not the tag"),
    # An unfinished reasoning at the end stays reasoning; an unfinished tag is text.
    (["<think>still thinking </thi"], False, "still thinking </thi", ""),
    (["  <thi"], False, "", "  <thi"),
    # Found by the property test below: a closing tag repeated at once is not answer.
    (["<think></think></think>"], False, "", ""),
    (["<think>r</think>\n</think>Answer"], False, "r", "Answer"),
    (["<think>r</think></thi"], False, "r", "</thi"),
    ([], False, "", ""),
])
def test_examples(chunks: list[str], preopened: bool, reasoning: str, answer: str) -> None:
    assert split(chunks, preopened=preopened) == (reasoning, answer)


WORDS = st.sampled_from(["<", ">", "/", "think", "<think>", "</think>", "</", "<th", "ink>",
                         "a", " ", "\n", "answer", "é", "🚲", "</thin", "k>"])


@settings(max_examples=500, deadline=None)
@given(text=st.lists(WORDS, max_size=30).map("".join), preopened=st.booleans(),
       cuts=st.lists(st.integers(0, 200), max_size=12))
def test_any_chunking_gives_the_same_split(text: str, preopened: bool, cuts: list[int]) -> None:
    points = sorted({c % (len(text) + 1) for c in cuts})
    chunks = [text[a:b] for a, b in zip([0, *points], [*points, len(text)], strict=True)]
    whole = split([text], preopened=preopened)
    assert split(chunks, preopened=preopened) == whole
    assert split(list(text), preopened=preopened) == whole
    reasoning, answer = whole
    # Nothing is invented, and the first tag pair never reaches the answer.
    assert len(reasoning) + len(answer) <= len(text)
    if text.lstrip().startswith(OPEN) and CLOSE in text:
        assert not answer.startswith(CLOSE)


def test_filter_keeps_server_reasoning_and_flushes_before_finish() -> None:
    think = ThinkTagFilter(preopened=True)
    # The server parses reasoning itself: answer text then stays answer.
    out = think.events([ReasoningDelta("r"), ContentDelta("Plain"), ContentDelta(" answer")])
    out += think.events([Finish("stop"), Usage(1, 2, 3)])
    assert out == [ReasoningDelta("r"), ContentDelta("Plain"), ContentDelta(" answer"),
                   Finish("stop"), Usage(1, 2, 3)]
    held = ThinkTagFilter()
    events = held.events([ContentDelta("  <thi")])
    assert events == []                       # might still become a tag
    assert held.events([Finish("stop")]) == [ContentDelta("  <thi"), Finish("stop")]


def test_once_the_answer_is_decided_deltas_pass_as_they_came() -> None:
    think = ThinkTagFilter()
    first, later, tag = ContentDelta("It"), ContentDelta(" rises"), ContentDelta(" <think>")
    assert think.events([first]) == [first]
    out = think.events([later, tag])
    assert out == [later, tag]
    assert out[0] is later                 # not split and rebuilt: passed through
    assert think.events([Finish("stop")]) == [Finish("stop")]
