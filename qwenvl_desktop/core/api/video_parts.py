"""How one video clip goes on the wire, in the form the chosen provider reads.

DashScope (compatible mode) takes the sampled frames as one content part,
`{"type": "video", "video": [frame, ...]}`, between 4 and 512 frames, frames as URLs or
`data:` URIs (Alibaba Model Studio, "Image and video understanding": video as an image
list; the Qwen3-VL cookbook `video_understanding` sends the same shape). No other
provider documents that part, so there every frame goes as an image after its time as
text, `<3.0 seconds>` — the way Qwen3-VL's own chat template marks frame times.
Which providers and models take the frame list is catalog data (`video_input`,
`Model.video`), checked by `Provider.takes_video`.
"""

from __future__ import annotations

from typing import Any

from ..catalog import Model, Provider
from .types import VideoPart

__all__ = ["timestamp_text", "video_content"]


def timestamp_text(seconds: float) -> str:
    """The text part before a frame sent as an image: `<3.0 seconds>`."""
    return f"<{seconds:.1f} seconds>"


def video_content(video: VideoPart, provider: Provider, model: Model) -> list[dict[str, Any]]:
    """The content parts for one clip on `provider`."""
    if provider.takes_video(model, len(video.frames)):
        return [{"type": "video", "video": list(video.frames)}]
    parts: list[dict[str, Any]] = []
    for index, frame in enumerate(video.frames):
        when = video.timestamps[index] if index < len(video.timestamps) else 0.0
        parts.append({"type": "text", "text": timestamp_text(when)})
        parts.append({"type": "image_url", "image_url": {"url": frame}})
    return parts
