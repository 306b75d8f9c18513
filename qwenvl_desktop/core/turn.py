"""One chat turn, Qt-free: the window's session and `qwenvl-desktop ask` both run it.

`send_turn` adds the person's message (at the end of the visible branch, or beside a
message being edited), then streams the answer into a new assistant message under it.
`answer_again` streams another answer to a question that is already there (Retry,
Regenerate) — beside the earlier answers, which stay. Whatever goes wrong, the
question and any partial answer stay in the conversation, marked stopped, interrupted
or failed with the explained error, and the error is re-raised.

Hooks, all optional and called on the caller's loop:

    on_start(turn)    the messages are in the conversation; the request goes out now
    on_event(event)   every event of the answer, as it arrives
    on_end(turn)      the answer ended, however it ended (its status says how)

The answer's text is joined into the message when the turn ends (joining per token is
quadratic); a caller that saves mid-answer calls `turn.sync()` first.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from .api.types import (
    ChatMessage,
    ChatParams,
    ChatResult,
    ContentDelta,
    ReasoningDelta,
    StreamEvent,
)
from .catalog import Model, Provider
from .conversation import Conversation, Message, MessageStatus, Provenance, StoredImage
from .errors import CancelledByUser, NetworkError, ProviderError, StreamError, explain, redact
from .url_credentials import clean_url

if TYPE_CHECKING:
    from .media import PreparedMedia

__all__ = ["ChatSource", "Turn", "TurnImage", "answer_again", "send_turn"]


class ChatSource(Protocol):
    """What a turn needs of a chat client: `ChatClient`, or the window's `StreamWorker`
    (which reads the stream on its own thread)."""

    def stream_chat(self, provider: Provider, model: Model, messages: Sequence[ChatMessage],
                    params: ChatParams, *, api_key: str | None
                    ) -> AsyncIterator[StreamEvent]: ...


class TurnImage(Protocol):
    """An image ready to send (`images.PreparedImage`)."""

    @property
    def tokens(self) -> int: ...

    def to_stored(self) -> StoredImage: ...


@dataclass
class Turn:
    """A question and the answer being written to it."""

    conversation: Conversation
    question: Message
    answer: Message
    asked: bool
    """True: this turn added the question; False: another answer to an existing one."""
    clock: Callable[[], float] = field(repr=False)
    started: float
    result: ChatResult = field(default_factory=ChatResult)

    def text(self) -> str:
        """The answer so far."""
        return self.result.text

    def reasoning(self) -> str:
        return self.result.reasoning

    def sync(self) -> None:
        """Copy what has arrived into the answer message (before saving mid-answer)."""
        self.answer.text = self.result.text
        self.answer.reasoning = self.result.reasoning

    def _add(self, event: StreamEvent) -> None:
        if (self.result.first_token_s is None
                and isinstance(event, ContentDelta | ReasoningDelta) and event.text):
            self.result.first_token_s = self.clock() - self.started
        self.result.add(event)

    def _finish(self, status: MessageStatus, error: str = "") -> None:
        self.sync()
        self.result.total_s = self.clock() - self.started
        self.answer.status = status
        self.answer.error = error
        prov = self.answer.provenance
        if prov is not None:
            prov.usage = self.result.usage
            prov.finish_reason = self.result.finish_reason
            prov.first_token_s = self.result.first_token_s
            prov.total_s = self.result.total_s
            prov.retries = self.result.retries
        self.conversation.touch()


TurnHook = Callable[[Turn], None]
EventHook = Callable[[StreamEvent], None]


async def send_turn(
    source: ChatSource,
    conversation: Conversation,
    provider: Provider,
    model: Model,
    params: ChatParams,
    text: str,
    images: Sequence[TurnImage | PreparedMedia] = (),
    *,
    api_key: str | None,
    sibling_of: str | None = None,
    drop_old_images: bool = False,
    on_start: TurnHook | None = None,
    on_event: EventHook | None = None,
    on_end: TurnHook | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Message:
    """Ask `model` the person's `text` (and `images`: images, documents' pages, video
    clips) as the next turn of `conversation`.

    The question goes at the end of the visible branch, or — editing — beside the
    message `sibling_of` (a new branch from the same point; the old one stays).
    Returns the answer message.
    """
    from .media import PreparedMedia  # Pillow: imported by the first turn, not at start-up

    question = Message(role="user", text=text)
    for item in images:
        # A document's pages or a clip's frames are images too, kept together as a group.
        frames = item.frames if isinstance(item, PreparedMedia) else (item,)
        for image in frames:
            digest = conversation.add_image(image.to_stored())
            if digest not in question.images:
                question.images.append(digest)
            question.image_tokens[digest] = image.tokens
        if isinstance(item, PreparedMedia):
            question.media.append(item.to_group())
    if sibling_of is None:
        conversation.append(question)
    else:
        conversation.add(question, conversation.parent_of(sibling_of))
    return await _answer(source, conversation, question, True, provider, model, params,
                         api_key=api_key, drop_old_images=drop_old_images,
                         on_start=on_start, on_event=on_event, on_end=on_end, clock=clock)


async def answer_again(
    source: ChatSource,
    conversation: Conversation,
    question_id: str,
    provider: Provider,
    model: Model,
    params: ChatParams,
    *,
    api_key: str | None,
    drop_old_images: bool = False,
    on_start: TurnHook | None = None,
    on_event: EventHook | None = None,
    on_end: TurnHook | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Message:
    """Ask the question `question_id` again: a new answer beside the earlier ones, sent
    with the history down to that question only. Returns the new answer."""
    question = conversation.message(question_id)
    return await _answer(source, conversation, question, False, provider, model, params,
                         api_key=api_key, drop_old_images=drop_old_images,
                         on_start=on_start, on_event=on_event, on_end=on_end, clock=clock)


async def _answer(source: ChatSource, conversation: Conversation, question: Message,
                  asked: bool, provider: Provider, model: Model, params: ChatParams, *,
                  api_key: str | None, drop_old_images: bool, on_start: TurnHook | None,
                  on_event: EventHook | None, on_end: TurnHook | None,
                  clock: Callable[[], float]) -> Message:
    wire = conversation.to_wire(drop_old_images=drop_old_images,
                                prefer_urls=provider.fetches_image_urls, upto=question.id)
    answer = Message(role="assistant", status="streaming", provenance=Provenance(
        provider=provider.id, model=model.id, region=provider.region,
        base_url=redact(clean_url(provider.base_url)), params=params.to_dict()))
    conversation.add(answer, question.id)
    turn = Turn(conversation=conversation, question=question, answer=answer, asked=asked,
                clock=clock, started=clock())
    turn.result.model = model.id
    if not conversation.provider_id:
        conversation.provider_id, conversation.model_id = provider.id, model.id
    if on_start is not None:
        on_start(turn)
    events = source.stream_chat(provider, model, wire, params, api_key=api_key)
    try:
        try:
            async for event in events:
                turn._add(event)
                if on_event is not None:
                    on_event(event)
        finally:
            # If a hook raised or the task was cancelled, the connection closes at once.
            aclose = getattr(events, "aclose", None)
            if aclose is not None:
                await aclose()
    except BaseException as exc:
        if isinstance(exc, ProviderError) and len(exc.partial_text) > len(turn.result.text):
            turn.result = _with_partial(turn.result, exc)
        status = _status_for(exc)
        turn._finish(status, "" if status == "stopped" else explain(exc))
        if on_end is not None:
            on_end(turn)
        raise
    turn._finish("complete")
    if on_end is not None:
        on_end(turn)
    return answer


def _status_for(exc: BaseException) -> MessageStatus:
    if isinstance(exc, CancelledByUser | asyncio.CancelledError | KeyboardInterrupt):
        return "stopped"
    if isinstance(exc, StreamError | NetworkError):
        return "interrupted"
    return "error"


def _with_partial(result: ChatResult, exc: ProviderError) -> ChatResult:
    """A result holding the partial text the error carries (longer than what we saw)."""
    fixed = ChatResult(usage=result.usage, finish_reason=result.finish_reason,
                       model=result.model, first_token_s=result.first_token_s,
                       retries=result.retries)
    fixed.add(ContentDelta(exc.partial_text))
    fixed.add(ReasoningDelta(exc.partial_reasoning or result.reasoning))
    return fixed
