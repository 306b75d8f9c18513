"""Drawing detections into an image with Pillow (terminal, exports, "Save annotated image").

Each label gets its own colour (in order of first appearance, from a palette chosen to
stay apart from each other and readable on photos and screenshots alike). Boxes are
outlined at least 2 px wide, growing with the image; points are a filled disc with a
white ring, so they show on dark and light ground; labels sit on a tab of the box's
colour above its top-left corner (inside when there is no room above).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont, ImageOps

from ..image_checks import open_checked, pillow_errors
from ..image_pixels import to_working_mode
from .colours import PALETTE, colours_for
from .mapping import Detection

__all__ = [
    "PALETTE",
    "annotate",
    "annotated_png",
    "colours_for",
    "line_width",
    "load_upright",
    "point_radius",
]

Font = ImageFont.ImageFont | ImageFont.FreeTypeFont


def line_width(size: tuple[int, int]) -> int:
    """Outline width for an image of this size: 2 px, more on large images."""
    return max(2, round(min(size) / 400))


def point_radius(size: tuple[int, int]) -> int:
    return max(5, round(min(size) / 120))


@lru_cache(maxsize=16)
def _font(size: int) -> Font:
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError, ImportError):   # Pillow without FreeType: the bitmap font
        return ImageFont.load_default()


def _text_colour(fill: str) -> str:
    red, green, blue = (int(fill[i:i + 2], 16) for i in (1, 3, 5))
    return "#000000" if 0.299 * red + 0.587 * green + 0.114 * blue > 150 else "#ffffff"


def annotate(image: Image.Image, detections: Sequence[Detection], *,
             colours: dict[str, str] | None = None) -> Image.Image:
    """A copy of `image` (RGB) with `detections` drawn in, in its own pixels."""
    canvas = image.convert("RGB") if image.mode != "RGB" else image.copy()
    draw = ImageDraw.Draw(canvas)
    palette = colours or colours_for(d.display_label for d in detections)
    width = line_width(canvas.size)
    radius = point_radius(canvas.size)
    font = _font(max(12, min(canvas.size) // 40))
    for detection in detections:
        colour = palette.get(detection.display_label, PALETTE[0])
        anchor: tuple[float, float] | None = None
        if detection.bbox is not None:
            x1, y1, x2, y2 = detection.bbox
            draw.rectangle((x1, y1, max(x1, x2 - 1), max(y1, y2 - 1)), outline=colour,
                           width=width)
            anchor = (x1, y1)
        if detection.point is not None:
            x, y = detection.point
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=colour,
                         outline="#ffffff", width=max(1, radius // 3))
            if anchor is None:
                anchor = (x + radius + 2, y - radius)
        if anchor is not None and detection.display_label:
            _label(draw, detection.display_label, anchor, colour, font, canvas.size)
    return canvas


def _label(draw: ImageDraw.ImageDraw, text: str, anchor: tuple[float, float], colour: str,
           font: Font, size: tuple[int, int]) -> None:
    text = text if len(text) <= 40 else text[:39] + "…"
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    pad = 3
    tab_w, tab_h = right - left + 2 * pad, bottom - top + 2 * pad
    x = min(max(0.0, anchor[0]), max(0.0, size[0] - tab_w))
    y = anchor[1] - tab_h if anchor[1] - tab_h >= 0 else anchor[1]
    draw.rectangle((x, y, x + tab_w, y + tab_h), fill=colour)
    draw.text((x + pad - left, y + pad - top), text, fill=_text_colour(colour), font=font)


def load_upright(data: bytes, name: str) -> Image.Image:
    """An image file decoded as the person sees it: first frame, EXIF orientation
    applied, in a mode Pillow can draw on. Raises `ImageError` for unusable files."""
    im = open_checked(data, name)
    with pillow_errors(name):
        im.load()
        upright = ImageOps.exif_transpose(im)
        return to_working_mode(upright if upright is not None else im, [])


def annotated_png(data: bytes, name: str, detections: Sequence[Detection], *,
                  colours: dict[str, str] | None = None) -> bytes:
    """The image in `data` with detections (in its pixels) drawn in, as PNG bytes."""
    image = annotate(load_upright(data, name), detections, colours=colours)
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=6)
    return out.getvalue()
