"""Images: check what the person attached, then make it exactly what the model will use.

Other clients send images raw (a 60 MB request that "loads forever") or let the
provider reject them. Here every image is checked at the header first (bombs, tiny or
extreme shapes, formats we cannot read), then decoded once, turned upright, resized to
the size `tokens.smart_resize` says the model works at, and encoded to fit the
provider's byte limits: lossless PNG for screenshots and flat graphics, JPEG for photos.

This module is the way in and holds the pipeline; the steps live beside it:
`image_sources` (reading files and links), `image_checks` (header checks),
`image_pixels` (colour modes, resizing) and `image_encoding` (PNG/JPEG within a cap);
a JPEG sent at its own size is encoded again while it decodes (`image_jpeg_stream`).

Everything here is synchronous and CPU-bound except `prepare_image_async` and
`fetch_image_url`; Pillow releases the GIL while decoding, resizing and encoding, so
large resizes are split into strips that run on a small thread pool.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from PIL import Image

from .catalog import Model, Provider
from .conversation import StoredImage
from .i18n import _
from .image_checks import (
    MAX_PIXELS,
    check_decoded_size,
    exif_orientation,
    frame_count,
    open_checked,
    pillow_errors,
    upright_size,
)
from .image_encoding import (
    PHOTO_SUBSAMPLING,
    encode,
    first_jpeg_quality,
    jpeg_quality,
    jpeg_source_hint,
    looks_like_graphic,
    png_without_metadata,
)
from .image_jpeg_stream import can_stream, decode_encoding
from .image_pixels import has_transparency, resize, reused_pixel_memory, to_working_mode
from .image_sources import MAX_FILE_BYTES, fetch_image_url, read_image_file
from .tokens import image_tokens, target_size

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_PIXELS",
    "ImageInfo",
    "PreparedImage",
    "estimate_tokens",
    "fetch_image_url",
    "image_byte_budget",
    "inspect_image",
    "prepare_image",
    "prepare_image_async",
    "read_image_file",
]

_BODY_RESERVE_MIN: Final = 64_000       # room for the JSON and text of a request
_PER_IMAGE_OVERHEAD: Final = 128        # '{"type": "image_url", ...}' + "data:...;base64,"


@dataclass(frozen=True)
class ImageInfo:
    """A cheap look at a file (header only), for the attachment tray.

    `width` and `height` are as the person sees the image: after EXIF orientation.
    """

    name: str
    width: int
    height: int
    format: str
    frames: int
    bytes: int


@dataclass(frozen=True)
class PreparedImage:
    """An image exactly as it will be sent, and where it came from."""

    data: bytes
    mime: str
    width: int
    height: int
    sha256: str
    original_name: str
    original_width: int
    original_height: int
    original_bytes: int
    tokens: int
    """What the model will count for it (`tokens.image_tokens` of the sent size)."""
    notes: tuple[str, ...] = ()
    """What was done that the person may want to know, e.g. "converted from CMYK"."""
    source_url: str = ""

    def data_uri(self) -> str:
        return f"data:{self.mime};base64,{base64.b64encode(self.data).decode('ascii')}"

    def to_stored(self) -> StoredImage:
        """The image as a conversation keeps it, made once: its base64, encoded ahead on
        a worker thread, is then the one the request and the autosave use."""
        stored: StoredImage | None = self.__dict__.get("_stored")
        if stored is None:
            stored = StoredImage(
                sha256=self.sha256, mime=self.mime, data=self.data, width=self.width,
                height=self.height, original_name=self.original_name,
                original_width=self.original_width, original_height=self.original_height,
                original_bytes=self.original_bytes, source_url=self.source_url,
            )
            self.__dict__["_stored"] = stored      # frozen: not through __setattr__
        return stored


# --- looking ---------------------------------------------------------------------------

def inspect_image(data: bytes, name: str) -> ImageInfo:
    """Header-level facts about an image, or an `ImageError` saying why it is unusable."""
    im = open_checked(data, name)
    width, height = upright_size(im.size, exif_orientation(im))
    fmt = im.format or "unknown"
    frames = frame_count(im, name)
    return ImageInfo(name=name, width=width, height=height, format=fmt, frames=frames,
                     bytes=len(data))


def estimate_tokens(info: ImageInfo, model: Model, high_resolution: bool = False) -> int:
    """Tokens the image will cost on `model`, before anything is decoded."""
    return image_tokens(info.width, info.height, model, high_resolution)


def image_byte_budget(provider: Provider, images_in_request: int) -> int | None:
    """Most encoded bytes one image may have so that a request with this many images fits.

    Images travel as base64 data URIs (4/3 of the bytes); DashScope limits each URI,
    OVH the whole body, of which we leave a tenth (at least 64 kB) for the JSON and
    the text of the conversation. `None`: the provider documents no limit.
    """
    count = max(1, images_in_request)
    uri_limits: list[int] = []
    if provider.max_image_bytes > 0:
        uri_limits.append(provider.max_image_bytes - _PER_IMAGE_OVERHEAD)
    if provider.max_body_bytes > 0:
        body = provider.max_body_bytes
        room = body - max(_BODY_RESERVE_MIN, body // 10)
        uri_limits.append(room // count - _PER_IMAGE_OVERHEAD)
    if not uri_limits:
        return None
    return max(0, min(uri_limits)) * 3 // 4


# --- preparing --------------------------------------------------------------------------

@dataclass
class _Decoded:
    """A decoded image and what the rest of the pipeline needs to know of its file."""

    image: Image.Image          # loaded, in a working mode, still as stored (not upright)
    source_format: str
    source_mode: str
    animated: bool
    orientation: int
    stored: tuple[int, int]     # original size as stored in the file
    jpeg_quality: int | None    # the source's own JPEG quality, estimated
    first_jpeg: bytes | None = None   # encoded upright while decoding (`_decode`)


def _plan(stored: tuple[int, int], orientation: int, model: Model,
          high_resolution: bool) -> tuple[int, int]:
    """The size to resize to, in stored (not yet upright) orientation.

    When the model's size is the image's own rounded to the patch grid (less than one
    patch off on each side, e.g. 3840×2160 → 3836×2156) or larger, the image is sent
    as it is: resampling it here would cost a full pass over the pixels and blur every
    glyph for no saving, and the server does exactly that resize anyway. The token
    estimate always follows `smart_resize`.
    """
    width, height = upright_size(stored, orientation)
    target = target_size(width, height, model, high_resolution)
    factor = model.patch_factor
    if (target[0] >= width and target[1] >= height) or (
            abs(target[0] - width) < factor and abs(target[1] - height) < factor):
        return stored
    return upright_size(target, orientation)


def _decode(data: bytes, name: str, model: Model, high_resolution: bool, cap: int | None,
            notes: list[str]) -> tuple[_Decoded, tuple[int, int]]:
    """Open, check, decode (at a reduced JPEG scale when possible), normalise the mode.

    A JPEG sent at its own size is encoded again (upright, at the quality `encode` would
    try first) while it decodes (`image_jpeg_stream`), into `_Decoded.first_jpeg`.
    """
    im = open_checked(data, name)      # not `with`: closing an ImageFile frees its pixels too
    source_format, source_mode, stored = im.format or "", im.mode, im.size
    orientation = exif_orientation(im)
    with pillow_errors(name):
        animated = bool(getattr(im, "is_animated", False))
    if animated and source_format != "MPO":      # MPO: a JPEG with a preview, not animation
        kind = {"PNG": "APNG", "WEBP": "WebP"}.get(source_format, source_format)
        notes.append(_("multi-page {kind}: first page used").format(kind=kind)
                     if kind == "TIFF" else
                     _("animated {kind}: first frame used").format(kind=kind))
    target = _plan(stored, orientation, model, high_resolution)
    if source_format in ("JPEG", "MPO") and target != stored:
        # libjpeg decodes at 1/2, 1/4 or 1/8 scale when the target allows: far less work
        # and memory (a 108 MP photo is decoded as 1500×1125 for a 2.6 MP target).
        im.draft(None, target)
    check_decoded_size(im, name)
    quality = jpeg_quality(im) if source_format in ("JPEG", "MPO") else None
    first_jpeg = None
    with pillow_errors(name):
        if quality is not None and target == stored and can_stream(im):
            hint = jpeg_source_hint(quality, len(data), 1.0)
            image, first_jpeg = decode_encoding(
                im, orientation, first_jpeg_quality(cap, hint), PHOTO_SUBSAMPLING)
        else:
            im.load()
            image = im
        image = to_working_mode(image, notes)
    if source_format == "PNG" and orientation == 1:
        orientation = exif_orientation(im)        # an eXIf chunk after the pixel data
        target = _plan(stored, orientation, model, high_resolution)
    decoded = _Decoded(image, source_format, source_mode, animated, orientation, stored,
                       quality, first_jpeg)
    return decoded, target


def prepare_image(data: bytes, *, name: str, model: Model, provider: Provider,
                  high_resolution: bool = False, max_bytes: int | None = None,
                  source_url: str = "") -> PreparedImage:
    """Decode, orient, resize and encode an image for `model` on `provider`.

    The result has no more pixels than the model works at (see `_plan`), at most
    `max_bytes` bytes (None or 0: no explicit limit) and within what the provider
    accepts for one image. EXIF and other metadata (location!) are never sent.
    """
    with reused_pixel_memory():
        return _prepare(data, name=name, model=model, provider=provider,
                        high_resolution=high_resolution, max_bytes=max_bytes,
                        source_url=source_url)


def _prepare(data: bytes, *, name: str, model: Model, provider: Provider,
             high_resolution: bool, max_bytes: int | None, source_url: str) -> PreparedImage:
    notes: list[str] = []
    caps = [c for c in (max_bytes or None, image_byte_budget(provider, 1)) if c]
    cap = min(caps) if caps else None
    decoded, target = _decode(data, name, model, high_resolution, cap, notes)
    image = resize(decoded.image, target)       # still as stored: `encode` turns it
    if decoded.orientation != 1:
        notes.append(_("turned upright (EXIF orientation)"))
    if image.mode in ("RGBA", "LA") and not has_transparency(image):
        image = image.convert(image.mode[:-1])
    unchanged = (decoded.source_format == "PNG" and not decoded.animated
                 and target == decoded.stored and decoded.orientation == 1
                 and decoded.source_mode in ("RGB", "RGBA", "L", "LA", "P"))
    hint = None
    if decoded.jpeg_quality is not None:
        area_ratio = target[0] * target[1] / (decoded.stored[0] * decoded.stored[1])
        hint = jpeg_source_hint(decoded.jpeg_quality, len(data), area_ratio)
    fit = encode(image, graphic=looks_like_graphic(image, decoded.source_format), cap=cap,
                 model=model, name=name, notes=notes, orientation=decoded.orientation,
                 jpeg_hint=hint, first_jpeg=decoded.first_jpeg,
                 original_png=png_without_metadata(data) if unchanged else None)
    width, height = fit.width, fit.height
    upright = upright_size(decoded.stored, decoded.orientation)
    return PreparedImage(
        data=fit.data, mime=fit.mime, width=width, height=height,
        sha256=hashlib.sha256(fit.data).hexdigest(), original_name=name,
        original_width=upright[0], original_height=upright[1], original_bytes=len(data),
        tokens=image_tokens(width, height, model, high_resolution), notes=tuple(notes),
        source_url=source_url,
    )


async def prepare_image_async(data: bytes, *, name: str, model: Model, provider: Provider,
                              high_resolution: bool = False, max_bytes: int | None = None,
                              source_url: str = "") -> PreparedImage:
    """`prepare_image` on a worker thread, so the event loop (and the window) stay live."""
    work: Callable[[], PreparedImage] = lambda: prepare_image(  # noqa: E731
        data, name=name, model=model, provider=provider, high_resolution=high_resolution,
        max_bytes=max_bytes, source_url=source_url)
    return await asyncio.to_thread(work)
