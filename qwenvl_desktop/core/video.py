"""Video clips: frames sampled at the chosen rate, each sized for the model, ready to send.

PyAV (FFmpeg's libraries) opens the file, seeks and decodes; swscale scales each frame
straight to the size the model reads video frames at (`tokens.video_frame_size`), and
the frame is encoded like a photo. How the frames travel (one frame-list video part, or
images each after a timestamp) is the request builder's business; the estimate here
follows the same choice (`Provider.takes_video`).

Files are read from disk by path: a video can be gigabytes, and FFmpeg seeks in it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Final

import av
from PIL import Image

from .catalog import Model, Provider
from .errors import VideoError
from .i18n import _
from .media import PreparedMedia, prepare_pixels
from .tokens import image_tokens, video_frame_size, video_tokens

__all__ = [
    "DEFAULT_FPS",
    "DEFAULT_MAX_FRAMES",
    "MAX_FRAMES",
    "MIN_FRAMES",
    "VIDEO_SUFFIXES",
    "VideoInfo",
    "decode_frames",
    "estimate_video_tokens",
    "inspect_video",
    "is_video_name",
    "prepare_video",
    "sample_times",
]

VIDEO_SUFFIXES: Final = (".mp4", ".m4v", ".webm", ".mov", ".mkv", ".avi")
DEFAULT_FPS: Final = 2.0          # qwen-vl-utils' default sampling rate
DEFAULT_MAX_FRAMES: Final = 32
MIN_FRAMES: Final = 4             # fewer frames than this and a frame-list part is refused
MAX_FRAMES: Final = 512           # DashScope's most frames in one video part
_TIMESTAMP_TOKENS: Final = 6      # "<3.0 seconds>" as text, per frame sent as an image
_SEEK_GAP: Final = 2.0            # seconds: past this, seek instead of decoding through


@dataclass(frozen=True)
class VideoInfo:
    """What the tray shows of a clip before its frames are sampled."""

    name: str
    path: str
    duration: float
    """Seconds."""
    fps: float
    """The file's own average frame rate."""
    frame_count: int
    width: int
    height: int
    codec: str
    bytes: int


def is_video_name(name: str) -> bool:
    return name.lower().endswith(VIDEO_SUFFIXES)


def _open(path: Path, name: str) -> av.container.InputContainer:
    try:
        return _open_container(str(path))
    except FileNotFoundError:
        raise VideoError(name, _("the file does not exist")) from None
    except PermissionError:
        raise VideoError(name, _("the file cannot be read (permission denied)")) from None
    except av.error.FFmpegError as err:
        raise VideoError(name, _("the file is damaged or is not a video ({reason})").format(
            reason=_why(err))) \
            from None
    except OSError as err:
        raise VideoError(name, _("the file cannot be read ({reason})").format(
            reason=err.strerror or err)) from None


def _open_container(path: str) -> av.container.InputContainer:
    """Open for reading; badly encoded metadata text must not make a clip unreadable.

    PyAV up to 18 takes `metadata_errors="ignore"` for that; PyAV 19 (the release pip
    picks on Python 3.12+) dropped the argument — there, opening as plainly as possible
    is what remains.
    """
    try:
        return av.open(path, mode="r", metadata_errors="ignore")
    except TypeError:
        return av.open(path, mode="r")


def _why(err: BaseException) -> str:
    text = getattr(err, "strerror", None) or str(err)
    return text.split(":")[0].strip() or type(err).__name__


def _video_stream(container: av.container.InputContainer, name: str) -> av.VideoStream:
    if not container.streams.video:
        if container.streams.audio:
            raise VideoError(name, _("the file has sound only, no pictures"))
        if not container.streams:
            raise VideoError(name, _("the clip is empty (zero length): it holds no frames"))
        raise VideoError(name, _("the file has no video stream"))
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"
    return stream


def inspect_video(path: Path, name: str | None = None) -> VideoInfo:
    """Duration, frame rate, size and codec — after decoding the first frame, so a
    stream FFmpeg cannot decode is reported now, not when the message is sent."""
    name = name or path.name
    container = _open(path, name)
    try:
        stream = _video_stream(container, name)
        codec = stream.codec_context.name if stream.codec_context else "unknown"
        first = _first_frame(container, stream, name, codec)
        rate = stream.average_rate or stream.guessed_rate or Fraction(0)
        fps = float(rate) if rate else 0.0
        duration = _duration(container, stream)
        frames = stream.frames or (round(duration * fps) if fps else 1)
        if duration <= 0:
            duration = frames / fps if fps else 0.0
        if duration <= 0 and frames <= 1:
            duration = 0.0
        size = path.stat().st_size
    except OSError as err:
        raise VideoError(name, _("the file cannot be read ({reason})").format(
            reason=err.strerror or err)) from None
    finally:
        container.close()
    return VideoInfo(name=name, path=str(path), duration=duration, fps=fps,
                     frame_count=max(1, frames), width=first.width, height=first.height,
                     codec=codec, bytes=size)


def _first_frame(container: av.container.InputContainer, stream: av.VideoStream,
                 name: str, codec: str) -> av.VideoFrame:
    """The first picture, or why there is none: no packets at all is an empty clip;
    packets the decoder turns into no picture (or errors) are a stream it cannot read."""
    packets = 0
    try:
        for packet in container.demux(stream):
            if packet.size:
                packets += 1
            for frame in packet.decode():
                return frame
            if packets > 64:
                break
    except av.error.FFmpegError as err:
        raise VideoError(name, _("its {codec} video stream cannot be decoded ({reason})")
                         .format(codec=codec, reason=_why(err))) from None
    if packets == 0:
        raise VideoError(name, _("the clip is empty (zero length): it holds no frames"))
    raise VideoError(name, _("its {codec} video stream cannot be decoded (no picture came "
                             "out of it)").format(codec=codec))


def _duration(container: av.container.InputContainer, stream: av.VideoStream) -> float:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return 0.0


# --- which frames ----------------------------------------------------------------------

def sample_times(info: VideoInfo, fps: float, max_frames: int) -> list[float]:
    """When to take frames: `fps` a second, at least MIN_FRAMES (if the clip has them),
    at most `max_frames`, an even number where possible (frames are read in pairs),
    each in the middle of an equal share of the clip."""
    if fps <= 0 or max_frames < 1:
        raise VideoError(info.name, _("the frame rate and the frame count must be above 0"))
    wanted = info.duration * fps
    count = min(max(wanted, MIN_FRAMES), max_frames, info.frame_count)
    count = int(count)
    if count >= 2:
        count -= count % 2
    count = max(1, count)
    if info.duration <= 0:
        return [0.0]
    return [round(info.duration * (i + 0.5) / count, 3) for i in range(count)]


def estimate_video_tokens(info: VideoInfo, frames: int, model: Model,
                          provider: Provider) -> int:
    """Tokens the clip costs as it will be sent: one video part, or images with times."""
    if provider.takes_video(model, frames):
        return video_tokens(info.width, info.height, frames, model)
    width, height = video_frame_size(info.width, info.height, frames, model)
    return frames * (image_tokens(width, height, model) + _TIMESTAMP_TOKENS)


# --- decoding --------------------------------------------------------------------------

def decode_frames(path: Path, times: list[float], size: tuple[int, int] | None = None,
                  name: str | None = None) -> list[tuple[float, Image.Image]]:
    """The frame shown at each of `times` (seconds), scaled to `size` by swscale.

    Seeks to the keyframe before each time that is far from the last frame decoded,
    otherwise decodes on. A clip that ends early gives its last frame.
    """
    name = name or path.name
    container = _open(path, name)
    out: list[tuple[float, Image.Image]] = []
    try:
        stream = _video_stream(container, name)
        base = stream.time_base or Fraction(1, 1000)
        start = float(stream.start_time * base) if stream.start_time is not None else 0.0
        frames = None
        last = None
        for when in times:
            position: float | None = None
            if last is not None and last.time is not None:
                position = float(last.time) - start
            if frames is None or position is None or when < position \
                    or when - position > _SEEK_GAP:
                target = int((when + start) / base)
                container.seek(max(0, target), stream=stream, backward=True, any_frame=False)
                frames = container.decode(stream)
                last = None
            picked = _frame_at(frames, when + start, last)
            if picked is None:
                raise VideoError(name, _("the clip has no frames (zero length)"))
            last = picked
            out.append((when, _to_image(picked, size)))
    except av.error.FFmpegError as err:
        raise VideoError(name, _("the video stream cannot be decoded ({reason})").format(
            reason=_why(err))) from None
    finally:
        container.close()
    return out


def _to_image(frame: av.VideoFrame, size: tuple[int, int] | None) -> Image.Image:
    """RGB pixels of a frame, scaled by swscale (area averaging) when `size` is given."""
    to_image: Callable[..., Image.Image] = frame.to_image
    if size is None:
        return to_image()
    return to_image(width=size[0], height=size[1], interpolation="AREA")


def _frame_at(frames: object, when: float, last: av.VideoFrame | None) -> av.VideoFrame | None:
    """The first frame at or after `when` (or the last one before the end)."""
    if last is not None and last.time is not None and last.time >= when:
        return last
    picked = last
    for frame in frames:  # type: ignore[attr-defined]
        picked = frame
        if frame.time is None or frame.time + 1e-6 >= when:
            break
    return picked


def prepare_video(path: Path, *, name: str, fps: float, max_frames: int, model: Model,
                  provider: Provider, max_bytes: int | None = None) -> PreparedMedia:
    """Sample, size and encode the frames of a clip for `model` on `provider`."""
    info = inspect_video(path, name)
    times = sample_times(info, fps, max_frames)
    size = video_frame_size(info.width, info.height, len(times), model)
    decoded = decode_frames(path, times, size, name)
    frames = tuple(
        prepare_pixels(image,
                       name=_("{name} @ {seconds} s").format(name=name, seconds=f"{when:.1f}"),
                       size=size, model=model,
                       provider=provider, photo=True, max_bytes=max_bytes,
                       original_size=(info.width, info.height), original_bytes=info.bytes)
        for when, image in decoded)
    return PreparedMedia(kind="video", name=name, frames=frames,
                         tokens=estimate_video_tokens(info, len(frames), model, provider),
                         timestamps=tuple(when for when, _image in decoded),
                         duration=info.duration, original_bytes=info.bytes)
