"""The autosave library: listing, search, rename, trash, and damaged files kept and reported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from storage_samples import sample_conversation

from qwenvl_desktop.core.conversation import Conversation, Message
from qwenvl_desktop.core.errors import ConversationFileError
from qwenvl_desktop.core.library import INDEX_NAME, TRASH_NAME, ConversationLibrary
from qwenvl_desktop.core.storage import dumps, save_conversation


def _conv(cid: str, title: str, updated: float, *texts: str) -> Conversation:
    conv = Conversation(id=cid, title=title, updated=updated)
    for i, text in enumerate(texts):
        conv.append(Message(role="user" if i % 2 == 0 else "assistant", text=text))
    conv.updated = updated   # append() touched it
    return conv


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "library"


@pytest.fixture
def library(folder: Path) -> ConversationLibrary:
    lib = ConversationLibrary(folder)
    lib.save(_conv("aaa", "Receipt totals", 100.0, "Read this receipt", "Total: 12.50 EUR"))
    lib.save(_conv("bbb", "Dialog bug", 300.0, "What is wrong?", "The OK button is grey"))
    lib.save(_conv("ccc", "Straße map", 200.0, "Where is the station?",
                   "Bottom left,\nnext to the river " + "x" * 300))
    return lib


def test_list_is_newest_first_with_summaries(library: ConversationLibrary, folder: Path) -> None:
    summaries = library.list()
    assert [s.id for s in summaries] == ["bbb", "ccc", "aaa"]
    first = summaries[0]
    assert first.title == "Dialog bug"
    assert first.updated == 300.0
    assert first.message_count == 2
    assert first.path == folder / "bbb.qwenvl"
    assert first.preview == "The OK button is grey"
    long_preview = summaries[1].preview
    assert long_preview.startswith("Bottom left, next to the river")
    assert long_preview.endswith("…")
    assert len(long_preview) <= 121


def test_save_writes_the_file_and_the_index(library: ConversationLibrary, folder: Path) -> None:
    assert sorted(p.name for p in folder.glob("*.qwenvl")) == [
        "aaa.qwenvl", "bbb.qwenvl", "ccc.qwenvl"]
    index = json.loads((folder / INDEX_NAME).read_text())
    assert set(index["entries"]) == {"aaa", "bbb", "ccc"}
    assert not list(folder.glob(".*.tmp"))


def test_load_returns_the_saved_conversation(folder: Path) -> None:
    lib = ConversationLibrary(folder)
    conv = sample_conversation()
    path = lib.save(conv).path
    assert path == folder / f"{conv.id}.qwenvl"
    assert lib.load(conv.id) == conv


@pytest.mark.parametrize("damage", ["missing", "garbage", "wrong types", "wrong format"])
def test_index_is_rebuilt_from_the_files(library: ConversationLibrary, folder: Path,
                                         damage: str) -> None:
    before = library.list()
    index = folder / INDEX_NAME
    if damage == "missing":
        index.unlink()
    elif damage == "garbage":
        index.write_bytes(b"\x00{not json")
    elif damage == "wrong types":
        doc = json.loads(index.read_text())
        doc["entries"]["aaa"]["updated"] = "yesterday"
        index.write_text(json.dumps(doc))
    else:
        index.write_text(json.dumps({"format": "other", "entries": {}}))
    fresh = ConversationLibrary(folder)
    assert fresh.list() == before
    assert json.loads(index.read_text())["entries"].keys() == {"aaa", "bbb", "ccc"}


def test_the_files_win_over_a_stale_index(library: ConversationLibrary, folder: Path) -> None:
    # Another window (or a copy from a backup) changes files behind this library's back.
    save_conversation(_conv("ddd", "Copied in", 400.0, "hello"), folder / "ddd.qwenvl")
    save_conversation(_conv("aaa", "Receipt totals, corrected", 500.0, "Read this receipt"),
                      folder / "aaa.qwenvl")
    (folder / "ccc.qwenvl").unlink()
    summaries = library.list()
    assert [(s.id, s.title) for s in summaries] == [
        ("aaa", "Receipt totals, corrected"), ("ddd", "Copied in"), ("bbb", "Dialog bug")]


def test_two_library_objects_on_one_folder_agree(library: ConversationLibrary,
                                                 folder: Path) -> None:
    other = ConversationLibrary(folder)
    other.save(_conv("eee", "From the other window", 999.0, "hi"))
    assert library.list()[0].id == "eee"


def test_rename_changes_title_in_list_file_and_search(library: ConversationLibrary) -> None:
    library.rename("aaa", "  Grocery\nreceipt  ")
    assert library.load("aaa").title == "Grocery receipt"
    assert {s.id: s.title for s in library.list()}["aaa"] == "Grocery receipt"
    assert [s.id for s in library.search("grocery")] == ["aaa"]
    assert library.search("Receipt totals") == []


def test_delete_moves_the_file_to_trash(library: ConversationLibrary, folder: Path) -> None:
    original = (folder / "bbb.qwenvl").read_bytes()
    trashed = library.delete("bbb").result()
    assert "bbb" not in [s.id for s in library.list()]
    assert not (folder / "bbb.qwenvl").exists()
    assert trashed == folder / TRASH_NAME / "bbb.qwenvl"
    assert trashed.read_bytes() == original
    # A later run deleting a conversation of the same id keeps both copies in the trash.
    later = ConversationLibrary(folder)
    later.save(_conv("bbb", "Dialog bug, again", 600.0, "again"))
    later.delete("bbb").result()
    assert len(list((folder / TRASH_NAME).glob("bbb*.qwenvl"))) == 2
    assert later.search("again") == []


def test_unknown_or_unsafe_ids_are_clear_errors(library: ConversationLibrary) -> None:
    with pytest.raises(ConversationFileError, match="not in the library"):
        library.delete("nope")
    with pytest.raises(ConversationFileError, match="does not exist"):
        library.load("nope")
    for bad in ("../escape", "a/b", "..", ""):
        with pytest.raises(ConversationFileError, match="not a valid conversation id"):
            library.load(bad)


def test_search_is_case_insensitive_over_titles_and_text(library: ConversationLibrary) -> None:
    assert [s.id for s in library.search("dialog")] == ["bbb"]            # title
    assert [s.id for s in library.search("ok BUTTON")] == ["bbb"]         # answer text
    assert [s.id for s in library.search("STRASSE")] == ["ccc"]           # casefold ß → ss
    assert [s.id for s in library.search("eur")] == ["aaa"]
    assert library.search("no such words") == []
    assert [s.id for s in library.search("  ")] == ["bbb", "ccc", "aaa"]


def test_search_sees_new_messages_and_other_windows(library: ConversationLibrary,
                                                    folder: Path) -> None:
    assert library.search("zebra") == []                 # fills the search cache
    conv = library.load("aaa")
    conv.append(Message(role="user", text="Is that a zebra?"))
    library.save(conv)
    assert [s.id for s in library.search("zebra")] == ["aaa"]
    ConversationLibrary(folder).save(_conv("fff", "Animals", 50.0, "a ZEBRA crossing"))
    assert [s.id for s in library.search("zebra")] == ["aaa", "fff"]


def test_search_does_not_match_across_message_boundaries(folder: Path) -> None:
    lib = ConversationLibrary(folder)
    lib.save(_conv("ggg", "t", 1.0, "ends with red", "apple starts here"))
    assert lib.search("red apple") == []
    assert lib.search("redapple") == []


def test_damaged_files_are_reported_and_kept(library: ConversationLibrary,
                                             folder: Path) -> None:
    broken = folder / "broken.qwenvl"
    broken.write_bytes(dumps(Conversation(id="broken"))[:40])
    newer = folder / "newer.qwenvl"
    doc = json.loads(dumps(Conversation(id="newer")))
    doc["version"] = 9
    newer.write_text(json.dumps(doc))
    ids = [s.id for s in library.list()]
    assert ids == ["bbb", "ccc", "aaa"]
    reported = dict(library.corrupt_files())
    assert set(reported) == {broken, newer}
    assert "incomplete" in reported[broken]
    assert "newer version of Qwen-VL Desktop (format 9)" in reported[newer]
    assert broken.exists()
    assert newer.exists()
    # A fresh library (index read back) reports them too, without needing to re-parse.
    assert dict(ConversationLibrary(folder).corrupt_files()) == reported


def test_repaired_file_leaves_the_corrupt_list(library: ConversationLibrary,
                                               folder: Path) -> None:
    path = folder / "fixme.qwenvl"
    path.write_text("{oops")
    assert [p for p, _ in library.corrupt_files()] == [path]
    save_conversation(_conv("fixme", "Recovered", 700.0, "back"), path)
    assert library.corrupt_files() == []
    assert library.list()[0].title == "Recovered"


def test_stray_files_are_ignored(library: ConversationLibrary, folder: Path) -> None:
    (folder / ".aaa.qwenvl.x1y2.tmp").write_text("half a save")
    (folder / "notes.txt").write_text("hello")
    (folder / "dir.qwenvl").mkdir()
    assert [s.id for s in library.list()] == ["bbb", "ccc", "aaa"]
    assert library.corrupt_files() == []


def test_empty_or_missing_folder(tmp_path: Path) -> None:
    lib = ConversationLibrary(tmp_path / "not-yet")
    assert lib.list() == []
    assert lib.corrupt_files() == []
    assert lib.search("x") == []
