"""Images: check what the person attached, then make it exactly what the model will use.

Other clients send images raw (a 60 MB request that "loads forever") or let the
provider reject them. Here every image is checked at the header first (bombs, tiny or
extreme shapes, formats we cannot read), then decoded once, turned upright, resized to
the size `tokens.smart_resize` says the model works at, and encoded to fit the
provider's byte limits: lossless PNG for screenshots and flat graphics, JPEG for photos.

Everything here is synchronous and CPU-bound except `prepare_image_async` and
`fetch_image_url`; Pillow releases the GIL while decoding, resizing and encoding, so
large resizes are split into strips that run on a small thread pool.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import os
import stat
import struct
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

import httpx
from PIL import Image, UnidentifiedImageError

from .catalog import Model, Provider
from .conversation import StoredImage
from .errors import ImageError
from .tokens import image_tokens, smart_resize, target_size

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

MAX_FILE_BYTES: Final = 100_000_000
"""Largest file we read at all; no photo or screenshot comes near it."""

MAX_PIXELS: Final = 100_000_000
"""Images with more pixels are refused as possible decompression bombs. The limit in
force is the lower of this and Pillow's own threshold (89.5 MP by default; `_pixel_limit`)."""

MIN_SIDE: Final = 10          # DashScope wants width and height > 10 px
MAX_ASPECT: Final = 200       # ... and an aspect ratio of at most 200:1

# Formats we decode. Deliberately not everything Pillow knows: EPS would run
# Ghostscript, and formats without a magic number (TGA) would "recognise" random bytes.
# (MPO, the multi-picture JPEG of many cameras, is opened by the JPEG plugin.)
_FORMATS: Final = ("PNG", "JPEG", "GIF", "WEBP", "BMP", "DIB", "TIFF", "AVIF", "ICO",
                   "JPEG2000", "PPM", "QOI", "PSD")
_SUPPORTED_TEXT: Final = "PNG, JPEG, WebP, GIF, BMP, TIFF or AVIF"
_CORRUPT: Final = "the file is truncated or corrupt"

# EXIF orientation → the transpose that makes the image upright (as ImageOps.exif_transpose).
_UPRIGHT: Final = {
    2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_EXIF_ORIENTATION: Final = 0x0112

# Hamming: Pillow's filter for reducing, sharper than bilinear at its cost, half of
# bicubic's. Side by side on a 4K screenshot reduced to 2144×1184 its text is not to be
# told from bicubic (what Qwen's processors use) or Lanczos, and it compresses smaller.
_RESAMPLE: Final = Image.Resampling.HAMMING
_PNG_LEVEL: Final = 2
_PNG_SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"
# Chunks that change how pixels look; everything else (text, EXIF, time) stays home.
_PNG_KEEP: Final = frozenset({b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND", b"gAMA",
                              b"cHRM", b"sRGB", b"iCCP", b"sBIT"})
_JPEG_QUALITY: Final = 90
# Typical JPEG size relative to quality 90 (libjpeg-turbo, measured on photos and
# screenshots; rounded up). Qualities below 60 look worse than fewer pixels.
_JPEG_SIZE: Final = {90: 1.0, 85: 0.85, 80: 0.7, 75: 0.6, 70: 0.55, 65: 0.5, 60: 0.45}
_LIBJPEG_Q50_SUM: Final = 3688     # sum of libjpeg's luminance table at quality 50
_BODY_RESERVE_MIN: Final = 64_000       # room for the JSON and text of a request
_PER_IMAGE_OVERHEAD: Final = 128        # '{"type": "image_url", ...}' + "data:...;base64,"
_WORKERS: Final = max(1, min(4, os.cpu_count() or 1))
_PARALLEL_MIN_PIXELS: Final = 1_000_000
_pool: ThreadPoolExecutor | None = None


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
        return StoredImage(
            sha256=self.sha256, mime=self.mime, data=self.data, width=self.width,
            height=self.height, original_name=self.original_name,
            original_width=self.original_width, original_height=self.original_height,
            original_bytes=self.original_bytes, source_url=self.source_url,
        )


# --- reading ----------------------------------------------------------------------------

def read_image_file(path: Path) -> bytes:
    """The bytes of a dropped or chosen file, refusing what cannot be an image."""
    name = path.name or str(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ImageError(name, "the file does not exist (moved or deleted?)") from None
    except OSError as err:
        raise ImageError(name, f"the file cannot be read ({err.strerror or err})") from err
    if stat.S_ISDIR(info.st_mode):
        raise ImageError(name, "this is a folder, not an image file")
    if not stat.S_ISREG(info.st_mode):
        # A FIFO or device would block or never end.
        raise ImageError(name, "this is not a regular file")
    if info.st_size == 0:
        raise ImageError(name, "the file is empty (0 bytes)")
    if info.st_size > MAX_FILE_BYTES:
        raise ImageError(name, f"the file is {_mb(info.st_size)}; images over "
                               f"{_mb(MAX_FILE_BYTES)} are not accepted")
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as err:
        raise ImageError(name, f"the file cannot be read ({err.strerror or err})") from err
    if not data:
        raise ImageError(name, "the file is empty (0 bytes)")
    if len(data) > MAX_FILE_BYTES:
        raise ImageError(name, f"the file is larger than {_mb(MAX_FILE_BYTES)}")
    return data


async def fetch_image_url(http: httpx.AsyncClient, url: str, *,
                          max_bytes: int = 20_000_000) -> bytes:
    """Download an image, reading at most `max_bytes` (the body is streamed, not trusted)."""
    parts = urlsplit(url)
    name = f"{parts.scheme}://{parts.netloc}{parts.path}" if parts.netloc else url
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ImageError(name, "only http:// and https:// image links can be fetched")
    try:
        async with http.stream("GET", url, follow_redirects=True) as response:
            if response.status_code >= 400:
                reason = response.reason_phrase or "error"
                raise ImageError(name, f"the server answered HTTP {response.status_code} "
                                       f"{reason}".rstrip())
            ctype = response.headers.get("content-type", "").split(";")[0].strip().lower()
            # CDNs and object stores often label images as octet-stream; the bytes are
            # checked by `inspect_image` anyway. Anything else (HTML, JSON) is a web page.
            if ctype and not ctype.startswith("image/") and ctype not in (
                    "application/octet-stream", "binary/octet-stream"):
                raise ImageError(name, f"the link is not an image (the server sent {ctype})")
            if ctype == "image/svg+xml":
                raise ImageError(name, "SVG vector images are not supported; "
                                       "use a PNG or JPEG version")
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise ImageError(name, f"the image is {_mb(int(declared))}, larger than "
                                       f"{_mb(max_bytes)}, the limit for downloads")
            chunks: list[bytes] = []
            total = 0
            async for chunk in response.aiter_bytes():
                total += len(chunk)
                if total > max_bytes:
                    raise ImageError(name, f"the image is larger than {_mb(max_bytes)}, "
                                           "the limit for downloads")
                chunks.append(chunk)
    except httpx.HTTPError as err:
        raise ImageError(name, f"the image could not be downloaded ({type(err).__name__}: "
                               f"{err})") from err
    if total == 0:
        raise ImageError(name, "the server sent an empty file")
    return b"".join(chunks)


# --- looking ----------------------------------------------------------------------------

def _mb(size: int) -> str:
    if size < 1000:
        return f"{size} bytes"
    if size < 1_000_000:
        return f"{size // 1000} kB"
    return f"{size / 1_000_000:.1f} MB" if size < 10_000_000 else f"{size // 1_000_000} MB"


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


def _bomb(name: str, pixels: int | None = None) -> ImageError:
    size = f" ({pixels / 1e6:.0f} megapixels)" if pixels else ""
    return ImageError(name, f"the image is too large{size}; images over "
                            f"{_pixel_limit() // 1_000_000} megapixels are refused as "
                            "possible decompression bombs")


def _unreadable_reason(data: bytes) -> str:
    """Why Pillow could not identify the bytes, in words a person understands."""
    head = data[:4096]
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"%PDF"):
        return ("PDF documents are not supported; attach a screenshot of the page "
                "or export it as PNG or JPEG")
    if text.startswith(b"<svg") or (text.startswith((b"<?xml", b"<!doctype", b"<!--"))
                                    and b"<svg" in text):
        return "SVG vector images are not supported; export it as PNG first"
    if head[4:8] == b"ftyp":
        brands = {head[i:i + 4] for i in range(8, min(len(head), 64), 4)}
        if brands & {b"heic", b"heix", b"hevc", b"heim", b"heis", b"hevx", b"mif1", b"msf1"}:
            return ("HEIC/HEIF photos cannot be read here; convert it to JPEG or PNG "
                    "(iPhone: Settings › Camera › Formats › Most Compatible)")
        return f"this is a video or other media file, not an image ({_SUPPORTED_TEXT})"
    if _looks_like_text(head):
        return "this is a text file, not an image (is the file extension wrong?)"
    return f"not an image in a supported format ({_SUPPORTED_TEXT})"


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


def _open(data: bytes, name: str) -> Image.Image:
    """Open at the header only and run every check that needs no pixels."""
    if not data:
        raise ImageError(name, "the file is empty (0 bytes)")
    try:
        im = Image.open(io.BytesIO(data), formats=_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _bomb(name) from None
    except UnidentifiedImageError:
        raise ImageError(name, _unreadable_reason(data)) from None
    except Exception as err:   # Pillow's plugins raise many types on hostile headers
        raise ImageError(name, _CORRUPT) from err
    width, height = im.size
    if width * height > _pixel_limit():
        raise _bomb(name, width * height)
    if width <= MIN_SIDE or height <= MIN_SIDE:
        raise ImageError(name, f"the image is too small ({width}×{height}); width and "
                               f"height must both be over {MIN_SIDE} pixels")
    if max(width, height) > MAX_ASPECT * min(width, height):
        raise ImageError(name, f"the image is too long and thin ({width}×{height}); the "
                               f"sides may differ by at most {MAX_ASPECT}:1")
    return im


def _orientation(im: Image.Image) -> int:
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
    return value if isinstance(value, int) and value in _UPRIGHT else 1


def _upright_size(size: tuple[int, int], orientation: int) -> tuple[int, int]:
    return (size[1], size[0]) if orientation >= 5 else size


def _frame_count(im: Image.Image, name: str) -> int:
    try:
        return int(getattr(im, "n_frames", 1))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _bomb(name) from None
    except Exception as err:
        raise ImageError(name, _CORRUPT) from err


def inspect_image(data: bytes, name: str) -> ImageInfo:
    """Header-level facts about an image, or an `ImageError` saying why it is unusable."""
    im = _open(data, name)
    width, height = _upright_size(im.size, _orientation(im))
    fmt = im.format or "unknown"
    frames = _frame_count(im, name)
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

def _executor() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=_WORKERS, thread_name_prefix="qwenvl-image")
    return _pool


def _resize(im: Image.Image, size: tuple[int, int]) -> Image.Image:
    """`im.resize(size, _RESAMPLE)`, split into horizontal strips on several cores.

    Each strip resamples its own source box; Pillow computes the filter weights from
    the whole image, so the strips join into exactly the single-call result.
    """
    if im.size == size:
        return im
    src_w, src_h = im.size
    # Very large reductions: halve first with a box filter (Pillow's reducing_gap idea).
    fx, fy = max(1, src_w // size[0] // 2), max(1, src_h // size[1] // 2)
    if fx > 1 or fy > 1:
        im = im.reduce((fx, fy))
        src_w, src_h = im.size
    width, height = size
    strips = _WORKERS if width * height >= _PARALLEL_MIN_PIXELS else 1
    if strips == 1:
        return im.resize(size, _RESAMPLE)
    rows = [height * i // strips for i in range(strips + 1)]

    def strip(i: int) -> Image.Image:
        top, bottom = rows[i], rows[i + 1]
        box = (0.0, top * src_h / height, float(src_w), bottom * src_h / height)
        return im.resize((width, bottom - top), _RESAMPLE, box=box)

    out = Image.new(im.mode, size)
    for i, part in enumerate(_executor().map(strip, range(strips))):
        out.paste(part, (0, rows[i]))
    return out


def _to_working_mode(im: Image.Image, notes: list[str]) -> Image.Image:
    """L, LA, RGB or RGBA, whatever came in; high bit depths scaled, not clipped."""
    mode = im.mode
    if mode in ("RGB", "L", "RGBA", "LA"):
        return im
    if mode == "CMYK":
        notes.append("converted from CMYK")
        return _cmyk_to_rgb(im)
    if mode.startswith("I;16") or mode in ("I", "F"):
        notes.append("converted from 16-bit" if mode.startswith("I;16") else
                     f"converted from {mode} (high bit depth)")
        return _to_8bit(im)
    if mode in ("P", "PA"):
        has_alpha = mode == "PA" or "transparency" in im.info
        return im.convert("RGBA" if has_alpha else "RGB")
    if mode == "1":
        return im.convert("L")
    if mode in ("La", "RGBa"):
        return im.convert(mode.upper())
    try:
        return im.convert("RGB")
    except ValueError as err:
        raise ImageError("", f"the colour mode {mode} is not supported") from err


def _cmyk_to_rgb(im: Image.Image) -> Image.Image:
    icc = im.info.get("icc_profile")
    if icc:
        # Print-ready CMYK files carry a profile; without it colours shift badly.
        try:
            from PIL import ImageCms  # littleCMS: present in Pillow's wheels, not everywhere

            result = ImageCms.profileToProfile(
                im, ImageCms.ImageCmsProfile(io.BytesIO(icc)), ImageCms.createProfile("sRGB"),
                outputMode="RGB")
        except (ImportError, OSError, ValueError, TypeError):   # PyCMSError is an OSError
            result = None
        if result is not None:
            return result
    return im.convert("RGB")


def _extrema(im: Image.Image) -> tuple[float, float]:
    """(min, max) of a single-band image."""
    low, high = im.getextrema()
    if isinstance(low, tuple) or isinstance(high, tuple):     # not single-band
        raise ValueError(f"expected one band, got mode {im.mode}")
    return float(low), float(high)


def _to_8bit(im: Image.Image) -> Image.Image:
    """Scale 16-bit (and 32-bit) grey to 0–255. Pillow's own convert("L") clips at 255,
    which turns almost every 16-bit image white."""
    if im.mode != "F" and im.mode != "I":
        im = im.convert("I")
    low, high = _extrema(im)
    if im.mode == "I" and low >= 0 and high <= 255:
        return im.convert("L")
    if im.mode == "I" and low >= 0 and high <= 65535:
        low, high = 0.0, 65535.0          # 16-bit data: the full range, not a stretch
    scale = 255.0 / ((high - low) or 1.0)
    return im.point(lambda v: (v - low) * scale).convert("L")


def _flatten(im: Image.Image) -> Image.Image:
    """Composite on white: JPEG has no alpha, and black behind glyphs hides them."""
    rgba = im.convert("RGBA") if im.mode != "RGBA" else im
    white = Image.new("RGBA", im.size, (255, 255, 255, 255))
    out = Image.alpha_composite(white, rgba)
    return out.convert("L" if im.mode == "LA" else "RGB")


def _has_transparency(im: Image.Image) -> bool:
    if im.mode not in ("RGBA", "LA"):
        return False
    return _extrema(im.getchannel("A"))[0] < 255


def _looks_like_graphic(im: Image.Image, source_format: str) -> bool:
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
    parts = _WORKERS if len(scan) >= 4 * _PARALLEL_MIN_PIXELS else 1
    cuts = [len(scan) * i // parts for i in range(parts + 1)]

    def deflate(i: int) -> bytes:
        packer = zlib.compressobj(_PNG_LEVEL, zlib.DEFLATED, -15)   # raw deflate
        last = zlib.Z_FINISH if i == parts - 1 else zlib.Z_SYNC_FLUSH
        return packer.compress(scan[cuts[i]:cuts[i + 1]]) + packer.flush(last)

    pieces = _executor().map(deflate, range(parts)) if parts > 1 else [deflate(0)]
    idat = b"\x78\x01" + b"".join(pieces) + struct.pack(">I", zlib.adler32(scan))
    header = struct.pack(">IIBBBBB", im.width, im.height, 8, color_type, 0, 0, 0)
    return b"".join((_PNG_SIGNATURE, _chunk(b"IHDR", header), _chunk(b"IDAT", idat),
                     _chunk(b"IEND", b"")))


def _chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(payload, zlib.crc32(kind))
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def _png_without_metadata(data: bytes) -> bytes | None:
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


def _jpeg(im: Image.Image, quality: int, graphic: bool) -> bytes:
    out = io.BytesIO()
    # 4:4:4 for graphics keeps coloured text sharp; 4:2:0 is right for photos.
    im.save(out, "JPEG", quality=quality, subsampling=0 if graphic else 2)
    return out.getvalue()


@dataclass
class _Fit:
    image: Image.Image
    data: bytes
    mime: str


def _encode(im: Image.Image, *, graphic: bool, cap: int | None, model: Model,
            name: str, notes: list[str], original_png: bytes | None = None,
            jpeg_hint: tuple[int, float] | None = None) -> _Fit:
    """Encode within `cap` bytes: PNG if it fits (JPEG if that is far smaller), else
    JPEG at lower quality, then with fewer pixels (still multiples of the patch size).

    `jpeg_hint` is (quality to start at, bytes expected there), from a JPEG source:
    with it, the first encode usually already fits.
    """
    if graphic:
        png = original_png or _png(im)
        if cap is None or len(png) <= cap:
            if len(png) <= im.width * im.height or _has_transparency(im):
                return _Fit(im, png, "image/png")
            # Over a byte per pixel: photo-like content inside a "graphic".
            jpeg = _jpeg(im, _JPEG_QUALITY, True)
            if 3 * len(jpeg) <= len(png):
                return _Fit(im, jpeg, "image/jpeg")
            return _Fit(im, png, "image/png")
        notes.append("sent as JPEG to fit the provider's size limit")
    if _has_transparency(im):
        im = _flatten(im)
        notes.append("transparent areas filled with white")
    elif im.mode in ("RGBA", "LA"):
        im = im.convert(im.mode[:-1])
    quality, expected = jpeg_hint or (_JPEG_QUALITY, 0.0)
    if cap is not None and expected > 0.97 * cap:
        fits = [q for q in _JPEG_SIZE if q < quality
                and expected * _JPEG_SIZE[q] / _JPEG_SIZE[quality] <= 0.97 * cap]
        quality = fits[0] if fits else min(_JPEG_SIZE)
    data = _jpeg(im, quality, graphic)
    shrunk = False
    for _ in range(12):
        if cap is None or len(data) <= cap:
            if shrunk and cap is not None:
                # Area is a rough guide (fewer pixels also hold less noise): spend
                # what is left of the budget on quality.
                better = [q for q in _JPEG_SIZE if q > quality
                          and len(data) * _JPEG_SIZE[q] / _JPEG_SIZE[quality] <= 0.97 * cap]
                if better and len(again := _jpeg(im, better[0], graphic)) <= cap:
                    data = again
                notes.append(f"reduced to {im.width}×{im.height} to fit the provider's "
                             "size limit")
            return _Fit(im, data, "image/jpeg")
        # Predict the size at each lower quality from this one; take the best that fits.
        fits = [q for q in _JPEG_SIZE if q < quality
                and len(data) * _JPEG_SIZE[q] / _JPEG_SIZE[quality] <= 0.97 * cap]
        if fits:
            quality = fits[0]
        else:
            # No quality is enough: fewer pixels (bytes grow about with area), at q75.
            at_75 = len(data) * _JPEG_SIZE[75] / _JPEG_SIZE[quality]
            area = int(im.width * im.height * cap / at_75 * 0.9)
            height, width = smart_resize(im.height, im.width, model.patch_factor, 1,
                                         max(area, 1))
            if width * height >= im.width * im.height or width * height < model.min_pixels():
                break
            im, quality, shrunk = _resize(im, (width, height)), 75, True
        data = _jpeg(im, quality, graphic)
    raise ImageError(name, f"the image cannot be made small enough for the provider: "
                           f"{len(data):,} bytes at {im.width}×{im.height}, limit {cap:,} bytes")


@dataclass
class _Decoded:
    image: Image.Image          # loaded, in a working mode, still as stored (not upright)
    source_format: str
    source_mode: str
    animated: bool
    orientation: int
    stored: tuple[int, int]     # original size as stored in the file
    jpeg_quality: int | None    # the source's own JPEG quality, estimated


def _jpeg_quality(im: Image.Image) -> int | None:
    """Estimate a JPEG's quality setting from its luminance table (libjpeg's scaling).

    Re-encoding above the source's quality only adds bytes, never detail.
    """
    tables = getattr(im, "quantization", None)
    if not isinstance(tables, dict) or 0 not in tables:
        return None
    scale = sum(tables[0]) / _LIBJPEG_Q50_SUM * 100
    quality = 100 - scale / 2 if scale <= 100 else 5000 / scale
    return max(1, min(100, round(quality)))


def _plan(stored: tuple[int, int], orientation: int, model: Model,
          high_resolution: bool) -> tuple[int, int]:
    """The size to resize to, in stored (not yet upright) orientation.

    When the model's size is the image's own rounded to the patch grid (less than one
    patch off on each side, e.g. 3840×2160 → 3836×2156) or larger, the image is sent
    as it is: resampling it here would cost a full pass over the pixels and blur every
    glyph for no saving, and the server does exactly that resize anyway. The token
    estimate always follows `smart_resize`.
    """
    width, height = _upright_size(stored, orientation)
    target = target_size(width, height, model, high_resolution)
    factor = model.patch_factor
    if (target[0] >= width and target[1] >= height) or (
            abs(target[0] - width) < factor and abs(target[1] - height) < factor):
        return stored
    return _upright_size(target, orientation)


def _decode(data: bytes, name: str, model: Model, high_resolution: bool,
            notes: list[str]) -> tuple[_Decoded, tuple[int, int]]:
    """Open, check, decode (at a reduced JPEG scale when possible), normalise the mode."""
    im = _open(data, name)      # not `with`: closing an ImageFile frees its pixels too
    source_format, source_mode, stored = im.format or "", im.mode, im.size
    orientation = _orientation(im)
    try:
        animated = bool(getattr(im, "is_animated", False))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _bomb(name) from None
    except Exception as err:
        raise ImageError(name, _CORRUPT) from err
    if animated and source_format != "MPO":      # MPO: a JPEG with a preview, not animation
        kind = {"PNG": "APNG", "WEBP": "WebP"}.get(source_format, source_format)
        notes.append(f"multi-page {kind}: first page used" if kind == "TIFF"
                     else f"animated {kind}: first frame used")
    target = _plan(stored, orientation, model, high_resolution)
    if source_format in ("JPEG", "MPO") and target != stored:
        # libjpeg decodes at 1/2, 1/4 or 1/8 scale when the target allows: far less work.
        im.draft(None, target)
    try:
        im.load()
        image = _to_working_mode(im, notes)
    except ImageError as err:
        raise ImageError(name, err.reason) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _bomb(name) from None
    except Exception as err:
        raise ImageError(name, _CORRUPT) from err
    if source_format == "PNG" and orientation == 1:
        orientation = _orientation(im)            # an eXIf chunk after the pixel data
        target = _plan(stored, orientation, model, high_resolution)
    quality = _jpeg_quality(im) if source_format in ("JPEG", "MPO") else None
    decoded = _Decoded(image, source_format, source_mode, animated, orientation, stored,
                       quality)
    return decoded, target


def prepare_image(data: bytes, *, name: str, model: Model, provider: Provider,
                  high_resolution: bool = False, max_bytes: int | None = None,
                  source_url: str = "") -> PreparedImage:
    """Decode, orient, resize and encode an image for `model` on `provider`.

    The result has no more pixels than the model works at (see `_plan`), at most
    `max_bytes` bytes (None or 0: no explicit limit) and within what the provider
    accepts for one image. EXIF and other metadata (location!) are never sent.
    """
    notes: list[str] = []
    caps = [c for c in (max_bytes or None, image_byte_budget(provider, 1)) if c]
    cap = min(caps) if caps else None
    decoded, target = _decode(data, name, model, high_resolution, notes)
    image = _resize(decoded.image, target)
    if decoded.orientation != 1:
        image = image.transpose(_UPRIGHT[decoded.orientation])
        notes.append("turned upright (EXIF orientation)")
    if image.mode in ("RGBA", "LA") and not _has_transparency(image):
        image = image.convert(image.mode[:-1])
    unchanged = (decoded.source_format == "PNG" and not decoded.animated
                 and target == decoded.stored and decoded.orientation == 1
                 and decoded.source_mode in ("RGB", "RGBA", "L", "LA", "P"))
    hint = None
    if decoded.jpeg_quality is not None:
        start = max(min(_JPEG_SIZE), min(_JPEG_QUALITY, 5 * round(decoded.jpeg_quality / 5)))
        area_ratio = target[0] * target[1] / (decoded.stored[0] * decoded.stored[1])
        hint = (start, len(data) * area_ratio)
    fit = _encode(image, graphic=_looks_like_graphic(image, decoded.source_format), cap=cap,
                  model=model, name=name, notes=notes, jpeg_hint=hint,
                  original_png=_png_without_metadata(data) if unchanged else None)
    width, height = fit.image.size
    upright = _upright_size(decoded.stored, decoded.orientation)
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
