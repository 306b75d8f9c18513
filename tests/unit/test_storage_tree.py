"""Format 2 files: every branch saved, the visible one reopened, format 1 upgraded, and
every broken link in a tree refused with the place named."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from storage_samples import image, sample_conversation

import qwenvl_desktop.core.conversation as conversation_module
from qwenvl_desktop.core.conversation import Conversation, Message
from qwenvl_desktop.core.errors import ConversationFileError
from qwenvl_desktop.core.export import export_html, export_markdown
from qwenvl_desktop.core.storage import FORMAT_VERSION, dumps, loads

NAME = "tree.qwenvl"


def branched() -> tuple[Conversation, dict[str, Message]]:
    """Q1 → A1 → Q2 → A2, a retried A1b beside A1, and an edited Q2b under A1."""
    conv = Conversation(id="tree", title="Branches")
    picture = image(5)
    conv.add_image(picture)
    m: dict[str, Message] = {}
    m["q1"] = conv.append(Message(role="user", text="Q1", id="q1", images=[picture.sha256]))
    m["a1"] = conv.append(Message(role="assistant", text="A1", id="a1"))
    m["q2"] = conv.append(Message(role="user", text="Q2", id="q2"))
    m["a2"] = conv.append(Message(role="assistant", text="A2", id="a2"))
    m["q2b"] = conv.add(Message(role="user", text="Q2b", id="q2b"), "a1")
    m["a2b"] = conv.append(Message(role="assistant", text="A2b", id="a2b"))
    m["a1b"] = conv.add(Message(role="assistant", text="A1b", id="a1b"), "q1")
    conv.switch_branch("a1b", -1)            # back to A1, whose fork shows Q2b
    return conv, m


def refused(doc: Any) -> str:
    with pytest.raises(ConversationFileError) as caught:
        loads(json.dumps(doc).encode(), name=NAME)
    assert caught.value.name == NAME
    return caught.value.reason


def test_every_branch_is_saved_and_the_visible_one_reopens() -> None:
    conv, _m = branched()
    assert [x.text for x in conv.messages] == ["Q1", "A1", "Q2b", "A2b"]
    doc = json.loads(dumps(conv))
    assert doc["version"] == FORMAT_VERSION == 3
    saved = {x["id"]: x["parent"] for x in doc["conversation"]["messages"]}
    assert saved == {"q1": None, "a1": "q1", "q2": "a1", "a2": "q2", "q2b": "a1",
                     "a2b": "q2b", "a1b": "q1"}
    assert sorted(doc["conversation"]["chosen"]) == ["a1", "q2b"]
    loaded = loads(dumps(conv), name=NAME)
    assert loaded == conv
    assert [x.text for x in loaded.messages] == ["Q1", "A1", "Q2b", "A2b"]
    assert loaded.branch_position("a1") == (1, 2)
    loaded.switch_branch("q2b", -1)
    assert [x.text for x in loaded.messages] == ["Q1", "A1", "Q2", "A2"]


@pytest.mark.parametrize("version", [1, 2])
def test_an_older_file_opens_as_one_straight_branch(version: int) -> None:
    doc = json.loads(dumps(sample_conversation()))
    doc["version"] = version
    del doc["conversation"]["chosen"]
    for raw in doc["conversation"]["messages"]:
        del raw["parent"]
        if version == 1:
            del raw["media"]                             # format 2 added media groups
    del doc["conversation"]["messages"][2]["id"]        # older formats allowed no id
    loaded = loads(json.dumps(doc).encode(), name=NAME)
    expected = sample_conversation()
    assert [x.text for x in loaded.messages] == [x.text for x in expected.messages]
    assert len(loaded.all_messages()) == len(expected.messages)
    third = loaded.messages[2]
    assert third.id                                      # given one, and linked
    assert loaded.parent_of(loaded.messages[3].id) == third.id
    # Saved again it is a current file that loads the same.
    assert loads(dumps(loaded), name=NAME) == loaded


def _tree_doc() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(dumps(branched()[0]))
    return doc


def _message(doc: dict[str, Any], message_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(x for x in doc["conversation"]["messages"]
                                 if x["id"] == message_id)
    return found


def test_a_parent_that_is_not_in_the_file_is_refused() -> None:
    doc = _tree_doc()
    _message(doc, "a2")["parent"] = "gone"
    reason = refused(doc)
    assert "messages[3].parent" in reason
    assert "not in the file" in reason


def test_parents_going_round_in_a_loop_are_refused() -> None:
    doc = _tree_doc()
    _message(doc, "q1")["parent"] = "a2"                 # q1 → a2 → q2 → a1 → q1
    reason = refused(doc)
    assert "loop" in reason
    assert "messages[0]" in reason


def test_a_message_that_is_its_own_parent_is_refused() -> None:
    doc = _tree_doc()
    _message(doc, "a2b")["parent"] = "a2b"
    assert "loop" in refused(doc)


@pytest.mark.parametrize(("chosen", "expected"), [
    (["nobody"], "conversation.chosen[0] names message \"nobody\", which is not in the file"),
    (["a1", "a1b"], "choose two answers to the same message"),
    ([7], "conversation.chosen[0] should be text"),
    ("a1", "conversation.chosen should be a list"),
])
def test_bad_choices_are_refused(chosen: Any, expected: str) -> None:
    doc = _tree_doc()
    doc["conversation"]["chosen"] = chosen
    assert expected in refused(doc)


@pytest.mark.parametrize(("value", "expected"), [
    (12, "messages[1].parent should be text or null, found a number"),
    (..., "messages[1].parent is missing"),
])
def test_a_missing_or_mistyped_parent_is_refused(value: Any, expected: str) -> None:
    doc = _tree_doc()
    if value is ...:
        del _message(doc, "a1")["parent"]
    else:
        _message(doc, "a1")["parent"] = value
    assert expected in refused(doc)


def test_loading_keeps_each_images_base64_so_saving_does_not_encode_again(
        monkeypatch: pytest.MonkeyPatch) -> None:
    data = dumps(branched()[0])

    def refuse(_data: object) -> bytes:
        raise AssertionError("an image was encoded again")

    monkeypatch.setattr(conversation_module.base64, "b64encode", refuse)
    loaded = loads(data, name=NAME)
    assert dumps(loaded).split(b'"saved_at"')[0] == data.split(b'"saved_at"')[0]
    assert loaded.to_wire()[0].images[0].url.startswith("data:image/png;base64,")


def test_exports_write_the_visible_branch(tmp_path: Path) -> None:
    conv, _m = branched()
    markdown = export_markdown(conv, tmp_path / "c.md").read_text(encoding="utf-8")
    page = export_html(conv, tmp_path / "c.html").read_text(encoding="utf-8")
    for text in (markdown, page):
        assert "Q2b" in text
        assert "A2b" in text
        assert "A1b" not in text
        assert "\nQ2\n" not in text
        assert ">Q2<" not in text
