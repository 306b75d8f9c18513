"""Reasoning written into the answer text as `<think>…</think>`, split back out.

Servers that run a thinking model without a reasoning parser (vLLM, Ollama, llama.cpp
serving Qwen3, QwQ or DeepSeek-R1) put the reasoning into `content` between
`<think>` and `</think>`. When the chat template has already opened the tag (thinking-
only templates do), only the closing `</think>` appears. Either way the reasoning
must be shown apart from the answer, never as answer text.

`ThinkSplitter` works on text as it streams: a tag may be split across any number of
chunks, so a possible partial tag is held back until the next chunk decides it. Its
result — all reasoning joined, all answer joined — does not depend on where the
chunks were cut. `ThinkTagFilter` applies it to a stream of events.
"""

from __future__ import annotations

from typing import Literal

from ..catalog import Model, Provider
from .types import ChatParams, ContentDelta, Finish, ReasoningDelta, StreamEvent

__all__ = ["CLOSE", "OPEN", "Piece", "ThinkSplitter", "ThinkTagFilter"]

OPEN = "<think>"
CLOSE = "</think>"

Piece = tuple[Literal["reasoning", "answer"], str]
_State = Literal["start", "after_open", "reasoning", "after_close", "answer"]


def _partial_suffix(text: str, tag: str) -> int:
    """Length of the longest end of `text` that is a proper beginning of `tag`."""
    for size in range(min(len(text), len(tag) - 1), 0, -1):
        if tag.startswith(text[-size:]):
            return size
    return 0


class ThinkSplitter:
    """Incremental: answer text in, (kind, text) pieces out.

    `preopened=True`: the template opened the tag, so text is reasoning until
    `</think>` (a leading `<think>` is still accepted). Otherwise a `<think>` at the very
    start of the answer (after whitespace) opens the reasoning; anywhere else the text
    is answer, tags and all. Whitespace right after either tag is dropped: templates put
    newlines there that are not part of what the model said.
    """

    def __init__(self, *, preopened: bool = False) -> None:
        self._preopened = preopened
        self._state: _State = "start"
        self._held = ""

    @property
    def undecided(self) -> bool:
        """Nothing has been told apart yet (the start of the answer is still held)."""
        return self._state == "start"

    def not_preopened(self) -> None:
        """The server turned out to parse reasoning itself: answer text is answer."""
        if self._state == "start":
            self._preopened = False

    @property
    def passing(self) -> bool:
        """In the answer for good, nothing held: every later text is answer as it is."""
        return self._state == "answer" and not self._held

    def feed(self, text: str) -> list[Piece]:
        out: list[Piece] = []
        buf = self._held + text
        self._held = ""
        while buf:
            buf = self._step(buf, out)
        return out

    def close(self) -> list[Piece]:
        """At the end: what was held back is text after all (a tag that never finished)."""
        held, self._held = self._held, ""
        if not held:
            return []
        if self._state == "start":
            return [("reasoning" if self._preopened else "answer", held)]
        if self._state in ("reasoning",):
            return [("reasoning", held)]
        if self._state == "answer":
            return [("answer", held)]
        if self._state == "after_close" and held.strip():
            return [("answer", held.lstrip())]    # the start of a tag that never finished
        return []   # only whitespace after a tag

    def _step(self, buf: str, out: list[Piece]) -> str:
        """Consume what can be decided from `buf`; return the rest (held if undecided)."""
        state = self._state
        if state == "start":
            head = buf.lstrip()
            if head.startswith(OPEN):
                self._state = "after_open"
                return head[len(OPEN):]
            if OPEN.startswith(head):          # only whitespace, or a partial "<think>"
                self._held = buf
                return ""
            self._state = "reasoning" if self._preopened else "answer"
            return buf
        if state in ("after_open", "after_close"):
            head = buf.lstrip()
            if not head:
                self._held = buf
                return ""
            if state == "after_close":
                # A closing tag repeated right after the first (a template that closed
                # the block itself, then the model did too) is markup, not answer text.
                if head.startswith(CLOSE):
                    return head[len(CLOSE):]
                if CLOSE.startswith(head):
                    self._held = buf
                    return ""
            self._state = "reasoning" if state == "after_open" else "answer"
            return head
        if state == "reasoning":
            at = buf.find(CLOSE)
            if at >= 0:
                if at:
                    out.append(("reasoning", buf[:at]))
                self._state = "after_close"
                return buf[at + len(CLOSE):]
            keep = _partial_suffix(buf, CLOSE)
            if len(buf) > keep:
                out.append(("reasoning", buf[:len(buf) - keep]))
            self._held = buf[len(buf) - keep:]
            return ""
        out.append(("answer", buf))
        return ""


class ThinkTagFilter:
    """Turns `<think>` text inside ContentDelta events into ReasoningDelta events."""

    def __init__(self, *, preopened: bool = False) -> None:
        self._splitter = ThinkSplitter(preopened=preopened)

    @classmethod
    def for_request(cls, provider: Provider, model: Model, params: ChatParams) -> ThinkTagFilter:
        """Pre-opened only where the server may lack a parser and the model will think."""
        thinking = (params.thinking is True
                    or (params.thinking is None and model.thinks_by_default))
        return cls(preopened=provider.reasoning_in_content and thinking)

    def events(self, events: list[StreamEvent]) -> list[StreamEvent]:
        out: list[StreamEvent] = []
        splitter = self._splitter
        for event in events:
            if isinstance(event, ContentDelta):
                if splitter.passing:     # almost every event of an answer: as it came
                    out.append(event)
                else:
                    out.extend(_as_events(splitter.feed(event.text)))
            elif isinstance(event, ReasoningDelta):
                if event.text:
                    # The server separates reasoning itself: its answer text is answer.
                    self._splitter.not_preopened()
                out.append(event)
            elif isinstance(event, Finish):
                out.extend(self.close())
                out.append(event)
            else:
                out.append(event)
        return out

    def close(self) -> list[StreamEvent]:
        return _as_events(self._splitter.close())


def _as_events(pieces: list[Piece]) -> list[StreamEvent]:
    return [ReasoningDelta(text) if kind == "reasoning" else ContentDelta(text)
            for kind, text in pieces if text]
