"""Documents and clips in a conversation: on the wire, and in saved files."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from qwenvl_desktop.core.api.request import build_request
from qwenvl_desktop.core.api.types import ChatMessage, ChatParams, ImagePart, VideoPart
from qwenvl_desktop.core.catalog import load_builtin
from qwenvl_desktop.core.conversation import Conversation, Message, StoredImage
from qwenvl_desktop.core.errors import ConversationFileError
from qwenvl_desktop.core.media_groups import MediaGroup
from qwenvl_desktop.core.storage import FORMAT_VERSION, dumps, loads

CATALOG = load_builtin()
DASHSCOPE = CATALOG.get("dashscope-intl")
OVH = CATALOG.get("ovh")
SEGMIND = CATALOG.get("segmind")


def _frames(n: int) -> VideoPart:
    return VideoPart(frames=tuple(f"data:image/jpeg;base64,AAA{i}" for i in range(n)),
                     timestamps=tuple(0.5 + i for i in range(n)))


def _content(provider_id: str, model_id: str, message: ChatMessage) -> list[dict[str, Any]]:
    provider = CATALOG.get(provider_id)
    spec = build_request(provider, provider.model(model_id), [message], ChatParams(),
                         api_key="sk-test")
    content = spec.json["messages"][-1]["content"]
    assert isinstance(content, list)
    return content


def test_dashscope_gets_one_frame_list_video_part() -> None:
    message = ChatMessage(role="user", text="What happens?", videos=(_frames(6),))
    content = _content("dashscope-intl", "qwen3-vl-plus", message)
    assert content == [
        {"type": "video", "video": [f"data:image/jpeg;base64,AAA{i}" for i in range(6)]},
        {"type": "text", "text": "What happens?"},
    ]


def test_elsewhere_frames_go_as_images_after_their_time() -> None:
    message = ChatMessage(role="user", text="What happens?", videos=(_frames(4),))
    content = _content("ovh", "Qwen2.5-VL-72B-Instruct", message)
    assert [p["type"] for p in content] == ["text", "image_url"] * 4 + ["text"]
    assert [p["text"] for p in content if p["type"] == "text"] == [
        "<0.5 seconds>", "<1.5 seconds>", "<2.5 seconds>", "<3.5 seconds>", "What happens?"]
    assert content[1]["image_url"]["url"] == "data:image/jpeg;base64,AAA0"


@pytest.mark.parametrize(("model", "frames"), [
    ("qwen3-vl-plus", 3),        # under DashScope's 4-frame minimum
    ("qwen-vl-ocr", 8),          # a model the catalog marks as not reading video
])
def test_dashscope_falls_back_to_images_where_a_frame_list_would_be_refused(
        model: str, frames: int) -> None:
    content = _content("dashscope-intl", model,
                       ChatMessage(role="user", text="Hi", videos=(_frames(frames),)))
    assert not any(p["type"] == "video" for p in content)
    assert sum(p["type"] == "image_url" for p in content) == frames


def test_images_come_before_videos_and_folded_system_text_keeps_the_clip() -> None:
    messages = [ChatMessage(role="system", text="Be brief."),
                ChatMessage(role="user", text="Compare",
                            images=(ImagePart("data:image/png;base64,P"),),
                            videos=(_frames(4),))]
    spec = build_request(SEGMIND, SEGMIND.models[0], messages, ChatParams(), api_key="k")
    content = spec.json["messages"][0]["content"]
    assert content[0] == {"type": "image_url", "image_url": {"url": "data:image/png;base64,P"}}
    assert sum(p["type"] == "image_url" for p in content) == 5
    assert content[-1]["text"].startswith("Be brief.")


def _image(tag: str) -> StoredImage:
    import hashlib
    data = tag.encode()
    return StoredImage(sha256=hashlib.sha256(data).hexdigest(), mime="image/jpeg", data=data,
                       width=64, height=64, original_name=tag)


def _conversation() -> Conversation:
    conv = Conversation(title="Media")
    pages = [_image(f"page{i}") for i in (1, 2)]
    frames = [_image(f"frame{i}") for i in range(4)]
    photo = _image("photo")
    message = Message(role="user", text="Look")
    for img in (photo, *pages, *frames):
        message.images.append(conv.add_image(img))
    message.media = [
        MediaGroup(kind="document", name="report.pdf", images=[p.sha256 for p in pages],
                   pages=[3, 4], page_count=9, tokens=5020),
        MediaGroup(kind="video", name="clip.mp4", images=[f.sha256 for f in frames],
                   timestamps=[0.25, 0.75, 1.25, 1.75], duration=2.0, tokens=568),
    ]
    conv.append(message)
    conv.append(Message(role="assistant", text="Seen."))
    return conv


def test_conversation_sends_pages_as_images_and_the_clip_as_a_video() -> None:
    wire = _conversation().to_wire()
    user = wire[0]
    assert len(user.images) == 3                      # the photo and two pages
    assert len(user.videos) == 1
    assert len(user.videos[0].frames) == 4
    assert user.videos[0].timestamps == (0.25, 0.75, 1.25, 1.75)
    # Dropping older turns' images drops their clips too.
    conv = _conversation()
    conv.append(Message(role="user", text="And this?", images=[conv.messages[0].images[0]]))
    older = conv.to_wire(drop_old_images=True)[0]
    assert older.images == ()
    assert older.videos == ()


def test_media_survive_save_and_reopen() -> None:
    conv = _conversation()
    loaded = loads(dumps(conv), name="m.qwenvl")
    assert loaded.messages[0].media == conv.messages[0].media
    assert loaded == conv
    assert loaded.messages[0].media[0].describe() == "report.pdf · pages 3–4 of 9"
    assert loaded.messages[0].media[1].describe() == "clip.mp4 · 2.0 s · 4 frames"


def _doc() -> dict[str, Any]:
    parsed = json.loads(dumps(_conversation()))
    assert isinstance(parsed, dict)
    return parsed


def test_format_1_files_open_with_no_media() -> None:
    doc = _doc()
    doc["version"] = 1
    for message in doc["conversation"]["messages"]:
        del message["media"]
    loaded = loads(json.dumps(doc).encode(), name="old.qwenvl")
    assert FORMAT_VERSION >= 2                         # media came with format 2
    assert loaded.messages[0].media == []
    assert len(loaded.messages[0].images) == 7          # pages and frames still shown


@pytest.mark.parametrize(("change", "reason"), [
    (lambda g: g.update(kind="audio"), "kind is \"audio\""),
    (lambda g: g.update(images=["0" * 64]), "not one of the message's images"),
    (lambda g: g.update(images=[]), "images is empty"),
    (lambda g: g.update(pages=[3]), "pages has 1 entries for 2 images"),
    (lambda g: g.update(pages=[0, 1]), "page number ≥ 1"),
    (lambda g: g.update(name=5), "name should be text"),
    (lambda g: g.update(kind="video", timestamps=[1.0, -2.0]), "seconds ≥ 0"),
    (lambda g: g.update(kind="video", timestamps=[1.0]), "timestamps has 1 entries"),
    (lambda g: g.update(duration=-1), "duration should be ≥ 0"),
    (lambda g: g.update(tokens="many"), "tokens should be"),
])
def test_damaged_media_entries_are_refused_with_their_place(change: Any, reason: str) -> None:
    doc = copy.deepcopy(_doc())
    change(doc["conversation"]["messages"][0]["media"][0])
    with pytest.raises(ConversationFileError) as caught:
        loads(json.dumps(doc).encode(), name="bad.qwenvl")
    assert "messages[0].media[0]" in str(caught.value)
    assert reason in str(caught.value)


def test_history_cost_counts_clips_by_the_video_rule_where_they_go_as_videos() -> None:
    from qwenvl_desktop.core.media import resend_costs
    from qwenvl_desktop.core.tokens import image_tokens, video_tokens

    conv = _conversation()
    qwen3 = DASHSCOPE.model("qwen3-vl-plus")
    [(count, tokens)] = resend_costs(conv.images, conv.messages, qwen3, DASHSCOPE)
    assert count == 7
    assert tokens == 3 * image_tokens(64, 64, qwen3) + video_tokens(64, 64, 4, qwen3)
    qwen25 = OVH.model("Qwen2.5-VL-72B-Instruct")
    [(count, tokens)] = resend_costs(conv.images, conv.messages, qwen25, OVH)
    assert count == 7
    assert tokens == 3 * image_tokens(64, 64, qwen25) + 4 * (image_tokens(64, 64, qwen25) + 6)
