"""Sampling presets ("Precise", "Balanced", "Creative") per model family, from
`presets.toml`: which family a model belongs to, the values of each preset, and which
preset (if any) a set of parameters matches."""

from __future__ import annotations

import fnmatch
import functools
import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Any

from .errors import ConfigError
from .i18n import N_

__all__ = ["PRESET_NAMES", "Preset", "PresetFamily", "family_for", "load_families",
           "matching_preset"]

PRESET_NAMES = (N_("Precise"), N_("Balanced"), N_("Creative"))
# The family names of presets.toml, which the parameter panel shows: listed here so that
# they are extracted for translation (the window shows them through _()).
_FAMILY_NAMES = (N_("Qwen thinking"), N_("Qwen3-VL and later"), N_("Qwen2.5-VL and others"))
_FIELDS = ("temperature", "top_p", "presence_penalty")


@dataclass(frozen=True)
class Preset:
    name: str
    values: tuple[tuple[str, float], ...]      # (parameter wire name, value)

    def as_dict(self) -> dict[str, float]:
        return dict(self.values)


@dataclass(frozen=True)
class PresetFamily:
    name: str
    match: tuple[str, ...]
    thinking: bool
    presets: tuple[Preset, ...]

    def fits(self, model_id: str, thinking: bool) -> bool:
        lowered = model_id.lower()
        return self.thinking == thinking and any(
            fnmatch.fnmatchcase(lowered, pattern) for pattern in self.match)

    def preset(self, name: str) -> Preset:
        for preset in self.presets:
            if preset.name == name:
                return preset
        raise KeyError(name)


def _parse(data: dict[str, Any]) -> tuple[PresetFamily, ...]:
    families = []
    for number, entry in enumerate(data.get("family", []), 1):
        where = f"presets.toml, family {number}"
        if not isinstance(entry, dict):
            raise ConfigError(f"{where}: expected a table")
        name, match = entry.get("name"), entry.get("match")
        if not isinstance(name, str) or not isinstance(match, list) or not all(
                isinstance(m, str) for m in match):
            raise ConfigError(f"{where}: needs a name and a list of match patterns")
        presets = []
        tables = entry.get("presets", {})
        for preset_name in PRESET_NAMES:
            values = tables.get(preset_name)
            if not isinstance(values, dict) or not set(values) <= set(_FIELDS) or not all(
                    isinstance(v, int | float) and not isinstance(v, bool)
                    for v in values.values()):
                raise ConfigError(f"{where} ({name}): preset {preset_name} must set only "
                                  f"{', '.join(_FIELDS)} to numbers")
            presets.append(Preset(preset_name, tuple((k, float(v))
                                                     for k, v in sorted(values.items()))))
        families.append(PresetFamily(name, tuple(match), bool(entry.get("thinking")),
                                     tuple(presets)))
    if not families:
        raise ConfigError("presets.toml lists no families")
    return tuple(families)


@functools.cache
def load_families() -> tuple[PresetFamily, ...]:
    text = resources.files("qwenvl_desktop.core").joinpath("presets.toml").read_text(
        encoding="utf-8")
    return _parse(tomllib.loads(text))


def family_for(model_id: str, thinking: bool) -> PresetFamily:
    """The family whose presets apply to `model_id` (thinking or not)."""
    families = load_families()
    for family in families:
        if family.fits(model_id, thinking):
            return family
    # A thinking model no thinking family names: the first family that fits at all.
    for family in families:
        if family.fits(model_id, not thinking):
            return family
    return families[-1]


def matching_preset(family: PresetFamily, values: dict[str, float | None],
                    accepted: set[str]) -> str | None:
    """The preset whose values (those the provider accepts) equal `values`; None when
    the parameters are the person's own mix."""
    def same(value: float | None, wanted: float) -> bool:
        return value is not None and abs(value - wanted) < 1e-6

    sent = {k for k, v in values.items() if v is not None and k in _FIELDS}
    for preset in family.presets:
        wanted = {k: v for k, v in preset.values if k in accepted}
        if wanted and sent == set(wanted) and all(
                same(values.get(k), v) for k, v in wanted.items()):
            return preset.name
    return None
