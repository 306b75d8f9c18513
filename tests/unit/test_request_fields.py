"""What each provider is sent since the 2026 changes: the output-cap field, per-image
pixel limits, and thinking on by default for Qwen3.5 and later."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qwenvl_desktop.core.api.image_parts import pixel_limits
from qwenvl_desktop.core.api.request import build_request
from qwenvl_desktop.core.api.types import ChatMessage, ChatParams, ImagePart
from qwenvl_desktop.core.catalog import CustomEndpoint, load_builtin
from qwenvl_desktop.core.errors import ConfigError
from qwenvl_desktop.core.tokens import smart_resize, target_size

KEY = "sk-TESTKEY-4d1c9a7e-0123456789abcdef"
CATALOG = load_builtin()


def body(pid: str, model_id: str, params: ChatParams | None = None,
         images: tuple[ImagePart, ...] = ()) -> dict[str, object]:
    provider = CATALOG.get(pid)
    msgs = [ChatMessage("user", "What is this?", images)]
    return build_request(provider, provider.model(model_id), msgs, params or ChatParams(),
                         api_key=KEY).json


@pytest.mark.parametrize(("pid", "model_id", "field"), [
    ("dashscope-intl", "qwen3-vl-plus", "max_completion_tokens"),
    ("dashscope-us", "qwen3-vl-flash-us", "max_completion_tokens"),
    ("dashscope-cn", "qwen2-vl-7b-instruct", "max_completion_tokens"),
    ("aimlapi", "alibaba/qwen3-vl-32b-instruct", "max_completion_tokens"),
    ("ovh", "Qwen2.5-VL-72B-Instruct", "max_tokens"),
    ("nebula", "Qwen/Qwen2.5-VL-7B-Instruct", "max_tokens"),
])
def test_the_output_cap_goes_in_the_field_each_provider_documents(
        pid: str, model_id: str, field: str) -> None:
    sent = body(pid, model_id, ChatParams(max_tokens=512))
    assert sent[field] == 512
    other = {"max_tokens", "max_completion_tokens"} - {field}
    assert not other & set(sent)


def test_custom_endpoints_send_max_tokens_unless_switched() -> None:
    def sent(field: str) -> dict[str, object]:
        provider = CATALOG.make_custom(CustomEndpoint(
            name="gw", base_url="http://127.0.0.1:9/v1", models=("m",), output_cap_field=field))
        return build_request(provider, provider.models[0], [ChatMessage("user", "hi")],
                             ChatParams(max_tokens=64), api_key=None).json

    assert sent("")["max_tokens"] == 64
    switched = sent("max_completion_tokens")
    assert switched["max_completion_tokens"] == 64
    assert "max_tokens" not in switched
    with pytest.raises(ConfigError, match="max_output"):
        sent("max_output")


def test_dashscope_images_carry_the_limits_they_were_prepared_with() -> None:
    model = CATALOG.get("dashscope-intl").model("qwen3-vl-plus")
    image = ImagePart("data:image/png;base64,AAAA", width=1376, height=1856)
    parts = body("dashscope-intl", "qwen3-vl-plus", images=(image,))["messages"]
    url = parts[0]["content"][0]["image_url"]  # type: ignore[index]
    assert url == {"url": image.url, "min_pixels": model.min_pixels(),
                   "max_pixels": model.max_pixels(False)}
    high = body("dashscope-intl", "qwen3-vl-plus", ChatParams(high_resolution=True),
                images=(image,))["messages"]
    assert high[0]["content"][0]["image_url"]["max_pixels"] == 16384 * 32 * 32  # type: ignore[index]


def test_other_providers_get_a_plain_image_url() -> None:
    image = ImagePart("data:image/png;base64,AAAA", width=896, height=672)
    for pid, model_id in (("ovh", "Qwen2.5-VL-72B-Instruct"),
                          ("aimlapi", "alibaba/qwen3-vl-32b-instruct")):
        part = body(pid, model_id, images=(image,))["messages"][0]["content"][0]  # type: ignore[index]
        assert part == {"type": "image_url", "image_url": {"url": image.url}}


MODELS = [m for m in CATALOG.get("dashscope-cn").models if m.vision]


@settings(max_examples=300, deadline=None)
@given(model=st.sampled_from(MODELS), width=st.integers(11, 6000),
       height=st.integers(11, 6000), high=st.booleans(), other=st.sampled_from(MODELS))
def test_the_server_resize_is_a_no_op_for_the_prepared_size(
        model: object, width: int, height: int, high: bool, other: object) -> None:
    """Given the limits we send, the server's smart_resize keeps the size we prepared:
    also for images prepared earlier for another model with the same patch size."""
    from qwenvl_desktop.core.catalog import Model

    assert isinstance(model, Model)
    assert isinstance(other, Model)
    if aspect_too_wide(width, height):
        return
    high = high and other.high_res_token_cap > 0
    w, h = target_size(width, height, other, high)
    part = ImagePart("data:,", width=w, height=h)
    low, top = pixel_limits(part, model, high_resolution=high and model.high_res_token_cap > 0)
    assert low <= w * h <= top
    if other.patch_factor == model.patch_factor:
        assert smart_resize(h, w, model.patch_factor, low, top) == (h, w)


def aspect_too_wide(width: int, height: int) -> bool:
    return max(width, height) / min(width, height) > 200


def test_qwen35_thinks_by_default_and_streams() -> None:
    sent = body("dashscope-intl", "qwen3.5-plus")
    assert sent["stream"] is True
    assert "enable_thinking" not in sent          # the provider's default (on) applies
    off = body("dashscope-intl", "qwen3.5-plus", ChatParams(thinking=False))
    assert off["enable_thinking"] is False
    budget = body("dashscope-intl", "qwen3.5-plus", ChatParams(thinking_budget=2048))
    assert budget["thinking_budget"] == 2048
    vl = body("dashscope-intl", "qwen3-vl-plus", ChatParams(thinking_budget=2048))
    assert "thinking_budget" not in vl             # off by default on Qwen3-VL Plus


def test_catalog_marks_grounding_and_assumed_figures() -> None:
    intl = CATALOG.get("dashscope-intl")
    assert intl.model("qwen2.5-vl-72b-instruct").grounding == "absolute"
    assert intl.model("qvq-max").grounding == "absolute"
    assert intl.model("qwen3-vl-plus").grounding == "relative-1000"
    assert intl.model("qwen3.5-plus").grounding == "relative-1000"
    assert CATALOG.get("dashscope-cn").model("qwen2-vl-2b-instruct").grounding == "relative-1000"
    ocr = intl.model("qwen-vl-ocr")
    assert (ocr.patch_factor, ocr.image_token_cap, ocr.min_image_tokens) == (32, 8192, 3)
    assert CATALOG.get("dashscope-cn").model("qwen-vl-ocr-2024-10-28").patch_factor == 28
    assert "image_token_cap" in intl.model("qwen3.5-plus").assumed
    assert intl.model("qwen3-vl-plus").assumed == ()
    assert intl.model("qwen3.5-plus-2026-02-15").thinks_by_default
