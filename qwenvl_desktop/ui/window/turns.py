"""Chat turns in the window: what the person asks for, and what the session announces.

`TurnView` turns the composer's send and stop and the transcript's links (Edit, Retry,
Regenerate, Delete, ‹ › between versions) into session commands, and the session's
events into transcript updates, notices and the status bar's Undo button. It holds no
conversation state: the session has it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QPushButton, QStatusBar, QWidget

from qwenvl_desktop.core.errors import QwenVLError, explain
from qwenvl_desktop.core.session import ChatSession, DeletedMessages, EditState, Refusal

from ...core.i18n import N_, _, ngettext
from ..attachment_tray import PendingItem
from ..composer import Composer
from ..transcript import Transcript
from ..transcript_panels import Banner
from .models import ModelChoice

__all__ = ["EDIT_NOTICE", "TurnView", "TurnViewParts"]

# Refusals whose remedy is on Settings › Keys (the error's `kind`, never its words).
_KEY_KINDS = frozenset({"missing_key", "keystore"})

EDIT_NOTICE = (N_("Editing an earlier question: sending asks it again on a new branch; the "
                  "current answers stay (‹ › beside the question switches between them)."))


@dataclass(frozen=True)
class TurnViewParts:
    session: ChatSession
    models: ModelChoice
    transcript: Transcript
    composer: Composer
    banner: Banner
    status_bar: QStatusBar
    stop_action: QAction
    dialog_parent: QWidget                        # parent of the image viewer
    update_welcome: Callable[[], None]


class TurnView(QObject):
    def __init__(self, parts: TurnViewParts) -> None:
        super().__init__(parts.dialog_parent)
        self.p = parts
        self.session = parts.session
        self.undo_button = QPushButton(_("Undo delete"), parts.status_bar)
        self.undo_button.setObjectName("undoDelete")
        self.undo_button.setFlat(True)
        self.undo_button.hide()
        parts.status_bar.addPermanentWidget(self.undo_button)
        self._connect()

    def _connect(self) -> None:
        p, events = self.p, self.session.events
        p.composer.send_requested.connect(self.on_send)
        p.composer.stop_requested.connect(self.stop)
        p.transcript.delete_requested.connect(self.delete_message)
        p.transcript.edit_requested.connect(self.edit)
        p.transcript.regenerate_requested.connect(self.regenerate)
        p.transcript.retry_requested.connect(self.regenerate)
        p.transcript.branch_requested.connect(self.switch_branch)
        p.transcript.image_requested.connect(self.show_image)
        self.undo_button.clicked.connect(self.undo_delete)
        events.turn_started.connect(self._on_started)
        events.content_delta.connect(self._on_content)
        events.reasoning_delta.connect(self._on_reasoning)
        events.retrying.connect(lambda _c, _a, notice: self.p.status_bar.showMessage(
            notice, 10000))
        events.turn_ended.connect(self._on_ended)
        events.refused.connect(self._on_refused)
        events.busy_changed.connect(self._on_busy)
        events.path_changed.connect(self._on_path_changed)
        events.edit_changed.connect(self._on_edit_changed)
        events.deleted.connect(self._on_deleted)
        events.undo_changed.connect(self._on_undo_changed)
        events.save_failed.connect(
            lambda reason: self.p.banner.show_notice(_("Autosave failed: {reason}").format(
                reason=reason)))

    # --- commands -----------------------------------------------------------------------

    def _try(self, command: Callable[[], object]) -> bool:
        """Run a session command; a refusal (still answering, no model) becomes the
        banner's notice. True when it ran."""
        try:
            command()
        except QwenVLError as err:
            self.p.banner.show_notice(explain(err))
            return False
        return True

    def on_send(self, text: str, attachments: Sequence[PendingItem]) -> None:
        """The composer asked to send (it has emptied itself: give back on refusal)."""
        def send() -> None:
            self.session.send(text, attachments, target=self.p.models.turn_target())

        if self._try(send):
            if self.session.editing is None:
                self.p.banner.hide()
        else:
            self._give_back(text, attachments)

    def regenerate_last(self) -> None:
        self.regenerate(None)

    def regenerate(self, answer_id: str | None) -> None:
        """Regenerate / Retry: another answer beside this one; nothing is removed."""
        self._try(lambda: self.session.regenerate(answer_id,
                                                  target=self.p.models.turn_target()))

    def stop(self) -> None:
        self.session.stop()

    def edit(self, message_id: str) -> None:
        """Put a question (text and images) in the composer; sending asks it anew."""
        try:
            message = self.session.start_edit(message_id)
        except (KeyError, ValueError):
            return
        conv = self.session.current
        composer = self.p.composer
        composer.clear()
        composer.set_text(message.text)
        grouped = {sha for group in message.media for sha in group.images}
        for sha in message.images:
            stored = conv.images.get(sha) if conv is not None else None
            if stored is not None and sha not in grouped:
                composer.add_image_bytes(stored.data, stored.original_name or "image.png")
        if message.media and conv is not None:
            # Documents and clips go back as they were sent (pages, frames), not re-read.
            from qwenvl_desktop.core.media import PreparedMedia, stored_items

            from ..media_items import PendingPrepared

            for item in stored_items(conv.images, message):
                if isinstance(item, PreparedMedia):
                    composer.tray.add(PendingPrepared(item))
        composer.focus_input()

    def cancel_edit(self) -> None:
        if self.session.editing is not None:
            self.session.cancel_edit()
            self.p.composer.clear()

    def editing(self) -> EditState | None:
        return self.session.editing

    def switch_branch(self, message_id: str, step: int) -> None:
        self._try(lambda: self.session.switch_branch(message_id, step))

    def switch_deepest_branch(self, step: int) -> None:
        """Alt+Left / Alt+Right: the last fork of the visible branch."""
        fork = self.session.deepest_fork()
        if fork is None:
            self.p.status_bar.showMessage(_("This conversation has only one version."), 4000)
            return
        self.switch_branch(fork, step)

    def delete_message(self, message_id: str) -> None:
        self._try(lambda: self.session.delete_message(message_id))

    def undo_delete(self) -> None:
        restored: list[DeletedMessages | None] = []
        if self._try(lambda: restored.append(self.session.undo_delete())) and restored[0]:
            # "Brought back" picks the sentence; summary() returns it translated.
            self.p.status_bar.showMessage(f"{restored[0].summary('Brought back')}.", 6000)

    def show_image(self, sha: str) -> None:
        from ..transcript_panels import ImageViewer

        conv = self.session.current
        image = conv.images.get(sha) if conv is not None else None
        if image is None:
            return
        viewer = ImageViewer(image, self.p.dialog_parent)
        viewer.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        viewer.show()

    def _give_back(self, text: str, attachments: Sequence[PendingItem]) -> None:
        """Put a message that could not be sent back in the (emptied) composer."""
        composer = self.p.composer
        if not composer.text().strip() and not composer.attachments():
            composer.set_text(text)
            composer.set_attachments(list(attachments))

    # --- what the session announces -------------------------------------------------------

    def _shown(self, conv_id: str) -> bool:
        current = self.session.current
        return current is not None and current.id == conv_id

    def _on_started(self, conv_id: str, _answer_id: str) -> None:
        if not self._shown(conv_id):
            return
        self.p.transcript.sync_path(streaming=self.session.partial_answer(conv_id))
        self.p.transcript.scroll_to_end()
        self.p.update_welcome()

    def _on_content(self, conv_id: str, answer_id: str, text: str) -> None:
        if self._shown(conv_id):
            self.p.transcript.add_content(answer_id, text)

    def _on_reasoning(self, conv_id: str, answer_id: str, text: str) -> None:
        if self._shown(conv_id):
            self.p.transcript.add_reasoning(answer_id, text)

    def _on_ended(self, conv_id: str, answer_id: str) -> None:
        conv = self.session.current
        if conv is None or conv.id != conv_id or answer_id not in conv:
            return
        self.p.transcript.finish_answer(conv.message(answer_id))
        self.p.models.update_history_estimate()

    def _on_refused(self, conv_id: str, refusal: Refusal) -> None:
        if not self._shown(conv_id):
            return
        if refusal.given_back is not None:
            text, attachments = refusal.given_back
            self._give_back(text, list(attachments))
        keys = refusal.kind in _KEY_KINDS
        self.p.banner.show_notice(refusal.text, "keys" if keys else "",
                                  _("Add key…") if keys else "")

    def _on_busy(self, conv_id: str, busy: bool) -> None:
        if self._shown(conv_id):
            self.p.composer.set_streaming(busy)
            self.p.stop_action.setEnabled(True)

    def _on_path_changed(self, conv_id: str, _first_changed: str | None) -> None:
        if self._shown(conv_id):
            self.p.transcript.sync_path(streaming=self.session.partial_answer(conv_id))
            self.p.models.update_history_estimate()
            self.p.update_welcome()

    def _on_edit_changed(self, state: EditState | None) -> None:
        banner = self.p.banner
        if state is not None:
            # No "Dismiss": a hidden notice would leave the edit armed. Cancel is the way out.
            banner.show_notice(_(EDIT_NOTICE), "cancel-edit", _("Cancel edit"), dismissable=False)
        elif banner.action() == "cancel-edit":
            banner.hide()

    def _on_deleted(self, deleted: DeletedMessages) -> None:
        self.p.status_bar.showMessage(
            _("{summary}. Undo delete (Ctrl+Z) brings it back.").format(
                summary=deleted.summary()), 10000)

    def _on_undo_changed(self, count: int) -> None:
        self.undo_button.setVisible(count > 0)
        self.undo_button.setToolTip(
            ngettext("Bring back the last deleted messages ({count} delete can be undone)",
                     "Bring back the last deleted messages ({count} deletes can be undone)",
                     count).format(count=count))
