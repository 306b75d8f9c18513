"""Names the window shows from data files (regions, preset families) are in the catalog.

They live in providers.toml and presets.toml, where the extractor cannot see them, so the
code lists them with N_(); this fails when a data file gains one the list lacks.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "packaging"))
import translations  # noqa: E402

from qwenvl_desktop.core.catalog import load_builtin  # noqa: E402
from qwenvl_desktop.core.presets import PRESET_NAMES, load_families  # noqa: E402


def _marked() -> set[str]:
    return {m.id for m in translations.template() if isinstance(m.id, str)}


def test_every_region_is_marked() -> None:
    regions = {p.region for p in load_builtin().providers.values() if p.region}
    assert regions, "the catalog names no region any more: is this test still needed?"
    assert regions <= _marked(), regions - _marked()


def test_every_preset_family_and_preset_name_is_marked() -> None:
    names = {f.name for f in load_families()} | set(PRESET_NAMES)
    assert names <= _marked(), names - _marked()
