"""What the real providers refuse in message content, checked before answering.

Only the shapes this app sends are checked: image parts, and the frame-list video part
that DashScope's compatible mode takes (`{"type": "video", "video": [frame, ...]}`,
4 to 512 frames, each a URL or an image `data:` URI). Other dialects do not know the
video part and refuse it, as an OpenAI-compatible server does with an unknown type.
"""

from __future__ import annotations

from typing import Any

__all__ = ["content_problem"]

_DASHSCOPE_FRAMES = (4, 512)


def _is_frame(value: Any) -> bool:
    return isinstance(value, str) and (
        value.startswith(("http://", "https://")) or
        (value.startswith("data:image/") and ";base64," in value))


def _video_problem(part: dict[str, Any], where: str) -> str | None:
    frames = part.get("video")
    if not isinstance(frames, list):
        return f"{where}.video must be a list of image frames."
    low, high = _DASHSCOPE_FRAMES
    if not low <= len(frames) <= high:
        return (f"{where}.video has {len(frames)} frames; a video given as an image list "
                f"must have between {low} and {high}.")
    for index, frame in enumerate(frames):
        if not _is_frame(frame):
            return f"{where}.video[{index}] is not an image URL or data URI."
    return None


def content_problem(dialect: str, messages: list[Any]) -> str | None:
    """The provider's 400 message for content it would refuse, or None."""
    for m_index, message in enumerate(messages):
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, list):
            continue
        for p_index, part in enumerate(content):
            where = f"messages[{m_index}].content[{p_index}]"
            if not isinstance(part, dict):
                return f"{where} must be an object."
            kind = part.get("type")
            if kind == "video":
                if dialect != "dashscope":
                    return f"{where}: unsupported content type 'video'."
                problem = _video_problem(part, where)
                if problem:
                    return problem
            elif kind == "image_url":
                url = (part.get("image_url") or {}).get("url") \
                    if isinstance(part.get("image_url"), dict) else None
                if not _is_frame(url):
                    return f"{where}.image_url.url is not an image URL or data URI."
            elif kind == "text":
                if not isinstance(part.get("text"), str):
                    return f"{where}.text must be text."
            else:
                return f"{where}: unsupported content type {kind!r}."
    return None
