"""Image checks that need only the file's header: is it an image we can and may decode?

Everything here runs before a pixel is decoded: the format is one we read, the size is
no decompression bomb, the shape is one the providers accept. When a file is refused,
the reason is written for the person who attached it ("this is a PDF", "HEIC photos
cannot be read here"), never Pillow's wording.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

from PIL import Image, UnidentifiedImageError

from .errors import ImageError
from .i18n import N_, _

__all__ = [
    "FORMATS",
    "MAX_ASPECT",
    "MAX_JPEG_PIXELS",
    "MAX_PIXELS",
    "MAX_PROGRESSIVE_JPEG_PIXELS",
    "MIN_SIDE",
    "UPRIGHT",
    "bomb",
    "check_decoded_size",
    "exif_orientation",
    "frame_count",
    "open_checked",
    "pillow_errors",
    "upright_size",
]

MAX_PIXELS: Final = 100_000_000
"""Images decoded whole (PNG, WebP, GIF, TIFF…) with more pixels are refused as possible
decompression bombs. The limit in force is the lower of this and Pillow's own threshold
(89.5 MP by default; `_pixel_limit`): ~270 MB of RGB pixels at most."""

MAX_JPEG_PIXELS: Final = 400_000_000
"""Baseline JPEGs (every phone and camera photo) up to this size are accepted: libjpeg
decodes them at 1/2, 1/4 or 1/8 scale (`Image.draft`) straight to the size the model
works at, so memory follows the decoded size: preparing a 108 MP photo (a 59 MB JPEG)
for qwen3-vl-plus raised the process's peak by 65 MB, where decoding it whole took
414 MB (`tests/benchmarks/bench_big_photo.py`). 400 MP covers 200 MP phones and
pixel-shift composites; what the draft still leaves is held to `MAX_PIXELS`."""

MAX_PROGRESSIVE_JPEG_PIXELS: Final = 120_000_000
"""Progressive JPEGs keep every DCT coefficient in memory whatever the decoding scale
(~3 bytes a pixel: 316 MB measured for 108 MP), so they get a limit of their own."""

MIN_SIDE: Final = 10          # DashScope wants width and height > 10 px
MAX_ASPECT: Final = 200       # ... and an aspect ratio of at most 200:1

# Formats we decode. Deliberately not everything Pillow knows: EPS would run
# Ghostscript, and formats without a magic number (TGA) would "recognise" random bytes.
# (MPO, the multi-picture JPEG of many cameras, is opened by the JPEG plugin.)
FORMATS: Final = ("PNG", "JPEG", "GIF", "WEBP", "BMP", "DIB", "TIFF", "AVIF", "ICO",
                  "JPEG2000", "PPM", "QOI", "PSD")
_SUPPORTED_TEXT: Final = N_("PNG, JPEG, WebP, GIF, BMP, TIFF or AVIF")
_CORRUPT: Final = N_("the file is truncated or corrupt")

# EXIF orientation → the transpose that makes the image upright (as ImageOps.exif_transpose).
UPRIGHT: Final = {
    2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_EXIF_ORIENTATION: Final = 0x0112


def _pixel_limit() -> int:
    """Our limit, never above Pillow's warning threshold.

    Pillow warns (DecompressionBombWarning) past `Image.MAX_IMAGE_PIXELS` and raises
    past twice that. Keeping our limit at or below its threshold means an image we
    accept never trips its warning later, and an image that trips it is refused by
    us whether warnings are errors (as in the tests) or only printed. Pillow's global
    is read, never changed.
    """
    pillow = Image.MAX_IMAGE_PIXELS
    return MAX_PIXELS if pillow is None else min(MAX_PIXELS, pillow)


def bomb(name: str, size: tuple[int, int] | None = None, *, kind: str = "",
         limit: int | None = None, bytes_per_pixel: int = 3) -> ImageError:
    """The error for an image too large to decode safely, with the figures behind it."""
    limit = _pixel_limit() if limit is None else limit
    if kind:
        refused = _("{kind} images over {limit} megapixels are refused as possible "
                    "decompression bombs").format(kind=_(kind), limit=limit // 1_000_000)
    else:
        refused = _("images over {limit} megapixels are refused as possible decompression "
                    "bombs").format(limit=limit // 1_000_000)
    if size is None:
        return ImageError(name, _("the image is too large; {refused}").format(refused=refused))
    pixels = size[0] * size[1]
    memory = pixels * bytes_per_pixel
    return ImageError(name, _("the image is too large ({width}×{height}, {megapixels} "
                              "megapixels: decoding it would take at least {memory} of "
                              "memory); {refused}").format(
                                  width=size[0], height=size[1],
                                  megapixels=f"{pixels / 1e6:.0f}", memory=_memory(memory),
                                  refused=refused))


def _memory(size: int) -> str:
    return f"{size / 1e9:.1f} GB" if size >= 1e9 else f"{size / 1e6:.0f} MB"


def _limit(im: Image.Image) -> tuple[int, str]:
    """The pixel limit for `im` and the kind of image it is named by in the refusal."""
    if im.format in ("JPEG", "MPO"):
        if im.info.get("progressive"):
            return MAX_PROGRESSIVE_JPEG_PIXELS, N_("progressive JPEG")
        return MAX_JPEG_PIXELS, "JPEG"
    return _pixel_limit(), im.format or ""


def check_decoded_size(im: Image.Image, name: str) -> None:
    """Refuse an image whose pixels, at the scale it will be decoded, are still too many
    (called after `Image.draft`, before `load`)."""
    width, height = im.size
    if width * height > _pixel_limit():
        raise bomb(name, (width, height), kind="decoded",
                   bytes_per_pixel=max(1, len(im.getbands())))


def _open(data: bytes) -> Image.Image:
    """Open at the header with the plugin of the first of `FORMATS` that accepts it.

    `Image.open` does the same and then applies Pillow's bomb check, which counts the
    pixels in the file and raises before we learn the size; but what a JPEG costs is
    the size it decodes at (see `MAX_JPEG_PIXELS`). `open_checked` applies our own
    limits, per kind of image, and says what they are.
    """
    Image.init()
    prefix = data[:16]
    for fmt in FORMATS:
        entry = Image.OPEN.get(fmt)
        if entry is None:
            continue
        factory, accept = entry
        accepted = accept(prefix) if accept is not None else True
        if not accepted or isinstance(accepted, str):   # a str: "plugin not available"
            continue
        try:
            return factory(io.BytesIO(data), "")
        except (SyntaxError, IndexError, TypeError, struct.error):
            continue        # not this format after all (as `Image.open` does)
    raise UnidentifiedImageError("no plugin accepted the data")


@contextmanager
def pillow_errors(name: str) -> Iterator[None]:
    """Report what goes wrong reading the file `name` as an ImageError naming it.

    Pillow's plugins raise many types on hostile or truncated files; all of them mean
    the same to the person. Our own ImageErrors (raised without the file's name deep
    in the decoding) get the name put on.
    """
    try:
        yield
    except ImageError as err:
        raise ImageError(name, err.reason) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise bomb(name) from None
    except Exception as err:
        raise ImageError(name, _(_CORRUPT)) from err


def _unreadable_reason(data: bytes) -> str:
    """Why Pillow could not identify the bytes, in words a person understands."""
    head = data[:4096]
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"%PDF"):
        return _("PDF documents are not supported; attach a screenshot of the page "
                 "or export it as PNG or JPEG")
    if text.startswith(b"<svg") or (text.startswith((b"<?xml", b"<!doctype", b"<!--"))
                                    and b"<svg" in text):
        return _("SVG vector images are not supported; export it as PNG first")
    if head[4:8] == b"ftyp":
        brands = {head[i:i + 4] for i in range(8, min(len(head), 64), 4)}
        if brands & {b"heic", b"heix", b"hevc", b"heim", b"heis", b"hevx", b"mif1", b"msf1"}:
            return _("HEIC/HEIF photos cannot be read here; convert it to JPEG or PNG "
                     "(iPhone: Settings › Camera › Formats › Most Compatible)")
        return _("this is a video or other media file, not an image ({formats})").format(
            formats=_(_SUPPORTED_TEXT))
    if _looks_like_text(head):
        return _("this is a text file, not an image (is the file extension wrong?)")
    return _("not an image in a supported format ({formats})").format(
        formats=_(_SUPPORTED_TEXT))


def _looks_like_text(head: bytes) -> bool:
    sample = head[:1024]
    if not sample or b"\x00" in sample:
        return False
    try:
        decoded = sample.decode("utf-8")
    except UnicodeDecodeError as err:
        if err.start < len(sample) - 3:      # a character cut at the end is fine
            return False
        decoded = sample[:err.start].decode("utf-8")
    printable = sum(1 for ch in decoded if ch.isprintable() or ch in "\t\r\n")
    return printable >= 0.95 * max(1, len(decoded))


def open_checked(data: bytes, name: str) -> Image.Image:
    """Open at the header only and run every check that needs no pixels."""
    if not data:
        raise ImageError(name, _("the file is empty (0 bytes)"))
    try:
        im = _open(data)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise bomb(name) from None
    except UnidentifiedImageError:
        raise ImageError(name, _unreadable_reason(data)) from None
    except Exception as err:   # Pillow's plugins raise many types on hostile headers
        raise ImageError(name, _(_CORRUPT)) from err
    width, height = im.size
    limit, kind = _limit(im)
    if width * height > limit:
        raise bomb(name, (width, height), kind=kind, limit=limit,
                   bytes_per_pixel=max(1, len(im.getbands())))
    if width <= MIN_SIDE or height <= MIN_SIDE:
        raise ImageError(name, _("the image is too small ({width}×{height}); width and "
                                 "height must both be over {limit} pixels").format(
                                     width=width, height=height, limit=MIN_SIDE))
    if max(width, height) > MAX_ASPECT * min(width, height):
        raise ImageError(name, _("the image is too long and thin ({width}×{height}); the "
                                 "sides may differ by at most {ratio}:1").format(
                                     width=width, height=height, ratio=MAX_ASPECT))
    return im


def exif_orientation(im: Image.Image) -> int:
    """The EXIF orientation (1 = upright) without decoding pixels.

    PNG keeps eXIf after the pixel data when it wants to: its `getexif()` would decode
    the whole image to find it, so before loading only a leading chunk is looked at.
    """
    if im.format == "PNG" and "exif" not in im.info:
        return 1
    try:
        value = im.getexif().get(_EXIF_ORIENTATION, 1)
    except Exception:          # a broken EXIF block is no reason to refuse the image
        return 1
    return value if isinstance(value, int) and value in UPRIGHT else 1


def upright_size(size: tuple[int, int], orientation: int) -> tuple[int, int]:
    """(width, height) as the person sees the image, given its EXIF orientation."""
    return (size[1], size[0]) if orientation >= 5 else size


def frame_count(im: Image.Image, name: str) -> int:
    """Frames (animation) or pages (TIFF) in the file; counting may read the whole file."""
    with pillow_errors(name):
        return int(getattr(im, "n_frames", 1))
