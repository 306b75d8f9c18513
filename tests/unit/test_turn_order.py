"""After a failed turn: two questions in a row are sent as they are, or joined into one
user turn, as the catalog says for the provider."""

from __future__ import annotations

import base64
import io
from importlib import resources
from itertools import pairwise

import pytest
from PIL import Image

from qwenvl_desktop.core.api.request import build_request
from qwenvl_desktop.core.api.turn_order import merge_user_runs
from qwenvl_desktop.core.api.types import ChatMessage, ChatParams, ImagePart
from qwenvl_desktop.core.catalog import CustomEndpoint, load_builtin, parse_catalog
from qwenvl_desktop.core.conversation import Conversation, Message, left_out_of_history
from qwenvl_desktop.core.errors import ConfigError

CATALOG = load_builtin()
KEY = "sk-TESTKEY-0000"


def png_uri() -> str:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "teal").save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


def after_a_failed_turn() -> Conversation:
    """Q1 answered, Q2 failed with HTTP 400, Q3 being asked."""
    conv = Conversation(system_prompt="Be brief.")
    conv.append(Message(role="user", text="Q1"))
    conv.append(Message(role="assistant", text="A1"))
    conv.append(Message(role="user", text="Q2"))
    conv.append(Message(role="assistant", status="error", error="HTTP 400: refused"))
    conv.append(Message(role="user", text="Q3"))
    return conv


def wire_roles_and_texts(pid: str, messages: list[ChatMessage]) -> list[tuple[str, object]]:
    provider = CATALOG.get(pid)
    spec = build_request(provider, provider.models[0], messages, ChatParams(), api_key=KEY)
    return [(m["role"], m["content"]) for m in spec.json["messages"]]


def test_the_history_leaves_the_failed_answer_out() -> None:
    conv = after_a_failed_turn()
    assert [m.role for m in conv.to_wire()] == ["system", "user", "assistant", "user", "user"]
    assert left_out_of_history(conv.messages[3])
    assert left_out_of_history(Message(role="assistant", status="stopped"))   # empty
    assert not left_out_of_history(Message(role="assistant", text="part",
                                           status="interrupted"))


@pytest.mark.parametrize("pid", ["dashscope-intl", "dashscope-us", "dashscope-cn",
                                 "aimlapi", "segmind"])
def test_merge_joins_the_unanswered_question_with_the_next(pid: str) -> None:
    wire = wire_roles_and_texts(pid, after_a_failed_turn().to_wire())
    roles = [role for role, _ in wire]
    assert all(not (a == b == "user") for a, b in pairwise(roles))
    assert wire[-1] == ("user", "Q2\n\nQ3")
    assert wire[-2] == ("assistant", "A1")


@pytest.mark.parametrize("pid", ["ovh", "nebula"])
def test_keep_sends_them_as_they_are(pid: str) -> None:
    wire = wire_roles_and_texts(pid, after_a_failed_turn().to_wire())
    assert wire[-2:] == [("user", "Q2"), ("user", "Q3")]


def test_custom_endpoints_merge() -> None:
    custom = CATALOG.make_custom(CustomEndpoint(name="local", base_url="http://127.0.0.1:9/v1",
                                                models=("Qwen/Qwen2.5-VL-7B-Instruct",)))
    assert custom.consecutive_user_turns == "merge"


def test_each_questions_images_stay_next_to_its_words() -> None:
    two, three = png_uri(), png_uri()
    messages = [ChatMessage("user", "Q2", images=(ImagePart(two, 40, 30),)),
                ChatMessage("user", "Q3", images=(ImagePart(three, 40, 30),)),
                ChatMessage("user", "and one more")]
    provider = CATALOG.get("dashscope-intl")
    spec = build_request(provider, provider.model("qwen3-vl-plus"), messages, ChatParams(),
                         api_key=KEY)
    (only,) = spec.json["messages"]
    kinds = [(part["type"], part.get("text")) for part in only["content"]]
    assert kinds == [("image_url", None), ("text", "Q2"), ("image_url", None),
                     ("text", "Q3\n\nand one more")]
    assert [part["image_url"]["url"] for part in only["content"]
            if part["type"] == "image_url"] == [two, three]
    # The images are spliced in verbatim: the body sent is the JSON of the merged body.
    assert spec.body.decode().count(two.split(",", 1)[1]) == 2


def test_merge_leaves_everything_else_alone() -> None:
    messages = [{"role": "system", "content": "S"}, {"role": "user", "content": ""},
                {"role": "user", "content": "Q"}, {"role": "assistant", "content": "A"},
                {"role": "assistant", "content": "B"}, {"role": "user", "content": "Q4"}]
    assert merge_user_runs(messages) == [
        {"role": "system", "content": "S"}, {"role": "user", "content": "Q"},
        {"role": "assistant", "content": "A"}, {"role": "assistant", "content": "B"},
        {"role": "user", "content": "Q4"}]
    assert merge_user_runs([]) == []


def test_the_flag_is_checked() -> None:
    shipped = resources.files("qwenvl_desktop.core").joinpath("providers.toml").read_text(
        "utf-8")
    wrong = shipped.replace('consecutive_user_turns = "keep"', 'consecutive_user_turns = "twice"',
                            1)
    assert wrong != shipped
    with pytest.raises(ConfigError, match="consecutive_user_turns"):
        parse_catalog(wrong)
