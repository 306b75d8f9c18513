"""Telling "the file is still what we wrote" from "someone changed it", and saving named
files so that a change made elsewhere is never overwritten."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from qwenvl_desktop.core.conversation import Conversation, Message
from qwenvl_desktop.core.file_guard import (
    GuardedFile,
    changed_since,
    free_name_beside,
    read_stamped,
    stamp_of,
)
from qwenvl_desktop.core.storage import load_conversation, save_conversation


def _conv(*texts: str) -> Conversation:
    conv = Conversation(id="c1", title="Chat")
    for text in texts:
        conv.append(Message(role="user", text=text))
    return conv


def test_a_missing_file_loses_nothing_and_an_unknown_one_is_someone_else_s(
        tmp_path: Path) -> None:
    path = tmp_path / "a.qwenvl"
    assert changed_since(path, None) is False
    path.write_bytes(b"theirs")
    assert changed_since(path, None) is True


def test_our_own_write_is_unchanged_and_any_other_write_is_a_change(tmp_path: Path) -> None:
    path = tmp_path / "a.qwenvl"
    path.write_bytes(b"ours")
    stamp = stamp_of(path, b"ours")
    assert changed_since(path, stamp) is False
    path.write_bytes(b"theirs, longer")
    assert changed_since(path, stamp) is True


def test_new_times_on_the_same_bytes_are_not_a_change(tmp_path: Path) -> None:
    path = tmp_path / "a.qwenvl"
    path.write_bytes(b"ours")
    _data, stamp = read_stamped(path)
    path.write_bytes(b"ours")                 # rewritten, same bytes: a sync client
    assert changed_since(path, stamp) is False


def test_within_one_clock_tick_the_content_decides(tmp_path: Path) -> None:
    """Same size, same times: a second write in the same tick of the file system's clock.
    The stamp was taken within that tick, so the bytes are compared."""
    path = tmp_path / "a.qwenvl"
    path.write_bytes(b"AAAA")
    ours = stamp_of(path, b"AAAA")
    path.write_bytes(b"BBBB")                 # same size
    now = stamp_of(path, b"BBBB")             # every field as the file has them now...
    same_tick = dataclasses.replace(now, sha256=ours.sha256,          # ...but our bytes
                                    taken_ns=max(now.mtime_ns, now.ctime_ns))
    assert changed_since(path, same_tick) is True
    # Taken well after that tick, equal fields are decisive (no need to read the file).
    settled = dataclasses.replace(same_tick, taken_ns=same_tick.taken_ns + 10**10)
    assert changed_since(path, settled) is False


def test_free_names_beside_a_file(tmp_path: Path) -> None:
    path = tmp_path / "chat.qwenvl"
    assert free_name_beside(path, "copy").name == "chat (copy).qwenvl"
    (tmp_path / "chat (copy).qwenvl").write_bytes(b"")
    assert free_name_beside(path, "copy").name == "chat (copy 2).qwenvl"


def test_a_named_file_changed_elsewhere_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "chat.qwenvl"
    save_conversation(_conv("Q1"), path)
    guarded = GuardedFile(path, label="copy from the terminal")
    mine = guarded.load()
    theirs = load_conversation(path)
    theirs.append(Message(role="user", text="Q from the window"))
    save_conversation(theirs, path)

    mine.append(Message(role="user", text="Q from the terminal"))
    left_alone = guarded.save(mine)

    assert left_alone == path
    assert guarded.path == tmp_path / "chat (copy from the terminal).qwenvl"
    assert [m.text for m in load_conversation(path).messages] == ["Q1", "Q from the window"]
    assert [m.text for m in load_conversation(guarded.path).messages] == [
        "Q1", "Q from the terminal"]
    # Later saves follow ours to its new name: one copy, not one per save.
    mine.append(Message(role="assistant", text="A"))
    assert guarded.save(mine) is None
    assert len(list(tmp_path.glob("chat*.qwenvl"))) == 2


def test_saving_to_an_existing_file_never_read_keeps_it(tmp_path: Path) -> None:
    path = tmp_path / "chat.qwenvl"
    path.write_bytes(b"someone's notes")
    guarded = GuardedFile(path, label="copy")
    assert guarded.save(_conv("Q")) == path
    assert path.read_bytes() == b"someone's notes"
    assert guarded.path.name == "chat (copy).qwenvl"


def test_save_over_replaces_what_the_person_chose_to_replace(tmp_path: Path) -> None:
    path = tmp_path / "chat.qwenvl"
    path.write_bytes(b"old")
    guarded = GuardedFile(path, label="copy")
    guarded.save_over(_conv("Q"))
    assert [m.text for m in load_conversation(path).messages] == ["Q"]
    assert guarded.save(_conv("Q", "R")) is None          # and it is ours from now on
