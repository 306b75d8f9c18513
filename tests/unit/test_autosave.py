"""Autosave never serialises on the caller's (GUI) thread; it writes a snapshot.

Finding 4 of the session issue: `save_soon` ran `dumps()` (base64 of every image and the
JSON) on the GUI thread — 290 ms with 20 × 1 MB images, every 2 s while an answer
streamed. Now the caller takes a snapshot that shares the (immutable) images, and the
library's writer thread serialises it.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from storage_samples import image, sample_conversation

import qwenvl_desktop.core.library as library_module
import qwenvl_desktop.core.storage as storage_module
from qwenvl_desktop.core.conversation import Conversation, Message
from qwenvl_desktop.core.library import ConversationLibrary
from qwenvl_desktop.core.storage import load_conversation


def with_images(count: int = 3) -> Conversation:
    conv = Conversation(id="imgs", title="With images")
    for n in range(count):
        picture = image(100 + n, 50_000)
        conv.add_image(picture)
        conv.append(Message(role="user", text=f"Look {n}", images=[picture.sha256]))
        conv.append(Message(role="assistant", text=f"Seen {n}"))
    return conv


def test_save_soon_serialises_on_the_writer_thread_not_the_callers(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    threads: list[int] = []
    for name in ("dumps", "dump_chunks"):
        real = getattr(storage_module, name)

        def spy(conv: Any, real: Any = real) -> Any:
            threads.append(threading.get_ident())
            return real(conv)

        monkeypatch.setattr(storage_module, name, spy)
        monkeypatch.setattr(library_module, name, spy, raising=False)
    library = ConversationLibrary(tmp_path / "library")
    conv = with_images()
    path = library.save_soon(conv).result(timeout=10).path
    assert threads, "the conversation was never serialised"
    assert threading.get_ident() not in threads
    assert [m.text for m in load_conversation(path).messages] == [
        m.text for m in conv.messages]


def test_what_is_written_is_the_conversation_when_save_soon_was_called(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The writer is held back; meanwhile the answer grows, a branch is added and the
    title changes — none of it may reach the snapshot that was queued."""
    release = threading.Event()

    def slow_write(path: Path, data: Any) -> None:
        if path.suffix == ".qwenvl":
            assert release.wait(10)
        library_module.atomic_write(path, data)

    library = ConversationLibrary(tmp_path / "library", write_file=slow_write)
    conv = with_images(2)
    answer = conv.append(Message(role="assistant", text="half", status="streaming"))
    future = library.save_soon(conv)
    answer.text, answer.status = "half and the rest", "complete"
    conv.add(Message(role="assistant", text="another try"), conv.messages[-2].id)
    conv.title = "Renamed meanwhile"
    release.set()
    saved = load_conversation(future.result(timeout=10).path)
    assert saved.title == "With images"
    assert saved.messages[-1].text == "half"
    assert saved.messages[-1].status == "interrupted"     # saved mid-answer
    assert len(saved.all_messages()) == 5
    assert saved.images.keys() == conv.images.keys()


def test_a_snapshot_shares_images_and_finished_messages_and_copies_the_streaming_one(
) -> None:
    conv = with_images(20)
    streaming = conv.append(Message(role="assistant", text="so far", status="streaming"))
    snap = conv.snapshot()
    assert all(snap.images[sha] is img for sha, img in conv.images.items())
    assert all(a is b for a, b in zip(snap.all_messages()[:-1], conv.all_messages()[:-1],
                                      strict=True))
    assert snap.messages[-1] is not streaming
    assert snap.messages[-1] == streaming
    assert snap == conv


def test_the_sample_round_trips_through_save_soon(tmp_path: Path) -> None:
    library = ConversationLibrary(tmp_path / "library")
    conv = sample_conversation()
    assert load_conversation(library.save_soon(conv).result(timeout=10).path) == conv
