"""Encode prepared pixels as the bytes that are sent: PNG or JPEG, within a byte cap.

Screenshots and flat graphics go as lossless PNG, photos as JPEG. When the provider's
limit is tight, JPEG quality comes down first (predicted from a measured table, so
usually one encode is enough), then the pixel count, always to multiples of the
model's patch size. A photo still lying as stored (EXIF orientation) is turned upright
band by band while it is encoded (`image_jpeg`), never as a second full-size copy; a
JPEG kept at its own size arrives with its first encode already made while it was
decoded (`image_jpeg_stream`). No metadata of the source is ever written.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from typing import Final

from PIL import Image

from .catalog import Model
from .errors import ImageError
from .i18n import _, format_integer
from .image_checks import UPRIGHT, upright_size
from .image_jpeg import encode_jpeg
from .image_pixels import PARALLEL_MIN_PIXELS, WORKERS, executor, flatten, has_transparency, resize
from .tokens import smart_resize

__all__ = [
    "PHOTO_SUBSAMPLING",
    "EncodedImage",
    "encode",
    "first_jpeg_quality",
    "jpeg_quality",
    "jpeg_source_hint",
    "looks_like_graphic",
    "png_without_metadata",
]

_PNG_LEVEL: Final = 2
_PNG_SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"
# Chunks that change how pixels look; everything else (text, EXIF, time) stays home.
_PNG_KEEP: Final = frozenset({b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND", b"gAMA",
                              b"cHRM", b"sRGB", b"iCCP", b"sBIT"})
_JPEG_QUALITY: Final = 90
PHOTO_SUBSAMPLING: Final = 2       # 4:2:0, Pillow's number (graphics get 4:4:4, i.e. 0)
# Typical JPEG size relative to quality 90 (libjpeg-turbo, measured on photos and
# screenshots; rounded up). Qualities below 60 look worse than fewer pixels.
_JPEG_SIZE: Final = {90: 1.0, 85: 0.85, 80: 0.7, 75: 0.6, 70: 0.55, 65: 0.5, 60: 0.45}
_LIBJPEG_Q50_SUM: Final = 3688     # sum of libjpeg's luminance table at quality 50
_HEADROOM: Final = 0.97            # predictions are rough: aim 3 % under the cap


@dataclass
class EncodedImage:
    """The bytes to send and the size of the image they hold (upright; smaller than
    given, if shrunk to fit)."""

    width: int
    height: int
    data: bytes
    mime: str


def looks_like_graphic(im: Image.Image, source_format: str) -> bool:
    """Screenshot or flat graphic (lossless PNG) rather than a photo (JPEG)?

    Decided on a nearest-neighbour thumbnail: flat graphics are made of few colours
    and large areas of one colour; photos (and their sensor noise) of neither.
    """
    if source_format in ("JPEG", "MPO"):
        return False            # already lossy: a PNG of it would only be bigger
    thumb = im.resize((min(128, im.width), min(128, im.height)), Image.Resampling.NEAREST)
    total = thumb.width * thumb.height
    colours = thumb.getcolors(maxcolors=total) or []
    top = sum(sorted((count for count, _ in colours), reverse=True)[:16])
    return len(colours) <= 256 or top >= 0.5 * total


# --- PNG --------------------------------------------------------------------------------

def _png(im: Image.Image) -> bytes:
    """A PNG with filter type 0 (none) on every row, deflated on several cores.

    Pillow's encoder tries all five row filters, which is most of its time; on
    screenshots unfiltered rows compress as small or smaller, at a third of the cost.
    Slices are deflated independently and joined with sync flushes, as pigz does.
    """
    color_type = {"L": 0, "RGB": 2, "LA": 4, "RGBA": 6}[im.mode]
    view = memoryview(im.tobytes())
    stride = im.width * len(im.getbands())
    scan = b"".join(b"\0" + view[i:i + stride] for i in range(0, len(view), stride))
    parts = WORKERS if len(scan) >= 4 * PARALLEL_MIN_PIXELS else 1
    cuts = [len(scan) * i // parts for i in range(parts + 1)]

    def deflate(i: int) -> bytes:
        packer = zlib.compressobj(_PNG_LEVEL, zlib.DEFLATED, -15)   # raw deflate
        last = zlib.Z_FINISH if i == parts - 1 else zlib.Z_SYNC_FLUSH
        return packer.compress(scan[cuts[i]:cuts[i + 1]]) + packer.flush(last)

    pieces = executor().map(deflate, range(parts)) if parts > 1 else [deflate(0)]
    idat = b"\x78\x01" + b"".join(pieces) + struct.pack(">I", zlib.adler32(scan))
    header = struct.pack(">IIBBBBB", im.width, im.height, 8, color_type, 0, 0, 0)
    return b"".join((_PNG_SIGNATURE, _chunk(b"IHDR", header), _chunk(b"IDAT", idat),
                     _chunk(b"IEND", b"")))


def _chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(payload, zlib.crc32(kind))
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def png_without_metadata(data: bytes) -> bytes | None:
    """The PNG file as it is, minus text, EXIF, time and private chunks; None if odd.

    Screenshot tools compress harder than we can afford to; when nothing about the
    pixels has to change, their bytes are the smallest lossless payload there is.
    """
    if not data.startswith(_PNG_SIGNATURE):
        return None
    out = [_PNG_SIGNATURE]
    pos = len(_PNG_SIGNATURE)
    while pos + 12 <= len(data):
        (length,) = struct.unpack_from(">I", data, pos)
        kind = data[pos + 4:pos + 8]
        end = pos + 12 + length
        if end > len(data):
            return None
        if kind in _PNG_KEEP:
            out.append(data[pos:end])
        if kind == b"IEND":
            return b"".join(out)
        pos = end
    return None


# --- JPEG -------------------------------------------------------------------------------

def _jpeg(im: Image.Image, quality: int, graphic: bool, orientation: int = 1) -> bytes:
    # 4:4:4 for graphics keeps coloured text sharp; 4:2:0 is right for photos.
    return encode_jpeg(im, quality, subsampling=0 if graphic else PHOTO_SUBSAMPLING,
                       orientation=orientation)


def jpeg_quality(im: Image.Image) -> int | None:
    """Estimate a JPEG's quality setting from its luminance table (libjpeg's scaling).

    Re-encoding above the source's quality only adds bytes, never detail.
    """
    tables = getattr(im, "quantization", None)
    if not isinstance(tables, dict) or 0 not in tables:
        return None
    scale = sum(tables[0]) / _LIBJPEG_Q50_SUM * 100
    quality = 100 - scale / 2 if scale <= 100 else 5000 / scale
    return max(1, min(100, round(quality)))


def jpeg_source_hint(source_quality: int, source_bytes: int,
                     area_ratio: float) -> tuple[int, float]:
    """`encode`'s `jpeg_hint` for a JPEG source: the source's own quality on our scale
    (never above ours), and its size scaled by the change in pixel count."""
    start = max(min(_JPEG_SIZE), min(_JPEG_QUALITY, 5 * round(source_quality / 5)))
    return start, source_bytes * area_ratio


def _qualities_within(cap: int, size: float, quality: int, *, higher: bool) -> list[int]:
    """Qualities above (or below) `quality` whose size, predicted from `size` bytes at
    `quality`, leaves headroom under `cap`; the best first."""
    return [q for q in _JPEG_SIZE if (q > quality if higher else q < quality)
            and size * _JPEG_SIZE[q] / _JPEG_SIZE[quality] <= _HEADROOM * cap]


# --- fitting the cap ---------------------------------------------------------------------

def first_jpeg_quality(cap: int | None, jpeg_hint: tuple[int, float] | None) -> int:
    """The quality a photo's first JPEG encode is tried at (see `encode`)."""
    quality, expected = jpeg_hint or (_JPEG_QUALITY, 0.0)
    if cap is not None and expected > _HEADROOM * cap:
        fits = _qualities_within(cap, expected, quality, higher=False)
        quality = fits[0] if fits else min(_JPEG_SIZE)
    return quality


def encode(im: Image.Image, *, graphic: bool, cap: int | None, model: Model,
           name: str, notes: list[str], orientation: int = 1,
           original_png: bytes | None = None,
           jpeg_hint: tuple[int, float] | None = None,
           first_jpeg: bytes | None = None) -> EncodedImage:
    """Encode within `cap` bytes: PNG if it fits (JPEG if that is far smaller), else
    JPEG at lower quality, then with fewer pixels (still multiples of the patch size).

    `im` is as stored; `orientation` (EXIF) says how to turn it upright, which is done
    here. `jpeg_hint` is (quality to start at, bytes expected there), from a JPEG
    source: with it, the first encode usually already fits. `first_jpeg`: that first
    encode (at `first_jpeg_quality`), already made while the image was decoded.
    """
    if graphic:
        if orientation != 1:
            im, orientation = im.transpose(UPRIGHT[orientation]), 1
        png = original_png or _png(im)
        if cap is None or len(png) <= cap:
            if len(png) <= im.width * im.height or has_transparency(im):
                return EncodedImage(im.width, im.height, png, "image/png")
            # Over a byte per pixel: photo-like content inside a "graphic".
            jpeg = _jpeg(im, _JPEG_QUALITY, True)
            if 3 * len(jpeg) <= len(png):
                return EncodedImage(im.width, im.height, jpeg, "image/jpeg")
            return EncodedImage(im.width, im.height, png, "image/png")
        notes.append(_("sent as JPEG to fit the provider's size limit"))
    if has_transparency(im):
        im = flatten(im)
        notes.append(_("transparent areas filled with white"))
    elif im.mode in ("RGBA", "LA"):
        im = im.convert(im.mode[:-1])
    quality = first_jpeg_quality(cap, jpeg_hint)
    data = first_jpeg if first_jpeg is not None else _jpeg(im, quality, graphic, orientation)
    shrunk = False
    for _attempt in range(12):
        width, height = upright_size(im.size, orientation)
        if cap is None or len(data) <= cap:
            if shrunk and cap is not None:
                # Area is a rough guide (fewer pixels also hold less noise): spend
                # what is left of the budget on quality.
                better = _qualities_within(cap, len(data), quality, higher=True)
                if better and len(again := _jpeg(im, better[0], graphic, orientation)) <= cap:
                    data = again
                notes.append(_("reduced to {width}×{height} to fit the provider's size limit")
                             .format(width=width, height=height))
            return EncodedImage(width, height, data, "image/jpeg")
        # Predict the size at each lower quality from this one; take the best that fits.
        fits = _qualities_within(cap, len(data), quality, higher=False)
        if fits:
            quality = fits[0]
        else:
            # No quality is enough: fewer pixels (bytes grow about with area), at q75.
            at_75 = len(data) * _JPEG_SIZE[75] / _JPEG_SIZE[quality]
            area = int(width * height * cap / at_75 * 0.9)
            new_h, new_w = smart_resize(height, width, model.patch_factor, 1, max(area, 1))
            if new_w * new_h >= width * height or new_w * new_h < model.min_pixels():
                break
            im = resize(im, upright_size((new_w, new_h), orientation))
            quality, shrunk = 75, True
        data = _jpeg(im, quality, graphic, orientation)
    width, height = upright_size(im.size, orientation)
    raise ImageError(name, _("the image cannot be made small enough for the provider: "
                             "{size} bytes at {width}×{height}, limit {limit} bytes").format(
                                 size=format_integer(len(data)), width=width, height=height,
                                 limit=format_integer(cap or 0)))
