"""The window's file actions: Open, Save, Save As, Export, and the list's rename/delete.

Conversations are always autosaved in the library; Save / Save As write a copy where
the person chooses (and remember it for the next Save). A file that cannot be read is
a file action gone wrong, so it gets a message box naming the file — shown without
blocking the event loop — and nothing in the open conversation changes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from qwenvl_desktop.core.catalog import Catalog
from qwenvl_desktop.core.conversation import Conversation, new_id
from qwenvl_desktop.core.errors import QwenVLError, explain
from qwenvl_desktop.core.library import ConversationLibrary
from qwenvl_desktop.core.opened_files import review_opened_conversation
from qwenvl_desktop.core.session import ChatSession

from ..file_dialogs import FileDialogs

__all__ = ["FileActions", "FileActionsParts"]

_FILTER = "Qwen-VL conversations (*.qwenvl);;All files (*)"


@dataclass(frozen=True)
class FileActionsParts:
    session: ChatSession
    library: ConversationLibrary
    dialog_parent: QWidget                    # parent of file dialogs and message boxes
    status: Callable[[str, int], None]
    show_notice: Callable[[str], None]        # the banner: what an opened file would steer
    catalog: Callable[[], Catalog]
    next_provider_id: Callable[[Conversation], str]   # where an opened file's turn goes
    show_another: Callable[[], None]          # after the shown conversation was deleted
    file_dialogs: FileDialogs


class FileActions(QObject):
    def __init__(self, parts: FileActionsParts) -> None:
        super().__init__(parts.dialog_parent)
        self.p = parts
        self.session = parts.session
        self._paths: dict[str, Path] = {}      # conversation id → where Save writes it
        self.last_error: str = ""

    # --- messages -----------------------------------------------------------------------

    def show_file_error(self, title: str, err: BaseException) -> None:
        """A non-blocking message box with the explained error (it names the file)."""
        self.last_error = explain(err)
        box = QMessageBox(QMessageBox.Icon.Warning, title, self.last_error,
                          QMessageBox.StandardButton.Ok, self.p.dialog_parent)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.setObjectName("fileErrorBox")
        box.open()

    # --- open ---------------------------------------------------------------------------

    def open_dialog(self) -> None:
        path = self.p.file_dialogs.open_file(self.p.dialog_parent, "conversations",
                                             "Open conversation", _FILTER)
        if path is not None:
            self.open_path(path)

    def open_path(self, path: Path) -> bool:
        """Open a conversation file; on failure explain why and change nothing."""
        from qwenvl_desktop.core.storage import load_conversation

        try:
            conv = load_conversation(path)
        except QwenVLError as err:
            self.show_file_error("Could not open the conversation", err)
            return False
        known = {s.id for s in self.p.library.list()}
        session = self.session
        have = session.conversation(conv.id)
        if have is None and conv.id in known:
            with contextlib.suppress(QwenVLError):
                have = self.p.library.load(conv.id)
        if have is not None and _same_messages(have, conv):
            # The file is a copy of a conversation already here (Save As, then Open):
            # show that one instead of listing a duplicate.
            self._paths[have.id] = path
            try:
                session.open(have.id)
            except QwenVLError as err:
                self.show_file_error("Could not open the conversation", err)
                return False
            self.p.status(f"Opened {path.name} (already in your conversations)", 5000)
            return True
        if conv.id in known or have is not None:
            conv.id = new_id()     # a second copy: never overwrite the one we have
        # What the file would do on the next turn is checked and said before it is shown.
        notices = review_opened_conversation(conv, self.p.catalog(),
                                             self.p.next_provider_id(conv))
        self._paths[conv.id] = path
        session.adopt(conv)
        self.p.status(f"Opened {path.name}", 5000)
        if notices:
            self.p.show_notice(f"{path.name}: " + "\n".join(notices))
        return True

    # --- save ---------------------------------------------------------------------------

    def save(self) -> None:
        conv = self.session.current
        if conv is None:
            return
        path = self._paths.get(conv.id)
        if path is None:
            self.save_as()
        else:
            self.save_to(path)

    def save_as(self) -> None:
        conv = self.session.current
        if conv is None:
            return
        path = self.p.file_dialogs.save_file(
            self.p.dialog_parent, "conversations", "Save conversation as",
            f"{_safe_name(conv.title)}.qwenvl", _FILTER, folder=self._saved_folder())
        if path is not None:
            if not path.suffix:
                path = path.with_suffix(".qwenvl")
            self.save_to(path)

    def save_to(self, path: Path) -> bool:
        from qwenvl_desktop.core.storage import save_conversation

        conv = self.session.current
        if conv is None:
            return False
        try:
            save_conversation(conv, path)
        except QwenVLError as err:
            self.show_file_error("Could not save the conversation", err)
            return False
        self._paths[conv.id] = path
        self.session.save_now(conv.id)
        self.p.status(f"Saved {path.name}", 5000)
        return True

    # --- export -------------------------------------------------------------------------

    def export(self, kind: str) -> None:
        conv = self.session.current
        if conv is None:
            return
        suffix, label = (".md", "Markdown (*.md)") if kind == "markdown" else \
            (".html", "HTML (*.html *.htm)")
        path = self.p.file_dialogs.save_file(
            self.p.dialog_parent, "exports", "Export conversation",
            f"{_safe_name(conv.title)}{suffix}", label)
        if path is not None:
            self.export_to(kind, path)

    def export_to(self, kind: str, path: Path) -> Path | None:
        from qwenvl_desktop.core.export import export_html, export_markdown

        conv = self.session.current
        if conv is None:
            return None
        try:
            out = (export_markdown if kind == "markdown" else export_html)(conv, path)
        except (QwenVLError, OSError) as err:
            self.show_file_error("Could not export the conversation", err)
            return None
        self.p.status(f"Exported {out.name}", 5000)
        return out

    # --- the list's rename and delete -----------------------------------------------------

    def rename(self, conv_id: str, title: str) -> None:
        try:
            self.session.rename(conv_id, title)
        except QwenVLError as err:
            self.show_file_error("Could not rename the conversation", err)

    def delete(self, conv_id: str) -> None:
        """Move the conversation to the library's trash folder (recoverable)."""
        library = self.p.library
        # A save still queued (a conversation opened or started a moment ago) must land
        # first: otherwise its file appears after this check and the conversation
        # comes back in the list, and is shown again.
        library.wait(conv_id)
        if library.path_for(conv_id).exists():
            try:
                library.delete(conv_id)
            except QwenVLError as err:
                self.show_file_error("Could not delete the conversation", err)
                return
        self._paths.pop(conv_id, None)
        self.session.forget(conv_id)
        if self.session.current is None:
            self.p.show_another()
        self.p.status("Conversation moved to the trash folder", 5000)

    def _saved_folder(self) -> Path | None:
        """Where Save writes the shown conversation, if it has been saved to a file and
        that folder is still there (Save As then starts beside that file)."""
        conv = self.session.current
        path = self._paths.get(conv.id) if conv is not None else None
        return path.parent if path is not None and path.parent.is_dir() else None


def _safe_name(title: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in " -_" else "_" for c in title).strip()
    return cleaned[:60] or "conversation"


def _same_messages(a: Conversation, b: Conversation) -> bool:
    """Same messages on every branch, same words: two copies of one conversation."""
    return [(m.id, m.role, m.text) for m in a.all_messages()] == [
        (m.id, m.role, m.text) for m in b.all_messages()]
