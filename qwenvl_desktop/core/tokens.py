"""What an image costs in tokens before it is sent: Qwen's `smart_resize`.

Qwen-VL models cut an image into square patches of F×F pixels (F = 28 for Qwen2/2.5-VL
and QVQ, 32 for Qwen3-VL); every patch is a token, plus two for the vision start/end
markers. The server first resizes the image so both sides are multiples of F and the
area lies between the model's min and max pixels. Doing the same here tells the person
the cost up front and lets us send no more pixels than the model will use.
"""

from __future__ import annotations

import math

from .catalog import Model

__all__ = ["image_tokens", "smart_resize", "target_size", "video_frame_size", "video_tokens"]


def _round_by(value: float, factor: int) -> int:
    return max(factor, round(value / factor) * factor)


def _floor_by(value: float, factor: int) -> int:
    return max(factor, math.floor(value / factor) * factor)


def _ceil_by(value: float, factor: int) -> int:
    return max(factor, math.ceil(value / factor) * factor)


def smart_resize(height: int, width: int, factor: int, min_pixels: int,
                 max_pixels: int) -> tuple[int, int]:
    """The (height, width) the model resizes an image to, both multiples of `factor`."""
    if height <= 0 or width <= 0:
        raise ValueError(f"image size must be positive, got {width}×{height}")
    h_bar = _round_by(height, factor)
    w_bar = _round_by(width, factor)
    if h_bar * w_bar > max_pixels:
        beta = math.sqrt((height * width) / max_pixels)
        h_bar = _floor_by(height / beta, factor)
        w_bar = _floor_by(width / beta, factor)
    elif h_bar * w_bar < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h_bar = _ceil_by(height * beta, factor)
        w_bar = _ceil_by(width * beta, factor)
    return h_bar, w_bar


def target_size(width: int, height: int, model: Model,
                high_resolution: bool = False) -> tuple[int, int]:
    """(width, height) the model will actually see for an image of this size."""
    h, w = smart_resize(height, width, model.patch_factor, model.min_pixels(),
                        model.max_pixels(high_resolution))
    return w, h


def image_tokens(width: int, height: int, model: Model, high_resolution: bool = False) -> int:
    """Tokens one image of this size costs on this model."""
    w, h = target_size(width, height, model, high_resolution)
    factor = model.patch_factor
    return (h // factor) * (w // factor) + 2


# --- video ------------------------------------------------------------------------------
#
# Qwen2.5-VL and Qwen3-VL read a video as pairs of frames (temporal patch 2): each pair
# of frames of h×w pixels costs (h/F)·(w/F) tokens, F being the patch factor above (28,
# or 32 on Qwen3-VL). An odd frame count is padded with a copy of the last frame. Each
# frame is sized like an image, but with its own bounds: at least 128 and at most 768
# tokens' worth of pixels, and no more than a share of the whole clip's budget (about
# 115,200 tokens: 90 % of a 128,000-token sequence) — the rule of `fetch_video` in
# qwen-vl-utils (QwenLM/Qwen3-VL, qwen-vl-utils/src/qwen_vl_utils/vision_process.py).

VIDEO_FRAME_MIN_TOKENS = 128
VIDEO_FRAME_MAX_TOKENS = 768
VIDEO_TOTAL_TOKENS = int(128_000 * 0.9)
TEMPORAL_PATCH = 2


def video_frame_size(width: int, height: int, frames: int, model: Model) -> tuple[int, int]:
    """(width, height) at which the model reads each of `frames` frames of this size."""
    factor = model.patch_factor
    min_pixels = VIDEO_FRAME_MIN_TOKENS * factor**2
    padded = max(TEMPORAL_PATCH, math.ceil(frames / TEMPORAL_PATCH) * TEMPORAL_PATCH)
    share = VIDEO_TOTAL_TOKENS * factor**2 / padded * TEMPORAL_PATCH
    max_pixels = max(min(VIDEO_FRAME_MAX_TOKENS * factor**2, share), int(min_pixels * 1.05))
    h, w = smart_resize(height, width, factor, min_pixels, int(max_pixels))
    return w, h


def video_tokens(width: int, height: int, frames: int, model: Model) -> int:
    """Tokens a clip of `frames` frames of this size costs when sent as one video.

    Frame pairs share one grid of tokens; each pair also gets its vision start/end
    markers (Qwen3-VL puts a timestamp before every pair, a few text tokens more).
    """
    if frames <= 0:
        return 0
    w, h = video_frame_size(width, height, frames, model)
    factor = model.patch_factor
    pairs = math.ceil(frames / TEMPORAL_PATCH)
    return pairs * ((h // factor) * (w // factor) + 2)
