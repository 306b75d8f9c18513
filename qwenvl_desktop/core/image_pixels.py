"""Work on decoded pixels: bring any colour mode to one we can encode, and resize.

Pillow releases the GIL while resampling and encoding, so large jobs are split over a
small thread pool shared with the PNG encoder (`image_encoding`).
"""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Final

from PIL import Image
from PIL import _imaging as pillow_core  # the allocator's knobs (Image.core)

from .errors import ImageError
from .i18n import _

__all__ = [
    "PARALLEL_MIN_PIXELS",
    "RESAMPLE",
    "WORKERS",
    "executor",
    "flatten",
    "has_transparency",
    "resize",
    "reused_pixel_memory",
    "to_working_mode",
]

# Hamming: Pillow's filter for reducing, sharper than bilinear at its cost, half of
# bicubic's. Side by side on a 4K screenshot reduced to 2144×1184 its text is not to be
# told from bicubic (what Qwen's processors use) or Lanczos, and it compresses smaller.
RESAMPLE: Final = Image.Resampling.HAMMING
WORKERS: Final = max(1, min(4, os.cpu_count() or 1))
PARALLEL_MIN_PIXELS: Final = 1_000_000
"""Below this, splitting the work over threads costs more than it saves."""
_pool: ThreadPoolExecutor | None = None
# Pillow's pixel blocks (16 MB each at most) kept for reuse while images are prepared:
# the band encoder's crops and turned copies, two per thread in flight, and the strips.
_REUSED_BLOCKS: Final = 2 * WORKERS + 2
_reuse_lock = threading.Lock()
_reuse_users = 0


@contextmanager
def reused_pixel_memory() -> Iterator[None]:
    """Let Pillow reuse freed pixel blocks inside the block; give them back after.

    By default Pillow returns every image's memory to the system at once, so each new
    image is fresh memory the kernel must fault in and zero: on the 2-core test machine
    copying a 12 MP RGB image took ~100 ms that way and ~10-20 ms from reused blocks,
    and turning a 4032×3024 photo upright band by band allocates two new images a band.
    The cache is emptied when the last preparation leaves, so an idle app holds nothing.
    """
    global _reuse_users
    with _reuse_lock:
        _reuse_users += 1
        if _reuse_users == 1:
            pillow_core.set_blocks_max(_REUSED_BLOCKS)
    try:
        yield
    finally:
        with _reuse_lock:
            _reuse_users -= 1
            if _reuse_users == 0:
                pillow_core.set_blocks_max(0)      # frees the cached blocks


def executor() -> ThreadPoolExecutor:
    """The image threads, started on first use and shared by resizing and PNG encoding."""
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="qwenvl-image")
    return _pool


def resize(im: Image.Image, size: tuple[int, int]) -> Image.Image:
    """`im.resize(size, RESAMPLE)`, split into horizontal strips on several cores.

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
    strips = WORKERS if width * height >= PARALLEL_MIN_PIXELS else 1
    if strips == 1:
        return im.resize(size, RESAMPLE)
    rows = [height * i // strips for i in range(strips + 1)]

    def strip(i: int) -> Image.Image:
        top, bottom = rows[i], rows[i + 1]
        box = (0.0, top * src_h / height, float(src_w), bottom * src_h / height)
        return im.resize((width, bottom - top), RESAMPLE, box=box)

    out = Image.new(im.mode, size)
    for i, part in enumerate(executor().map(strip, range(strips))):
        out.paste(part, (0, rows[i]))
    return out


def to_working_mode(im: Image.Image, notes: list[str]) -> Image.Image:
    """L, LA, RGB or RGBA, whatever came in; high bit depths scaled, not clipped.

    Conversions the person may notice are added to `notes`. An unsupported mode raises
    an ImageError without a file name (the caller knows it).
    """
    mode = im.mode
    if mode in ("RGB", "L", "RGBA", "LA"):
        return im
    if mode == "CMYK":
        notes.append(_("converted from CMYK"))
        return _cmyk_to_rgb(im)
    if mode.startswith("I;16") or mode in ("I", "F"):
        notes.append(_("converted from 16-bit") if mode.startswith("I;16") else
                     _("converted from {mode} (high bit depth)").format(mode=mode))
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
        raise ImageError("", _("the colour mode {mode} is not supported").format(
            mode=mode)) from err


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


def flatten(im: Image.Image) -> Image.Image:
    """Composite on white: JPEG has no alpha, and black behind glyphs hides them."""
    rgba = im.convert("RGBA") if im.mode != "RGBA" else im
    white = Image.new("RGBA", im.size, (255, 255, 255, 255))
    out = Image.alpha_composite(white, rgba)
    return out.convert("L" if im.mode == "LA" else "RGB")


def has_transparency(im: Image.Image) -> bool:
    """Whether any pixel of an RGBA or LA image is not fully opaque."""
    if im.mode not in ("RGBA", "LA"):
        return False
    return _extrema(im.getchannel("A"))[0] < 255
