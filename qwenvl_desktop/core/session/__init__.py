"""The chat session: everything between the Qt-free core and the widgets, Qt-free.

A `ChatSession` owns what a window has open — the conversations in memory, the one
shown, which are new and still empty (no file yet), the question being edited, what
is streaming, the deletions that can be undone — and the autosave policy. The window's
views call its commands and observe its `events` (napari's ViewerModel idea: the model
is plain Python, the Qt widgets subscribe). It is asyncio-based, not Qt-based: turns
run as tasks on whatever loop is running (qasync in the window, a plain loop in tests).

Nothing is ever lost: Retry, Regenerate and edit-and-resend start a new branch beside
what was there (see `core/message_tree.py`); only `delete_message` removes messages,
and `undo_delete` brings them back until the session ends.

    session = ChatSession(library, source, api_key=services.api_key,
                          drop_old_images=lambda: settings.drop_old_images,
                          prepare=prepare_tray_items)

State (read):
    current                  the Conversation shown (None before the first one)
    editing                  EditState(conversation_id, message_id) | None
    conversation(id)         an open conversation; open_ids()
    is_unsaved(id)           new and empty: not in the library yet
    is_streaming(id), streaming_ids(), partial_answer(id)
    undo_count               deletions that can be undone

Commands (raise BusyError when the conversation is answering and the command must wait;
the window shows `explain(err)`):
    new_conversation(system_prompt=, provider_id=, model_id=, params=) -> Conversation
    open(id) -> Conversation           ConversationFileError if its file is unreadable
    adopt(conversation)                 one read from a file: saved to the library, shown
    rename(id, title), forget(id)       forget: it was deleted; never saved again
    send(text, attachments, target=TurnTarget) -> bool
                                        the next question, or the edited one on a new
                                        branch; ConfigError for images on a blind model
    regenerate(answer_id=None, target=) / retry(...)
                                        another answer beside it; later turns are kept
    stop(id=None)
    start_edit(message_id) -> Message, cancel_edit()
    switch_branch(message_id, step) -> id shown;   deepest_fork() -> id | None
    delete_message(message_id) -> DeletedMessages (the message and all that followed)
    undo_delete() -> DeletedMessages | None
    save_now(id=None), save_all() (closing, waits), await aclose() (stops every turn)

Events (`session.events.<name>.connect(callback)`), emitted on the loop's thread:
    current_changed(conversation)       another conversation is shown
    path_changed(conv_id, first_changed_id | None)   the visible branch changed
    turn_started(conv_id, answer_id)    question and empty answer are in the branch
    content_delta / reasoning_delta(conv_id, answer_id, text)
    retrying(conv_id, answer_id, notice), turn_ended(conv_id, answer_id)
    refused(conv_id, Refusal(kind, text, given_back))   nothing was sent
    busy_changed(conv_id, streaming), edit_changed(EditState | None)
    deleted(DeletedMessages), undo_changed(count), list_changed(), save_failed(reason)

Errors reach the views with their `kind` (the stable name each error class of
core/errors.py carries, e.g. "missing_key") beside the explained text; no view looks for
words in a message. Attached items (images, documents, clips: the window's tray items)
are opaque here: the `prepare` collaborator turns them into what is sent.
"""

from __future__ import annotations

from .autosave import AUTOSAVE_EVERY_S, Autosaver
from .events import Event, SessionEvents
from .session import ChatSession
from .state import (
    Attachment,
    DeletedMessages,
    EditState,
    PrepareItems,
    Refusal,
    TurnTarget,
    retry_notice,
)

__all__ = [
    "AUTOSAVE_EVERY_S",
    "Attachment",
    "Autosaver",
    "ChatSession",
    "DeletedMessages",
    "EditState",
    "Event",
    "PrepareItems",
    "Refusal",
    "SessionEvents",
    "TurnTarget",
    "retry_notice",
]
