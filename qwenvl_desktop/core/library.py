"""The conversation library: every conversation autosaved as `<id>.qwenvl` in one folder.

The files are the truth. `index.json` beside them only caches what the list shows
(title, time, message count, preview) with each file's size and modification time, so
listing a large library does not read every conversation; an entry whose file changed,
or an index that is missing or damaged, is simply rebuilt from the files. Files that
cannot be read are reported with the reason and left exactly where they are.
Deleting moves the file into `trash/`, so nothing is destroyed by a misclick.

Autosave while an answer streams must not block the window: `save_soon` takes a
snapshot of the conversation on the caller's thread (a copy of the messages that shares
the immutable images: well under a millisecond, so later changes cannot leak into it),
and the library's one writer thread serialises and writes it, in submission order, so
an older snapshot can never overwrite a newer one. (Serialising on the caller's thread
took 290 ms with 20 × 1 MB images.) Every other operation on a
conversation (`load`, `save`, `rename`, `delete`) first waits for that conversation's
writes still queued, so none of them sees a file older than what was already saved.
The list is updated at once from the snapshot; the index file is rewritten by the
writer after each background save (it is only a cache: a stale one is rebuilt).
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from . import storage
from .conversation import Conversation
from .errors import ConversationFileError
from .storage import FILE_SUFFIX, atomic_write, load_conversation

__all__ = ["ConversationLibrary", "ConversationSummary"]

log = logging.getLogger(__name__)

INDEX_NAME = "index.json"
TRASH_NAME = "trash"
_INDEX_FORMAT = "qwenvl-desktop/library-index"
_INDEX_VERSION = 1
_PREVIEW_CHARS = 120


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


# The class below has a method named `list`; inside it, `list[...]` would name that method.
_Summaries = list[ConversationSummary]
_CorruptFiles = list[tuple[Path, str]]


@dataclass
class _Entry:
    """One cached index line: a summary, or the reason the file could not be read."""

    title: str
    updated: float
    message_count: int
    preview: str
    mtime_ns: int
    size: int
    error: str = ""


#: Replaces a file atomically with bytes, or with pieces written one after the other.
WriteFile = Callable[[Path, bytes | Iterable[bytes]], None]


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
        # Background saves (save_soon): the last one queued per conversation; the lock
        # guards the entries and the text cache, which the writer thread updates.
        self._lock = threading.RLock()
        self._writer: ThreadPoolExecutor | None = None
        self._queued: dict[str, Future[Path]] = {}

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
        self.wait(conv_id)
        conv = load_conversation(self.path_for(conv_id))
        # The file name is the library's key: a file copied in under another name keeps
        # saving to itself rather than to a second file.
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
            raise ConversationFileError(repr(conv_id), "is not a valid conversation id")
        return self.folder / f"{conv_id}{FILE_SUFFIX}"

    # --- writing -------------------------------------------------------------------

    def save(self, conv: Conversation) -> Path:
        """Write the conversation atomically and update the index; returns its path."""
        path = self.path_for(conv.id)
        self.wait(conv.id)
        self.folder.mkdir(parents=True, exist_ok=True)
        try:
            self._write_file(path, storage.dump_chunks(conv))
        except (OSError, ValueError) as exc:
            raise _not_saved(path, exc) from exc
        with self._lock:
            entries = self._scan_entries_only()
            entry = _entry_for(conv, path.stat())
            entries[conv.id] = entry
            self._text_cache[conv.id] = ((entry.mtime_ns, entry.size), _search_text(conv))
            self._write_index(entries)
        return path

    def save_soon(self, conv: Conversation) -> Future[Path]:
        """Snapshot the conversation now; serialise and write it on the writer thread.

        The list shows the snapshot at once. The future fails with ConversationFileError
        when the file cannot be written (the earlier copy is then unchanged).
        """
        path = self.path_for(conv.id)
        snapshot = conv.snapshot()
        entry = _Entry(title=conv.title, updated=conv.updated,
                       message_count=len(conv.messages), preview=_preview(conv),
                       mtime_ns=-1, size=-1)          # the file's stamp: once written
        with self._lock:
            self._scan_entries_only()[conv.id] = entry
            self._text_cache.pop(conv.id, None)
            if self._writer is None:
                self._writer = ThreadPoolExecutor(max_workers=1,
                                                  thread_name_prefix="library-writer")
            future = self._writer.submit(self._write_snapshot, conv.id, path, snapshot,
                                         entry)
            self._queued[conv.id] = future
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
                        entry: _Entry) -> Path:
        """On the writer thread: serialise and write one snapshot, then stamp its entry
        and the index."""
        try:
            chunks = storage.dump_chunks(snapshot)
            text = _search_text(snapshot)
            self.folder.mkdir(parents=True, exist_ok=True)
            self._write_file(path, chunks)
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
        return path

    def _writing(self, cid: str) -> bool:
        queued = self._queued.get(cid)
        return queued is not None and not queued.done()

    def rename(self, conv_id: str, title: str) -> None:
        conv = self.load(conv_id)                # waits for queued saves
        conv.title = " ".join(title.split()) or conv.title
        self.save(conv)

    def delete(self, conv_id: str) -> None:
        """Move the conversation into the trash folder (never destroyed here)."""
        path = self.path_for(conv_id)
        self.wait(conv_id)
        if not path.exists():
            raise ConversationFileError(path.name, "is not in the library any more")
        trash = self.folder / TRASH_NAME
        trash.mkdir(exist_ok=True)
        target = trash / path.name
        counter = 1
        while target.exists():
            target = trash / f"{conv_id}.{counter}{FILE_SUFFIX}"
            counter += 1
        os.replace(path, target)
        with self._lock:
            entries = self._scan_entries_only()
            entries.pop(conv_id, None)
            self._text_cache.pop(conv_id, None)
            self._write_index(entries)

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
            conv = self.load(cid)
        except ConversationFileError as exc:
            log.warning("conversation file not readable: %s", exc)
            return _Entry("", 0.0, 0, "", stat.st_mtime_ns, stat.st_size, error=exc.reason)
        self._text_cache[cid] = ((stat.st_mtime_ns, stat.st_size), _search_text(conv))
        return _entry_for(conv, stat)

    def _read_index(self) -> dict[str, _Entry]:
        try:
            doc = json.loads(self._index_path.read_bytes())
            if doc.get("format") != _INDEX_FORMAT or doc.get("version") != _INDEX_VERSION:
                return {}
            entries = {str(cid): _Entry(**raw) for cid, raw in doc["entries"].items()}
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
            log.info("library index unreadable (%s); rebuilding it from the files", exc)
            return {}
        if not all(_entry_ok(e) for e in entries.values()):
            log.info("library index has malformed entries; rebuilding it from the files")
            return {}
        return entries

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
                text = _search_text(self.load(summary.id))
            except ConversationFileError:
                text = summary.title.casefold()
            cached = (stamp, text)
            self._text_cache[summary.id] = cached
        return cached[1]


def _not_saved(path: Path, exc: OSError | ValueError) -> ConversationFileError:
    reason = (exc.strerror or str(exc)) if isinstance(exc, OSError) else str(exc)
    return ConversationFileError(
        path.name, f"could not be saved: {reason} (any earlier copy is unchanged)")


def _index_doc(entries: dict[str, _Entry]) -> bytes:
    doc = {"format": _INDEX_FORMAT, "version": _INDEX_VERSION,
           "entries": {cid: asdict(e) for cid, e in entries.items()}}
    return json.dumps(doc, ensure_ascii=False).encode()


def _entry_for(conv: Conversation, stat: os.stat_result) -> _Entry:
    return _Entry(title=conv.title, updated=conv.updated, message_count=len(conv.messages),
                  preview=_preview(conv), mtime_ns=stat.st_mtime_ns, size=stat.st_size)


def _entry_ok(e: _Entry) -> bool:
    def is_int(v: Any) -> bool:
        return isinstance(v, int) and not isinstance(v, bool)
    return (isinstance(e.title, str) and isinstance(e.preview, str) and isinstance(e.error, str)
            and (is_int(e.updated) or isinstance(e.updated, float)) and is_int(e.message_count)
            and is_int(e.mtime_ns) and is_int(e.size))


def _preview(conv: Conversation) -> str:
    for message in reversed(conv.messages):
        line = " ".join(message.text.split())
        if line:
            return line[:_PREVIEW_CHARS] + ("…" if len(line) > _PREVIEW_CHARS else "")
    return ""


def _search_text(conv: Conversation) -> str:
    # "\0" between parts so a match never spans two messages.
    return "\0".join([conv.title, *(m.text for m in conv.messages)]).casefold()

