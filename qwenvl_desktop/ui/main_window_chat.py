"""The window's chat logic: which conversation is shown, sending, editing, autosave.

`ChatActions` connects the composer, model bar, parameter panel, conversation list and
transcript to the `ChatController`. It owns the conversations held in memory (the one
shown and any still streaming); everything else lives in the library on disk.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt

from qwenvl_desktop.core.catalog import Model, Provider
from qwenvl_desktop.core.conversation import Conversation, Message
from qwenvl_desktop.core.errors import QwenVLError, explain

from .conversation_list import ListEntry

if TYPE_CHECKING:
    from qwenvl_desktop.core.images import PreparedImage

    from .attachment_tray import PendingAttachment
    from .main_window import MainWindow

__all__ = ["ChatActions"]

_AUTOSAVE_EVERY_S = 2.0


class ChatActions(QObject):
    """Conversations in memory and everything that turns a click into a chat turn."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.w = window
        assert window.services is not None
        self.services = window.services
        self.current: Conversation | None = None
        self._open: dict[str, Conversation] = {}
        self._unsaved: set[str] = set()         # new and still empty: no file yet
        self._last_save: dict[str, float] = {}
        self._editing: tuple[str, str] | None = None   # conversation id, user message id
        # What each conversation's composer sent last, given back if the send is refused.
        self._last_sent: dict[str, tuple[str, list[PendingAttachment]]] = {}

    # --- wiring -------------------------------------------------------------------------

    def connect_signals(self) -> None:
        w, c = self.w, self.w.controller
        w.composer.send_requested.connect(self.on_send)
        w.composer.stop_requested.connect(self.stop)
        w.composer.error.connect(lambda text: w.statusBar().showMessage(text, 8000))
        w.model_bar.selection_changed.connect(self.on_selection_changed)
        w.param_panel.changed.connect(self.on_params_changed)
        w.transcript.delete_requested.connect(self.delete_message)
        w.transcript.edit_requested.connect(self.edit)
        w.transcript.regenerate_requested.connect(self.regenerate)
        w.transcript.retry_requested.connect(self.regenerate)
        w.transcript.image_requested.connect(self.show_image)
        w.transcript.copied.connect(lambda _t: w.statusBar().showMessage("Copied", 2000))
        c.turn_started.connect(self._on_started)
        c.content_delta.connect(self._on_content)
        c.reasoning_delta.connect(self._on_reasoning)
        c.retrying.connect(lambda _c, _m, text: w.statusBar().showMessage(text, 10000))
        c.turn_ended.connect(self._on_ended)
        c.refused.connect(self._on_refused)
        c.progress.connect(lambda conv_id: self.autosave(conv_id, throttle=True))
        c.busy_changed.connect(self._on_busy)

    def start(self, open_path: Path | None) -> None:
        """Fill the list, restore the selection and the last conversation."""
        settings = self.services.settings
        if settings.last_provider:
            self.w.model_bar.set_selection(settings.last_provider, settings.last_model)
        self._update_target()
        for warning in self.services.settings_warnings:
            self.w.statusBar().showMessage(warning, 10000)
        corrupt = self.services.library.corrupt_files()
        if corrupt:
            names = "; ".join(f"{path.name}: {reason}" for path, reason in corrupt[:3])
            more = f" (and {len(corrupt) - 3} more)" if len(corrupt) > 3 else ""
            self.w.banner.show_notice(
                f"{len(corrupt)} saved conversation file(s) could not be read and were left "
                f"untouched in {self.services.library.folder}: {names}{more}")
        last = self.w.state.data.get("last_conversation")
        summaries = self.services.library.list()
        ids = [s.id for s in summaries]
        shown = False
        if open_path is not None:
            shown = self.w.files.open_path(open_path)
        if not shown and isinstance(last, str) and last in ids:
            shown = self.open_conversation(last)
        if not shown and ids:
            shown = self.open_conversation(ids[0])
        if not shown:
            self.new_conversation()
        self.update_welcome()

    # --- conversations ------------------------------------------------------------------

    def new_conversation(self) -> None:
        settings = self.services.settings
        conv = Conversation(system_prompt=settings.system_prompt)
        try:
            provider, model = self.w.model_bar.provider(), self.w.model_bar.model()
            conv.provider_id, conv.model_id = provider.id, model.id
            conv.params = settings.params_for(provider.id)
        except QwenVLError:
            pass
        self._unsaved.add(conv.id)
        self.show(conv)

    def open_conversation(self, conv_id: str) -> bool:
        """Show a conversation from memory or the library; False when it can't be read."""
        if self.current is not None and self.current.id == conv_id:
            return True
        conv = self._open.get(conv_id)
        if conv is None:
            try:
                conv = self.services.library.load(conv_id)
            except QwenVLError as err:
                self.w.files.show_file_error("Could not open the conversation", err)
                self.refresh_list()
                return False
        self.show(conv)
        return True

    def adopt(self, conv: Conversation) -> None:
        """Take in a conversation opened from a file: save it to the library, show it."""
        self._open[conv.id] = conv
        self.show(conv)
        self.autosave(conv.id)

    def show(self, conv: Conversation) -> None:
        previous = self.current
        if previous is not None and previous.id != conv.id:
            self._release(previous)
        self.current = conv
        self._open[conv.id] = conv
        self._editing = None
        w = self.w
        if conv.provider_id:
            w.model_bar.set_selection(conv.provider_id, conv.model_id)
        w.param_panel.set_params(conv.params)
        w.param_panel.set_system_prompt(conv.system_prompt)
        self._update_target()
        w.transcript.show_conversation(conv, self._streaming_view(conv.id))
        w.composer.set_streaming(w.controller.is_streaming(conv.id))
        w.setWindowTitle(f"{conv.title} — Qwen-VL Desktop")
        self.refresh_list()

    def _release(self, conv: Conversation) -> None:
        """Forget a conversation that is no longer shown (unless it is still streaming)."""
        if conv.id in self._unsaved and not conv.messages:
            self._unsaved.discard(conv.id)
            self._open.pop(conv.id, None)
            return
        self.autosave(conv.id)
        if not self.w.controller.is_streaming(conv.id):
            self._open.pop(conv.id, None)

    def _streaming_view(self, conv_id: str) -> Message | None:
        return self.w.controller.partial_answer(conv_id)

    def refresh_list(self) -> None:
        library = self.services.library
        text = self.w.conversation_list.search_text().strip()
        summaries = library.search(text) if text else library.list()
        streaming = set(self.w.controller.streaming_ids())
        entries = [ListEntry(s.id, s.title, s.updated, s.preview, s.id in streaming)
                   for s in summaries]
        current = self.current
        if current is not None and current.id in self._unsaved and not text:
            entries.insert(0, ListEntry(current.id, current.title, current.updated))
        self.w.conversation_list.set_entries(entries, current.id if current else None)

    def conversation(self, conv_id: str) -> Conversation | None:
        return self._open.get(conv_id)

    def forget(self, conv_id: str) -> None:
        """After a delete: drop it from memory, show another one."""
        self.w.controller.stop(conv_id)
        self._open.pop(conv_id, None)
        self._unsaved.discard(conv_id)
        if self.current is not None and self.current.id == conv_id:
            self.current = None
            ids = [s.id for s in self.services.library.list()]
            if not (ids and self.open_conversation(ids[0])):
                self.new_conversation()
        else:
            self.refresh_list()

    # --- autosave -----------------------------------------------------------------------

    def autosave(self, conv_id: str, throttle: bool = False) -> None:
        conv = self._open.get(conv_id)
        if conv is None or not conv.messages:
            return
        now = time.monotonic()
        if throttle and now - self._last_save.get(conv_id, 0.0) < _AUTOSAVE_EVERY_S:
            return
        if conv.title == "New conversation":
            conv.title = conv.auto_title()
        try:
            self.services.library.save(conv)
        except QwenVLError as err:
            self.w.banner.show_notice(f"Autosave failed: {explain(err)}")
            return
        self._last_save[conv_id] = now
        self._unsaved.discard(conv_id)

    def autosave_all(self) -> None:
        for conv_id in list(self._open):
            self.autosave(conv_id)
        if self.current is not None:
            self.w.state.data["last_conversation"] = self.current.id

    # --- model and parameters -----------------------------------------------------------

    def target(self) -> tuple[Provider, Model]:
        return self.w.model_bar.provider(), self.w.model_bar.model()

    def _update_target(self) -> None:
        try:
            provider, model = self.target()
        except QwenVLError:
            return
        self.w.param_panel.set_target(provider, model)
        self.w.composer.set_target(provider, model, self.w.param_panel.high_resolution())

    def on_selection_changed(self, provider_id: str, model_id: str) -> None:
        self._update_target()
        conv = self.current
        if conv is not None and model_id:
            conv.provider_id, conv.model_id = provider_id, model_id

    def on_params_changed(self) -> None:
        conv = self.current
        panel = self.w.param_panel
        params = panel.params()
        if conv is not None:
            conv.params = params
            conv.system_prompt = panel.system_prompt()
        try:
            provider, model = self.target()
        except QwenVLError:
            return
        self.services.settings.set_params(provider.id, params)
        self.w.composer.set_target(provider, model, panel.high_resolution())

    def remember_selection(self) -> None:
        settings = self.services.settings
        try:
            provider, model = self.target()
        except QwenVLError:
            return
        settings.last_provider, settings.last_model = provider.id, model.id

    def on_catalog_changed(self) -> None:
        self.services.catalog = self.services.catalog  # rebuilt by the settings dialog
        self.w.model_bar.refresh_catalog(self.services.catalog)
        self._update_target()
        self.update_welcome()

    def on_keys_changed(self) -> None:
        self.w.model_bar.refresh_key_status()
        self.update_welcome()

    def has_any_key(self) -> bool:
        catalog, keystore = self.services.catalog, self.services.keystore
        if catalog.custom():
            return True
        return any(keystore.source(p) != "none" for p in catalog.builtin())

    def update_welcome(self) -> None:
        """The add-a-key panel replaces an empty transcript until some key exists."""
        w = self.w
        empty = self.current is None or not self.current.messages
        w.stack.setCurrentWidget(w.welcome if empty and not self.has_any_key()
                                 else w.transcript)

    # --- sending ------------------------------------------------------------------------

    def send_from_menu(self) -> None:
        self.w.composer.submit()

    def attach_files(self) -> None:
        self.w.composer.choose_files()

    def screenshot(self) -> None:
        self.w.composer.capture_full_screen()

    def screenshot_region(self) -> None:
        self.w.composer.capture_region()

    def _give_back(self, text: str, attachments: Sequence[PendingAttachment]) -> None:
        """Put a message that could not be sent back in the (emptied) composer."""
        composer = self.w.composer
        if not composer.text().strip() and not composer.attachments():
            composer.set_text(text)
            composer.set_attachments(list(attachments))

    def on_send(self, text: str, attachments: Sequence[PendingAttachment]) -> None:
        """The composer asked to send: check, prepare images in the task, start the turn."""
        w = self.w
        if self.current is None:
            self.new_conversation()
        conv = self.current
        assert conv is not None
        if w.controller.is_streaming(conv.id):
            self._give_back(text, attachments)
            w.banner.show_notice("This conversation is still answering; stop it (Esc) "
                                 "or wait before sending again.")
            return
        try:
            provider, model = self.target()
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
        items = [(a.data, a.name, a.source_url) for a in attachments]

        async def prepare() -> Sequence[PreparedImage]:
            from qwenvl_desktop.core.images import image_byte_budget, prepare_image_async

            budget = image_byte_budget(provider, len(items))
            prepared = [await prepare_image_async(data, name=name, model=model,
                                                  provider=provider,
                                                  high_resolution=high_res,
                                                  max_bytes=budget, source_url=url)
                        for data, name, url in items]
            if editing is not None:
                # Only now, with the images ready and a key present: nothing is lost
                # from the conversation when the send is refused.
                conv.truncate_after(editing[1], keep=False)
            return prepared

        w.banner.hide()
        self._last_sent[conv.id] = (text, list(attachments))
        w.controller.send(conv, provider, model, params, text, prepare)

    def regenerate_last(self) -> None:
        conv = self.current
        if conv is None:
            return
        answer = next((m for m in reversed(conv.messages) if m.role == "assistant"), None)
        if answer is not None:
            self.regenerate(answer.id)

    def regenerate(self, answer_id: str) -> None:
        """Ask again: drop the answer and its question, resend the question."""
        conv = self.current
        if conv is None or self.w.controller.is_streaming(conv.id):
            return
        index = next((i for i, m in enumerate(conv.messages) if m.id == answer_id), -1)
        question = next((m for m in reversed(conv.messages[:max(index, 0)])
                         if m.role == "user"), None)
        if index < 0 or question is None:
            return
        try:
            provider, model = self.target()
        except QwenVLError as err:
            self.w.banner.show_notice(explain(err))
            return
        images = self._stored_as_prepared(conv, question)
        text = question.text
        params = self.w.param_panel.params()

        async def prepare() -> Sequence[PreparedImage]:
            conv.truncate_after(question.id, keep=False)
            return images

        self.w.controller.send(conv, provider, model, params, text, prepare)

    @staticmethod
    def _stored_as_prepared(conv: Conversation, message: Message) -> list[PreparedImage]:
        """The images a message was sent with, ready to be sent again as they were."""
        from qwenvl_desktop.core.images import PreparedImage

        result = []
        for sha in message.images:
            stored = conv.images.get(sha)
            if stored is None:
                continue
            result.append(PreparedImage(
                data=stored.data, mime=stored.mime, width=stored.width, height=stored.height,
                sha256=stored.sha256, original_name=stored.original_name,
                original_width=stored.original_width, original_height=stored.original_height,
                original_bytes=stored.original_bytes, tokens=message.image_tokens.get(sha, 0),
                source_url=stored.source_url))
        return result

    def stop(self) -> None:
        if self.current is not None:
            self.w.controller.stop(self.current.id)

    def edit(self, message_id: str) -> None:
        """Put a user message (text and images) back in the composer; sending replaces it."""
        conv = self.current
        if conv is None:
            return
        try:
            message = conv.message(message_id)
        except KeyError:
            return
        composer = self.w.composer
        composer.clear()
        composer.set_text(message.text)
        for sha in message.images:
            stored = conv.images.get(sha)
            if stored is not None:
                composer.add_image_bytes(stored.data, stored.original_name or "image.png")
        self._editing = (conv.id, message_id)
        self.w.banner.show_notice("Editing an earlier message: sending replaces it and "
                                  "everything after it.", "cancel-edit", "Cancel edit")
        composer.focus_input()

    def cancel_edit(self) -> None:
        if self._editing is not None:
            self._editing = None
            self.w.composer.clear()

    def delete_message(self, message_id: str) -> None:
        conv = self.current
        if conv is None:
            return
        if self.w.controller.is_streaming(conv.id):
            self.w.statusBar().showMessage("Stop the answer before deleting messages.", 5000)
            return
        conv.remove(message_id)
        self.w.transcript.show_conversation(conv)
        self.autosave(conv.id)
        self.refresh_list()

    def show_image(self, sha: str) -> None:
        from .transcript_panels import ImageViewer

        conv = self.current
        image = conv.images.get(sha) if conv is not None else None
        if image is None:
            return
        viewer = ImageViewer(image, self.w)
        viewer.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        viewer.show()

    # --- controller signals -------------------------------------------------------------

    def _shown(self, conv_id: str) -> bool:
        return self.current is not None and self.current.id == conv_id

    def _on_started(self, conv_id: str, user_id: str, answer_id: str) -> None:
        conv = self._open.get(conv_id)
        if conv is None:
            return
        if self._editing and self._editing[0] == conv_id:
            self._editing = None
            self.w.banner.hide()
        self._unsaved.discard(conv_id)
        if conv.title == "New conversation":
            conv.title = conv.auto_title()
        self._last_sent.pop(conv_id, None)
        if self._shown(conv_id):
            transcript = self.w.transcript
            if self._needs_rebuild(conv, user_id):
                transcript.show_conversation(conv, conv.message(answer_id))
            else:
                transcript.append_message(conv.message(user_id))
                transcript.begin_answer(conv.message(answer_id))
            transcript.scroll_to_end()
            self.update_welcome()
        self.autosave(conv_id)
        self.refresh_list()

    def _needs_rebuild(self, conv: Conversation, user_id: str) -> bool:
        """True when the transcript no longer matches (a regenerate or an edit truncated)."""
        expected = [m.id for m in conv.messages[:-2]]
        return (self.w.transcript.message_ids() != expected
                or conv.messages[-2].id != user_id)

    def _on_content(self, conv_id: str, answer_id: str, text: str) -> None:
        if self._shown(conv_id):
            self.w.transcript.add_content(answer_id, text)

    def _on_reasoning(self, conv_id: str, answer_id: str, text: str) -> None:
        if self._shown(conv_id):
            self.w.transcript.add_reasoning(answer_id, text)

    def _on_ended(self, conv_id: str, answer_id: str) -> None:
        conv = self._open.get(conv_id)
        if conv is None:
            return
        try:
            answer = conv.message(answer_id)
        except KeyError:
            return
        if self._shown(conv_id):
            self.w.transcript.finish_answer(answer)
        self.autosave(conv_id)
        if not self._shown(conv_id):
            self._open.pop(conv_id, None)
        self.refresh_list()

    def _on_refused(self, conv_id: str, reason: str) -> None:
        sent = self._last_sent.pop(conv_id, None)
        if self._shown(conv_id):
            if sent is not None:
                self._give_back(*sent)
            missing_key = "No API key" in reason
            self.w.banner.show_notice(reason, "keys" if missing_key else "",
                                      "Add key…" if missing_key else "")

    def _on_busy(self, conv_id: str, busy: bool) -> None:
        if self._shown(conv_id):
            self.w.composer.set_streaming(busy)
            self.w.action("stop").setEnabled(True)

    # --- for tests ---------------------------------------------------------------------

    def editing(self) -> tuple[str, str] | None:
        return self._editing

    def open_ids(self) -> list[str]:
        return list(self._open)

    def state(self) -> dict[str, Any]:
        return {"current": self.current.id if self.current else None,
                "editing": self._editing}
