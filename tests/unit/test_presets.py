"""Sampling presets per model family (core/presets.toml)."""

from __future__ import annotations

import pytest

from qwenvl_desktop.core.errors import ConfigError
from qwenvl_desktop.core.presets import (
    PRESET_NAMES,
    _parse,
    family_for,
    load_families,
    matching_preset,
)


def test_families_follow_the_model_and_whether_it_thinks() -> None:
    assert family_for("qwen3-vl-plus", thinking=False).name == "Qwen3-VL and later"
    assert family_for("qwen3-vl-plus", thinking=True).name == "Qwen thinking"
    assert family_for("qvq-max", thinking=True).name == "Qwen thinking"
    assert family_for("Qwen2.5-VL-72B-Instruct", thinking=False).name == "Qwen2.5-VL and others"
    assert family_for("llama3.1:8b", thinking=False).name == "Qwen2.5-VL and others"


def test_balanced_is_what_qwen_recommends_for_qwen3_vl() -> None:
    balanced = family_for("qwen3-vl-32b-instruct", thinking=False).preset("Balanced")
    assert balanced.as_dict() == {"temperature": 0.7, "top_p": 0.8, "presence_penalty": 1.5}
    thinking = family_for("qwen3-vl-32b-thinking", thinking=True).preset("Balanced")
    assert thinking.as_dict() == {"temperature": 1.0, "top_p": 0.95, "presence_penalty": 0.0}


def test_every_family_has_the_three_presets_in_order() -> None:
    for family in load_families():
        assert tuple(p.name for p in family.presets) == PRESET_NAMES
        temperatures = [p.as_dict()["temperature"] for p in family.presets]
        assert temperatures == sorted(temperatures)      # Precise < Balanced < Creative


def test_matching_preset_names_the_values_or_none() -> None:
    family = family_for("qwen3-vl-plus", thinking=False)
    accepted = {"temperature", "top_p", "presence_penalty", "seed"}
    balanced = {"temperature": 0.7, "top_p": 0.8, "presence_penalty": 1.5, "seed": None}
    assert matching_preset(family, balanced, accepted) == "Balanced"
    assert matching_preset(family, {**balanced, "temperature": 0.71}, accepted) is None
    assert matching_preset(family, {**balanced, "presence_penalty": None}, accepted) is None
    # A provider without presence_penalty: the preset is the values it can take.
    assert matching_preset(family, {"temperature": 0.2, "top_p": 0.8},
                           {"temperature", "top_p"}) == "Precise"
    assert matching_preset(family, {"temperature": None, "top_p": None}, accepted) is None


@pytest.mark.parametrize("bad", [
    {},
    {"family": [{"name": "x", "match": ["*"]}]},
    {"family": [{"name": "x", "match": ["*"], "presets": {
        "Precise": {"temperature": 0.1}, "Balanced": {"temperature": "hot"},
        "Creative": {"temperature": 1.0}}}]},
    {"family": [{"name": "x", "match": ["*"], "presets": {
        "Precise": {"top_k": 1}, "Balanced": {}, "Creative": {}}}]},
])
def test_a_malformed_table_is_refused_with_its_place(bad: dict[str, object]) -> None:
    with pytest.raises(ConfigError, match=r"presets\.toml"):
        _parse(bad)
