"""The values a chat session takes and hands out: where a turn goes, what was refused,
what is being edited, what was deleted."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from ..api.types import ChatParams
from ..catalog import Model, Provider
from ..error_kinds import ErrorKind
from ..message_tree import RemovedBranch

__all__ = ["Attachment", "DeletedMessages", "EditState", "Refusal", "TurnTarget",
           "retry_notice"]


class Attachment(Protocol):
    """An image the person attached, as they gave it (the composer's tray items)."""

    @property
    def data(self) -> bytes: ...

    @property
    def name(self) -> str: ...

    @property
    def source_url(self) -> str: ...


@dataclass(frozen=True)
class TurnTarget:
    """Who answers and how: what the model bar and the parameter panel show."""

    provider: Provider
    model: Model
    params: ChatParams
    system_prompt: str | None = None       # None: keep the conversation's own
    high_resolution: bool = False


@dataclass(frozen=True)
class Refusal:
    """A turn that was not sent, and why."""

    kind: ErrorKind
    text: str                                # the explained error, for the person
    given_back: tuple[str, Sequence[Attachment]] | None = None
    """The text and attachments of the refused message, to put back in the composer."""


@dataclass(frozen=True)
class EditState:
    """A question being edited: the next send in that conversation starts a new branch
    beside it (the original and its answers stay)."""

    conversation_id: str
    message_id: str


@dataclass(frozen=True)
class DeletedMessages:
    """One Delete, as it can be undone."""

    conversation_id: str
    removed: RemovedBranch

    @property
    def count(self) -> int:
        return self.removed.count

    def summary(self, verb: str = "Deleted") -> str:
        """What went, in words ("Deleted the question and 3 later messages")."""
        first = self.removed.messages[0]
        what = {"user": "question", "assistant": "answer"}.get(first.role, "message")
        later = self.count - 1
        if not later:
            return f"{verb} the {what}"
        text = f"{verb} the {what} and {later} later message{'s' if later > 1 else ''}"
        branches = self.removed.branches
        return text + (f" (on {branches} branches)" if branches > 1 else "")


def retry_notice(delay: float, attempt: int, reason: str) -> str:
    """The line shown while a request waits to be retried ("0.302421 s" read badly)."""
    when = f"{delay:.1f} s" if delay < 10 else f"{delay:.0f} s"
    return f"Retrying in {when} (attempt {attempt}): {reason}"
