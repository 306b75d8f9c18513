"""The window's file actions: Open, Save, Save As, Export, and the list's rename/delete.

Conversations are always autosaved in the library; Save / Save As write a copy where
the person chooses (and remember it for the next Save). Save never overwrites a file
another program changed since it was opened or saved here: that file is left alone and
the conversation is saved beside it (`core/file_guard.py`); Save As onto an existing
file replaces it, as the person confirmed. A file that cannot be read is a file action
gone wrong, so it gets a message box naming the file — shown without blocking the event
loop — and nothing in the open conversation changes. Delete moves the conversation to
the library's trash; the window offers Undo until it closes (`ui/delete_undo.py`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from qwenvl_desktop.core.catalog import Catalog
from qwenvl_desktop.core.conversation import Conversation, new_id
from qwenvl_desktop.core.errors import QwenVLError, explain
from qwenvl_desktop.core.file_guard import GuardedFile
from qwenvl_desktop.core.library import ConversationLibrary
from qwenvl_desktop.core.opened_files import review_opened_conversation
from qwenvl_desktop.core.session import ChatSession

from ...core.i18n import N_, _
from ..file_dialogs import FileDialogs

__all__ = ["FileActions", "FileActionsParts"]

_FILTER = N_("Qwen-VL conversations (*.qwenvl);;All files (*)")
_COPY_LABEL = "copy from this window"


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
    # A deleted conversation (id, title, its move to the trash) to offer Undo for.
    offer_undo: Callable[[str, str, Future[Path | None]], None]


class FileActions(QObject):
    def __init__(self, parts: FileActionsParts) -> None:
        super().__init__(parts.dialog_parent)
        self.p = parts
        self.session = parts.session
        self._files: dict[str, GuardedFile] = {}     # conversation id → where Save writes
        self.last_error: str = ""

    # --- messages -----------------------------------------------------------------------

    def show_file_error(self, title: str, err: BaseException) -> None:
        """A non-blocking message box with the explained error (it names the file)."""
        self.show_error_text(title, explain(err))

    def show_error_text(self, title: str, text: str) -> None:
        """A non-blocking message box with `text` (already explained)."""
        self.last_error = text
        box = QMessageBox(QMessageBox.Icon.Warning, title, text,
                          QMessageBox.StandardButton.Ok, self.p.dialog_parent)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.setObjectName("fileErrorBox")
        box.open()

    # --- open ---------------------------------------------------------------------------

    def open_dialog(self) -> None:
        path = self.p.file_dialogs.open_file(self.p.dialog_parent, "conversations",
                                             _("Open conversation"), _(_FILTER))
        if path is not None:
            self.open_path(path)

    def open_path(self, path: Path) -> bool:
        """Open a conversation file; on failure explain why and change nothing."""
        guarded = GuardedFile(path, label=_COPY_LABEL)
        try:
            conv = guarded.load()
        except QwenVLError as err:
            self.show_file_error(_("Could not open the conversation"), err)
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
            self._files[have.id] = guarded
            try:
                session.open(have.id)
            except QwenVLError as err:
                self.show_file_error(_("Could not open the conversation"), err)
                return False
            self.p.status(_("Opened {name} (already in your conversations)").format(
                name=path.name), 5000)
            return True
        if conv.id in known or have is not None:
            conv.id = new_id()     # a second copy: never overwrite the one we have
        # What the file would do on the next turn is checked and said before it is shown.
        notices = review_opened_conversation(conv, self.p.catalog(),
                                             self.p.next_provider_id(conv))
        self._files[conv.id] = guarded
        session.adopt(conv)
        self.p.status(_("Opened {name}").format(name=path.name), 5000)
        if notices:
            self.p.show_notice(f"{path.name}: " + "\n".join(notices))
        return True

    # --- save ---------------------------------------------------------------------------

    def save(self) -> None:
        conv = self.session.current
        if conv is None:
            return
        guarded = self._files.get(conv.id)
        if guarded is None:
            self.save_as()
            return
        try:
            left_alone = guarded.save(conv)
        except QwenVLError as err:
            self.show_file_error(_("Could not save the conversation"), err)
            return
        self.session.save_now(conv.id)
        if left_alone is None:
            self.p.status(_("Saved {name}").format(name=guarded.path.name), 5000)
        else:
            self.p.status(_("{name} was changed by another program since it was opened or "
                            "saved here, so it is left as it is; saved as {name2}").format(
                                name=left_alone.name, name2=guarded.path.name), 15000)

    def save_as(self) -> None:
        conv = self.session.current
        if conv is None:
            return
        path = self.p.file_dialogs.save_file(
            self.p.dialog_parent, "conversations", _("Save conversation as"),
            f"{_safe_name(conv.title)}.qwenvl", _(_FILTER), folder=self._saved_folder())
        if path is not None:
            if not path.suffix:
                path = path.with_suffix(".qwenvl")
            self.save_to(path)

    def save_to(self, path: Path) -> bool:
        """Save As: write the conversation to `path`, replacing any file there (the
        person chose it), and remember it for the next Save."""
        conv = self.session.current
        if conv is None:
            return False
        guarded = GuardedFile(path, label=_COPY_LABEL)
        try:
            guarded.save_over(conv)
        except QwenVLError as err:
            self.show_file_error(_("Could not save the conversation"), err)
            return False
        self._files[conv.id] = guarded
        self.session.save_now(conv.id)
        self.p.status(_("Saved {name}").format(name=path.name), 5000)
        return True

    # --- export -------------------------------------------------------------------------

    def export(self, kind: str) -> None:
        conv = self.session.current
        if conv is None:
            return
        suffix, label = (".md", _("Markdown (*.md)")) if kind == "markdown" else \
            (".html", _("HTML (*.html *.htm)"))
        path = self.p.file_dialogs.save_file(
            self.p.dialog_parent, "exports", _("Export conversation"),
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
            self.show_file_error(_("Could not export the conversation"), err)
            return None
        self.p.status(_("Exported {name}").format(name=out.name), 5000)
        return out

    # --- the list's rename and delete -----------------------------------------------------

    def rename(self, conv_id: str, title: str) -> None:
        try:
            self.session.rename(conv_id, title)
        except QwenVLError as err:
            self.show_file_error(_("Could not rename the conversation"), err)

    def delete(self, conv_id: str) -> None:
        """Move the conversation to the library's trash folder; Undo brings it back.

        Whatever is only in memory (a streaming answer) is saved first, so the trash, and
        Undo, have the conversation as it was at this moment. The library queues the move
        behind that save and never writes the conversation again (its first save may
        still be on the writer: checking for the file here once let it come back).
        """
        library, session = self.p.library, self.session
        conv = session.conversation(conv_id)
        title = conv.title if conv is not None else next(
            (s.title for s in library.list() if s.id == conv_id), "conversation")
        if conv is not None:
            session.save_now(conv_id)
        try:
            moved: Future[Path | None] | None = library.delete(conv_id)
        except QwenVLError:
            moved = None       # never saved (a new, empty conversation): nothing to keep
        self._files.pop(conv_id, None)
        session.forget(conv_id)
        if session.current is None:
            self.p.show_another()
        if moved is not None:
            self.p.offer_undo(conv_id, title, moved)
            self.p.status(_("“{title}” moved to the trash folder").format(title=title), 5000)

    def _saved_folder(self) -> Path | None:
        """Where Save writes the shown conversation, if it has been saved to a file and
        that folder is still there (Save As then starts beside that file)."""
        conv = self.session.current
        guarded = self._files.get(conv.id) if conv is not None else None
        folder = guarded.path.parent if guarded is not None else None
        return folder if folder is not None and folder.is_dir() else None


def _safe_name(title: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in " -_" else "_" for c in title).strip()
    return cleaned[:60] or "conversation"


def _same_messages(a: Conversation, b: Conversation) -> bool:
    """Same messages on every branch, same words: two copies of one conversation."""
    return [(m.id, m.role, m.text) for m in a.all_messages()] == [
        (m.id, m.role, m.text) for m in b.all_messages()]
