"""Conversations as trees of branches: the visible path, forks, removal and its undo."""

from __future__ import annotations

import base64

import pytest
from storage_samples import image

import qwenvl_desktop.core.conversation as conversation_module
from qwenvl_desktop.core.conversation import Conversation, Message


def turn(conv: Conversation, question: str, answer: str,
         parent: str | None = None) -> tuple[Message, Message]:
    """A question and its answer, under `parent` (default: at the end of the path)."""
    q = Message(role="user", text=question)
    if parent is None:
        conv.append(q)
    else:
        conv.add(q, parent)
    a = conv.append(Message(role="assistant", text=answer))
    return q, a


def texts(conv: Conversation) -> list[str]:
    return [m.text for m in conv.messages]


def test_appending_builds_one_straight_path() -> None:
    conv = Conversation()
    turn(conv, "Q1", "A1")
    q2, a2 = turn(conv, "Q2", "A2")
    assert texts(conv) == ["Q1", "A1", "Q2", "A2"]
    assert conv.branch_position(a2.id) == (1, 1)
    assert conv.parent_of(a2.id) == q2.id
    assert [m.text for m in conv.path_to(q2.id)] == ["Q1", "A1", "Q2"]


@pytest.mark.parametrize("change", [
    lambda path: path.append(Message(role="user")),
    lambda path: path.pop(),
    lambda path: path.clear(),
    lambda path: path.__setitem__(0, Message(role="user")),
    lambda path: path.__delitem__(0),
    lambda path: path.extend([]),
    lambda path: path.insert(0, Message(role="user")),
])
def test_the_visible_path_cannot_be_changed_in_place(change: object) -> None:
    conv = Conversation(messages=[Message(role="user", text="Q1")])
    with pytest.raises(TypeError, match="visible path"):
        change(conv.messages)  # type: ignore[operator]
    assert texts(conv) == ["Q1"]


def test_a_second_answer_is_a_branch_beside_the_first() -> None:
    conv = Conversation()
    q1, a1 = turn(conv, "Q1", "A1")
    _q2, _a2 = turn(conv, "Q2", "A2")
    retried = conv.add(Message(role="assistant", text="A1 again"), q1.id)
    assert texts(conv) == ["Q1", "A1 again"]
    assert conv.branch_position(retried.id) == (2, 2)
    assert conv.siblings(a1.id) == [a1.id, retried.id]
    # The old branch, with what followed it, is one step back.
    assert conv.switch_branch(retried.id, -1) == a1.id
    assert texts(conv) == ["Q1", "A1", "Q2", "A2"]
    assert conv.branch_position(a1.id) == (1, 2)
    # No wrapping round at either end.
    assert conv.switch_branch(a1.id, -1) == a1.id
    assert conv.switch_branch(a1.id, +5) == retried.id
    assert len(conv.all_messages()) == 5


def test_each_fork_remembers_its_choice() -> None:
    conv = Conversation()
    q1, a1 = turn(conv, "Q1", "A1")
    q2, a2 = turn(conv, "Q2", "A2")
    a2b = conv.add(Message(role="assistant", text="A2b"), q2.id)
    conv.switch_branch(a2b.id, -1)                       # back to A2 at the deeper fork
    a1b = conv.add(Message(role="assistant", text="A1b"), q1.id)
    assert texts(conv) == ["Q1", "A1b"]
    conv.switch_branch(a1b.id, -1)
    assert texts(conv) == ["Q1", "A1", "Q2", "A2"]       # not A2b: the choice was kept
    assert sorted(conv.chosen_children()) == sorted([a1.id, a2.id])


def test_editing_a_question_starts_a_branch_from_its_parent() -> None:
    conv = Conversation()
    _q1, a1 = turn(conv, "Q1", "A1")
    q2, _a2 = turn(conv, "Q2", "A2")
    q2b, _a2b = turn(conv, "Q2 edited", "A2 for the edit", parent=a1.id)
    assert texts(conv) == ["Q1", "A1", "Q2 edited", "A2 for the edit"]
    assert conv.siblings(q2b.id) == [q2.id, q2b.id]


def test_removing_takes_everything_below_and_restore_puts_it_back() -> None:
    conv = Conversation()
    picture = image(7)
    conv.add_image(picture)
    q1, a1 = turn(conv, "Q1", "A1")
    q2 = conv.append(Message(role="user", text="Q2", images=[picture.sha256]))
    a2 = conv.append(Message(role="assistant", text="A2"))
    a2b = conv.add(Message(role="assistant", text="A2b"), q2.id)
    before = conv.all_messages()

    removed = conv.remove(q2.id)
    assert texts(conv) == ["Q1", "A1"]
    assert removed.count == 3
    assert removed.branches == 2
    assert picture.sha256 not in conv.images           # only Q2 showed it
    assert q2.id not in conv

    conv.restore(removed)
    assert texts(conv) == ["Q1", "A1", "Q2", "A2b"]     # as it was shown
    assert conv.siblings(a2.id) == [a2.id, a2b.id]
    assert sorted(m.id for m in conv.all_messages()) == sorted(m.id for m in before)
    assert conv.images[picture.sha256] is picture
    assert conv.parent_of(q2.id) == a1.id
    assert conv.path_to(a2b.id)[0] is q1


def test_removing_a_shown_branch_shows_its_neighbour() -> None:
    conv = Conversation()
    q1, a1 = turn(conv, "Q1", "A1")
    a1b = conv.add(Message(role="assistant", text="A1b"), q1.id)
    a1c = conv.add(Message(role="assistant", text="A1c"), q1.id)
    conv.switch_branch(a1c.id, -1)
    removed = conv.remove(a1b.id)
    assert texts(conv) == ["Q1", "A1"]
    assert conv.branch_position(a1.id) == (1, 2)
    conv.restore(removed)
    assert texts(conv) == ["Q1", "A1b"]
    assert conv.siblings(a1.id) == [a1.id, a1b.id, a1c.id]


def test_the_history_sent_is_the_visible_path_or_the_path_to_a_question() -> None:
    conv = Conversation(system_prompt="Be brief.")
    q1, _a1 = turn(conv, "Q1", "A1")
    turn(conv, "Q2", "A2")
    conv.add(Message(role="assistant", text="A1b"), q1.id)
    assert [m.text for m in conv.to_wire()] == ["Be brief.", "Q1", "A1b"]
    assert [m.text for m in conv.to_wire(upto=q1.id)] == ["Be brief.", "Q1"]


def test_a_snapshot_does_not_change_with_the_conversation() -> None:
    conv = Conversation(title="Live")
    picture = image(3)
    conv.add_image(picture)
    q1 = conv.append(Message(role="user", text="Q1", images=[picture.sha256]))
    answer = conv.append(Message(role="assistant", text="partial", status="streaming"))
    snap = conv.snapshot()
    answer.text, answer.status = "partial and more", "complete"
    answer.images.append("0" * 64)
    conv.append(Message(role="user", text="Q2"))
    conv.title = "Renamed"
    assert texts(snap) == ["Q1", "partial"]
    assert snap.messages[1].status == "streaming"
    assert snap.messages[1].images == []
    assert snap.title == "Live"
    assert snap.images[picture.sha256] is picture        # shared, not copied
    assert snap.messages[0] is q1                         # finished: shared as well


def test_an_image_is_encoded_once(monkeypatch: pytest.MonkeyPatch) -> None:
    picture = image(11, 200_000)
    first = picture.encoded()
    assert first == base64.b64encode(picture.data)
    assert picture.data_uri() == f"data:image/png;base64,{first.decode()}"

    def refuse(_data: object) -> bytes:
        raise AssertionError("encoded a second time")

    monkeypatch.setattr(conversation_module.base64, "b64encode", refuse)
    assert picture.encoded() is first
    assert picture.wire_url().endswith(first.decode())


def test_adding_a_message_twice_or_under_an_unknown_parent_is_refused() -> None:
    conv = Conversation()
    q1 = conv.append(Message(role="user", text="Q1"))
    with pytest.raises(ValueError, match="already"):
        conv.append(q1)
    with pytest.raises(KeyError):
        conv.add(Message(role="assistant"), "no-such-message")
