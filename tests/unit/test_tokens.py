"""Image token costs pinned to numbers worked out by hand from the documented
image-token formula.

smart_resize: round h and w to multiples of F (at least F); if h·w > max_pixels, divide
both by beta = sqrt(h·w / max_pixels) and floor to multiples of F; if below min_pixels,
multiply by sqrt(min_pixels / (h·w)) and ceil. Tokens = (h/F)·(w/F) + 2.
Python's round() rounds halves to even: round(67.5) = 68, round(94.5) = 94.

Worked examples:

* 1920×1080 on qwen2.5-vl-72b-instruct (F = 28, 1280 tokens → max 1280·784 = 1,003,520 px):
  rounding gives 1932×1092 = 2,109,744 px > max, so beta = sqrt(2,073,600 / 1,003,520)
  = 1.43747; h = 1080 / 1.43747 = 751.3 → floor(26.8)·28 = 728,
  w = 1920 / 1.43747 = 1335.7 → floor(47.7)·28 = 1316; tokens = 26·47 + 2 = 1224.
* 3840×2160 on qwen3-vl-plus (F = 32, 2560 tokens → max 2,621,440 px): rounding gives
  2176×3840 (2160/32 = 67.5 → 68) = 8,355,840 px > max, so beta = sqrt(8,294,400 /
  2,621,440) = 1.77878; h = 1214.3 → floor(37.9)·32 = 1184, w = 2158.8 → floor(67.5)·32
  = 2144; tokens = 37·67 + 2 = 2481.
* 28×28 on F = 28: 784 px < min 4·784 = 3136, so ×sqrt(4) = 2 → 56×56; tokens 2·2 + 2 = 6.
* 1000×10 on F = 32: h rounds to 0 → at least 32, w = round(31.25)·32 = 992; tokens 31 + 2.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qwenvl_desktop.core.catalog import Model, load_builtin
from qwenvl_desktop.core.tokens import image_tokens, smart_resize, target_size


def _model(provider_id: str, model_id: str) -> Model:
    return load_builtin().get(provider_id).model(model_id)


QWEN25 = _model("dashscope-intl", "qwen2.5-vl-72b-instruct")      # F = 28, 1280 / 16384
QWEN3 = _model("dashscope-intl", "qwen3-vl-plus")                   # F = 32, 2560 / 16384
OVH_72B = _model("ovh", "Qwen2.5-VL-72B-Instruct")                  # F = 28, open weights


def test_catalog_figures_the_table_below_relies_on() -> None:
    assert (QWEN25.patch_factor, QWEN25.token_cap(), QWEN25.token_cap(True)) == (28, 1280, 16384)
    assert (QWEN3.patch_factor, QWEN3.token_cap(), QWEN3.token_cap(True)) == (32, 2560, 16384)
    assert QWEN25.max_pixels() == 1_003_520
    assert QWEN25.max_pixels(True) == 12_845_056
    assert QWEN3.max_pixels() == 2_621_440
    assert QWEN3.max_pixels(True) == 16_777_216
    assert QWEN25.min_pixels() == 3136
    assert QWEN3.min_pixels() == 4096


# (width, height) → (target width, target height, tokens), worked out by hand.
F28_DEFAULT = {
    (1920, 1080): (1316, 728, 1224),     # beta 1.43747: 26 × 47 patches
    (3840, 2160): (1316, 728, 1224),     # same shape, beta 2.87494
    (4032, 3024): (1148, 840, 1232),     # beta sqrt(12.15) = 3.48569: 3024/beta = 867.5 → 30
    (800, 600): (812, 588, 611),         # rounding only: 29 × 21
    (28, 28): (56, 56, 6),               # below min pixels: doubled
    (1000, 10): (1008, 28, 38),          # h at least F; w 35.7 → 36 patches
}
F28_HIGH_RES = {
    (1920, 1080): (1932, 1092, 2693),    # 69 × 39, under 12,845,056 px
    (3840, 2160): (3836, 2156, 10551),   # 137 × 77
    (4032, 3024): (4032, 3024, 15554),   # exactly 144 × 108
    (800, 600): (812, 588, 611),
    (28, 28): (56, 56, 6),
    (1000, 10): (1008, 28, 38),
}
F32_DEFAULT = {
    (1920, 1080): (1920, 1088, 2042),    # 60 × 34 (33.75 → 34), 2,088,960 px < max
    (3840, 2160): (2144, 1184, 2481),    # see the module docstring
    (4032, 3024): (1856, 1376, 2496),    # beta 2.15666: 43 × 58
    (800, 600): (800, 608, 477),         # 25 × 19
    (32, 32): (64, 64, 6),
    (1000, 10): (992, 32, 33),
}
F32_HIGH_RES = {
    (1920, 1080): (1920, 1088, 2042),
    (3840, 2160): (3840, 2176, 8162),    # 120 × 68 (67.5 rounds to 68)
    (4032, 3024): (4032, 3008, 11846),   # 126 × 94 (94.5 rounds to 94)
    (800, 600): (800, 608, 477),
    (32, 32): (64, 64, 6),
    (1000, 10): (992, 32, 33),
}

CASES = [
    pytest.param(model, high, size, expected, id=f"{label}-{size[0]}x{size[1]}")
    for model, high, table, label in (
        (QWEN25, False, F28_DEFAULT, "f28-1280"),
        (QWEN25, True, F28_HIGH_RES, "f28-16384"),
        (QWEN3, False, F32_DEFAULT, "f32-2560"),
        (QWEN3, True, F32_HIGH_RES, "f32-16384"),
    )
    for size, expected in table.items()
]


@pytest.mark.parametrize(("model", "high_res", "size", "expected"), CASES)
def test_pinned_sizes_and_tokens(model: Model, high_res: bool, size: tuple[int, int],
                                 expected: tuple[int, int, int]) -> None:
    width, height = size
    assert target_size(width, height, model, high_res) == expected[:2]
    assert image_tokens(width, height, model, high_res) == expected[2]


def test_open_weights_host_uses_16384_tokens_without_a_switch() -> None:
    assert image_tokens(4032, 3024, OVH_72B) == 15554
    assert image_tokens(4032, 3024, OVH_72B, high_resolution=True) == 15554


def test_smart_resize_returns_height_then_width() -> None:
    assert smart_resize(1080, 1920, 32, 4096, 2_621_440) == (1088, 1920)


def test_non_positive_sizes_are_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        smart_resize(0, 100, 28, 3136, 1_003_520)


@given(width=st.integers(11, 12_000), height=st.integers(11, 12_000),
       model=st.sampled_from([QWEN25, QWEN3]), high_res=st.booleans())
def test_targets_are_on_the_patch_grid_and_within_the_cap(
        width: int, height: int, model: Model, high_res: bool) -> None:
    if max(width, height) > 200 * min(width, height):
        return                       # beyond DashScope's 200:1, refused before this
    w, h = target_size(width, height, model, high_res)
    factor = model.patch_factor
    assert w % factor == 0
    assert h % factor == 0
    assert w * h <= model.max_pixels(high_res)
    assert w * h >= model.min_pixels()
    assert image_tokens(width, height, model, high_res) == (w // factor) * (h // factor) + 2
