"""`ChatSession`: the open conversations and every command on them (see __init__.py)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from ..api.types import ChatParams
from ..catalog import Provider
from ..conversation import Conversation, Message
from ..errors import BusyError, ConfigError
from ..i18n import N_, _, ngettext
from ..library import ConversationLibrary
from ..turn import ChatSource, Turn
from .autosave import AUTOSAVE_EVERY_S, DEFAULT_TITLE, Autosaver
from .events import SessionEvents
from .state import DeletedMessages, EditState, PrepareItems, TurnTarget
from .turns import TurnRunner, prepare_attachments

__all__ = ["ChatSession"]

log = logging.getLogger(__name__)

_BUSY_SEND = N_("This conversation is still answering; stop it (Esc) or wait before "
                "sending again.")
_BUSY_CHANGE = N_("Stop the answer (Esc) or wait for it before changing this conversation.")


class ChatSession:
    """The conversations a window (or any front end) has open, and what happens to them."""

    def __init__(self, library: ConversationLibrary, source: ChatSource, *,
                 api_key: Callable[[Provider], str | None],
                 drop_old_images: Callable[[], bool] = lambda: False,
                 prepare: PrepareItems = prepare_attachments,
                 autosave_delay: float = AUTOSAVE_EVERY_S) -> None:
        self.library = library
        self.events = SessionEvents()
        self.current: Conversation | None = None
        self.editing: EditState | None = None
        self._open: dict[str, Conversation] = {}
        self._unsaved: set[str] = set()          # new and still empty: no file yet
        self._undo: list[DeletedMessages] = []
        self._autosave = Autosaver(library, delay=autosave_delay,
                                   before_save=self._sync_turn,
                                   on_failure=self.events.save_failed.emit,
                                   on_other_version=self._other_version_kept)
        self._turns = TurnRunner(source, self.events, self._autosave, api_key=api_key,
                                 drop_old_images=drop_old_images, prepare=prepare,
                                 on_started=self._turn_started,
                                 on_finished=self._turn_finished)

    # --- what is open -----------------------------------------------------------------

    def _other_version_kept(self, title: str) -> None:
        self.events.other_version_kept.emit(title)
        self.events.list_changed.emit()

    def conversation(self, conv_id: str) -> Conversation | None:
        return self._open.get(conv_id)

    def open_ids(self) -> list[str]:
        return list(self._open)

    def is_unsaved(self, conv_id: str) -> bool:
        """New and empty: not in the library (yet)."""
        return conv_id in self._unsaved

    def is_streaming(self, conv_id: str) -> bool:
        return self._turns.is_streaming(conv_id)

    def streaming_ids(self) -> list[str]:
        return self._turns.streaming_ids()

    def partial_answer(self, conv_id: str) -> Message | None:
        """A copy of the answer being streamed, holding everything received so far."""
        turn = self._turns.turn_for(conv_id)
        if turn is None:
            return None
        partial = turn.answer.copy()
        partial.text, partial.reasoning = turn.text(), turn.reasoning()
        return partial

    @property
    def undo_count(self) -> int:
        return len(self._undo)

    # --- conversations ----------------------------------------------------------------

    def new_conversation(self, *, system_prompt: str = "", provider_id: str = "",
                         model_id: str = "", params: ChatParams | None = None
                         ) -> Conversation:
        """Show a new, empty conversation (it gets a file with its first message)."""
        conv = Conversation(system_prompt=system_prompt, provider_id=provider_id,
                            model_id=model_id, params=params)
        self._unsaved.add(conv.id)
        self._show(conv)
        return conv

    def open(self, conv_id: str) -> Conversation:
        """Show a conversation from memory or the library (ConversationFileError when
        its file cannot be read: nothing changes then)."""
        if self.current is not None and self.current.id == conv_id:
            return self.current
        conv = self._open.get(conv_id)
        if conv is None:
            conv = self.library.load(conv_id)
        self._autosave.allow(conv_id)
        self._show(conv)
        return conv

    def adopt(self, conv: Conversation) -> None:
        """Take in a conversation read from a file: it joins the library and is shown."""
        self._autosave.allow(conv.id)
        self._open[conv.id] = conv
        self._autosave.save_now(conv)     # first, so the list shown with it has its row
        self._show(conv)

    def rename(self, conv_id: str, title: str) -> None:
        conv = self._open.get(conv_id)
        if conv is None:
            self.library.rename(conv_id, title)
        else:
            conv.title = " ".join(title.split()) or conv.title
            self._autosave.save_now(conv)
        self.events.list_changed.emit()

    def forget(self, conv_id: str) -> None:
        """The conversation was deleted: stop it, drop it from memory, never save it
        again. If it was shown, nothing is shown until the caller opens another."""
        self._autosave.forget(conv_id)
        self._turns.stop(conv_id)
        self._open.pop(conv_id, None)
        self._unsaved.discard(conv_id)
        before = len(self._undo)
        self._undo = [d for d in self._undo if d.conversation_id != conv_id]
        if self.editing is not None and self.editing.conversation_id == conv_id:
            self._set_editing(None)
        if self.current is not None and self.current.id == conv_id:
            self.current = None
        if len(self._undo) != before:
            self.events.undo_changed.emit(len(self._undo))
        self.events.list_changed.emit()

    def _show(self, conv: Conversation) -> None:
        previous = self.current
        if previous is not None and previous is not conv:
            self._release(previous)
        self.current = conv
        self._open[conv.id] = conv
        if self.editing is not None and self.editing.conversation_id != conv.id:
            self._set_editing(None)
        self.events.current_changed.emit(conv)
        self.events.list_changed.emit()

    def _release(self, conv: Conversation) -> None:
        """A conversation is no longer shown: save it; forget it unless it streams."""
        if conv.id in self._unsaved and not conv.all_messages():
            self._unsaved.discard(conv.id)
            self._open.pop(conv.id, None)
            return
        self._autosave.save_now(conv)
        if not self.is_streaming(conv.id):
            self._open.pop(conv.id, None)

    # --- turns ------------------------------------------------------------------------

    def send(self, text: str, attachments: Sequence[Any] = (), *,
             target: TurnTarget) -> bool:
        """Ask the next question in the shown conversation — or, while a question is
        being edited, ask the edited one on a new branch beside it.

        Raises BusyError (still answering) or ConfigError (images for a model that
        cannot see) before anything happens; later refusals (no key, an unusable image)
        come as `events.refused`. False when there was nothing to send.
        """
        conv = self.current or self.new_conversation()
        if self.is_streaming(conv.id):
            raise BusyError(_(_BUSY_SEND))
        if attachments and not target.model.vision:
            raise ConfigError(ngettext(
                "{model} cannot see images, so this message can't be sent with {count} "
                "image. Choose a vision model or remove the image.",
                "{model} cannot see images, so this message can't be sent with {count} "
                "images. Choose a vision model or remove the images.",
                len(attachments)).format(model=target.model.label, count=len(attachments)))
        if not text.strip() and not attachments:
            return False
        editing = self.editing
        sibling_of = (editing.message_id if editing is not None
                      and editing.conversation_id == conv.id
                      and editing.message_id in conv else None)
        self._apply(conv, target)
        self._turns.send(conv, text, attachments, target, sibling_of)
        return True

    def regenerate(self, answer_id: str | None = None, *, target: TurnTarget) -> bool:
        """Ask an answer's question again (the last answer shown when None): a new
        answer beside it, sent with the history down to that question; the old answer
        and everything after it stay on their branch. Retry is the same."""
        conv = self.current
        if conv is None:
            return False
        if self.is_streaming(conv.id):
            raise BusyError(_(_BUSY_SEND))
        if answer_id is None:
            last = next((m for m in reversed(conv.messages) if m.role == "assistant"), None)
            if last is None:
                return False
            answer_id = last.id
        question = self._question_of(conv, answer_id)
        if question is None:
            return False
        self._apply(conv, target)
        self._turns.answer_again(conv, question.id, target)
        return True

    retry = regenerate

    def stop(self, conv_id: str | None = None) -> bool:
        """Stop the answer of a conversation (the shown one by default)."""
        if conv_id is None:
            if self.current is None:
                return False
            conv_id = self.current.id
        return self._turns.stop(conv_id)

    @staticmethod
    def _question_of(conv: Conversation, answer_id: str) -> Message | None:
        if answer_id not in conv:
            return None
        parent = conv.parent_of(answer_id)
        while parent is not None and conv.message(parent).role != "user":
            parent = conv.parent_of(parent)
        return None if parent is None else conv.message(parent)

    @staticmethod
    def _apply(conv: Conversation, target: TurnTarget) -> None:
        conv.params = target.params
        if target.system_prompt is not None:
            conv.system_prompt = target.system_prompt
        conv.provider_id, conv.model_id = target.provider.id, target.model.id

    def _sync_turn(self, conv: Conversation) -> None:
        """Before a save: what has streamed so far goes into the answer message."""
        turn = self._turns.turn_for(conv.id)
        if turn is not None and turn.conversation is conv:
            turn.sync()

    def _turn_started(self, conv: Conversation, _turn: Turn) -> None:
        self._unsaved.discard(conv.id)
        if conv.title == DEFAULT_TITLE:
            conv.title = conv.auto_title()
        if self.editing is not None and self.editing.conversation_id == conv.id:
            self._set_editing(None)
        self.events.list_changed.emit()

    def _turn_finished(self, conv: Conversation) -> None:
        if self.current is not conv:
            self._open.pop(conv.id, None)
        self.events.list_changed.emit()

    # --- editing ----------------------------------------------------------------------

    def start_edit(self, message_id: str) -> Message:
        """Edit a question of the shown conversation: the next send asks the edited
        question on a new branch beside it. Returns the question (for the composer)."""
        conv = self.current
        if conv is None or message_id not in conv:
            raise KeyError(message_id)
        message = conv.message(message_id)
        if message.role != "user":
            raise ValueError("only questions can be edited")
        self._set_editing(EditState(conv.id, message_id))
        return message

    def cancel_edit(self) -> None:
        if self.editing is not None:
            self._set_editing(None)

    def _set_editing(self, state: EditState | None) -> None:
        self.editing = state
        self.events.edit_changed.emit(state)

    # --- branches ---------------------------------------------------------------------

    def switch_branch(self, message_id: str, step: int) -> str:
        """Show the sibling `step` places from a message (-1: the one before); the id
        of the message now shown."""
        conv = self._changeable()
        shown = conv.switch_branch(message_id, step)
        if shown != message_id:
            self.events.path_changed.emit(conv.id, shown)
            self._autosave.changed(conv)
        return shown

    def deepest_fork(self) -> str | None:
        """The last message of the visible branch that has siblings (what the
        keyboard's previous/next-branch commands switch)."""
        conv = self.current
        if conv is None:
            return None
        return next((m.id for m in reversed(conv.messages)
                     if conv.branch_position(m.id)[1] > 1), None)

    # --- deleting ---------------------------------------------------------------------

    def delete_message(self, message_id: str) -> DeletedMessages:
        """Delete a message of the shown conversation and everything that followed it
        (on every branch below it). `undo_delete` brings it all back."""
        conv = self._changeable()
        parent = conv.parent_of(message_id)
        deleted = DeletedMessages(conv.id, conv.remove(message_id))
        self._undo.append(deleted)
        editing = self.editing
        if editing is not None and editing.message_id not in conv:
            self._set_editing(None)
        self.events.path_changed.emit(conv.id, self._first_after(conv, parent))
        self._autosave.save_now(conv)
        self.events.deleted.emit(deleted)
        self.events.undo_changed.emit(len(self._undo))
        self.events.list_changed.emit()
        return deleted

    def undo_delete(self) -> DeletedMessages | None:
        """Put back the last deleted messages (showing their conversation)."""
        if not self._undo:
            return None
        deleted = self._undo[-1]
        cid = deleted.conversation_id
        if self.is_streaming(cid):
            raise BusyError(_(_BUSY_CHANGE))
        conv = self._open.get(cid) or self.library.load(cid)
        self._undo.pop()
        conv.restore(deleted.removed)
        if conv is self.current:
            self.events.path_changed.emit(cid, self._first_after(conv,
                                                                 deleted.removed.parent_id))
        else:
            self._show(conv)
        self._autosave.save_now(conv)
        self.events.undo_changed.emit(len(self._undo))
        self.events.list_changed.emit()
        return deleted

    def _changeable(self) -> Conversation:
        conv = self.current
        if conv is None:
            raise KeyError("no conversation is shown")
        if self.is_streaming(conv.id):
            raise BusyError(_(_BUSY_CHANGE))
        return conv

    @staticmethod
    def _first_after(conv: Conversation, parent: str | None) -> str | None:
        """The message now shown right after `parent` (None: after the start)."""
        path = conv.messages
        if parent is None:
            return path[0].id if path else None
        for index, message in enumerate(path):
            if message.id == parent:
                return path[index + 1].id if index + 1 < len(path) else parent
        return None

    # --- saving and closing -----------------------------------------------------------

    def save_now(self, conv_id: str | None = None) -> None:
        """Autosave a conversation (the shown one by default) at once."""
        conv = self.current if conv_id is None else self._open.get(conv_id)
        if conv is not None:
            self._autosave.save_now(conv)

    def save_all(self) -> None:
        """Save every open conversation and wait until it is on disk (closing)."""
        self._autosave.flush_all()
        for conv in list(self._open.values()):
            self._autosave.save_now(conv)
        self.library.wait()

    async def aclose(self) -> None:
        """Stop every answer and wait until each has ended (and been saved)."""
        await self._turns.aclose()
