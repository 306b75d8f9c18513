"""The window's chat turns: send, stop, regenerate, edit and resend, delete a message.

`TurnActions` turns the composer's and the transcript's requests into calls on the
`ChatController`, and the controller's turn signals back into transcript updates.
Which conversation is shown, and saving it, belong to `ChatActions`
(main_window_chat.py); this module only asks it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt

from qwenvl_desktop.core.conversation import Conversation, Message
from qwenvl_desktop.core.errors import QwenVLError, explain

if TYPE_CHECKING:
    from qwenvl_desktop.core.images import PreparedImage
    from qwenvl_desktop.core.media import PreparedMedia

    from .attachment_tray import PendingItem
    from .main_window import MainWindow
    from .main_window_chat import ChatActions

__all__ = ["TurnActions"]


class TurnActions(QObject):
    """Everything that turns a click or a key press into a chat turn, and shows it."""

    def __init__(self, window: MainWindow, chat: ChatActions) -> None:
        super().__init__(window)
        self.w = window
        self.chat = chat
        self._editing: tuple[str, str] | None = None   # conversation id, user message id
        # What each conversation's composer sent last, given back if the send is refused.
        self._last_sent: dict[str, tuple[str, list[PendingItem]]] = {}

    def connect_signals(self) -> None:
        w, c = self.w, self.w.controller
        w.composer.send_requested.connect(self.on_send)
        w.composer.stop_requested.connect(self.stop)
        w.transcript.delete_requested.connect(self.delete_message)
        w.transcript.edit_requested.connect(self.edit)
        w.transcript.regenerate_requested.connect(self.regenerate)
        w.transcript.retry_requested.connect(self.regenerate)
        w.transcript.image_requested.connect(self.show_image)
        c.turn_started.connect(self._on_started)
        c.content_delta.connect(self._on_content)
        c.reasoning_delta.connect(self._on_reasoning)
        c.turn_ended.connect(self._on_ended)
        c.refused.connect(self._on_refused)
        c.busy_changed.connect(self._on_busy)
        self.chat.conversation_shown.connect(self._on_conversation_shown)

    # --- menu entries -------------------------------------------------------------------

    def send_from_menu(self) -> None:
        self.w.composer.submit()

    def attach_files(self) -> None:
        self.w.composer.choose_files()

    def screenshot(self) -> None:
        self.w.composer.capture_full_screen()

    def screenshot_region(self) -> None:
        self.w.composer.capture_region()

    # --- sending ------------------------------------------------------------------------

    def _give_back(self, text: str, attachments: Sequence[PendingItem]) -> None:
        """Put a message that could not be sent back in the (emptied) composer."""
        composer = self.w.composer
        if not composer.text().strip() and not composer.attachments():
            composer.set_text(text)
            composer.set_attachments(list(attachments))

    def on_send(self, text: str, attachments: Sequence[PendingItem]) -> None:
        """The composer asked to send: check, prepare images in the task, start the turn."""
        w = self.w
        if self.chat.current is None:
            self.chat.new_conversation()
        conv = self.chat.current
        assert conv is not None
        if w.controller.is_streaming(conv.id):
            self._give_back(text, attachments)
            w.banner.show_notice("This conversation is still answering; stop it (Esc) "
                                 "or wait before sending again.")
            return
        try:
            provider, model = self.chat.target()
        except QwenVLError as err:
            self._give_back(text, attachments)
            w.banner.show_notice(explain(err))
            return
        if attachments and not model.vision:
            self._give_back(text, attachments)
            w.banner.show_notice(
                f"{model.label} cannot see images, so this message can't be sent with "
                f"{len(attachments)} image(s). Choose a vision model or remove the images.")
            return
        if not text.strip() and not attachments:
            return
        editing = self._editing if self._editing and self._editing[0] == conv.id else None
        params = w.param_panel.params()
        conv.params = params
        conv.system_prompt = w.param_panel.system_prompt()
        conv.provider_id, conv.model_id = provider.id, model.id
        high_res = w.param_panel.high_resolution()
        items = list(attachments)

        async def prepare() -> Sequence[PreparedImage | PreparedMedia]:
            from .media_items import prepare_items

            prepared = await prepare_items(items, model=model, provider=provider,
                                           high_resolution=high_res)
            if editing is not None:
                # Only now, with the images ready and a key present: nothing is lost
                # from the conversation when the send is refused.
                conv.truncate_after(editing[1], keep=False)
            return prepared

        w.banner.hide()
        self._last_sent[conv.id] = (text, list(attachments))
        w.controller.send(conv, provider, model, params, text, prepare)

    def regenerate_last(self) -> None:
        conv = self.chat.current
        if conv is None:
            return
        answer = next((m for m in reversed(conv.messages) if m.role == "assistant"), None)
        if answer is not None:
            self.regenerate(answer.id)

    def regenerate(self, answer_id: str) -> None:
        """Ask again: drop the answer and its question, resend the question."""
        conv = self.chat.current
        if conv is None or self.w.controller.is_streaming(conv.id):
            return
        index = next((i for i, m in enumerate(conv.messages) if m.id == answer_id), -1)
        question = next((m for m in reversed(conv.messages[:max(index, 0)])
                         if m.role == "user"), None)
        if index < 0 or question is None:
            return
        try:
            provider, model = self.chat.target()
        except QwenVLError as err:
            self.w.banner.show_notice(explain(err))
            return
        images = self._stored_as_prepared(conv, question)
        text = question.text
        params = self.w.param_panel.params()

        async def prepare() -> Sequence[PreparedImage | PreparedMedia]:
            conv.truncate_after(question.id, keep=False)
            return images

        self.w.controller.send(conv, provider, model, params, text, prepare)

    @staticmethod
    def _stored_as_prepared(conv: Conversation, message: Message
                            ) -> list[PreparedImage | PreparedMedia]:
        """The images, documents and clips a message was sent with, ready to be sent
        again as they were."""
        from qwenvl_desktop.core.media import stored_items

        return stored_items(conv.images, message)

    def stop(self) -> None:
        if self.chat.current is not None:
            self.w.controller.stop(self.chat.current.id)

    # --- editing and deleting messages ---------------------------------------------------

    def edit(self, message_id: str) -> None:
        """Put a user message (text and images) back in the composer; sending replaces it."""
        conv = self.chat.current
        if conv is None:
            return
        try:
            message = conv.message(message_id)
        except KeyError:
            return
        composer = self.w.composer
        composer.clear()
        composer.set_text(message.text)
        grouped = {sha for group in message.media for sha in group.images}
        for sha in message.images:
            stored = conv.images.get(sha)
            if stored is not None and sha not in grouped:
                composer.add_image_bytes(stored.data, stored.original_name or "image.png")
        if message.media:
            from qwenvl_desktop.core.media import PreparedMedia as Media
            from qwenvl_desktop.core.media import stored_items

            from .media_items import PendingPrepared

            for item in stored_items(conv.images, message):
                if isinstance(item, Media):
                    composer.tray.add(PendingPrepared(item))
        self._editing = (conv.id, message_id)
        # No "Dismiss" here: a hidden notice would leave the edit armed, and the next
        # ordinary send would silently cut the conversation. Cancel edit is the way out.
        self.w.banner.show_notice("Editing an earlier message: sending replaces it and "
                                  "everything after it.", "cancel-edit", "Cancel edit",
                                  dismissable=False)
        composer.focus_input()

    def cancel_edit(self) -> None:
        if self._editing is not None:
            self._editing = None
            self.w.composer.clear()

    def editing(self) -> tuple[str, str] | None:
        return self._editing

    def _on_conversation_shown(self, _conv_id: str) -> None:
        if self._editing is not None:
            self._editing = None
            self.w.banner.hide()

    def delete_message(self, message_id: str) -> None:
        conv = self.chat.current
        if conv is None:
            return
        if self.w.controller.is_streaming(conv.id):
            self.w.statusBar().showMessage("Stop the answer before deleting messages.", 5000)
            return
        conv.remove(message_id)
        self.w.transcript.show_conversation(conv)
        self.chat.autosave(conv.id)
        self.chat.refresh_list()

    def show_image(self, sha: str) -> None:
        from .transcript_panels import ImageViewer

        conv = self.chat.current
        image = conv.images.get(sha) if conv is not None else None
        if image is None:
            return
        viewer = ImageViewer(image, self.w)
        viewer.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        viewer.show()

    # --- controller signals -------------------------------------------------------------

    def _on_started(self, conv_id: str, user_id: str, answer_id: str) -> None:
        conv = self.chat.conversation(conv_id)
        if conv is None:
            return
        if self._editing and self._editing[0] == conv_id:
            self._editing = None
            self.w.banner.hide()
        self.chat.mark_started(conv)
        self._last_sent.pop(conv_id, None)
        if self.chat.is_shown(conv_id):
            transcript = self.w.transcript
            if self._needs_rebuild(conv, user_id):
                transcript.show_conversation(conv, conv.message(answer_id))
            else:
                transcript.append_message(conv.message(user_id))
                transcript.begin_answer(conv.message(answer_id))
            transcript.scroll_to_end()
            self.chat.update_welcome()
        self.chat.autosave(conv_id)
        self.chat.refresh_list()

    def _needs_rebuild(self, conv: Conversation, user_id: str) -> bool:
        """True when the transcript no longer matches (a regenerate or an edit truncated)."""
        expected = [m.id for m in conv.messages[:-2]]
        return (self.w.transcript.message_ids() != expected
                or conv.messages[-2].id != user_id)

    def _on_content(self, conv_id: str, answer_id: str, text: str) -> None:
        if self.chat.is_shown(conv_id):
            self.w.transcript.add_content(answer_id, text)

    def _on_reasoning(self, conv_id: str, answer_id: str, text: str) -> None:
        if self.chat.is_shown(conv_id):
            self.w.transcript.add_reasoning(answer_id, text)

    def _on_ended(self, conv_id: str, answer_id: str) -> None:
        conv = self.chat.conversation(conv_id)
        if conv is None:
            return
        try:
            answer = conv.message(answer_id)
        except KeyError:
            return
        if self.chat.is_shown(conv_id):
            self.w.transcript.finish_answer(answer)
            self.chat.update_history_estimate()
        self.chat.autosave(conv_id)
        self.chat.release_if_hidden(conv_id)
        self.chat.refresh_list()

    def _on_refused(self, conv_id: str, reason: str) -> None:
        sent = self._last_sent.pop(conv_id, None)
        if self.chat.is_shown(conv_id):
            if sent is not None:
                self._give_back(*sent)
            missing_key = "No API key" in reason
            self.w.banner.show_notice(reason, "keys" if missing_key else "",
                                      "Add key…" if missing_key else "")

    def _on_busy(self, conv_id: str, busy: bool) -> None:
        if self.chat.is_shown(conv_id):
            self.w.composer.set_streaming(busy)
            self.w.action("stop").setEnabled(True)
