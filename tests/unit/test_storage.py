"""Conversation files: round trip, every kind of bad file, versions, atomic saves, no keys."""

from __future__ import annotations

import base64
import copy
import dataclasses
import json
import os
import random
from pathlib import Path
from typing import Any

import pytest
from storage_samples import FAKE_KEY, image, sample_conversation

from qwenvl_desktop import __version__
from qwenvl_desktop.core import storage
from qwenvl_desktop.core.api.types import ChatParams
from qwenvl_desktop.core.conversation import Conversation, Message, Provenance
from qwenvl_desktop.core.errors import ConversationFileError
from qwenvl_desktop.core.storage import (
    FILE_SUFFIX,
    FORMAT_ID,
    FORMAT_VERSION,
    dumps,
    load_conversation,
    loads,
    save_conversation,
)

NAME = "chat.qwenvl"


def _doc() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(dumps(sample_conversation()))
    return doc


def _bytes(doc: Any) -> bytes:
    return json.dumps(doc).encode()


def _refused(data: bytes) -> str:
    with pytest.raises(ConversationFileError) as info:
        loads(data, name=NAME)
    assert info.value.name == NAME
    assert str(info.value).startswith(f"{NAME}: ")
    return info.value.reason


# --- round trip -----------------------------------------------------------------------

def test_round_trip_keeps_every_field() -> None:
    conv = sample_conversation()
    loaded = loads(dumps(conv), name=NAME)
    assert loaded == conv
    # Spot checks so that a broken __eq__ could not hide a loss.
    assert loaded.params.thinking is False
    assert loaded.params.stop == ("END", "###")
    assert loaded.messages[1].provenance is not None
    assert loaded.messages[1].provenance.usage is not None
    assert loaded.messages[1].provenance.usage.reasoning_tokens == 120
    assert loaded.messages[1].provenance.first_token_s == 0.82
    assert loaded.messages[0].image_tokens == conv.messages[0].image_tokens
    assert loaded.messages[5].error.startswith("HTTP 429")
    assert [m.status for m in loaded.messages] == [m.status for m in conv.messages]


def test_file_round_trip_and_header(tmp_path: Path) -> None:
    conv = sample_conversation()
    path = tmp_path / f"x{FILE_SUFFIX}"
    save_conversation(conv, path)
    assert load_conversation(path) == conv
    doc = json.loads(path.read_bytes())
    assert doc["format"] == FORMAT_ID
    assert doc["version"] == FORMAT_VERSION
    assert doc["app_version"] == __version__
    assert isinstance(doc["saved_at"], float)


def test_image_shown_in_three_messages_is_stored_once() -> None:
    conv = sample_conversation()
    shared = conv.messages[0].images[0]
    assert sum(shared in m.images for m in conv.messages) == 3
    data = dumps(conv)
    doc = json.loads(data)
    assert sorted(doc["images"]) == sorted(conv.images)
    encoded = base64.b64encode(conv.images[shared].data)
    assert data.count(encoded) == 1


@pytest.mark.parametrize("params", [
    ChatParams(temperature=0.0, seed=0, top_k=0, presence_penalty=0.0, thinking=False),
    ChatParams(thinking=True, high_resolution=False, stop=()),
    ChatParams(),
])
def test_zero_and_false_parameters_are_not_mistaken_for_defaults(params: ChatParams) -> None:
    # temperature 0 (deterministic answers) is not "provider default".
    conv = Conversation(params=params)
    assert loads(dumps(conv), name=NAME).params == params


def test_non_finite_numbers_never_make_an_unreadable_file() -> None:
    nan = float("nan")
    conv = Conversation(created=float("inf"), params=ChatParams(temperature=nan), messages=[
        Message(role="assistant", text="x", created=nan,
                provenance=Provenance(provider="p", model="m", first_token_s=nan,
                                      total_s=float("-inf"), params={"top_p": nan}))])
    loaded = loads(dumps(conv), name=NAME)
    assert loaded.created == 0.0
    assert loaded.params.temperature is None
    prov = loaded.messages[0].provenance
    assert prov is not None
    assert prov.first_token_s is None
    assert prov.total_s is None
    assert prov.params == {"top_p": None}


def test_empty_conversation_round_trips() -> None:
    conv = Conversation()
    assert loads(dumps(conv), name=NAME) == conv


def test_answer_saved_mid_stream_loads_as_interrupted() -> None:
    conv = Conversation(messages=[Message(role="assistant", text="half", status="streaming")])
    loaded = loads(dumps(conv), name=NAME)
    assert loaded.messages[0].status == "interrupted"
    assert loaded.messages[0].text == "half"


def test_reference_to_an_image_the_conversation_lost_is_dropped_on_save() -> None:
    conv = Conversation(messages=[Message(role="user", text="hi", images=["0" * 64],
                                          image_tokens={"0" * 64: 5})])
    loaded = loads(dumps(conv), name=NAME)
    assert loaded.messages[0].images == []
    assert loaded.messages[0].image_tokens == {}


def test_url_only_image_without_bytes_round_trips() -> None:
    img = dataclasses.replace(image(3), data=b"")
    img = dataclasses.replace(img, sha256="url-" + img.source_url)
    conv = Conversation(messages=[Message(role="user", images=[img.sha256])])
    conv.add_image(img)
    assert loads(dumps(conv), name=NAME) == conv


def test_unknown_extra_keys_are_ignored() -> None:
    doc = _doc()
    doc["future_top"] = {"x": 1}
    doc["conversation"]["folder"] = "work"
    doc["conversation"]["params"]["min_p"] = 0.1
    doc["conversation"]["messages"][0]["rating"] = 5
    doc["conversation"]["messages"][1]["provenance"]["cost_usd"] = 0.01
    next(iter(doc["images"].values()))["exif"] = {"camera": "x"}
    assert loads(_bytes(doc), name=NAME) == sample_conversation()


# --- bad files: each gets a reason a person can act on --------------------------------

@pytest.mark.parametrize(("data", "expected"), [
    (b"", "empty"),
    (b"  \n", "empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", "not a text file"),
    (b"hello, world", "not JSON"),
    (b"[1, 2, 3]", "not in the conversation format"),
    (b'{"name": "package.json", "version": "1.0.0"}', "not in the conversation format"),
    (b'{"format": "something-else", "version": 1}', "not in the conversation format"),
    (b'{"format": "qwenvl-desktop/conversation", "version": 1,,}', "not valid JSON"),
])
def test_foreign_and_broken_files_are_refused(data: bytes, expected: str) -> None:
    assert expected in _refused(data)


@pytest.mark.parametrize("keep", [0.5, 0.9, 0.999])
def test_truncated_file_is_reported_as_incomplete(keep: float) -> None:
    data = dumps(sample_conversation())
    assert "incomplete" in _refused(data[: int(len(data) * keep)])


def test_file_cut_inside_a_multibyte_character_is_incomplete() -> None:
    data = dumps(Conversation(title="日本語"))
    cut = data.index("本".encode()) + 1
    assert "incomplete" in _refused(data[:cut])


def test_newer_version_says_so_and_what_to_do() -> None:
    doc = _doc()
    doc["version"] = FORMAT_VERSION + 1
    reason = _refused(_bytes(doc))
    assert reason == ("was saved by a newer version of Qwen-VL Desktop "
                      f"(format {FORMAT_VERSION + 1}); this version reads up to "
                      f"{FORMAT_VERSION} — update the app")


@pytest.mark.parametrize("version", [0, -1, "1", 1.5, None, True])
def test_nonsense_version_is_refused(version: Any) -> None:
    doc = _doc()
    doc["version"] = version
    assert "format version" in _refused(_bytes(doc))


def _break(path: str, value: Any) -> dict[str, Any]:
    """The sample document with the item at a dotted path replaced (or deleted: ...)."""
    doc = _doc()
    keys: list[Any] = [int(k) if k.isdigit() else k for k in path.split(".")]
    target: Any = doc
    for key in keys[:-1]:
        target = target[key] if key != "*" else next(iter(target.values()))
    if value is ...:
        del target[keys[-1]]
    else:
        target[keys[-1]] = value
    return doc


@pytest.mark.parametrize(("path", "value", "expected"), [
    ("conversation", [], "file.conversation should be an object, found a list"),
    ("conversation", ..., "file.conversation is missing"),
    ("images", ..., "file.images is missing"),
    ("conversation.messages", {"0": 1}, "messages should be a list"),
    ("conversation.messages", ..., "messages is missing"),
    ("conversation.id", ..., "conversation.id is missing"),
    ("conversation.title", 7, "title should be text, found a number"),
    ("conversation.created", "yesterday", "created should be a number, found text"),
    ("conversation.params.temperature", "hot", "params.temperature should be a number"),
    ("conversation.params.seed", 1.5, "params.seed should be a whole number"),
    ("conversation.params.stop", "END", "params.stop should be a list of text"),
    ("conversation.params.high_resolution", "yes", "high_resolution should be true/false"),
    ("conversation.messages.0", "hi", "messages[0] should be an object, found text"),
    ("conversation.messages.0.role", ..., "messages[0].role is missing"),
    ("conversation.messages.0.role", "bot", 'messages[0].role is "bot"'),
    ("conversation.messages.0.role", 1, "messages[0].role should be text"),
    ("conversation.messages.1.status", "done", 'messages[1].status is "done"'),
    ("conversation.messages.0.images", "abc", "messages[0].images should be a list"),
    ("conversation.messages.0.images.0", 5, "messages[0].images[0] should be text"),
    ("conversation.messages.0.image_tokens", [], "image_tokens should be an object"),
    ("conversation.messages.1.provenance", "x", "provenance should be an object"),
    ("conversation.messages.1.provenance.usage.prompt_tokens", -3,
     "prompt_tokens should be a whole number ≥ 0"),
    ("conversation.messages.1.provenance.total_s", "6 s", "total_s should be a number"),
    ("conversation.messages.1.id", None, "messages[1].id should be text, found null"),
    ("images.*.width", "640", "width should be a whole number"),
    ("images.*.mime", ..., "mime is missing"),
    ("images.*.data", ..., "data is missing"),
    ("images.*.data", "!!not base64!!", "is not valid base64"),
    ("images.*.data", base64.b64encode(b"other bytes").decode(), "does not match its checksum"),
])
def test_damaged_document_names_the_place(path: str, value: Any, expected: str) -> None:
    reason = _refused(_bytes(_break(path, value)))
    assert reason.startswith("the file is damaged: ")
    assert expected in reason


def test_message_showing_an_image_whose_data_is_missing() -> None:
    doc = _doc()
    shared = doc["conversation"]["messages"][0]["images"][0]
    del doc["images"][shared]
    assert "whose data is missing" in _refused(_bytes(doc))


def test_duplicate_message_ids_are_refused() -> None:
    doc = _doc()
    messages = doc["conversation"]["messages"]
    messages[1]["id"] = messages[0]["id"]
    assert "used twice" in _refused(_bytes(doc))


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_numbers_are_refused(literal: str) -> None:
    text = dumps(Conversation(created=12345.5)).decode().replace("12345.5", literal)
    assert _refused(text.encode())


def test_deeply_nested_json_is_refused_not_crashing() -> None:
    assert "nested too deeply" in _refused(b'{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}")


def test_missing_folder_and_unreadable_paths(tmp_path: Path) -> None:
    with pytest.raises(ConversationFileError, match="does not exist"):
        load_conversation(tmp_path / "gone.qwenvl")
    folder = tmp_path / "folder.qwenvl"
    folder.mkdir()
    with pytest.raises(ConversationFileError, match="is a folder"):
        load_conversation(folder)


# --- migrations ------------------------------------------------------------------------

def _doc_with_old_title_field() -> dict[str, Any]:
    doc = _doc()
    doc["version"] = FORMAT_VERSION
    doc["conversation"]["name"] = doc["conversation"].pop("title")
    return doc


def _rename_name_to_title(doc: dict[str, Any]) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    doc["conversation"]["title"] = doc["conversation"].pop("name")
    return doc


# The registry tests pretend the next format exists: the real steps stay untouched.
NEXT = FORMAT_VERSION + 1


def test_older_format_is_upgraded_through_the_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(storage, "FORMAT_VERSION", NEXT)
    monkeypatch.setitem(storage.MIGRATIONS, NEXT - 1, _rename_name_to_title)
    loaded = loads(_bytes(_doc_with_old_title_field()), name=NAME)
    assert loaded.title == sample_conversation().title
    assert loaded == sample_conversation()
    # And the current writer stamps the new version.
    assert json.loads(dumps(loaded))["version"] == NEXT


def test_migration_steps_run_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[int] = []

    def step(n: int) -> Any:
        def run(doc: dict[str, Any]) -> dict[str, Any]:
            seen.append(doc["version"])
            assert doc["version"] == n
            return doc
        return run

    monkeypatch.setattr(storage, "FORMAT_VERSION", NEXT + 2)
    for n in (NEXT - 1, NEXT, NEXT + 1):
        monkeypatch.setitem(storage.MIGRATIONS, n, step(n))
    doc = _doc()
    doc["version"] = NEXT - 1
    loads(_bytes(doc), name=NAME)
    assert seen == [NEXT - 1, NEXT, NEXT + 1]


def test_missing_migration_step_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(storage, "FORMAT_VERSION", NEXT + 1)
    monkeypatch.setitem(storage.MIGRATIONS, NEXT, lambda doc: doc)
    doc = _doc()
    doc["version"] = NEXT - 1
    assert "can no longer upgrade" in _refused(_bytes(doc))


def test_migration_of_a_damaged_old_file_does_not_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(storage, "FORMAT_VERSION", NEXT)
    monkeypatch.setitem(storage.MIGRATIONS, NEXT - 1, _rename_name_to_title)
    doc = _doc()
    doc["version"] = NEXT - 1  # has "title", not "name": the migration's KeyError is caught
    assert f"could not be upgraded from format {NEXT - 1}" in _refused(_bytes(doc))


# --- atomic saves ----------------------------------------------------------------------

@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "saves"
    path.mkdir()
    return path


def _old_file(folder: Path) -> tuple[Path, bytes]:
    path = folder / "keep.qwenvl"
    save_conversation(Conversation(title="old"), path)
    return path, path.read_bytes()


def _fail(*_args: Any) -> None:
    raise OSError(28, "No space left on device")


@pytest.mark.parametrize("where", ["replace", "fsync", "write"])
def test_failed_save_leaves_old_file_and_no_temp_file(folder: Path, where: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    path, before = _old_file(folder)
    if where == "write":
        real_fdopen = os.fdopen

        class Failing:
            def __init__(self, fd: int, mode: str) -> None:
                self.inner = real_fdopen(fd, mode)

            def __enter__(self) -> Failing:
                return self

            def __exit__(self, *exc: object) -> None:
                self.inner.close()

            def write(self, data: bytes) -> int:
                self.inner.write(data[: len(data) // 2])   # half the file made it to disk
                raise OSError(28, "No space left on device")

        monkeypatch.setattr(os, "fdopen", Failing)
    else:
        monkeypatch.setattr(os, where, _fail)
    with pytest.raises(ConversationFileError, match="No space left on device") as info:
        save_conversation(sample_conversation(), path)
    assert "earlier copy is unchanged" in info.value.reason
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(p.name for p in folder.iterdir()) == ["keep.qwenvl"]
    assert load_conversation(path).title == "old"


def test_interrupt_mid_save_leaves_no_temp_file(folder: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    path, before = _old_file(folder)

    def interrupted(*_args: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save_conversation(sample_conversation(), path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert [p.name for p in folder.iterdir()] == ["keep.qwenvl"]


def test_successful_save_replaces_and_cleans_up(folder: Path) -> None:
    path, _ = _old_file(folder)
    save_conversation(sample_conversation(), path)
    assert load_conversation(path) == sample_conversation()
    assert [p.name for p in folder.iterdir()] == ["keep.qwenvl"]


def test_save_into_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConversationFileError, match="could not be saved"):
        save_conversation(Conversation(), tmp_path / "no" / "such" / "x.qwenvl")


# --- no keys, ever ---------------------------------------------------------------------

def test_key_like_values_are_never_written() -> None:
    conv = sample_conversation()
    conv.messages[1].provenance = Provenance(
        provider="custom", model="m",
        base_url=f"https://gw.example.com/v1?api_key={FAKE_KEY}",
        params={"temperature": 0.2, "api_key": FAKE_KEY, "Authorization": f"Bearer {FAKE_KEY}",
                "headers": {"x-api-key": FAKE_KEY}, "note": f"token {FAKE_KEY}",
                "weird": object()},
    )
    conv.messages[5].error = f"401 for Authorization: Bearer {FAKE_KEY}"
    data = dumps(conv)
    assert FAKE_KEY.encode() not in data
    assert b"SAMPLEKEY" not in data
    loaded = loads(data, name=NAME)
    prov = loaded.messages[1].provenance
    assert prov is not None
    assert prov.params["temperature"] == 0.2
    assert "api_key" not in prov.params
    assert "Authorization" not in prov.params


# --- size ------------------------------------------------------------------------------

def test_thousand_messages_and_forty_large_images_load_correctly(tmp_path: Path) -> None:
    rng = random.Random(7)
    images = [image(100 + i, size=300_000) for i in range(40)]
    conv = Conversation(title="big", params=ChatParams(temperature=0.3))
    for img in images:
        conv.add_image(img)
    for i in range(1000):
        shown = [images[i // 25].sha256] if i % 25 == 0 else []
        if i % 100 == 50:
            shown.append(images[rng.randrange(40)].sha256)   # a shared image, stored once
        conv.append(Message(role="user" if i % 2 == 0 else "assistant",
                            text=f"message {i} " + "lorem ipsum " * 40,
                            images=shown, created=1_700_000_000.0 + i))
    path = tmp_path / "big.qwenvl"
    save_conversation(conv, path)
    assert path.stat().st_size < 40 * 300_000 * 4 // 3 + 1_000_000   # each image once
    loaded = load_conversation(path)
    assert len(loaded.messages) == 1000
    assert loaded.messages[999].text.startswith("message 999 ")
    assert loaded.images.keys() == conv.images.keys()
    assert all(loaded.images[h].data == conv.images[h].data for h in conv.images)
    assert loaded == conv


def test_a_base_url_with_credentials_in_a_file_is_cleaned_on_load_and_round_trips() -> None:
    """Found by the property test: one changed byte turned a base URL's `/` into `@`, so the
    file loaded with `user@host` and saved back without it — a file must save back as it
    loaded, and a URL credential must never be kept."""
    from qwenvl_desktop.core.conversation import Conversation, Message, Provenance
    from qwenvl_desktop.core.storage import dumps, loads

    conv = Conversation()
    conv.append(Message(role="user", text="hi"))
    answer = conv.append(Message(role="assistant", text="hello"))
    answer.provenance = Provenance(provider="custom", model="m",
                                   base_url="http://127.0.0.1:8000/v1")
    doc = json.loads(dumps(conv))
    for message in doc["conversation"]["messages"]:
        if message.get("provenance"):
            message["provenance"]["base_url"] = "http://alice:s3cret@127.0.0.1:8000/v1"
    loaded = loads(json.dumps(doc).encode(), name="shared.qwenvl")
    prov = loaded.message(answer.id).provenance
    assert prov is not None
    assert prov.base_url == "http://127.0.0.1:8000/v1"
    assert loads(dumps(loaded), name="again.qwenvl") == loaded
    assert b"s3cret" not in dumps(loaded)
