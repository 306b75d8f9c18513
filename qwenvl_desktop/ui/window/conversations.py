"""Which conversation is shown: the list, the transcript and the window title follow the
session.

`ConversationsView` turns the list's clicks into session commands (new, open) and shows
what the session announces: another conversation (`current_changed`), a changed list
(`list_changed`). At start it restores the last conversation, or opens the file or
image the app was started with.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer

from qwenvl_desktop.core.conversation import Conversation
from qwenvl_desktop.core.errors import QwenVLError
from qwenvl_desktop.core.library import ConversationLibrary
from qwenvl_desktop.core.session import ChatSession
from qwenvl_desktop.core.session.autosave import DEFAULT_TITLE

from ...core.i18n import _, ngettext
from ..composer import Composer
from ..conversation_list import ConversationList, ListEntry
from ..transcript import Transcript
from ..transcript_panels import Banner
from .models import ModelChoice

__all__ = ["ConversationsView", "ConversationsViewParts", "shown_title", "window_title"]

APP_NAME = "Qwen-VL Desktop"
_TITLE_CHARS = 80


def shown_title(title: str) -> str:
    """A conversation's title as the window shows it: the untitled marker, which files
    store in English, in the window's language; any other title as it is."""
    return _(DEFAULT_TITLE) if title == DEFAULT_TITLE else title


def window_title(title: str) -> str:
    """The window title for a conversation's title: one line (a title from a file may
    hold line breaks), not longer than a title bar shows, and with Qt's "[*]"
    placeholder doubled — Qt reads a single "[*]" as the unsaved-changes mark and
    hides it, "[*][*]" shows as "[*]"."""
    line = " ".join(title.split())
    if len(line) > _TITLE_CHARS:
        line = line[:_TITLE_CHARS - 1].rstrip() + "…"
    line = line.replace("[*]", "[*][*]")
    return f"{line} — {APP_NAME}" if line else APP_NAME


@dataclass(frozen=True)
class ConversationsViewParts:
    session: ChatSession
    library: ConversationLibrary
    models: ModelChoice
    conversation_list: ConversationList
    transcript: Transcript
    composer: Composer
    banner: Banner
    set_title: Callable[[str], None]
    status: Callable[[str, int], None]
    show_file_error: Callable[[str, BaseException], None]
    remembered: dict[str, Any]                   # the window's saved state (last shown)


class ConversationsView:
    def __init__(self, parts: ConversationsViewParts) -> None:
        self.p = parts
        self.session = parts.session
        self.session.events.current_changed.connect(self._on_current_changed)
        self.session.events.list_changed.connect(self._on_list_changed)
        self.session.events.turn_ended.connect(self._on_turn_ended)
        # The list's refresh after an answer ends waits for the next event-loop turn:
        # in the same turn it added ~1-4 ms to the longest stall of a streamed answer
        # (finishing the transcript, the autosave and the paint all land there).
        self._refresh_later = QTimer(parts.conversation_list)
        self._refresh_later.setSingleShot(True)
        self._refresh_later.setInterval(0)
        self._refresh_later.timeout.connect(self.refresh_list)
        self._turn_just_ended = False

    @property
    def current(self) -> Conversation | None:
        return self.session.current

    def start(self, open_path: Path | None, open_file: Callable[[Path], bool],
              warnings: list[str]) -> None:
        """Fill the list, restore the last conversation (or open what was given)."""
        for warning in warnings:
            self.p.status(warning, 10000)
        library = self.p.library
        corrupt = library.corrupt_files()
        if corrupt:
            names = "; ".join(f"{path.name}: {reason}" for path, reason in corrupt[:3])
            more = (_(" (and {count} more)").format(count=len(corrupt) - 3)
                    if len(corrupt) > 3 else "")
            self.p.banner.show_notice(ngettext(
                "{count} saved conversation file could not be read and was left untouched in "
                "{folder}: {names}{more}",
                "{count} saved conversation files could not be read and were left untouched "
                "in {folder}: {names}{more}",
                len(corrupt)).format(count=len(corrupt), folder=library.folder, names=names,
                                     more=more))
        last = self.p.remembered.get("last_conversation")
        ids = [s.id for s in library.list()]
        shown = False
        image_to_attach: Path | None = None
        if open_path is not None:
            from qwenvl_desktop.core.storage import FILE_SUFFIX

            if open_path.suffix.lower() == FILE_SUFFIX:
                shown = open_file(open_path)
            else:
                # "Open with Qwen-VL Desktop" on an image: a new question about it.
                image_to_attach = open_path
        if not shown and isinstance(last, str) and last in ids:
            shown = self.open_conversation(last)
        if not shown and ids:
            shown = self.open_conversation(ids[0])
        if image_to_attach is not None:
            self.new_conversation()
            self.p.composer.add_files([image_to_attach])
        elif not shown:
            self.new_conversation()
        self.p.models.update_welcome()

    # --- commands ---------------------------------------------------------------------

    def new_conversation(self) -> None:
        self.session.new_conversation(**self.p.models.new_conversation_defaults())

    def open_conversation(self, conv_id: str) -> bool:
        """Show a conversation; False (and a message naming the file) when it can't be
        read."""
        try:
            self.session.open(conv_id)
        except QwenVLError as err:
            self.p.show_file_error(_("Could not open the conversation"), err)
            self.refresh_list()
            return False
        return True

    def show_another(self) -> None:
        """Nothing is shown (the conversation was deleted): the newest, or a new one."""
        ids = [s.id for s in self.p.library.list()]
        if not (ids and self.open_conversation(ids[0])):
            self.new_conversation()

    def remember(self) -> None:
        current = self.session.current
        if current is not None:
            self.p.remembered["last_conversation"] = current.id

    # --- what the session announces ------------------------------------------------------

    def _on_current_changed(self, conv: Conversation) -> None:
        self.p.models.show_conversation(conv)
        self.p.transcript.show_conversation(conv, self.session.partial_answer(conv.id))
        self.p.composer.set_streaming(self.session.is_streaming(conv.id))
        self.p.set_title(shown_title(conv.title))
        self.p.models.update_welcome()

    def _on_turn_ended(self, _conv_id: str, _answer_id: str) -> None:
        self._turn_just_ended = True        # the session's list_changed follows at once

    def _on_list_changed(self) -> None:
        if self._turn_just_ended:
            self._turn_just_ended = False
            self._refresh_later.start()
        else:
            self._refresh_later.stop()
            self.refresh_list()

    def refresh_list(self) -> None:
        library = self.p.library
        listing = self.p.conversation_list
        text = listing.search_text().strip()
        summaries = library.search(text) if text else library.list()
        streaming = set(self.session.streaming_ids())
        entries = [ListEntry(s.id, shown_title(s.title), s.updated, s.preview, s.id in streaming)
                   for s in summaries]
        current = self.session.current
        if current is not None and self.session.is_unsaved(current.id) and not text:
            entries.insert(0, ListEntry(current.id, shown_title(current.title),
                                          current.updated))
        listing.set_entries(entries, current.id if current else None)
        if current is not None:
            self.p.set_title(shown_title(current.title))
