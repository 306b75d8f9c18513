"""Turn one decoded JSON chunk of a chat answer into typed events.

The stream decoder (`stream`) finds where each chunk begins and ends, whatever the
framing; this module reads what one chunk says. A streamed `chat.completion.chunk`
carries a `delta`, a whole `chat.completion` a `message`; both are read the same way,
and both may carry an error object instead of an answer.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, NoReturn

from ..catalog import Provider
from ..errors import MalformedStream, redact
from ..i18n import _
from .error_parsing import error_from_event
from .types import ContentDelta, Finish, ReasoningDelta, StreamEvent, Usage

__all__ = ["chunk_events", "completion_to_events", "is_error_object", "malformed",
           "plain_content"]


def _excerpt(text: str, limit: int = 80) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return redact(text)


def malformed(provider: Provider, what: str, sample: str) -> NoReturn:
    """Raise MalformedStream quoting (shortened, secrets redacted) what was sent."""
    raise MalformedStream(_("{provider} sent {what}: “{excerpt}”").format(
        provider=provider.name, what=what, excerpt=_excerpt(sample)),
                          provider=provider.id)


def _malformed_object(provider: Provider, what: str, obj: Any) -> NoReturn:
    malformed(provider, what, json.dumps(obj, default=str))


def _count(value: Any) -> int:
    """A token count as servers send it: ints, floats, or junk that counts as 0."""
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return max(value, 0)
    if isinstance(value, float) and math.isfinite(value):
        return max(int(value), 0)
    return 0


def _usage(data: dict[str, Any]) -> Usage:
    prompt = _count(data.get("prompt_tokens")) or _count(data.get("input_tokens"))
    completion = _count(data.get("completion_tokens")) or _count(data.get("output_tokens"))
    details = data.get("completion_tokens_details")
    reasoning = _count(details.get("reasoning_tokens")) if isinstance(details, dict) else 0
    total = _count(data.get("total_tokens")) or prompt + completion
    return Usage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=total,
                 reasoning_tokens=reasoning)


def _text(value: Any, provider: Provider, obj: dict[str, Any]) -> str:
    """A content field: a string, null, or (some servers) a list of text parts."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        parts = [p.get("text") if isinstance(p, dict) else p for p in value]
        return "".join(p for p in parts if isinstance(p, str))
    _malformed_object(provider, _("a chunk whose text is not text"), obj)


def is_error_object(obj: dict[str, Any]) -> bool:
    """Whether a JSON object is a provider's error report rather than (part of) an answer."""
    if obj.get("error") not in (None, "", {}, [], False):
        return True
    # DashScope's native shape {"code","message","request_id"}, AI/ML's {"message","statusCode"}
    return "choices" not in obj and "message" in obj and ("code" in obj or "statusCode" in obj)


def chunk_events(obj: dict[str, Any], provider: Provider) -> list[StreamEvent]:
    """Events of one chunk (`delta`) or one whole answer (`message`), in wire order."""
    if is_error_object(obj):
        raise error_from_event(obj, provider)
    events: list[StreamEvent] = []
    choices = obj.get("choices")
    usage = obj.get("usage")
    if choices is None and usage is None and not str(obj.get("object", "")).startswith(
            "chat.completion"):
        _malformed_object(provider, _("JSON that is not a chat answer"), obj)
    if choices is not None and not isinstance(choices, list):
        _malformed_object(provider, _("a chunk with unreadable choices"), obj)
    if choices:
        choice = choices[0]
        if not isinstance(choice, dict):
            _malformed_object(provider, _("a chunk with unreadable choices"), obj)
        part = choice.get("delta")
        if part is None:
            part = choice.get("message")
        if part is not None:
            if not isinstance(part, dict):
                _malformed_object(provider, _("a chunk with an unreadable delta"), obj)
            # Newer vLLM sends both names with the same text: take one, never both.
            reasoning = (_text(part.get("reasoning_content"), provider, obj)
                         or _text(part.get("reasoning"), provider, obj))
            if reasoning:
                events.append(ReasoningDelta(reasoning))
            content = _text(part.get("content"), provider, obj)
            if content:
                events.append(ContentDelta(content))
        reason = choice.get("finish_reason")
        if reason is not None and reason != "":
            # After the text: the finishing chunk may carry the last words.
            events.append(Finish(str(reason)))
    if usage is not None:
        if not isinstance(usage, dict):
            _malformed_object(provider, _("a chunk with unreadable usage"), obj)
        events.append(_usage(usage))
    return events


def plain_content(obj: Any) -> str | None:
    """The answer text of the commonest chunk of all, or None for any other chunk.

    The commonest chunk is one delta with answer text only: no reasoning, no finish
    reason, no usage, no error. For it `chunk_events` would return exactly
    `[ContentDelta(text)]` (`[]` for ""); this asks the same questions with a third of
    the calls, once per token. Every other chunk (None) goes to `chunk_events`.
    """
    if type(obj) is not dict or "error" in obj or obj.get("usage") is not None:
        return None
    choices = obj.get("choices")
    if type(choices) is not list or not choices:
        return None
    choice = choices[0]
    if type(choice) is not dict or choice.get("finish_reason") is not None:
        return None
    part = choice.get("delta")
    if (type(part) is not dict or part.get("reasoning_content") is not None
            or part.get("reasoning") is not None):
        return None
    content = part.get("content")
    return content if type(content) is str else None


def completion_to_events(obj: dict[str, Any], provider: Provider) -> list[StreamEvent]:
    """Events of a non-streamed `chat.completion` (Segmind, or `stream` ignored).

    An error object in a 200 answer raises StreamErrorEvent; anything that is not a
    chat answer raises MalformedStream.
    """
    if not isinstance(obj, dict):
        malformed(provider, _("an answer that is not a JSON object"), repr(obj))
    if not is_error_object(obj) and not obj.get("choices"):
        _malformed_object(provider, _("an answer without choices"), obj)
    return chunk_events(obj, provider)
