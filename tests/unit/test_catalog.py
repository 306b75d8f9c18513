"""The provider catalog: the shipped data file loads, and base URLs are checked."""

from __future__ import annotations

import pytest

from qwenvl_desktop.core.catalog import (
    CustomEndpoint,
    check_base_url,
    infer_model,
    load_builtin,
)
from qwenvl_desktop.core.errors import ConfigError

SEED_PROVIDERS = {"dashscope-intl", "dashscope-us", "dashscope-cn", "ovh", "aimlapi",
                  "nebula", "segmind"}


def test_every_seed_provider_is_in_the_catalog_with_its_documented_endpoint() -> None:
    catalog = load_builtin()
    assert set(catalog.providers) == SEED_PROVIDERS
    assert catalog.get("dashscope-intl").chat_url("qwen3-vl-plus") == (
        "https://dashscope-intl.aliyuncs.com/compatible-mode/v1/chat/completions")
    assert catalog.get("dashscope-cn").chat_url("qvq-max").startswith(
        "https://dashscope.aliyuncs.com/")
    assert catalog.get("segmind").chat_url("qwen2p5-vl-32b-instruct") == (
        "https://api.segmind.com/v1/qwen2p5-vl-32b-instruct")
    assert catalog.get("segmind").auth_header == "x-api-key"
    assert catalog.get("ovh").max_body_bytes == 2_000_000
    assert catalog.get("nebula").models[0].id == "Qwen/Qwen2.5-VL-7B-Instruct"


def test_dashscope_keys_are_per_region() -> None:
    catalog = load_builtin()
    ids = {catalog.get(p).key_id for p in ("dashscope-intl", "dashscope-us", "dashscope-cn")}
    assert len(ids) == 3


def test_snapshots_resolve_to_their_family_with_the_dated_id() -> None:
    model = load_builtin().get("dashscope-intl").model("qvq-max-2025-03-25")
    assert model.id == "qvq-max-2025-03-25"
    assert model.streaming_only
    assert not model.accepts_system
    assert model.patch_factor == 28


def test_unknown_model_on_a_builtin_provider_is_refused_with_the_known_ones() -> None:
    with pytest.raises(ConfigError, match="qwen3-vl-plus"):
        load_builtin().get("dashscope-intl").model("gpt-4o")


@pytest.mark.parametrize(("name", "factor", "vision"), [
    ("Qwen/Qwen2.5-VL-7B-Instruct", 28, True),
    ("qwen3-vl:8b", 32, True),
    ("QVQ-72B-Preview", 28, True),
    ("llama3.1:8b", 32, False),
])
def test_custom_models_are_inferred_from_their_names(name: str, factor: int,
                                                      vision: bool) -> None:
    model = infer_model(name)
    assert model.patch_factor == factor
    assert model.vision is vision


@pytest.mark.parametrize("url", [
    "http://example.com/v1",                 # plain http to a public host
    "ftp://127.0.0.1/v1",
    "http://127.0.0.1:45957enqueued/v1",     # a port that is not a number
    "https://gateway.example.com/v1 x",
    "not a url",
])
def test_bad_base_urls_are_refused_with_the_reason(url: str) -> None:
    with pytest.raises(ConfigError) as info:
        check_base_url(url, allow_http=True)
    assert url.split()[0] in str(info.value) or "URL" in str(info.value)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000/v1", "http://localhost:11434/v1",
                                 "http://192.168.1.20:1234/v1", "https://gw.example.com/v1"])
def test_local_http_and_any_https_are_accepted(url: str) -> None:
    check_base_url(url, allow_http=True)


def test_custom_endpoint_cannot_shadow_a_builtin_provider() -> None:
    with pytest.raises(ConfigError, match="built-in"):
        load_builtin().with_custom([CustomEndpoint(name="ovh", base_url="http://127.0.0.1:1/v1")])
