"""Two questions in a row on the wire: kept, or joined into one user turn.

The history sent leaves failed and empty answers out (`left_out_of_history`), so after
a failed turn the next request carries the unanswered question and the new one as two
user messages in a row. Qwen's own chat template takes that (each message is wrapped in
its `<|im_start|>` block, nothing checks the order), which is what vLLM-style hosts
serve; but DashScope has refused it with HTTP 400 "User and assistant need to appear
alternately in the message" (reported in 2023 against its API, e.g. DB-GPT #756 —
the compatible mode's documents say nothing either way), and the chat templates of
other model families behind a custom endpoint raise "Conversation roles must alternate".

The catalog says which (`consecutive_user_turns` in providers.toml): "keep" sends the
messages as they are; "merge" joins each run of user messages into one, in order —
each message's images stay next to its own words — so the model still sees the question
it did not answer, and the request is one it accepts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["QUESTION_SEPARATOR", "merge_user_runs"]

QUESTION_SEPARATOR = "\n\n"
"""Between the words of two questions joined into one turn."""


def merge_user_runs(messages: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Wire messages (`{"role", "content"}`) with each run of user messages joined."""
    merged: list[dict[str, Any]] = []
    for message in messages:
        previous = merged[-1] if merged else None
        if previous is None or message["role"] != "user" or previous["role"] != "user":
            merged.append(message)
            continue
        merged[-1] = {**previous, "content": _joined(previous["content"],
                                                     message["content"])}
    return merged


def _joined(first: str | list[dict[str, Any]],
            second: str | list[dict[str, Any]]) -> str | list[dict[str, Any]]:
    if isinstance(first, str) and isinstance(second, str):
        return QUESTION_SEPARATOR.join(text for text in (first, second) if text)
    parts = _parts(first)
    more = _parts(second)
    if parts and more and parts[-1].get("type") == "text" and more[0].get("type") == "text":
        # Words after words: one text part, as one question would have been written.
        parts[-1] = {"type": "text", "text": QUESTION_SEPARATOR.join(
            text for text in (parts[-1]["text"], more[0]["text"]) if text)}
        more = more[1:]
    return parts + more


def _parts(content: str | list[dict[str, Any]]) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    return list(content)
