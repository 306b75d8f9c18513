"""The conversation library: every conversation autosaved as `<id>.qwenvl` in one folder.

The files are the truth. `index.json` beside them only caches what the list shows
(title, time, message count, preview) with each file's size and modification time, so
listing a large library does not read every conversation; an entry whose file changed,
or an index that is missing or damaged, is simply rebuilt from the files. Files that
cannot be read are reported with the reason and left exactly where they are.

Deleting is final but never destructive: the file moves into `trash/` (and `restore`
brings it back). A deleted conversation never returns by accident: the move is queued
behind the saves already queued for it (so the trash holds it as it was when deleted),
it leaves the list at once, and any later save of it writes nothing.

Saves never overwrite another program's change (`qwenvl-desktop ask --continue` on a
conversation the window has open): before replacing a file, the library checks that
it is still the version this library last read or wrote (`file_guard`). If not, that
other version is kept first as a conversation of its own, titled "… (changed
elsewhere)", and this process's version is saved where it was; the save's result says
so (`SaveResult.other_version`). This way round, the conversation open in the window
keeps its identity, and later saves of it are ordinary ones.

Autosave while an answer streams must not block the window: `save_soon` takes a
snapshot of the conversation on the caller's thread (a copy of the messages that shares
the immutable images: well under a millisecond, so later changes cannot leak into it),
and the library's one writer thread serialises and writes it, in submission order, so
an older snapshot can never overwrite a newer one. (Serialising on the caller's thread
took 290 ms with 20 × 1 MB images.) Every other operation on a
conversation (`load`, `save`, `rename`, `restore`) first waits for that conversation's
writes still queued, so none of them sees a file older than what was already saved.
The list is updated at once from the snapshot; the index file is rewritten by the
writer after each background save (it is only a cache: a stale one is rebuilt).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import storage
from .conversation import Conversation, new_id
from .errors import ConversationFileError
from .file_guard import (
    FileStamp,
    OtherVersion,
    WriteFile,
    changed_since,
    keep_other_version,
    load_stamped,
    stamp_of,
)
from .i18n import _
from .storage import FILE_SUFFIX, atomic_write, load_conversation
from .summary_index import INDEX_NAME
from .summary_index import Entry as _Entry
from .summary_index import entry_for as _entry_for
from .summary_index import index_doc as _index_doc
from .summary_index import preview as _preview
from .summary_index import read_index as _read_index
from .summary_index import search_text as _search_text
from .trash import TRASH_NAME, move_into_trash, take_out_of_trash

__all__ = ["INDEX_NAME", "TRASH_NAME", "ConversationLibrary", "ConversationSummary",
           "OtherVersion", "SaveResult"]

log = logging.getLogger(__name__)



@dataclass(frozen=True)
class ConversationSummary:
    """What the library list shows for one conversation."""

    id: str
    title: str
    updated: float
    message_count: int
    path: Path
    # The start of the last message with text, on one line.
    preview: str


@dataclass(frozen=True)
class SaveResult:
    """What a save did."""

    path: Path
    #: False when the conversation had been deleted: nothing was written.
    written: bool = True
    #: The other program's version found in the file and kept, if there was one.
    other_version: OtherVersion | None = None


# The class below has a method named `list`; inside it, `list[...]` would name that method.
_Summaries = list[ConversationSummary]
_CorruptFiles = list[tuple[Path, str]]




class ConversationLibrary:
    def __init__(self, folder: Path, *, write_file: WriteFile = atomic_write) -> None:
        """`write_file` replaces a file atomically (tests pass a slowed or failing one)."""
        self.folder = folder
        self._write_file = write_file
        self._index_path = folder / INDEX_NAME
        self._entries: dict[str, _Entry] | None = None
        # Lower-cased searchable text per conversation, keyed with the file's stamp;
        # filled on the first search, then kept current by save().
        self._text_cache: dict[str, tuple[tuple[int, int], str]] = {}
        # The writer thread and, per conversation, the last job queued on it (saves, the
        # move to the trash): jobs run in order, so waiting for the last waits for all.
        # The lock guards everything the writer thread touches.
        self._lock = threading.RLock()
        self._writer: ThreadPoolExecutor | None = None
        self._queued: dict[str, Future[Any]] = {}
        # Each file as this library last read or wrote it: a save checks against it.
        self._stamps: dict[str, FileStamp] = {}
        # Deleted here: never written again (until restored), and where each went.
        self._deleted: set[str] = set()
        self._trashed: dict[str, Path] = {}

    # --- reading -------------------------------------------------------------------

    def list(self) -> _Summaries:
        """Every readable conversation, most recently updated first."""
        entries = self._scan()
        summaries = [self._summary(cid, e) for cid, e in entries.items() if not e.error]
        summaries.sort(key=lambda s: (s.updated, s.id), reverse=True)
        return summaries

    def corrupt_files(self) -> _CorruptFiles:
        """Files in the folder that could not be read, with the reason (for the person)."""
        entries = self._scan()
        return sorted((self.path_for(cid), e.error) for cid, e in entries.items() if e.error)

    def load(self, conv_id: str) -> Conversation:
        """Read a conversation for the caller to hold: its next save is checked against
        the version read here."""
        self.wait(conv_id)
        conv, stamp = load_stamped(self.path_for(conv_id))
        # The file name is the library's key: a file copied in under another name keeps
        # saving to itself rather than to a second file.
        conv.id = conv_id
        with self._lock:
            self._stamps[conv_id] = stamp
        return conv

    def _peek(self, conv_id: str) -> Conversation:
        """Read a conversation for the list or search only: a newer version read here
        must not count as seen by whoever holds the conversation (see `load`)."""
        conv = load_conversation(self.path_for(conv_id))
        conv.id = conv_id
        return conv

    def search(self, text: str) -> _Summaries:
        """Conversations whose title or any message contains `text` (case-insensitive)."""
        needle = text.casefold().strip()
        summaries = self.list()
        if not needle:
            return summaries
        return [s for s in summaries if needle in self._searchable(s)]

    def path_for(self, conv_id: str) -> Path:
        if (not conv_id or conv_id in (".", "..") or "/" in conv_id or "\\" in conv_id
                or "\0" in conv_id):
            raise ConversationFileError(repr(conv_id), _("is not a valid conversation id"))
        return self.folder / f"{conv_id}{FILE_SUFFIX}"

    # --- writing -------------------------------------------------------------------

    def save(self, conv: Conversation) -> SaveResult:
        """Write the conversation atomically and update the index (nothing when it was
        deleted); ConversationFileError when it cannot be written."""
        path = self.path_for(conv.id)
        self.wait(conv.id)
        with self._lock:
            if conv.id in self._deleted:
                return _not_written(path)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            result = self._write_guarded(conv.id, path, storage.dump_chunks(conv))
            stat = path.stat()
        except (OSError, ValueError) as exc:
            raise _not_saved(path, exc) from exc
        with self._lock:
            entries = self._scan_entries_only()
            entry = _entry_for(conv, stat)
            entries[conv.id] = entry
            self._text_cache[conv.id] = ((entry.mtime_ns, entry.size), _search_text(conv))
            self._write_index(entries)
        return result

    def save_soon(self, conv: Conversation) -> Future[SaveResult]:
        """Snapshot the conversation now; serialise and write it on the writer thread.

        The list shows the snapshot at once. The future fails with ConversationFileError
        when the file cannot be written (the earlier copy is then unchanged); a deleted
        conversation is not written (`SaveResult.written` is False).
        """
        path = self.path_for(conv.id)
        with self._lock:
            if conv.id in self._deleted:
                refused: Future[SaveResult] = Future()
                refused.set_result(_not_written(path))
                return refused
        snapshot = conv.snapshot()
        entry = _Entry(title=conv.title, updated=conv.updated,
                       message_count=len(conv.messages), preview=_preview(conv),
                       mtime_ns=-1, size=-1)          # the file's stamp: once written
        with self._lock:
            self._scan_entries_only()[conv.id] = entry
            self._text_cache.pop(conv.id, None)
            return self._submit(conv.id, self._write_snapshot, conv.id, path, snapshot,
                                entry)

    def _submit(self, cid: str, job: Callable[..., Any], *args: Any) -> Future[Any]:
        """Queue a job about conversation `cid` on the writer thread (lock held)."""
        if self._writer is None:
            self._writer = ThreadPoolExecutor(max_workers=1,
                                              thread_name_prefix="library-writer")
        future = self._writer.submit(job, *args)
        self._queued[cid] = future
        return future

    def wait(self, conv_id: str | None = None) -> None:
        """Block until the background saves of `conv_id` (of all, when None) are done."""
        with self._lock:
            if conv_id is None:
                futures = list(self._queued.values())
            else:
                queued = self._queued.get(conv_id)
                futures = [queued] if queued is not None else []
        if futures:
            # The writer runs saves in order: the last queued one done means all are.
            wait_futures(futures)

    def _write_snapshot(self, cid: str, path: Path, snapshot: Conversation,
                        entry: _Entry) -> SaveResult:
        """On the writer thread: serialise and write one snapshot, then stamp its entry
        and the index."""
        try:
            chunks = storage.dump_chunks(snapshot)
            text = _search_text(snapshot)
            self.folder.mkdir(parents=True, exist_ok=True)
            result = self._write_guarded(cid, path, chunks)
            stat = path.stat()
        except (OSError, ValueError) as exc:
            raise _not_saved(path, exc) from exc
        with self._lock:
            entry.mtime_ns, entry.size = stat.st_mtime_ns, stat.st_size
            entries = self._scan_entries_only()
            if entries.get(cid) is entry:           # not replaced by a newer snapshot
                self._text_cache[cid] = ((stat.st_mtime_ns, stat.st_size), text)
            doc = _index_doc(entries)
        try:
            atomic_write(self._index_path, doc)
        except OSError as exc:
            log.warning("could not write the library index: %s", exc)
        return result

    def _write_guarded(self, cid: str, path: Path, data: bytes | Iterable[bytes]
                       ) -> SaveResult:
        """Replace conversation `cid`'s file with `data`, keeping another program's change.

        Both save paths (`save`, and `save_soon` on the writer thread) write through
        here. When the file is no longer what this library last read or wrote, that
        version is first kept as a conversation of its own (`keep_other_version`).
        Raises OSError when a file cannot be written; nothing has been overwritten then.
        """
        pieces = [data] if isinstance(data, bytes) else list(data)
        with self._lock:
            known = self._stamps.get(cid)
        other = (keep_other_version(path, self.path_for(new_id()), self._write_file)
                 if changed_since(path, known) else None)
        self._write_file(path, pieces)
        stamp = stamp_of(path, pieces)
        with self._lock:
            self._stamps[cid] = stamp
        return SaveResult(path, other_version=other)

    def _writing(self, cid: str) -> bool:
        queued = self._queued.get(cid)
        return queued is not None and not queued.done()

    def rename(self, conv_id: str, title: str) -> None:
        conv = self.load(conv_id)                # waits for queued saves
        conv.title = " ".join(title.split()) or conv.title
        self.save(conv)

    def delete(self, conv_id: str) -> Future[Path | None]:
        """Delete a conversation: it leaves the list now, and its file moves to the trash
        folder once the saves queued before this call are written (without blocking the
        caller). Until `restore`, saving it writes nothing. The future gives where the file
        went (None when none had been written) or fails with ConversationFileError.
        """
        path = self.path_for(conv_id)
        with self._lock:
            if conv_id in self._deleted or not (conv_id in self._queued or path.exists()):
                raise ConversationFileError(path.name, _("is not in the library any more"))
            self._deleted.add(conv_id)
            self._scan_entries_only().pop(conv_id, None)
            self._text_cache.pop(conv_id, None)
            return self._submit(conv_id, self._move_to_trash, conv_id, path)

    def _move_to_trash(self, cid: str, path: Path) -> Path | None:
        """On the writer thread, after the conversation's earlier saves."""
        try:
            target = move_into_trash(self.folder, path, cid)
        except ConversationFileError:
            with self._lock:
                self._deleted.discard(cid)      # not deleted after all: list it again
            raise
        with self._lock:
            self._stamps.pop(cid, None)
            if target is not None:
                self._trashed[cid] = target
            doc = _index_doc(self._scan_entries_only())
        try:
            atomic_write(self._index_path, doc)
        except OSError as exc:
            log.warning("could not write the library index: %s", exc)
        return target

    def restore(self, conv_id: str) -> str:
        """Bring back a conversation deleted by this library; returns its id, a new one
        when another conversation has taken its file name meanwhile."""
        path = self.path_for(conv_id)
        self.wait(conv_id)                      # its move to the trash
        with self._lock:
            trashed = self._trashed.get(conv_id)
        if trashed is None:
            raise ConversationFileError(path.name, _("is not in the trash any more"))
        restored_id = conv_id if not path.exists() else new_id()
        take_out_of_trash(trashed, self.path_for(restored_id))
        with self._lock:
            del self._trashed[conv_id]
            if restored_id == conv_id:
                self._deleted.discard(conv_id)
        return restored_id

    # --- the index -----------------------------------------------------------------

    def _scan_entries_only(self) -> dict[str, _Entry]:
        if self._entries is None:
            self._entries = self._read_index()
        return self._entries

    def _scan(self) -> dict[str, _Entry]:
        """Bring the cached entries in line with the files on disk and return them.

        A conversation with a background save under way keeps its (newer) entry: its file
        is about to change, and reading it now would only read the older copy.
        """
        with self._lock:
            old = self._scan_entries_only()
            fresh: dict[str, _Entry] = {}
            changed = False
            for cid, stat in self._files():
                if cid in self._deleted:
                    continue                    # deleted: its move to the trash is queued
                entry = old.get(cid)
                if entry is not None and self._writing(cid):
                    pass
                elif entry is None or ((entry.mtime_ns, entry.size)
                                       != (stat.st_mtime_ns, stat.st_size)):
                    entry = self._read_entry(cid, stat)
                    changed = True
                fresh[cid] = entry
            for cid, entry in old.items():
                if cid not in fresh and self._writing(cid):
                    fresh[cid] = entry          # a new conversation's first save, queued
            if changed or fresh.keys() != old.keys():
                self._write_index(fresh)
            self._entries = fresh
            return fresh

    def _files(self) -> Iterable[tuple[str, os.stat_result]]:
        try:
            with os.scandir(self.folder) as it:
                found = [(e.name[: -len(FILE_SUFFIX)], e.stat()) for e in it
                         if e.name.endswith(FILE_SUFFIX) and not e.name.startswith(".")
                         and e.is_file()]
        except FileNotFoundError:
            return []
        return found

    def _read_entry(self, cid: str, stat: os.stat_result) -> _Entry:
        try:
            conv = self._peek(cid)
        except ConversationFileError as exc:
            log.warning("conversation file not readable: %s", exc)
            return _Entry("", 0.0, 0, "", stat.st_mtime_ns, stat.st_size, error=exc.reason)
        self._text_cache[cid] = ((stat.st_mtime_ns, stat.st_size), _search_text(conv))
        return _entry_for(conv, stat)

    def _read_index(self) -> dict[str, _Entry]:
        return _read_index(self._index_path)

    def _write_index(self, entries: dict[str, _Entry]) -> None:
        self._entries = entries
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            atomic_write(self._index_path, _index_doc(entries))
        except OSError as exc:
            # The index is only a cache of the files; the next listing rebuilds it.
            log.warning("could not write the library index: %s", exc)

    def _summary(self, cid: str, e: _Entry) -> ConversationSummary:
        return ConversationSummary(id=cid, title=e.title, updated=e.updated,
                                   message_count=e.message_count, path=self.path_for(cid),
                                   preview=e.preview)

    def _searchable(self, summary: ConversationSummary) -> str:
        try:
            stat = summary.path.stat()
        except OSError:
            return summary.title.casefold()
        stamp = (stat.st_mtime_ns, stat.st_size)
        cached = self._text_cache.get(summary.id)
        if cached is None or cached[0] != stamp:
            try:
                text = _search_text(self._peek(summary.id))
            except ConversationFileError:
                text = summary.title.casefold()
            cached = (stamp, text)
            self._text_cache[summary.id] = cached
        return cached[1]


def _not_saved(path: Path, exc: OSError | ValueError) -> ConversationFileError:
    reason = (exc.strerror or str(exc)) if isinstance(exc, OSError) else str(exc)
    return ConversationFileError(
        path.name,
        _("could not be saved: {reason} (any earlier copy is unchanged)").format(reason=reason))


def _not_written(path: Path) -> SaveResult:
    log.info("%s was deleted; not saved again", path.name)
    return SaveResult(path, written=False)


