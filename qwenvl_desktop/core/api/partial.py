"""What part of an answer has arrived, so that an error can carry it to the person.

A stream that breaks off keeps what it delivered: the client gathers it here and puts
it on the error (`attach`), reasoning and answer apart, with `<think>` text split the
same way as the events the person already saw.
"""

from __future__ import annotations

from ..catalog import Provider
from ..errors import ProviderError
from .think_tags import ThinkTagFilter
from .types import ContentDelta, ReasoningDelta, StreamEvent

__all__ = ["PartialAnswer"]


class PartialAnswer:
    """What has arrived so far, so that any error can carry it to the person."""

    def __init__(self) -> None:
        self.text: list[str] = []
        self.reasoning: list[str] = []

    def add(self, event: StreamEvent) -> None:
        if isinstance(event, ContentDelta):
            self.text.append(event.text)
        elif isinstance(event, ReasoningDelta):
            self.reasoning.append(event.text)

    def take_split(self, err: ProviderError | None, think: ThinkTagFilter) -> None:
        """Before an error ends the stream: the text the decoder put on it, and any text
        held back for a possible tag, split like the rest and kept here."""
        events: list[StreamEvent] = []
        if err is not None:
            if err.partial_reasoning:
                events.append(ReasoningDelta(err.partial_reasoning))
            if err.partial_text:
                events.append(ContentDelta(err.partial_text))
            err.partial_text = err.partial_reasoning = ""
        for event in think.events(events) + think.close():
            self.add(event)

    def attach(self, err: ProviderError, provider: Provider) -> ProviderError:
        # The decoder puts text from the failing read on the error; ours goes first.
        err.partial_text = "".join(self.text) + err.partial_text
        err.partial_reasoning = "".join(self.reasoning) + err.partial_reasoning
        if not err.provider:
            err.provider = provider.id
        return err
