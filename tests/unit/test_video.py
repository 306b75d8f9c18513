"""Video: which frames are taken, how they are sized, and what the clip costs."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from qwenvl_desktop.core.catalog import load_builtin
from qwenvl_desktop.core.tokens import image_tokens, video_frame_size, video_tokens
from qwenvl_desktop.core.video import (
    MIN_FRAMES,
    VideoInfo,
    decode_frames,
    estimate_video_tokens,
    inspect_video,
    prepare_video,
    sample_times,
)
from qwenvl_desktop.testing.media_samples import frame_colour, write_video

CATALOG = load_builtin()
DASHSCOPE = CATALOG.get("dashscope-intl")
OVH = CATALOG.get("ovh")
QWEN3 = DASHSCOPE.model("qwen3-vl-plus")
QWEN25 = OVH.model("Qwen2.5-VL-72B-Instruct")


def _info(duration: float, fps: float = 30.0, size: tuple[int, int] = (1920, 1080)) -> VideoInfo:
    return VideoInfo(name="clip.mp4", path="clip.mp4", duration=duration, fps=fps,
                     frame_count=round(duration * fps), width=size[0], height=size[1],
                     codec="h264", bytes=1)


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3 s at 10 fps, 320×240; frame i is filled with frame_colour(i)."""
    return write_video(tmp_path_factory.mktemp("video") / "clip.mp4")


def test_frames_at_the_chosen_rate_in_the_middle_of_equal_shares() -> None:
    assert sample_times(_info(3.0), 2.0, 32) == [0.25, 0.75, 1.25, 1.75, 2.25, 2.75]
    assert len(sample_times(_info(10.0), 1.0, 32)) == 10
    assert len(sample_times(_info(10.0), 0.5, 32)) == 4          # 5 → even: pairs


def test_max_frames_caps_and_spreads_over_the_whole_clip() -> None:
    times = sample_times(_info(600.0), 2.0, 16)
    assert len(times) == 16
    assert times[0] == pytest.approx(600 / 32)
    assert times[-1] == pytest.approx(600 - 600 / 32)


def test_short_clips_get_the_minimum_but_never_more_frames_than_they_have() -> None:
    assert len(sample_times(_info(1.0), 1.0, 32)) == MIN_FRAMES
    assert len(sample_times(_info(0.3, fps=10), 2.0, 32)) == 2     # 3 frames → 2
    assert len(sample_times(_info(0.1, fps=10), 2.0, 32)) == 1


def test_decoded_frames_are_the_ones_at_those_times(clip: Path) -> None:
    info = inspect_video(clip)
    assert (info.width, info.height, info.fps) == (320, 240, 10.0)
    assert info.duration == pytest.approx(3.0)
    assert info.frame_count == 30
    times = [0.05, 1.0, 1.45, 2.95]
    frames = decode_frames(clip, times)
    # The first frame at or after each time (frames every 0.1 s).
    for (when, image), index in zip(frames, (1, 10, 15, 29), strict=True):
        assert when in times
        pixel = image.getpixel((200, 200))
        assert isinstance(pixel, tuple)
        assert abs(pixel[0] - frame_colour(index)[0]) <= 4, (when, pixel, index)


def test_going_back_in_time_seeks(clip: Path) -> None:
    frames = decode_frames(clip, [2.5, 0.5])
    pixels = [image.getpixel((200, 200)) for _, image in frames]
    assert abs(pixels[0][0] - frame_colour(25)[0]) <= 4    # type: ignore[index]
    assert abs(pixels[1][0] - frame_colour(5)[0]) <= 4     # type: ignore[index]


def test_video_token_rule_qwen3() -> None:
    # 1080p, 64 frames on Qwen3-VL: each frame at most 768 tokens' worth of 32-px
    # patches → 1152×640 (36×20 = 720 tokens) per pair of frames.
    assert video_frame_size(1920, 1080, 64, QWEN3) == (1152, 640)
    assert video_tokens(1920, 1080, 64, QWEN3) == 32 * (720 + 2)
    # An odd count is padded to pairs.
    assert video_tokens(1920, 1080, 5, QWEN3) == video_tokens(1920, 1080, 6, QWEN3)
    # Small frames are scaled up to the 128-token minimum: 320×240 → 448×320.
    assert video_frame_size(320, 240, 6, QWEN3) == (448, 320)
    assert video_tokens(320, 240, 6, QWEN3) == 3 * (14 * 10 + 2)


def test_video_token_rule_qwen25_uses_28_pixel_patches() -> None:
    width, height = video_frame_size(1920, 1080, 64, QWEN25)
    assert (width, height) == (1008, 560)
    assert video_tokens(1920, 1080, 64, QWEN25) == 32 * ((1008 // 28) * (560 // 28) + 2)


def test_many_frames_share_the_clip_budget() -> None:
    few = video_frame_size(1920, 1080, 16, QWEN3)
    many = video_frame_size(1920, 1080, 512, QWEN3)
    assert many[0] * many[1] < few[0] * few[1]
    assert video_tokens(1920, 1080, 512, QWEN3) <= 128_000


def test_estimate_follows_how_the_clip_is_sent() -> None:
    info = _info(10.0)
    # DashScope reads a frame list: the video rule.
    assert estimate_video_tokens(info, 8, QWEN3, DASHSCOPE) == video_tokens(1920, 1080, 8, QWEN3)
    # Elsewhere every frame is an image after a timestamp.
    width, height = video_frame_size(1920, 1080, 8, QWEN25)
    expected = 8 * (image_tokens(width, height, QWEN25) + 6)
    assert estimate_video_tokens(info, 8, QWEN25, OVH) == expected
    # Too few frames for a frame list: images on DashScope too.
    assert estimate_video_tokens(info, 2, QWEN3, DASHSCOPE) > video_tokens(1920, 1080, 2, QWEN3)


def test_prepare_video_sizes_encodes_and_times_every_frame(clip: Path) -> None:
    prepared = prepare_video(clip, name="clip.mp4", fps=2.0, max_frames=4, model=QWEN3,
                             provider=DASHSCOPE)
    assert len(prepared.frames) == 4
    assert prepared.timestamps == (0.375, 1.125, 1.875, 2.625)
    assert prepared.duration == pytest.approx(3.0)
    size = video_frame_size(320, 240, 4, QWEN3)
    for frame in prepared.frames:
        assert frame.mime == "image/jpeg"
        assert (frame.width, frame.height) == size
        with Image.open(io.BytesIO(frame.data)) as im:
            assert im.size == size
    assert prepared.tokens == video_tokens(320, 240, 4, QWEN3)
    group = prepared.to_group()
    assert group.kind == "video"
    assert group.timestamps == list(prepared.timestamps)
