"""Family rules: what a model the catalog has no entry for can probably do.

Providers add models faster than the app is released, and custom endpoints serve
whatever the person runs; the model id is then the only hint. The rules live in
`providers.toml` (`[[families]]`): a list of id patterns with the capabilities they
imply. This module reads them and applies them; it never decides anything itself.

Every rule whose pattern matches contributes the fields it sets, and the first rule to
set a field wins, so the data file puts specific rules (one provider's caps) before
general ones (a model family's patch size).
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from typing import Any

from .errors import ConfigError

__all__ = ["GUESSABLE", "FamilyRule", "Guess", "guess", "parse_rules"]

# The model fields a rule may set (the names of `catalog.Model`'s fields).
GUESSABLE = ("vision", "thinking", "thinking_default", "streaming_only", "accepts_system",
             "patch_factor", "image_token_cap", "high_res_token_cap", "min_image_tokens",
             "context_length", "grounding")

_TYPES: dict[str, type] = {
    "vision": bool, "thinking": str, "thinking_default": bool, "streaming_only": bool,
    "accepts_system": bool, "patch_factor": int, "image_token_cap": int,
    "high_res_token_cap": int, "min_image_tokens": int, "context_length": int,
    "grounding": str,
}
_CHOICES = {"thinking": ("none", "optional", "always"),
            "grounding": ("absolute", "relative-1000")}


@dataclass(frozen=True)
class FamilyRule:
    """One `[[families]]` table: id patterns and the capabilities they imply."""

    patterns: tuple[str, ...]
    fields: tuple[tuple[str, Any], ...] = ()
    providers: tuple[str, ...] = ()
    """Provider families the rule applies to; empty = every provider."""
    listed: bool = True
    """False: ids matching it are not chat models and are left out of model lists."""

    def matches(self, model_id: str, provider_family: str) -> bool:
        if self.providers and provider_family not in self.providers:
            return False
        low = model_id.lower()
        return any(fnmatch.fnmatchcase(low, pattern) for pattern in self.patterns)


@dataclass(frozen=True)
class Guess:
    """The capabilities the rules give a model id, and which rules gave them."""

    fields: dict[str, Any] = field(default_factory=dict)
    patterns: tuple[str, ...] = ()
    """The first pattern of each rule that matched, for saying why."""
    listed: bool = True


def guess(model_id: str, provider_family: str, rules: tuple[FamilyRule, ...]) -> Guess:
    """Apply every matching rule; the first to set a field wins."""
    fields: dict[str, Any] = {}
    patterns: list[str] = []
    listed = True
    for rule in rules:
        if not rule.matches(model_id, provider_family):
            continue
        low = model_id.lower()
        pattern = next(p for p in rule.patterns if fnmatch.fnmatchcase(low, p))
        if pattern not in patterns:
            patterns.append(pattern)
        listed = listed and rule.listed
        for name, value in rule.fields:
            fields.setdefault(name, value)
    return Guess(fields=fields, patterns=tuple(patterns), listed=listed)


def parse_rules(tables: Any) -> tuple[FamilyRule, ...]:
    """The `[[families]]` tables of providers.toml, checked."""
    if tables is None:
        return ()
    if not isinstance(tables, list):
        raise ConfigError("providers.toml: 'families' must be a list of tables")
    return tuple(_rule(index, table) for index, table in enumerate(tables, 1))


def _rule(index: int, table: Any) -> FamilyRule:
    where = f"providers.toml: family rule #{index}"
    if not isinstance(table, dict):
        raise ConfigError(f"{where} is not a table")
    data = dict(table)
    patterns = data.pop("pattern", None)
    if isinstance(patterns, str):
        patterns = [patterns]
    if not isinstance(patterns, list) or not patterns or not all(
            isinstance(p, str) and p for p in patterns):
        raise ConfigError(f"{where} needs 'pattern': a list of glob patterns")
    providers = data.pop("providers", [])
    if not isinstance(providers, list) or not all(isinstance(p, str) for p in providers):
        raise ConfigError(f"{where}: 'providers' must be a list of provider families")
    listed = data.pop("listed", True)
    if not isinstance(listed, bool):
        raise ConfigError(f"{where}: 'listed' must be true or false")
    fields: list[tuple[str, Any]] = []
    for name, value in data.items():
        kind = _TYPES.get(name)
        if kind is None:
            raise ConfigError(f"{where}: unknown field '{name}'")
        if type(value) is not kind:
            raise ConfigError(f"{where}: '{name}' must be {kind.__name__}")
        if name in _CHOICES and value not in _CHOICES[name]:
            raise ConfigError(f"{where}: '{name}' must be one of {_CHOICES[name]}")
        fields.append((name, value))
    return FamilyRule(patterns=tuple(p.lower() for p in patterns), fields=tuple(fields),
                      providers=tuple(providers), listed=listed)
