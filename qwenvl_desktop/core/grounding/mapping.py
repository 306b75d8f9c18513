"""From the numbers a model wrote to pixels of the image the person has.

Two conventions (the model's `grounding` field in the catalog):

* "relative-1000" (Qwen2-VL, Qwen3-VL and later): a 0-1000 grid laid over the image,
  so x·W/1000, y·H/1000 on any copy of it, whatever its size.
* "absolute" (Qwen2.5-VL, QVQ): pixels of the image *as the model received it* — after
  the server's `smart_resize` — so x·W/w, y·H/h, where w×h is that resized size.

Which size the model received is known exactly because the app did the resizing: it is
`smart_resize` of the bytes that were sent (the app's own resize already lands on the
patch grid; an image sent as it was is rounded by the server). Providers that fetch
image links are sent the link, not our bytes: their model saw the original, resized by
the server. `Frame` records both sizes for one image.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..catalog import Grounding, Model
from ..conversation import StoredImage
from ..i18n import _
from ..tokens import target_size
from .parse import ParsedAnswer, RawDetection

__all__ = ["Detection", "Frame", "frame_for", "place", "scaled"]

# Coordinates a little past the edge (a box drawn to x=1003 on the 0-1000 grid) are a
# rounding slip and are clamped; further out, the value is not on this image at all.
_EDGE_SLACK = 0.02


@dataclass(frozen=True)
class Frame:
    """One image: the size coordinates are mapped to, and the size the model saw."""

    size: tuple[int, int]
    """(width, height) of the image the detections are placed on."""
    model_input: tuple[int, int]
    """(width, height) the model worked at (absolute coordinates are in these)."""


def frame_for(image: StoredImage, model: Model | None, *, by_url: bool = False,
              high_resolution: bool = False) -> Frame:
    """The frame of a stored image, placing detections in *original-image* pixels.

    `by_url`: the provider was sent the image's link and fetched the original itself.
    Without a model (an answer of unknown origin) the sent size is taken as seen.
    """
    original = (image.original_width or image.width, image.original_height or image.height)
    sent = (image.width or original[0], image.height or original[1])
    source = original if by_url and image.source_url else sent
    if model is None:
        return Frame(size=original, model_input=source)
    return Frame(size=original, model_input=target_size(*source, model, high_resolution))


@dataclass(frozen=True)
class Detection:
    """A box and/or point in pixels of one image (floats; left, top, right, bottom)."""

    label: str
    bbox: tuple[float, float, float, float] | None
    point: tuple[float, float] | None
    attributes: tuple[tuple[str, Any], ...] = ()
    index: int = 0
    """Its position among the answer's detections (stable across images and views)."""

    @property
    def display_label(self) -> str:
        return RawDetection(self.label, attributes=self.attributes).display_label


def place(parsed: ParsedAnswer | list[RawDetection], frame: Frame, convention: Grounding,
          notes: list[str] | None = None,
          indices: list[int] | None = None) -> list[Detection]:
    """Map raw detections onto `frame.size`; those off the image are left out, noted."""
    raws = parsed.detections if isinstance(parsed, ParsedAnswer) else parsed
    if convention == "relative-1000":
        grid = (1000.0, 1000.0)
    else:
        grid = (float(max(1, frame.model_input[0])), float(max(1, frame.model_input[1])))
    sx, sy = frame.size[0] / grid[0], frame.size[1] / grid[1]
    placed: list[Detection] = []
    for position, raw in enumerate(raws):
        name = f"'{raw.display_label}'" if raw.display_label else _("an unlabelled entry")
        bbox = point = None
        if raw.bbox is not None:
            corners = _on_grid(raw.bbox, grid)
            if corners is None:
                _note(notes, _("The box of {name} lies outside the image ({coords} on a "
                               "{grid_name}); it was skipped.").format(
                                   name=name, coords=_coords(raw.bbox),
                                   grid_name=_grid_name(grid, convention)))
            else:
                x1, y1, x2, y2 = corners
                bbox = (x1 * sx, y1 * sy, x2 * sx, y2 * sy)
        if raw.point is not None:
            xy = _on_grid(raw.point, grid)
            if xy is None:
                _note(notes, _("The point of {name} lies outside the image ({coords} on a "
                               "{grid_name}); it was skipped.").format(
                                   name=name, coords=_coords(raw.point),
                                   grid_name=_grid_name(grid, convention)))
            else:
                point = (xy[0] * sx, xy[1] * sy)
        if bbox is None and point is None:
            continue
        index = indices[position] if indices is not None else position
        placed.append(Detection(label=raw.label, bbox=bbox, point=point,
                                attributes=raw.attributes, index=index))
    return placed


def scaled(detections: list[Detection], from_size: tuple[int, int],
           to_size: tuple[int, int]) -> list[Detection]:
    """The same detections on a copy of the image of another size (e.g. as sent)."""
    sx = to_size[0] / max(1, from_size[0])
    sy = to_size[1] / max(1, from_size[1])
    out = []
    for d in detections:
        bbox = None if d.bbox is None else (d.bbox[0] * sx, d.bbox[1] * sy,
                                            d.bbox[2] * sx, d.bbox[3] * sy)
        point = None if d.point is None else (d.point[0] * sx, d.point[1] * sy)
        out.append(Detection(d.label, bbox, point, d.attributes, d.index))
    return out


def _on_grid(values: tuple[float, ...], grid: tuple[float, float]) -> tuple[float, ...] | None:
    """The values clamped to the grid, or None when one is clearly off it."""
    out = []
    for position, value in enumerate(values):
        limit = grid[position % 2]
        slack = limit * _EDGE_SLACK
        if value < -slack or value > limit + slack:
            return None
        out.append(min(max(value, 0.0), limit))
    return tuple(out)


def _coords(values: tuple[float, ...]) -> str:
    return ", ".join(f"{v:g}" for v in values)


def _grid_name(grid: tuple[float, float], convention: Grounding) -> str:
    if convention == "relative-1000":
        return _("0-1000 grid")
    return _("{value:.0f}×{value2:.0f} image").format(value=grid[0], value2=grid[1])


def _note(notes: list[str] | None, text: str) -> None:
    if notes is not None and text not in notes:
        notes.append(text)
