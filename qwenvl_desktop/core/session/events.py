"""A tiny Qt-free event type, and the events a chat session announces.

`Event` is to the session what a Qt signal is to a widget: views `connect` callables
and the session `emit`s. Callbacks run at once, in the order they were connected, on
the thread that emits (the session runs on the window's event loop, so: the GUI
thread). A callback that raises stops the emit and the error goes to the caller — a
bug in a view must show, not vanish.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, ParamSpec

if TYPE_CHECKING:
    from ..conversation import Conversation
    from .state import DeletedMessages, EditState, Refusal

__all__ = ["Event", "SessionEvents"]

P = ParamSpec("P")


class Event(Generic[P]):
    """Callbacks to call with the same arguments when something happens."""

    def __init__(self) -> None:
        self._callbacks: list[Callable[P, object]] = []

    def connect(self, callback: Callable[P, object]) -> None:
        self._callbacks.append(callback)

    def disconnect(self, callback: Callable[P, object]) -> None:
        self._callbacks.remove(callback)

    def emit(self, *args: P.args, **kwargs: P.kwargs) -> None:
        for callback in list(self._callbacks):
            callback(*args, **kwargs)

    def __len__(self) -> int:
        return len(self._callbacks)


def _event() -> Event:  # type: ignore[type-arg]  # each field gives its own parameters
    return Event()


@dataclass(frozen=True)
class SessionEvents:
    """Everything a `ChatSession` announces (ids are conversation and message ids)."""

    current_changed: Event[[Conversation]] = field(default_factory=_event)
    """Another conversation is shown (or the same one, reloaded)."""
    path_changed: Event[[str, str | None]] = field(default_factory=_event)
    """conversation, first message that changed: the visible branch changed (a branch
    switch, a delete, an undo); everything from that message on is new (None: all)."""
    turn_started: Event[[str, str]] = field(default_factory=_event)
    """conversation, answer: the question and the (empty) answer are in the
    conversation's visible branch; the request goes out now."""
    content_delta: Event[[str, str, str]] = field(default_factory=_event)
    """conversation, answer, text that arrived (a few times a second at most)."""
    reasoning_delta: Event[[str, str, str]] = field(default_factory=_event)
    retrying: Event[[str, str, str]] = field(default_factory=_event)
    """conversation, answer, what is happening ("Retrying in 2.0 s (attempt 1): …")."""
    turn_ended: Event[[str, str]] = field(default_factory=_event)
    """conversation, answer: it ended, however it ended (see its status)."""
    refused: Event[[str, Refusal]] = field(default_factory=_event)
    """conversation, why: nothing was sent (no key, an image that cannot be used)."""
    busy_changed: Event[[str, bool]] = field(default_factory=_event)
    """conversation, streaming?"""
    edit_changed: Event[[EditState | None]] = field(default_factory=_event)
    deleted: Event[[DeletedMessages]] = field(default_factory=_event)
    undo_changed: Event[[int]] = field(default_factory=_event)
    """How many deletions can be undone now."""
    list_changed: Event[[]] = field(default_factory=_event)
    """A title, a preview or the set of saved conversations changed."""
    save_failed: Event[[str]] = field(default_factory=_event)
    """The explained reason an autosave failed (the earlier file is unchanged)."""
    other_version_kept: Event[[str]] = field(default_factory=_event)
    """An autosave found that another program had changed the file (`ask --continue`):
    that version was kept as a conversation of its own, with this title."""
