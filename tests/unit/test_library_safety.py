"""The library never loses a conversation: deletes are final (and undoable), and a save
never overwrites what another program wrote to the same file.

The writer thread is slowed on purpose by handing the library a write function that
holds every write until the test lets it go (`HeldWrites`): the order of events is then
fixed by the test, not by timing.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from qwenvl_desktop.core.conversation import Conversation, Message
from qwenvl_desktop.core.errors import ConversationFileError
from qwenvl_desktop.core.library import TRASH_NAME, ConversationLibrary
from qwenvl_desktop.core.storage import atomic_write, load_conversation, save_conversation

# A safety net only: a test that waits this long has failed (the writer never got there).
_STUCK_S = 20


class HeldWrites:
    """A library write function that holds each write until `release()`."""

    def __init__(self) -> None:
        self.started = threading.Event()      # a write is waiting at the gate
        self._gate = threading.Event()
        self.written: list[str] = []

    def __call__(self, path: Path, data: bytes) -> None:
        self.started.set()
        if not self._gate.wait(_STUCK_S):
            raise OSError("the test never released the writer")
        atomic_write(path, data)
        self.written.append(path.name)

    def release(self) -> None:
        self._gate.set()


def _conv(cid: str, *texts: str) -> Conversation:
    conv = Conversation(id=cid, title=f"Conversation {cid}")
    for i, text in enumerate(texts):
        conv.append(Message(role="user" if i % 2 == 0 else "assistant", text=text))
    return conv


def _texts(conv: Conversation) -> list[str]:
    return [m.text for m in conv.messages]


def _ids(library: ConversationLibrary) -> list[str]:
    return [s.id for s in library.list()]


# --- deletion is final -----------------------------------------------------------------

def test_a_deleted_conversation_never_returns(tmp_path: Path) -> None:
    folder = tmp_path / "library"
    held = HeldWrites()
    library = ConversationLibrary(folder, write_file=held)
    conv = _conv("doomed", "First question", "First answer")
    library.save_soon(conv)                   # a new conversation's first save...
    assert held.started.wait(_STUCK_S)        # ...is on the writer, held: no file yet
    conv.append(Message(role="user", text="Second question"))
    library.save_soon(conv)                   # queued behind it

    library.delete("doomed")                  # must not wait for the held writer
    assert "doomed" not in _ids(library)
    late = library.save_soon(conv)            # e.g. a stopped turn's last autosave

    held.release()
    library.wait()
    assert late.result().written is False
    assert not (folder / "doomed.qwenvl").exists()
    assert "doomed" not in _ids(library)
    assert "doomed" not in _ids(ConversationLibrary(folder))      # nor from the index
    trashed = list((folder / TRASH_NAME).glob("doomed*.qwenvl"))
    assert len(trashed) == 1
    # The trash holds the conversation as it was when deleted, nothing older.
    assert _texts(load_conversation(trashed[0])) == [
        "First question", "First answer", "Second question"]


def test_an_explicit_save_cannot_bring_a_deleted_conversation_back(tmp_path: Path) -> None:
    library = ConversationLibrary(tmp_path / "library")
    conv = _conv("gone", "Question", "Answer")
    library.save(conv)
    library.delete("gone")
    assert library.save(conv).written is False
    library.wait()
    assert "gone" not in _ids(library)
    assert not library.path_for("gone").exists()


def test_restore_brings_back_the_deleted_conversation(tmp_path: Path) -> None:
    folder = tmp_path / "library"
    library = ConversationLibrary(folder)
    library.save(_conv("kept", "Question", "Answer"))
    library.delete("kept")
    restored = library.restore("kept")
    assert restored == "kept"
    assert "kept" in _ids(library)
    assert _texts(library.load("kept")) == ["Question", "Answer"]
    assert not list((folder / TRASH_NAME).glob("kept*.qwenvl"))
    # Restored, it saves again as usual.
    conv = library.load("kept")
    conv.append(Message(role="user", text="More"))
    assert library.save(conv).written is True
    assert _texts(load_conversation(folder / "kept.qwenvl"))[-1] == "More"


def test_restore_waits_for_a_delete_still_on_the_writer(tmp_path: Path) -> None:
    held = HeldWrites()
    library = ConversationLibrary(tmp_path / "library", write_file=held)
    library.save_soon(_conv("slow", "Question", "Answer"))
    assert held.started.wait(_STUCK_S)
    library.delete("slow")
    threading.Timer(0, held.release).start()  # restore blocks until the writer is done
    assert library.restore("slow") == "slow"
    assert _texts(library.load("slow")) == ["Question", "Answer"]


def test_restore_never_overwrites_a_conversation_of_the_same_id(tmp_path: Path) -> None:
    folder = tmp_path / "library"
    library = ConversationLibrary(folder)
    library.save(_conv("twin", "Old question"))
    library.delete("twin")
    library.wait()
    # Meanwhile another program put a conversation under the same file name.
    save_conversation(_conv("twin", "Someone else's question"), folder / "twin.qwenvl")
    restored = library.restore("twin")
    assert restored != "twin"
    assert _texts(library.load(restored)) == ["Old question"]
    assert _texts(load_conversation(folder / "twin.qwenvl")) == ["Someone else's question"]


def test_deleting_or_restoring_what_is_not_there_is_a_clear_error(tmp_path: Path) -> None:
    library = ConversationLibrary(tmp_path / "library")
    with pytest.raises(ConversationFileError, match="not in the library"):
        library.delete("never-saved")
    with pytest.raises(ConversationFileError, match="not in the trash"):
        library.restore("never-saved")


# --- saves keep what another program wrote ----------------------------------------------

def _other_program_adds(path: Path, *texts: str) -> None:
    """What `qwenvl-desktop ask --continue FILE` does to a library file."""
    theirs = load_conversation(path)
    for text in texts:
        theirs.append(Message(role="user", text=text))
    save_conversation(theirs, path)


def test_a_save_keeps_a_change_another_program_made(tmp_path: Path) -> None:
    folder = tmp_path / "library"
    library = ConversationLibrary(folder)
    library.save(_conv("shared", "Q1", "A1"))
    mine = library.load("shared")
    _other_program_adds(folder / "shared.qwenvl", "Q from the terminal")
    mine.append(Message(role="user", text="Q from the window"))

    result = library.save(mine)

    other = result.other_version
    assert other is not None
    # This process's version stays where it was; the other one is a conversation of its own.
    assert _texts(library.load("shared")) == ["Q1", "A1", "Q from the window"]
    assert _texts(library.load(other.id)) == ["Q1", "A1", "Q from the terminal"]
    assert other.title == "Conversation shared (changed elsewhere)"
    assert {s.id: s.title for s in library.list()}[other.id] == other.title
    # From now on the file is this process's again: the next save is an ordinary one.
    mine.append(Message(role="assistant", text="A from the window"))
    assert library.save(mine).other_version is None
    assert len(_ids(library)) == 2


def test_a_background_save_keeps_a_change_another_program_made(tmp_path: Path) -> None:
    folder = tmp_path / "library"
    library = ConversationLibrary(folder)
    library.save(_conv("shared", "Q1", "A1"))
    mine = library.load("shared")
    _other_program_adds(folder / "shared.qwenvl", "Q from the terminal")
    mine.append(Message(role="user", text="Q from the window"))

    result = library.save_soon(mine).result()

    assert result.other_version is not None
    assert _texts(library.load("shared")) == ["Q1", "A1", "Q from the window"]
    assert _texts(library.load(result.other_version.id)) == ["Q1", "A1", "Q from the terminal"]


def test_listing_does_not_hide_another_program_s_change(tmp_path: Path) -> None:
    """Reading a changed file for the list is not "reading it for the window": the
    window's copy is still the old one, and its save must still keep the change."""
    folder = tmp_path / "library"
    library = ConversationLibrary(folder)
    library.save(_conv("shared", "Q1", "A1"))
    mine = library.load("shared")
    _other_program_adds(folder / "shared.qwenvl", "Q from the terminal")
    assert library.search("from the terminal")          # the list and search read it
    mine.append(Message(role="user", text="Q from the window"))
    assert library.save(mine).other_version is not None


def test_a_file_this_process_never_read_is_not_overwritten(tmp_path: Path) -> None:
    folder = tmp_path / "library"
    folder.mkdir()
    save_conversation(_conv("stranger", "Not yours"), folder / "stranger.qwenvl")
    library = ConversationLibrary(folder)
    result = library.save(_conv("stranger", "Mine"))
    assert result.other_version is not None
    assert _texts(library.load(result.other_version.id)) == ["Not yours"]


def test_a_damaged_or_newer_file_is_kept_byte_for_byte(tmp_path: Path) -> None:
    folder = tmp_path / "library"
    library = ConversationLibrary(folder)
    library.save(_conv("shared", "Q1"))
    mine = library.load("shared")
    newer = b'{"format": "qwenvl-desktop/conversation", "version": 99}\n'
    (folder / "shared.qwenvl").write_bytes(newer)
    result = library.save(mine)
    assert result.other_version is not None
    assert result.other_version.path.read_bytes() == newer
    assert _texts(library.load("shared")) == ["Q1"]


def test_an_unchanged_file_is_simply_replaced(tmp_path: Path) -> None:
    folder = tmp_path / "library"
    library = ConversationLibrary(folder)
    conv = _conv("mine", "Q1")
    library.save(conv)
    (folder / "mine.qwenvl").touch()           # a new time, the same bytes: not a change
    conv.append(Message(role="assistant", text="A1"))
    assert library.save(conv).other_version is None
    assert _ids(library) == ["mine"]
