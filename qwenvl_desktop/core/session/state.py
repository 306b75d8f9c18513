"""The values a chat session takes and hands out: where a turn goes, what was refused,
what is being edited, what was deleted."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from ..api.types import ChatParams
from ..catalog import Model, Provider
from ..message_tree import RemovedBranch

if TYPE_CHECKING:
    from ..images import PreparedImage
    from ..media import PreparedMedia

__all__ = ["Attachment", "DeletedMessages", "EditState", "PrepareItems", "Refusal",
           "TurnTarget", "retry_notice"]


class Attachment(Protocol):
    """An image as the person gave it: what the default preparation takes (the window
    brings its own, for documents and clips too)."""

    @property
    def data(self) -> bytes: ...

    @property
    def name(self) -> str: ...

    @property
    def source_url(self) -> str: ...


PrepareItems = Callable[[Sequence[Any], "TurnTarget"],
                        Awaitable[Sequence["PreparedImage | PreparedMedia"]]]
"""Makes attached items what is sent, on worker threads; raises QwenVLError for an item
that cannot be sent (the turn is then refused, the items given back)."""


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

    kind: str                                # the error's `kind`, e.g. "missing_key"
    text: str                                # the explained error, for the person
    given_back: tuple[str, Sequence[Any]] | None = None
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
