"""Request building: every provider's URL, auth, body shape, parameters and limits."""

from __future__ import annotations

import json
from typing import Any

import pytest

from qwenvl_desktop import __version__
from qwenvl_desktop.core.api.request import (
    SYSTEM_SEPARATOR,
    HttpRequestSpec,
    build_request,
    serialize_body,
    validate_params,
)
from qwenvl_desktop.core.api.types import ChatMessage, ChatParams, ImagePart
from qwenvl_desktop.core.catalog import CustomEndpoint, Provider, load_builtin
from qwenvl_desktop.core.errors import (
    ConfigError,
    InputError,
    MissingKeyError,
    ParameterError,
    explain,
)

KEY = "sk-TESTKEY-4d1c9a7e-0123456789abcdef"
CATALOG = load_builtin()
SAMPLING = ("temperature", "top_p", "top_k", "max_tokens", "presence_penalty",
            "frequency_penalty", "repetition_penalty", "seed")


def custom_provider() -> Provider:
    endpoint = CustomEndpoint(name="local-vllm", base_url="http://127.0.0.1:8000/v1",
                              models=("Qwen/Qwen2.5-VL-7B-Instruct", "qwen3-vl-8b-thinking"))
    return CATALOG.make_custom(endpoint)


def provider(pid: str) -> Provider:
    return custom_provider() if pid == "custom" else CATALOG.get(pid)


def build(pid: str, model_id: str | None = None, messages: list[ChatMessage] | None = None,
          params: ChatParams | None = None, api_key: str | None = KEY) -> HttpRequestSpec:
    prov = provider(pid)
    model = prov.model(model_id) if model_id else prov.models[0]
    msgs = messages if messages is not None else [ChatMessage("user", "Hello")]
    return build_request(prov, model, msgs, params or ChatParams(), api_key=api_key)


# id, model, url, auth header name, auth value, model in body, streams, stream_options
WIRE = [
    ("dashscope-intl", "qwen3-vl-plus",
     "https://dashscope-intl.aliyuncs.com/compatible-mode/v1/chat/completions",
     "Authorization", f"Bearer {KEY}", True, True, True),
    ("dashscope-us", "qwen3-vl-flash-us",
     "https://dashscope-us.aliyuncs.com/compatible-mode/v1/chat/completions",
     "Authorization", f"Bearer {KEY}", True, True, True),
    ("dashscope-cn", "qwen2-vl-7b-instruct",
     "https://dashscope.aliyuncs.com/compatible-mode/v1/chat/completions",
     "Authorization", f"Bearer {KEY}", True, True, True),
    ("ovh", "Qwen2.5-VL-72B-Instruct",
     "https://oai.endpoints.kepler.ai.cloud.ovh.net/v1/chat/completions",
     "Authorization", f"Bearer {KEY}", True, True, True),
    ("aimlapi", "alibaba/qwen3-vl-32b-instruct",
     "https://api.aimlapi.com/v1/chat/completions",
     "Authorization", f"Bearer {KEY}", True, True, True),
    ("nebula", "Qwen/Qwen2.5-VL-7B-Instruct",
     "https://inference.nebulablock.com/v1/chat/completions",
     "Authorization", f"Bearer {KEY}", True, True, False),
    ("segmind", "qwen2p5-vl-32b-instruct",
     "https://api.segmind.com/v1/qwen2p5-vl-32b-instruct",
     "x-api-key", KEY, False, False, False),
    ("custom", "Qwen/Qwen2.5-VL-7B-Instruct", "http://127.0.0.1:8000/v1/chat/completions",
     "Authorization", f"Bearer {KEY}", True, True, True),
]


def test_every_builtin_provider_is_covered() -> None:
    assert {p.id for p in CATALOG.builtin()} == {row[0] for row in WIRE} - {"custom"}


@pytest.mark.parametrize(
    ("pid", "model_id", "url", "auth_name", "auth_value", "model_in_body", "streams",
     "usage_opt"), WIRE)
def test_wire_shape(pid: str, model_id: str, url: str, auth_name: str, auth_value: str,
                    model_in_body: bool, streams: bool, usage_opt: bool) -> None:
    spec = build(pid, model_id)
    assert spec.method == "POST"
    assert spec.url == url
    assert spec.headers[auth_name] == auth_value
    other = {"Authorization", "x-api-key"} - {auth_name}
    assert not other & set(spec.headers)
    assert ("model" in spec.json) is model_in_body
    if model_in_body:
        assert spec.json["model"] == model_id
    assert spec.stream is streams
    assert spec.json.get("stream", False) is streams
    assert ("stream" in spec.json) is streams    # Segmind gets no stream field at all
    assert ("stream_options" in spec.json) is usage_opt
    if usage_opt:
        assert spec.json["stream_options"] == {"include_usage": True}
    assert spec.headers["Content-Type"] == "application/json"
    assert spec.headers["Accept"] == ("text/event-stream" if streams else "application/json")
    assert spec.headers["User-Agent"] == f"qwenvl-desktop/{__version__}"
    assert spec.body_bytes == len(serialize_body(spec.json))


def test_serialize_body_is_compact_utf8() -> None:
    assert serialize_body({"a": "é 図", "b": [1, 2]}) == '{"a":"é 図","b":[1,2]}'.encode()


# --- keys ----------------------------------------------------------------------------

@pytest.mark.parametrize("pid", [p.id for p in CATALOG.builtin()])
def test_named_provider_without_key_is_refused(pid: str) -> None:
    with pytest.raises(MissingKeyError) as info:
        build(pid, api_key=None)
    assert provider(pid).name in str(info.value)
    assert info.value.provider == pid
    if provider(pid).key_env:
        assert str(provider(pid).key_env) in explain(info.value)


def test_custom_endpoint_without_key_sends_no_auth_header() -> None:
    spec = build("custom", api_key=None)
    assert "Authorization" not in spec.headers
    assert build("custom", api_key="").headers.get("Authorization") is None


def test_key_whitespace_is_trimmed_and_broken_keys_refused_without_echo() -> None:
    assert build("ovh", api_key=f"  {KEY}\n").headers["Authorization"] == f"Bearer {KEY}"
    broken = "sk-abc\ndef0123456789"
    with pytest.raises(ConfigError) as info:
        build("ovh", api_key=broken)
    assert "sk-abc" not in str(info.value)
    assert "def0123456789" not in explain(info.value)


# --- messages ------------------------------------------------------------------------

IMG1 = ImagePart("data:image/png;base64,AAAA")
IMG2 = ImagePart("https://example.com/b.jpg")


def test_images_first_then_one_text_part_and_plain_strings_otherwise() -> None:
    msgs = [
        ChatMessage("system", "Be brief."),
        ChatMessage("user", "Compare these", (IMG1, IMG2)),
        ChatMessage("assistant", "The first is a PNG."),
        ChatMessage("user", "Why?"),
        ChatMessage("user", "", (IMG1,)),
    ]
    wire = build("ovh", messages=msgs).json["messages"]
    assert wire[0] == {"role": "system", "content": "Be brief."}
    assert wire[1] == {"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": IMG1.url}},
        {"type": "image_url", "image_url": {"url": IMG2.url}},
        {"type": "text", "text": "Compare these"},
    ]}
    assert wire[2] == {"role": "assistant", "content": "The first is a PNG."}
    assert wire[3] == {"role": "user", "content": "Why?"}
    # An image without words gets no empty text part.
    assert wire[4] == {"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": IMG1.url}}]}


@pytest.mark.parametrize(("pid", "model_id"), [("segmind", None), ("dashscope-intl", "qvq-max"),
                                               ("dashscope-cn", "qvq-max-latest")])
def test_system_text_is_folded_into_first_user_turn(pid: str, model_id: str | None) -> None:
    msgs = [
        ChatMessage("system", "Answer in French."),
        ChatMessage("user", "What is this?", (IMG1,)),
        ChatMessage("assistant", "Un chien."),
        ChatMessage("user", "And the colour?"),
    ]
    wire = build(pid, model_id, messages=msgs).json["messages"]
    assert [m["role"] for m in wire] == ["user", "assistant", "user"]
    first = wire[0]["content"]
    assert first[0]["image_url"]["url"] == IMG1.url
    assert first[-1] == {"type": "text",
                         "text": f"Answer in French.{SYSTEM_SEPARATOR}What is this?"}
    assert wire[2]["content"] == "And the colour?"


def test_system_images_travel_with_the_folded_text() -> None:
    msgs = [ChatMessage("system", "Use this logo as reference.", (IMG2,)),
            ChatMessage("user", "Is it on the page?", (IMG1,))]
    wire = build("segmind", messages=msgs).json["messages"]
    assert wire == [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": IMG2.url}},
        {"type": "image_url", "image_url": {"url": IMG1.url}},
        {"type": "text",
         "text": f"Use this logo as reference.{SYSTEM_SEPARATOR}Is it on the page?"}]}]


def test_system_kept_where_accepted_and_made_a_user_turn_if_alone() -> None:
    msgs = [ChatMessage("system", "Be terse."), ChatMessage("user", "Hi")]
    assert build("ovh", messages=msgs).json["messages"][0]["role"] == "system"
    only = build("segmind", messages=[ChatMessage("system", "Be terse.")]).json["messages"]
    assert only == [{"role": "user", "content": "Be terse."}]


# --- parameters ----------------------------------------------------------------------

ALL_SET = ChatParams(temperature=0.7, top_p=0.9, top_k=20, max_tokens=100,
                     presence_penalty=0.5, frequency_penalty=0.5, repetition_penalty=1.05,
                     seed=42, stop=("END",))

SENT = {
    "dashscope-intl": {"temperature", "top_p", "top_k", "max_tokens", "presence_penalty",
                       "repetition_penalty", "seed", "stop"},
    "ovh": {"temperature", "top_p", "max_tokens", "presence_penalty", "frequency_penalty",
            "seed", "stop"},
    "aimlapi": {"temperature", "top_p", "max_tokens", "presence_penalty", "frequency_penalty",
                "repetition_penalty", "seed", "stop"},
    "nebula": {"temperature", "top_p", "max_tokens"},
    "segmind": set(),
    "custom": {"temperature", "top_p", "max_tokens", "presence_penalty", "frequency_penalty",
               "seed", "stop"},
}
SENT["dashscope-us"] = SENT["dashscope-cn"] = SENT["dashscope-intl"]
STRUCTURAL = {"model", "messages", "stream", "stream_options"}


def wire_name(pid: str, name: str) -> str:
    """The body field a parameter goes in: the output cap's name differs per provider."""
    return provider(pid).output_cap_field if name == "max_tokens" else name


@pytest.mark.parametrize("pid", sorted(SENT))
def test_only_accepted_parameters_are_sent(pid: str) -> None:
    body = build(pid, params=ALL_SET).json
    assert set(body) - STRUCTURAL == {wire_name(pid, n) for n in SENT[pid]}
    for name in SENT[pid] - {"stop"}:
        assert body[wire_name(pid, name)] == getattr(ALL_SET, name)
    if "stop" in SENT[pid]:
        assert body["stop"] == ["END"]


def test_unset_parameters_are_not_sent() -> None:
    body = build("dashscope-intl", params=ChatParams()).json
    assert set(body) == {"model", "messages", "stream", "stream_options"}


def _edges(pid: str) -> list[tuple[str, str, float, bool]]:
    """(provider, parameter, value, accepted) at and around every bound the provider has."""
    cases: list[tuple[str, str, float, bool]] = []
    for name, spec in provider(pid).params.items():
        if name not in SAMPLING:
            continue
        step = 1 if spec.integer else 0.001
        if spec.min is not None:
            cases.append((pid, name, spec.min, not spec.min_exclusive))
            cases.append((pid, name, spec.min - step, False))
            cases.append((pid, name, spec.min + step, True))
        if spec.max is not None:
            cases.append((pid, name, spec.max, not spec.max_exclusive))
            cases.append((pid, name, spec.max + step, False))
            cases.append((pid, name, spec.max - step, True))
    return cases


EDGES = [case for pid in sorted(SENT) for case in _edges(pid)]


@pytest.mark.parametrize(("pid", "name", "value", "accepted"), EDGES)
def test_range_edges(pid: str, name: str, value: float, accepted: bool) -> None:
    spec = provider(pid).params[name]
    wire_value: Any = int(value) if spec.integer else value
    params = ChatParams(**{name: wire_value})
    if accepted:
        body = build(pid, params=params).json
        assert body[wire_name(pid, name)] == wire_value
        return
    with pytest.raises(ParameterError) as info:
        build(pid, params=params, api_key=KEY)
    text = str(info.value)
    assert name in text
    assert provider(pid).name in text
    assert spec.describe() in text
    shown = str(int(wire_value)) if float(wire_value).is_integer() else f"{wire_value:g}"
    assert shown in text
    assert KEY not in text
    assert KEY not in explain(info.value)


def test_named_edges_from_the_brief() -> None:
    with pytest.raises(ParameterError, match=r"top_p = 0 .*\(0, 1\]"):
        build("dashscope-intl", params=ChatParams(top_p=0.0))
    with pytest.raises(ParameterError, match=r"seed = 0 .*AI/ML API"):
        build("aimlapi", params=ChatParams(seed=0))
    assert build("dashscope-intl", params=ChatParams(seed=0)).json["seed"] == 0
    with pytest.raises(ParameterError, match=r"temperature = 2 .*\[0, 2\)"):
        build("dashscope-intl", params=ChatParams(temperature=2.0))
    assert build("ovh", params=ChatParams(temperature=2.0)).json["temperature"] == 2.0
    with pytest.raises(ParameterError):
        build("aimlapi", params=ChatParams(top_p=0.009))
    assert build("aimlapi", params=ChatParams(top_p=0.01)).json["top_p"] == 0.01


def test_integers_whole_numbers_and_non_numbers() -> None:
    body = build("ovh", params=ChatParams(max_tokens=100.0)).json  # type: ignore[arg-type]
    assert body["max_tokens"] == 100
    assert isinstance(body["max_tokens"], int)
    with pytest.raises(ParameterError, match="whole number"):
        build("ovh", params=ChatParams(max_tokens=1.5))  # type: ignore[arg-type]
    with pytest.raises(ParameterError):
        build("ovh", params=ChatParams(temperature=float("nan")))
    with pytest.raises(ParameterError):
        build("ovh", params=ChatParams(temperature=True))


def test_stop_sequences_are_limited_to_four() -> None:
    four = ("a", "b", "c", "d")
    assert build("ovh", params=ChatParams(stop=four)).json["stop"] == list(four)
    with pytest.raises(ParameterError, match="at most 4"):
        build("ovh", params=ChatParams(stop=(*four, "e")))


def test_validate_params_agrees_with_build_request() -> None:
    prov = CATALOG.get("dashscope-intl")
    validate_params(prov, prov.model("qwen3-vl-plus"), ALL_SET)
    with pytest.raises(ParameterError):
        validate_params(prov, prov.model("qwen3-vl-plus"), ChatParams(top_p=0.0))


# --- thinking, high resolution, DashScope extras ------------------------------------

def test_optional_thinking_model() -> None:
    none = build("dashscope-intl", "qwen3-vl-plus", params=ChatParams(thinking_budget=500)).json
    assert "enable_thinking" not in none
    assert "thinking_budget" not in none
    on = build("dashscope-intl", "qwen3-vl-plus",
               params=ChatParams(thinking=True, thinking_budget=500)).json
    assert on["enable_thinking"] is True
    assert on["thinking_budget"] == 500
    assert on["stream"] is True
    off = build("dashscope-intl", "qwen3-vl-plus",
                params=ChatParams(thinking=False, thinking_budget=500)).json
    assert off["enable_thinking"] is False
    assert "thinking_budget" not in off


@pytest.mark.parametrize(("budget", "accepted"), [(0, False), (1, True), (81920, True),
                                                  (81921, False)])
def test_thinking_budget_range(budget: int, accepted: bool) -> None:
    params = ChatParams(thinking=True, thinking_budget=budget)
    if accepted:
        assert build("dashscope-us", "qwen3-vl-flash-us", params=params).json[
            "thinking_budget"] == budget
    else:
        with pytest.raises(ParameterError, match="thinking_budget"):
            build("dashscope-us", "qwen3-vl-flash-us", params=params)


@pytest.mark.parametrize(("pid", "model_id"), [
    ("dashscope-intl", "qwen3-vl-8b-thinking"), ("dashscope-intl", "qvq-max"),
    ("aimlapi", "alibaba/qwen3-vl-32b-thinking"), ("custom", "qwen3-vl-8b-thinking"),
])
def test_always_thinking_models_stream_and_get_no_enable_thinking(pid: str,
                                                                  model_id: str) -> None:
    spec = build(pid, model_id, params=ChatParams(thinking=True))
    assert spec.stream is True
    assert spec.json["stream"] is True
    assert "enable_thinking" not in spec.json


def test_always_thinking_model_takes_a_budget_where_the_provider_does() -> None:
    body = build("dashscope-intl", "qwen3-vl-8b-thinking",
                 params=ChatParams(thinking_budget=2048)).json
    assert body["thinking_budget"] == 2048
    aiml = build("aimlapi", "alibaba/qwen3-vl-32b-thinking",
                 params=ChatParams(thinking_budget=2048)).json
    assert "thinking_budget" not in aiml


@pytest.mark.parametrize(("pid", "model_id"), [
    ("dashscope-intl", "qwen2.5-vl-72b-instruct"), ("ovh", None), ("segmind", None),
])
def test_thinking_on_a_model_without_thinking_is_refused(pid: str, model_id: str | None) -> None:
    with pytest.raises(ParameterError, match="no thinking mode"):
        build(pid, model_id, params=ChatParams(thinking=True))
    assert "enable_thinking" not in build(pid, model_id, params=ChatParams(thinking=False)).json


def test_high_resolution_rules() -> None:
    body = build("dashscope-intl", "qwen3-vl-plus",
                 params=ChatParams(high_resolution=True)).json
    assert body["vl_high_resolution_images"] is True
    for pid, model_id in [("dashscope-intl", "qwen-vl-ocr"), ("ovh", None), ("nebula", None),
                          ("aimlapi", None), ("segmind", None), ("custom", None)]:
        with pytest.raises(ParameterError, match="High-resolution"):
            build(pid, model_id, params=ChatParams(high_resolution=True))
    assert "vl_high_resolution_images" not in build("dashscope-intl", "qwen3-vl-plus").json


def test_dashscope_extras_sit_at_the_top_level() -> None:
    params = ChatParams(thinking=True, thinking_budget=300, high_resolution=True, top_k=40,
                        repetition_penalty=1.1)
    body = build("dashscope-cn", "qwen3-vl-plus", params=params).json
    for name, value in [("enable_thinking", True), ("thinking_budget", 300),
                        ("vl_high_resolution_images", True), ("top_k", 40),
                        ("repetition_penalty", 1.1)]:
        assert body[name] == value
    assert "extra_body" not in body
    assert "parameters" not in body
    assert set(body) <= STRUCTURAL | set(SAMPLING) | {
        "stop", "enable_thinking", "thinking_budget", "vl_high_resolution_images"}


# --- size limit ----------------------------------------------------------------------

def _image_of(size: int) -> ImagePart:
    return ImagePart("data:image/png;base64," + "A" * size)


def test_body_over_ovh_limit_is_refused_before_sending() -> None:
    msgs = [ChatMessage("user", "Describe", (_image_of(2_100_000),))]
    with pytest.raises(InputError) as info:
        build("ovh", messages=msgs)
    assert info.value.name == "request"
    assert "2.1 MB is over OVHcloud AI Endpoints's limit of 2 MB" in str(info.value)
    assert "drop images from older turns" in str(info.value)


def test_body_under_limit_passes_and_reports_its_size() -> None:
    msgs = [ChatMessage("user", "Describe", (_image_of(1_500_000),))]
    spec = build("ovh", messages=msgs)
    assert 1_500_000 < spec.body_bytes < 2_000_000
    assert spec.body_bytes == len(serialize_body(spec.json))
    # Providers without a documented limit take the same body and more.
    big = [ChatMessage("user", "Describe", (_image_of(3_000_000),))]
    assert build("dashscope-intl", messages=big).body_bytes > 3_000_000


def test_size_is_measured_in_utf8_bytes() -> None:
    text = "図" * 700_000          # 2.1 MB as UTF-8, 0.7 M characters
    with pytest.raises(InputError):
        build("ovh", messages=[ChatMessage("user", text)])
    spec = build("dashscope-intl", messages=[ChatMessage("user", text)])
    assert json.loads(serialize_body(spec.json))["messages"][0]["content"] == text


# --- the body, with images spliced in ----------------------------------------------------

def test_body_chunks_with_verbatim_urls_are_the_same_bytes_as_serialize_body() -> None:
    from qwenvl_desktop.core.api.request import body_chunks

    url = "data:image/png;base64," + "QUJD" * 50_000
    twin = "".join(["data:image/png;base64,", "QUJD" * 50_000])   # equal, not the same
    body = {"messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": url}},
        {"type": "image_url", "image_url": {"url": twin}},
        {"type": "text", "text": 'quotes " and \\ and \u0000 and é 図'}]}],
        "stream": True}
    chunks = body_chunks(body, [url])
    assert b"".join(chunks) == serialize_body(body)
    # The marked one is a piece of its own; its equal twin went through the encoder.
    assert [c for c in chunks if c == url.encode()] == [url.encode()]


def test_images_are_marked_verbatim_only_when_the_app_encoded_them() -> None:
    from qwenvl_desktop.core.conversation import StoredImage

    own = StoredImage(sha256="a" * 64, mime="image/png", data=b"\x89PNG", width=1, height=1)
    assert own.wire_part().verbatim
    odd = StoredImage(sha256="b" * 64, mime='image/png"}, "x": "', data=b"1", width=1,
                      height=1)
    assert odd.wire_part().url.startswith("data:application/octet-stream;base64,")
    linked = StoredImage(sha256="c" * 64, mime="image/png", data=b"",
                         width=1, height=1, source_url='data:image/png;base64,"evil"')
    part = linked.wire_part()
    assert not part.verbatim
    spec = build("dashscope-intl", messages=[ChatMessage("user", "x", (part,))])
    assert json.loads(spec.body)["messages"][0]["content"][0]["image_url"]["url"] == (
        linked.source_url)
