"""The model bar lists every provider, marks key status and reports the selection."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from qwenvl_desktop.core.catalog import Catalog, CustomEndpoint, load_builtin
from qwenvl_desktop.core.secrets import KeyStore
from qwenvl_desktop.testing.memory_keyring import MemoryKeyring
from qwenvl_desktop.ui.model_bar import ModelBar

BUILTIN = ["dashscope-intl", "dashscope-us", "dashscope-cn", "ovh", "aimlapi", "nebula",
           "segmind"]


@pytest.fixture
def catalog() -> Catalog:
    return load_builtin().with_custom([
        CustomEndpoint(name="local-vllm", base_url="http://127.0.0.1:8000/v1",
                       models=("Qwen/Qwen2.5-VL-7B-Instruct", "llama3.1:8b")),
    ])


@pytest.fixture
def keystore(memory_keyring: MemoryKeyring) -> KeyStore:
    return KeyStore(memory_keyring, environ={"AIML_API_KEY": "aiml-from-env-123456"})


@pytest.fixture
def bar(qtbot: QtBot, catalog: Catalog, keystore: KeyStore) -> ModelBar:
    widget = ModelBar(catalog, keystore)
    qtbot.addWidget(widget)
    return widget


def provider_ids(bar: ModelBar) -> list[str]:
    return bar.picker.provider_ids()


def test_lists_all_builtin_providers_grouped_then_custom(bar: ModelBar) -> None:
    assert provider_ids(bar) == [*BUILTIN, "local-vllm"]
    texts = [bar.picker.provider_text(pid) for pid in provider_ids(bar)]
    assert texts[0].startswith("Alibaba Model Studio — Singapore")
    assert texts[1].startswith("Alibaba Model Studio — Virginia")
    assert texts[2].startswith("Alibaba Model Studio — Beijing")
    # Every provider's models follow its heading, full names and all.
    captions = bar.picker.model_captions("dashscope-intl")
    assert captions["qwen3-vl-plus"] == "Qwen3-VL Plus — qwen3-vl-plus · thinking optional"
    assert bar.picker.model_captions("local-vllm").keys() == {
        "Qwen/Qwen2.5-VL-7B-Instruct", "llama3.1:8b"}


def test_key_status_marks_and_tooltips(bar: ModelBar, keystore: KeyStore,
                                       catalog: Catalog) -> None:
    keystore.set(catalog.get("ovh"), "ovh-key-abcdef123456")
    bar.refresh_key_status()
    def text_of(provider_id: str) -> str:
        return bar.picker.provider_text(provider_id)

    assert text_of("ovh").endswith("✓")
    assert text_of("aimlapi").endswith("✓ env")
    assert text_of("dashscope-intl").endswith("✗ no key")
    assert text_of("local-vllm").endswith("no key (optional)")
    assert bar.picker.provider_tooltip("ovh") == keystore.status_line(catalog.get("ovh"))
    assert "abcdef" not in text_of("ovh")

    bar.set_selection("dashscope-intl", "qwen3-vl-plus")
    assert text_of(bar.provider().id).endswith("✗ no key")
    assert keystore.status_line(catalog.get("dashscope-intl")) in bar.chip.toolTip()
    assert bar.key_button.isVisibleTo(bar)              # one click to Settings › Keys
    bar.set_selection("ovh", "Qwen2.5-VL-72B-Instruct")
    assert keystore.status_line(catalog.get("ovh")) in bar.chip.toolTip()
    assert not bar.key_button.isVisibleTo(bar)


def test_models_are_marked_by_capability(bar: ModelBar) -> None:
    bar.set_selection("dashscope-intl", "qwen3-vl-plus")
    texts = bar.picker.model_captions("dashscope-intl")
    assert texts["qwen3-vl-plus"] == "Qwen3-VL Plus — qwen3-vl-plus · thinking optional"
    assert texts["qvq-max"].endswith("· thinking")
    assert "(text only)" not in texts["qwen-vl-max"]

    bar.set_selection("local-vllm", "llama3.1:8b")
    texts = bar.picker.model_captions("local-vllm")
    assert texts["llama3.1:8b"] == "llama3.1:8b (text only) · guessed"
    assert not bar.model().vision


def test_selection_signal_and_region_hint(bar: ModelBar, qtbot: QtBot) -> None:
    with qtbot.waitSignal(bar.selection_changed) as blocker:
        bar.set_selection("dashscope-cn", "qvq-max")
    assert blocker.args == ["dashscope-cn", "qvq-max"]
    assert bar.provider().id == "dashscope-cn"
    assert bar.model().id == "qvq-max"
    assert bar.region_label.isVisibleTo(bar)
    assert "Beijing" in bar.region_label.text()

    with qtbot.waitSignal(bar.selection_changed) as blocker:
        bar.choose("segmind")                    # the provider alone: its first model
    assert blocker.args == ["segmind", "qwen2p5-vl-32b-instruct"]
    assert not bar.region_label.isVisibleTo(bar)

    with qtbot.assertNotEmitted(bar.selection_changed):
        bar.set_selection("segmind", "qwen2p5-vl-32b-instruct")


def test_snapshot_ids_and_unknown_models(bar: ModelBar) -> None:
    bar.set_selection("dashscope-intl", "qwen-vl-max-2025-08-13")
    assert bar.model().id == "qwen-vl-max-2025-08-13"
    bar.set_selection("ovh", "no-such-model")
    assert bar.model().id == "Qwen2.5-VL-72B-Instruct"


def test_refresh_catalog_keeps_the_choice_and_drops_removed_endpoints(
        bar: ModelBar, catalog: Catalog, qtbot: QtBot) -> None:
    bar.set_selection("nebula", "Qwen/Qwen2.5-VL-7B-Instruct")
    smaller = load_builtin().with_custom([])
    with qtbot.assertNotEmitted(bar.selection_changed):
        bar.refresh_catalog(smaller)
    assert provider_ids(bar) == BUILTIN
    assert bar.provider().id == "nebula"

    bar.set_selection("local-vllm", "x")   # gone: the current choice stays
    assert bar.provider().id == "nebula"


def test_endpoint_without_models_cannot_be_chosen(qtbot: QtBot, keystore: KeyStore) -> None:
    catalog = load_builtin().with_custom([
        CustomEndpoint(name="bare", base_url="http://127.0.0.1:8000/v1")])
    bar = ModelBar(catalog, keystore)
    qtbot.addWidget(bar)
    assert bar.picker.provider_text("bare").endswith("no models")
    assert "Settings › Endpoints" in bar.picker.provider_tooltip("bare")
    assert not bar.picker.provider_enabled("bare")
    with qtbot.assertNotEmitted(bar.selection_changed):
        bar.set_selection("bare", "")
    assert bar.provider().id == "dashscope-intl"
