"""Saves that never overwrite another program's change to a file.

Several writers can hold the same conversation file: the window, a terminal
`qwenvl-desktop ask --continue FILE`, a sync client. Before a writer replaces a file it
checks that the file is still the version it last read or wrote (its `FileStamp`);
if not, the other version is kept and the caller decides where each copy goes.

Telling "unchanged" from "changed" cheaply: size, modification and change times and
the inode number are compared first. They are decisive except in one case: a second
write within the same tick of the file system's clock, of the same size, can leave
all of them equal (ext4 stamps times from a clock that advances every few
milliseconds, Windows every ~16 ms, FAT every 2 s). So when the stamp was taken
within one such tick of the file's own time (`_racy`), the content's SHA-256 decides,
as git does for its "racily clean" index entries. Our own saves are often stamped
within that tick (right after the fsync), so the next save then reads the file back
once to hash it: on the writer thread, ~40 ms for a 27 MB conversation. A file whose
times changed but whose bytes did not (`touch`, a sync client rewriting the same
bytes) counts as unchanged, so the digest is also compared whenever the cheap fields
differ but the size does not.

What is left: a write landing between the check and our rename (a few milliseconds)
is still replaced. Closing that would need a lock every writer honours, and files
are also changed by programs that know nothing of ours.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from .conversation import Conversation
from .errors import ConversationFileError
from .i18n import _
from .storage import (
    FILE_SUFFIX,
    atomic_write,
    dump_chunks,
    dumps,
    explained_read_errors,
    loads,
)

__all__ = ["OTHER_VERSION_SUFFIX", "FileStamp", "GuardedFile", "OtherVersion",
           "changed_since", "free_name_beside", "keep_other_version", "load_stamped",
           "read_stamped", "stamp_of"]

log = logging.getLogger(__name__)

OTHER_VERSION_SUFFIX = " (changed elsewhere)"

#: Replaces a file atomically with bytes, or with pieces written one after the other.
WriteFile = Callable[[Path, bytes | Iterable[bytes]], None]

# One tick of the clock file times come from, with a margin: a file time that is a
# whole second comes from a file system that keeps seconds (FAT keeps even seconds);
# otherwise the kernel's coarse clock stamps it, which ticks every 10 ms or less on
# Linux (HZ >= 100) and every ~15.6 ms on Windows.
_COARSE_TICK_NS = 2_000_000_000
_FINE_TICK_NS = 20_000_000


@dataclass(frozen=True)
class FileStamp:
    """A file as this process last read or wrote it."""

    size: int
    mtime_ns: int
    ctime_ns: int
    inode: int
    sha256: bytes
    #: When the stamp was taken (wall clock, ns): decides whether the times are decisive.
    taken_ns: int


def _stamp(stat: os.stat_result, data: bytes | Iterable[bytes]) -> FileStamp:
    digest = hashlib.sha256()
    for piece in [data] if isinstance(data, bytes) else data:
        digest.update(piece)
    return FileStamp(size=stat.st_size, mtime_ns=stat.st_mtime_ns, ctime_ns=stat.st_ctime_ns,
                     inode=stat.st_ino, sha256=digest.digest(), taken_ns=time.time_ns())


def stamp_of(path: Path, data: bytes | Iterable[bytes]) -> FileStamp:
    """The stamp of `path`, which holds `data` (just written by this process; bytes, or
    the pieces they were written in)."""
    return _stamp(path.stat(), data)


def read_stamped(path: Path) -> tuple[bytes, FileStamp]:
    """Read a file and stamp exactly the version read (OSError when it cannot be read)."""
    with path.open("rb") as fh:
        stat = os.fstat(fh.fileno())
        data = fh.read()
    return data, _stamp(stat, data)


def load_stamped(path: Path) -> tuple[Conversation, FileStamp]:
    """Read a conversation file and stamp the version read (ConversationFileError on any
    problem, as `storage.load_conversation`)."""
    with explained_read_errors(path):
        data, stamp = read_stamped(path)
    return loads(data, name=path.name), stamp


def _racy(stamp: FileStamp) -> bool:
    """Could another write in the same clock tick have left the times unchanged?"""
    tick = _COARSE_TICK_NS if stamp.mtime_ns % 1_000_000_000 == 0 else _FINE_TICK_NS
    return stamp.taken_ns - max(stamp.mtime_ns, stamp.ctime_ns) < tick


def changed_since(path: Path, stamp: FileStamp | None) -> bool:
    """Would replacing `path` lose something this process has not seen?

    A missing file loses nothing. A file this process never read or wrote (`stamp` is
    None) is someone else's. An unreadable one counts as changed: keeping a copy is the
    safe answer.
    """
    try:
        stat = path.stat()
    except FileNotFoundError:
        return False
    except OSError:
        return True
    if stamp is None:
        return True
    same_fields = ((stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino)
                   == (stamp.size, stamp.mtime_ns, stamp.ctime_ns, stamp.inode))
    if same_fields and not _racy(stamp):
        return False
    if stat.st_size != stamp.size:
        return True
    try:
        digest = hashlib.sha256(path.read_bytes()).digest()
    except OSError:
        return True
    return digest != stamp.sha256


def free_name_beside(path: Path, label: str) -> Path:
    """`name (label).ext` beside `path`, or `name (label 2).ext`…: a name not yet taken."""
    for n in range(1, 10_000):
        suffix = label if n == 1 else f"{label} {n}"
        candidate = path.with_name(f"{path.stem} ({suffix}){path.suffix}")
        if not candidate.exists():
            return candidate
    raise FileExistsError(f"no free name beside {path.name}")


class GuardedFile:
    """A file a person named (`--save FILE`, the window's Save), written so that another
    program's change to it is never overwritten.

    When the file changed since this process last read or wrote it, the other version
    stays where it is and ours goes to a new name beside it (`name (label).qwenvl`);
    later writes follow ours there, so a writer that keeps saving (a streaming answer)
    makes one copy, not one per save.
    """

    def __init__(self, path: Path, *, label: str,
                 write_file: WriteFile = atomic_write) -> None:
        self.path = path
        #: The version last read or written here (None: never; an existing file then
        #: belongs to someone else).
        self.stamp: FileStamp | None = None
        self._label = label
        self._write_file = write_file

    def load(self) -> Conversation:
        """Read the conversation in the file (ConversationFileError on any problem)."""
        conv, self.stamp = load_stamped(self.path)
        return conv

    def save(self, conv: Conversation) -> Path | None:
        """Save the conversation; returns the path left alone when ours moved, else None.

        Raises ConversationFileError when the file cannot be written.
        """
        data = dump_chunks(conv)
        left_alone: Path | None = None
        if changed_since(self.path, self.stamp):
            left_alone = self.path
            self.path = free_name_beside(self.path, self._label)
        self._write(data)
        return left_alone

    def save_over(self, conv: Conversation) -> None:
        """Save the conversation over whatever the file holds: the person chose to
        replace it (Save As onto an existing file, confirmed)."""
        self._write(dump_chunks(conv))

    def _write(self, data: list[bytes]) -> None:
        try:
            self._write_file(self.path, data)
            self.stamp = stamp_of(self.path, data)
        except OSError as exc:
            raise ConversationFileError(
                self.path.name,
                _("could not be saved: {reason} (any earlier copy is unchanged)")
                .format(reason=exc.strerror or exc)) from exc


@dataclass(frozen=True)
class OtherVersion:
    """Another program's version of a conversation, kept as a conversation of its own."""

    id: str
    title: str
    path: Path


def keep_other_version(path: Path, target: Path,
                       write_file: WriteFile = atomic_write
                       ) -> OtherVersion | None:
    """Copy the conversation now in `path` to `target` (a free `<id>.qwenvl`), titled
    "… (changed elsewhere)"; byte for byte when this app cannot read it (a newer format,
    damage). None when `path` has gone meanwhile: nothing to keep. OSError when the copy
    cannot be written.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    other_id = target.name.removesuffix(FILE_SUFFIX)
    try:
        conv = loads(data, name=path.name)
    except ConversationFileError:
        title, kept = target.name, data
    else:
        conv.id, conv.title = other_id, conv.title + OTHER_VERSION_SUFFIX
        title, kept = conv.title, dumps(conv)
    write_file(target, kept)
    log.warning("%s was changed by another program since this app last read or wrote it; "
                "that version is kept as %s", path.name, target.name)
    return OtherVersion(other_id, title, target)
