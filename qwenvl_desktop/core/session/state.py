"""The values a chat session takes and hands out: where a turn goes, what was refused,
what is being edited, what was deleted."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from ..api.types import ChatParams
from ..catalog import Model, Provider
from ..i18n import N_, _, ngettext
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
        """What went, in words ("Deleted the question and 3 later messages"); `verb` is
        "Deleted" or "Brought back" (an undone delete), chosen as a whole sentence so that
        it can be translated."""
        first = self.removed.messages[0]
        what = {"user": "question", "assistant": "answer"}.get(first.role, "message")
        later = self.count - 1
        back = verb == "Brought back"
        if not later:
            return _(_ALONE[back][what])
        text = _later(back, what, later).format(count=later)
        branches = self.removed.branches
        if branches > 1:
            text += ngettext(" (on {count} branch)", " (on {count} branches)",
                             branches).format(count=branches)
        return text


_ALONE = {
    False: {"question": N_("Deleted the question"), "answer": N_("Deleted the answer"),
            "message": N_("Deleted the message")},
    True: {"question": N_("Brought back the question"), "answer": N_("Brought back the answer"),
           "message": N_("Brought back the message")},
}


def _later(back: bool, what: str, n: int) -> str:
    """"<verb> the <what> and {count} later messages", as one sentence per case."""
    if back:
        if what == "question":
            return ngettext("Brought back the question and {count} later message",
                            "Brought back the question and {count} later messages", n)
        if what == "answer":
            return ngettext("Brought back the answer and {count} later message",
                            "Brought back the answer and {count} later messages", n)
        return ngettext("Brought back the message and {count} later message",
                        "Brought back the message and {count} later messages", n)
    if what == "question":
        return ngettext("Deleted the question and {count} later message",
                        "Deleted the question and {count} later messages", n)
    if what == "answer":
        return ngettext("Deleted the answer and {count} later message",
                        "Deleted the answer and {count} later messages", n)
    return ngettext("Deleted the message and {count} later message",
                    "Deleted the message and {count} later messages", n)


def retry_notice(delay: float, attempt: int, reason: str) -> str:
    """The line shown while a request waits to be retried ("0.302421 s" read badly)."""
    when = f"{delay:.1f}" if delay < 10 else f"{delay:.0f}"
    return _("Retrying in {seconds} s (attempt {attempt}): {reason}").format(
        seconds=when, attempt=attempt, reason=reason)
