"""One image as a content part, with the pixel limits that stop a second resize.

The app resizes every image itself (`images.py`, Qwen's smart_resize) so that it can
show the cost before sending and so that boxes the model draws refer to a known size.
A server that resizes again with other limits would make the size the model saw differ
from the size recorded with the conversation. DashScope takes per-image `min_pixels`
and `max_pixels`; sending the limits the app resized with makes the server's own
smart_resize a no-op for the prepared image (its sides are already multiples of the
patch factor and its area lies within the limits), and gives the same size for an
image the server fetches from its URL.
"""

from __future__ import annotations

from typing import Any

from ..catalog import Model, Provider
from .types import ImagePart

__all__ = ["image_content", "pixel_limits"]


def pixel_limits(image: ImagePart, model: Model, *, high_resolution: bool) -> tuple[int, int]:
    """(min_pixels, max_pixels) that leave an image of the prepared size untouched."""
    low, high = model.min_pixels(), model.max_pixels(high_resolution)
    area = image.width * image.height
    if area > 0:
        # Images from earlier turns may have been prepared for another model.
        low, high = min(low, area), max(high, area)
    return low, high


def image_content(image: ImagePart, provider: Provider, model: Model, *,
                  high_resolution: bool) -> dict[str, Any]:
    """The `image_url` content part as `provider` takes it."""
    url: dict[str, Any] = {"url": image.url}
    part: dict[str, Any] = {"type": "image_url", "image_url": url}
    where = provider.image_pixel_limits
    if where:
        low, high = pixel_limits(image, model, high_resolution=high_resolution)
        target = url if where == "image_url" else part
        target["min_pixels"] = low
        target["max_pixels"] = high
    return part
