"""The window's file actions: Open, Save, Save As, Export, and the list's rename/delete.

Conversations are always autosaved in the library; Save / Save As write a copy where
the person chooses (and remember it for the next Save). A file that cannot be read is
a file action gone wrong, so it gets a message box naming the file — shown without
blocking the event loop — and nothing in the open conversation changes.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox

from qwenvl_desktop.core.conversation import Conversation, new_id
from qwenvl_desktop.core.errors import QwenVLError, explain
from qwenvl_desktop.core.opened_files import review_opened_conversation

if TYPE_CHECKING:
    from .main_window import MainWindow

__all__ = ["FileActions"]

_FILTER = "Qwen-VL conversations (*.qwenvl);;All files (*)"


class FileActions(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.w = window
        assert window.services is not None
        self.services = window.services
        self._paths: dict[str, Path] = {}      # conversation id → where Save writes it
        self.last_error: str = ""

    # --- messages -----------------------------------------------------------------------

    def show_file_error(self, title: str, err: BaseException) -> None:
        """A non-blocking message box with the explained error (it names the file)."""
        self.last_error = explain(err)
        box = QMessageBox(QMessageBox.Icon.Warning, title, self.last_error,
                          QMessageBox.StandardButton.Ok, self.w)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.setObjectName("fileErrorBox")
        box.open()

    # --- open ---------------------------------------------------------------------------

    def open_dialog(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self.w, "Open conversation",
                                              str(self._folder()), _FILTER)
        if name:
            self.open_path(Path(name))

    def open_path(self, path: Path) -> bool:
        """Open a conversation file; on failure explain why and change nothing."""
        from qwenvl_desktop.core.storage import load_conversation

        try:
            conv = load_conversation(path)
        except QwenVLError as err:
            self.show_file_error("Could not open the conversation", err)
            return False
        known = {s.id for s in self.services.library.list()}
        chat = self.w.chat
        have = chat.conversation(conv.id)
        if have is None and conv.id in known:
            with contextlib.suppress(QwenVLError):
                have = self.services.library.load(conv.id)
        if have is not None and _same_messages(have, conv):
            # The file is a copy of a conversation already here (Save As, then Open):
            # show that one instead of listing a duplicate.
            self._paths[have.id] = path
            chat.open_conversation(have.id)
            self.w.statusBar().showMessage(
                f"Opened {path.name} (already in your conversations)", 5000)
            return True
        if conv.id in known or have is not None:
            conv.id = new_id()     # a second copy: never overwrite the one we have
        # What the file would do on the next turn is checked and said before it is shown.
        notices = review_opened_conversation(conv, self.services.catalog,
                                             self._next_provider_id(conv))
        self._paths[conv.id] = path
        chat.adopt(conv)
        self.w.statusBar().showMessage(f"Opened {path.name}", 5000)
        if notices:
            self.w.banner.show_notice(f"{path.name}: " + "\n".join(notices))
        return True

    def _next_provider_id(self, conv: Conversation) -> str:
        """The provider the opened conversation's next turn goes to (as `show` picks it)."""
        if conv.provider_id in self.w.chat.usable_provider_ids():
            return conv.provider_id
        try:
            return self.w.model_bar.provider().id
        except QwenVLError:
            return conv.provider_id

    # --- save ---------------------------------------------------------------------------

    def save(self) -> None:
        conv = self.w.chat.current
        if conv is None:
            return
        path = self._paths.get(conv.id)
        if path is None:
            self.save_as()
        else:
            self.save_to(path)

    def save_as(self) -> None:
        conv = self.w.chat.current
        if conv is None:
            return
        suggested = self._folder() / f"{_safe_name(conv.title)}.qwenvl"
        name, _ = QFileDialog.getSaveFileName(self.w, "Save conversation as",
                                              str(suggested), _FILTER)
        if name:
            path = Path(name)
            if not path.suffix:
                path = path.with_suffix(".qwenvl")
            self.save_to(path)

    def save_to(self, path: Path) -> bool:
        from qwenvl_desktop.core.storage import save_conversation

        conv = self.w.chat.current
        if conv is None:
            return False
        try:
            save_conversation(conv, path)
        except QwenVLError as err:
            self.show_file_error("Could not save the conversation", err)
            return False
        self._paths[conv.id] = path
        self.w.chat.autosave(conv.id)
        self.w.statusBar().showMessage(f"Saved {path.name}", 5000)
        return True

    # --- export -------------------------------------------------------------------------

    def export(self, kind: str) -> None:
        conv = self.w.chat.current
        if conv is None:
            return
        suffix, label = (".md", "Markdown (*.md)") if kind == "markdown" else \
            (".html", "HTML (*.html *.htm)")
        suggested = self._folder() / f"{_safe_name(conv.title)}{suffix}"
        name, _ = QFileDialog.getSaveFileName(self.w, "Export conversation",
                                              str(suggested), label)
        if name:
            self.export_to(kind, Path(name))

    def export_to(self, kind: str, path: Path) -> Path | None:
        from qwenvl_desktop.core.export import export_html, export_markdown

        conv = self.w.chat.current
        if conv is None:
            return None
        try:
            out = (export_markdown if kind == "markdown" else export_html)(conv, path)
        except (QwenVLError, OSError) as err:
            self.show_file_error("Could not export the conversation", err)
            return None
        self.w.statusBar().showMessage(f"Exported {out.name}", 5000)
        return out

    # --- the list's rename and delete -----------------------------------------------------

    def rename(self, conv_id: str, title: str) -> None:
        chat = self.w.chat
        conv = chat.conversation(conv_id)
        if conv is not None:
            conv.title = " ".join(title.split()) or conv.title
            chat.autosave(conv_id)
            if chat.current is conv:
                self.w.setWindowTitle(f"{conv.title} — Qwen-VL Desktop")
        else:
            try:
                self.services.library.rename(conv_id, title)
            except QwenVLError as err:
                self.show_file_error("Could not rename the conversation", err)
        chat.refresh_list()

    def delete(self, conv_id: str) -> None:
        """Move the conversation to the library's trash folder (recoverable)."""
        library = self.services.library
        if library.path_for(conv_id).exists():
            try:
                library.delete(conv_id)
            except QwenVLError as err:
                self.show_file_error("Could not delete the conversation", err)
                return
        self._paths.pop(conv_id, None)
        self.w.chat.forget(conv_id)
        self.w.statusBar().showMessage("Conversation moved to the trash folder", 5000)

    def _folder(self) -> Path:
        conv = self.w.chat.current
        if conv is not None and conv.id in self._paths:
            return self._paths[conv.id].parent
        return Path.home()


def _safe_name(title: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in " -_" else "_" for c in title).strip()
    return cleaned[:60] or "conversation"


def _same_messages(a: Conversation, b: Conversation) -> bool:
    """Same messages, same words: two copies of one conversation."""
    return [(m.id, m.role, m.text) for m in a.messages] == [
        (m.id, m.role, m.text) for m in b.messages]
