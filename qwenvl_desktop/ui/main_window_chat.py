"""The window's conversations: which one is shown, the list, autosave, model and keys.

`ChatActions` connects the conversation list, model bar and parameter panel to the
conversations held in memory (the one shown and any still streaming); everything
else lives in the library on disk. Sending, stopping, editing and the controller's
turn signals are `TurnActions` (main_window_turns.py).
"""

from __future__ import annotations

import contextlib
import time
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from qwenvl_desktop.core.api.types import ChatParams
from qwenvl_desktop.core.catalog import Model, Provider
from qwenvl_desktop.core.conversation import Conversation, Message
from qwenvl_desktop.core.errors import QwenVLError, explain

from .conversation_list import ListEntry

if TYPE_CHECKING:
    from .main_window import MainWindow

__all__ = ["ChatActions"]

_AUTOSAVE_EVERY_S = 2.0


class ChatActions(QObject):
    """Conversations in memory: showing, listing, saving; the model and key choices."""

    #: The id of the conversation now shown (a different one, or the same one reloaded).
    conversation_shown = Signal(str)
    #: A background save failed: the explained reason (emitted from the writer thread,
    #: delivered queued on the GUI thread).
    _save_failed = Signal(str)

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.w = window
        assert window.services is not None
        self.services = window.services
        self.current: Conversation | None = None
        self._open: dict[str, Conversation] = {}
        self._unsaved: set[str] = set()         # new and still empty: no file yet
        self._last_save: dict[str, float] = {}
        # Providers that could answer at the last key/endpoint change (see
        # _choose_usable_provider: the newly usable one is chosen first).
        self._usable_before: set[str] = set(self.usable_provider_ids())

    # --- wiring -------------------------------------------------------------------------

    def connect_signals(self) -> None:
        self.w.composer.history.resend_toggled.connect(self.on_resend_toggled)
        w, c = self.w, self.w.controller
        w.composer.error.connect(lambda text: w.statusBar().showMessage(text, 8000))
        w.model_bar.selection_changed.connect(self.on_selection_changed)
        w.param_panel.changed.connect(self.on_params_changed)
        w.transcript.copied.connect(lambda _t: w.statusBar().showMessage("Copied", 2000))
        c.retrying.connect(lambda _c, _m, text: w.statusBar().showMessage(text, 10000))
        c.progress.connect(lambda conv_id: self.autosave(conv_id, throttle=True))
        self._save_failed.connect(self._on_save_failed)

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
        image_to_attach: Path | None = None
        if open_path is not None:
            from qwenvl_desktop.core.storage import FILE_SUFFIX

            if open_path.suffix.lower() == FILE_SUFFIX:
                shown = self.w.files.open_path(open_path)
            else:
                # "Open with Qwen-VL Desktop" on an image: a new question about it.
                image_to_attach = open_path
        if not shown and isinstance(last, str) and last in ids:
            shown = self.open_conversation(last)
        if not shown and ids:
            shown = self.open_conversation(ids[0])
        if image_to_attach is not None:
            self.new_conversation()
            self.w.composer.add_files([image_to_attach])
        elif not shown:
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
        # Saved first, so the list shown with it already has (and selects) its row.
        self.autosave(conv.id)
        self.show(conv)

    def show(self, conv: Conversation) -> None:
        previous = self.current
        if previous is not None and previous.id != conv.id:
            self._release(previous)
        self.current = conv
        self._open[conv.id] = conv
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
        self.conversation_shown.emit(conv.id)

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
        """Save a conversation without blocking the window.

        The snapshot is taken here, on the GUI thread; the library writes and fsyncs it
        on its writer thread, in order (`ConversationLibrary.save_soon`). A failure shows
        up in the banner when the writer reports it.
        """
        conv = self._open.get(conv_id)
        if conv is None or not conv.messages:
            return
        now = time.monotonic()
        if throttle and now - self._last_save.get(conv_id, 0.0) < _AUTOSAVE_EVERY_S:
            return
        if conv.title == "New conversation":
            conv.title = conv.auto_title()
        try:
            future = self.services.library.save_soon(conv)
        except QwenVLError as err:
            self.w.banner.show_notice(f"Autosave failed: {explain(err)}")
            return
        future.add_done_callback(self._report_save)
        self._last_save[conv_id] = now
        self._unsaved.discard(conv_id)

    def _report_save(self, future: Future[Path]) -> None:
        """On the writer thread: pass a failure on to the GUI thread (queued signal)."""
        err = future.exception()
        if err is None:
            return
        reason = explain(err) if isinstance(err, QwenVLError) else str(err)
        with contextlib.suppress(RuntimeError):     # the window is already gone
            self._save_failed.emit(reason)

    def _on_save_failed(self, reason: str) -> None:
        self.w.banner.show_notice(f"Autosave failed: {reason}")

    def autosave_all(self) -> None:
        """Save every open conversation and wait until all saves are on disk (closing)."""
        for conv_id in list(self._open):
            self.autosave(conv_id)
        self.services.library.wait()
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
        self.update_history_estimate()

    def update_history_estimate(self) -> None:
        """Tell the tray what earlier turns' images cost on the chosen model."""
        from qwenvl_desktop.core.media import resend_costs

        from .history_images import HistoryImages

        try:
            provider, model = self.target()
        except QwenVLError:
            return
        high_res = self.w.param_panel.high_resolution()
        costs = (resend_costs(self.current.images, self.current.messages, model, provider,
                              high_res) if self.current else [])
        turns = [tokens for _count, tokens in costs]
        counts = [count for count, _tokens in costs]
        self.w.composer.history.set_history(HistoryImages(
            count=sum(counts), tokens=sum(turns),
            last_turn_count=counts[-1] if counts else 0,
            last_turn_tokens=turns[-1] if turns else 0,
            drop_old=self.services.settings.drop_old_images))

    def on_resend_toggled(self, resend: bool) -> None:
        """The tray's "Resend images from earlier turns" box: a saved preference."""
        self.services.settings.drop_old_images = not resend
        try:
            self.services.save_settings()
        except QwenVLError as err:
            self.w.statusBar().showMessage(f"Could not save the setting: {err}", 8000)

    def on_selection_changed(self, provider_id: str, model_id: str) -> None:
        self._update_target()
        self._drop_stale_key_notice()
        conv = self.current
        if conv is not None and model_id:
            conv.provider_id, conv.model_id = provider_id, model_id

    def on_params_changed(self) -> None:
        conv = self.current
        panel = self.w.param_panel
        params = panel.params()
        before = conv.params if conv is not None else ChatParams()
        if conv is not None:
            conv.params = params
            conv.system_prompt = panel.system_prompt()
        try:
            provider, model = self.target()
        except QwenVLError:
            return
        # Only what the person changed: a file's own values stay with its conversation.
        self.services.settings.note_param_changes(provider.id, before, params)
        self.w.composer.set_target(provider, model, panel.high_resolution())
        self.update_history_estimate()

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
        self._choose_usable_provider()
        self.update_welcome()

    def on_keys_changed(self) -> None:
        self.w.model_bar.refresh_key_status()
        self._choose_usable_provider()
        self.update_welcome()

    # --- a provider that can answer -----------------------------------------------------

    def _usable(self, provider: Provider) -> bool:
        """Has models, and a key (or needs none): a send can go out."""
        return bool(provider.models) and (
            provider.key_optional or self.services.keystore.source(provider) != "none")

    def usable_provider_ids(self) -> list[str]:
        catalog = self.services.catalog
        return [p.id for p in catalog.builtin() + catalog.custom() if self._usable(p)]

    def _choose_usable_provider(self) -> None:
        """After a key or endpoint was added: if the chosen provider still cannot answer,
        choose the one that just became usable (first start: Singapore without a key
        stays selected while the person added a custom endpoint — the first send was
        refused for a missing key)."""
        before, now = self._usable_before, self.usable_provider_ids()
        self._usable_before = set(now)
        try:
            current = self.w.model_bar.provider()
        except QwenVLError:
            return
        if not self._usable(current):
            fresh = [pid for pid in now if pid not in before] or now
            if not fresh:
                return
            self.w.model_bar.set_selection(fresh[0], "")
            chosen = self.services.catalog.get(fresh[0])
            self.w.statusBar().showMessage(
                f"Now using {chosen.name}: {current.name} has no key.", 8000)
        self._drop_stale_key_notice()

    def _drop_stale_key_notice(self) -> None:
        """Hide the "No API key …" notice once the chosen provider can answer."""
        banner = self.w.banner
        if banner.isHidden() or banner.action() != "keys":
            return
        try:
            provider = self.w.model_bar.provider()
        except QwenVLError:
            return
        if self._usable(provider):
            banner.hide()

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

    # --- for the turn actions (main_window_turns.py) -------------------------------------

    def is_shown(self, conv_id: str) -> bool:
        return self.current is not None and self.current.id == conv_id

    def mark_started(self, conv: Conversation) -> None:
        """A turn began: the conversation is no longer a throwaway; give it a title."""
        self._unsaved.discard(conv.id)
        if conv.title == "New conversation":
            conv.title = conv.auto_title()

    def release_if_hidden(self, conv_id: str) -> None:
        """A background turn ended: forget the conversation unless it is shown."""
        if not self.is_shown(conv_id):
            self._open.pop(conv_id, None)

    # --- for tests ---------------------------------------------------------------------

    def open_ids(self) -> list[str]:
        return list(self._open)

    def state(self) -> dict[str, Any]:
        return {"current": self.current.id if self.current else None,
                "editing": self.w.turns.editing()}
