"""Tokens per second only when the figure means something, in every status line."""

from __future__ import annotations

import math

import pytest

from qwenvl_desktop.cli.ask import _summary
from qwenvl_desktop.core.api.types import Usage
from qwenvl_desktop.core.conversation import Message, MessageStatus, Provenance
from qwenvl_desktop.core.export import status_line
from qwenvl_desktop.core.output_rate import (
    MIN_TOKENS_AFTER_FIRST,
    MIN_WRITING_S,
    tokens_per_second,
)


def answer(out: int | None, first: float | None, total: float | None,
           status: MessageStatus = "complete") -> Message:
    usage = None if out is None else Usage(prompt_tokens=1204, completion_tokens=out,
                                           total_tokens=1204 + out)
    return Message(role="assistant", text="…", status=status, provenance=Provenance(
        provider="dashscope-intl", model="qwen3-vl-plus", usage=usage,
        finish_reason="stop", first_token_s=first, total_s=total))


# Provenances as real turns leave them.
STREAMED = answer(389, 0.82, 6.4)              # 388 tokens after the first in 5.58 s
LOOPBACK = answer(17, 0.003, 0.0035)           # everything in half a millisecond
SEGMIND = answer(512, 4.2, 4.2002)             # a blocking reply revealed at once
CACHED = answer(250, 0.05, 0.09)               # a cache answering in 40 ms
SHORT = answer(6, 0.9, 2.4)                    # "Yes, it is." — six tokens
STALLED = answer(389, 0.82, 66.4, "interrupted")   # the clock ran on while it hung
STOPPED = answer(120, 1.0, 3.0, "stopped")     # stopped by the person: a real rate


def test_a_streamed_answer_has_its_rate_from_the_first_token_to_the_last() -> None:
    rate = tokens_per_second(STREAMED)
    assert rate == pytest.approx(388 / 5.58)
    assert tokens_per_second(STOPPED) == pytest.approx(119 / 2.0)


@pytest.mark.parametrize("message", [LOOPBACK, SEGMIND, CACHED, SHORT, STALLED],
                         ids=["loopback", "segmind", "cached", "short", "interrupted"])
def test_no_rate_when_it_would_mislead(message: Message) -> None:
    assert tokens_per_second(message) is None


@pytest.mark.parametrize("message", [
    answer(None, 0.5, 4.0), answer(200, None, 4.0), answer(200, 0.5, None),
    answer(200, math.nan, 4.0), answer(200, 0.5, math.inf), answer(200, 0.5, 4.0, "error"),
    Message(role="assistant", text="no provenance"),
], ids=["no-usage", "no-first-token", "no-total", "nan", "inf", "failed", "no-provenance"])
def test_no_rate_without_the_figures(message: Message) -> None:
    assert tokens_per_second(message) is None


def test_the_limits_themselves_count() -> None:
    at_limits = answer(MIN_TOKENS_AFTER_FIRST + 1, 1.0, 1.0 + MIN_WRITING_S)
    assert tokens_per_second(at_limits) == pytest.approx(MIN_TOKENS_AFTER_FIRST / MIN_WRITING_S)
    assert tokens_per_second(answer(MIN_TOKENS_AFTER_FIRST, 1.0, 5.0)) is None
    assert tokens_per_second(answer(500, 1.0, 1.0 + MIN_WRITING_S * 0.99)) is None


def test_exports_and_the_terminal_follow_the_same_rule_in_their_own_words() -> None:
    assert status_line(STREAMED) == (
        "qwen3-vl-plus · 1,204 tokens in · 389 out · first token 0.82 s · 6.4 s total · "
        "69.5 tokens/s · finish: stop")
    assert "tokens/s" not in status_line(SEGMIND)
    assert "tokens/s" not in status_line(LOOPBACK)
    assert _summary(STREAMED) == (
        "[qwen3-vl-plus via dashscope-intl · 1204 prompt + 389 completion tokens · "
        "first token 0.82 s · total 6.40 s · 69.5 tokens/s · finish: stop]")
    assert "tokens/s" not in _summary(SEGMIND)
    assert "tokens/s" not in _summary(CACHED)
