"""JPEG encoding in horizontal bands, turned upright on the way.

A 12 MP phone photo that must be re-encoded (OVH takes request bodies of at most
2 MB) costs a decode, an EXIF rotation and an encode. Rotating the whole image first
writes a second 48 MB image into freshly mapped memory: on the 2-core test machine
that copy cost 0.5-0.9 × the decode itself. Here the upright image is made and encoded
a band of rows at a time: each band is cut from the image as stored, turned while it
is small enough to stay in cache, and encoded; bands run on the image threads, and
their entropy-coded data is joined into one baseline JPEG with restart markers in
between (as pigz joins deflate streams). Each band but the last is a whole number of
MCU rows, and libjpeg neither smooths nor downsamples across MCUs, so the joined file
decodes to exactly the pixels of a single encode of the upright image.
"""

from __future__ import annotations

import io
import struct
from typing import Final

from PIL import Image

from .image_checks import UPRIGHT
from .image_pixels import PARALLEL_MIN_PIXELS, executor

__all__ = ["encode_jpeg", "upright_band"]

_BAND_ROWS: Final = 256       # ~0.8 MP at 3024 px wide: a band and its turned copy stay small
_SOI: Final = b"\xff\xd8"
_EOI: Final = b"\xff\xd9"
_SOF0: Final = 0xC0           # baseline DCT; the only frame type we join
_DRI: Final = 0xDD
_SOS: Final = 0xDA
_RST0: Final = 0xD0


def upright_band(im: Image.Image, orientation: int, top: int, bottom: int) -> Image.Image:
    """Rows `top`..`bottom` of `im` as seen upright under EXIF `orientation`."""
    width, height = im.size
    if orientation in (1, 2):
        box = (0, top, width, bottom)
    elif orientation in (3, 4):
        box = (0, height - bottom, width, height - top)
    elif orientation in (5, 6):          # upright row y is stored column y
        box = (top, 0, bottom, height)
    else:                                # 7, 8: upright row y is stored column width-1-y
        box = (width - bottom, 0, width - top, height)
    band = im.crop(box)
    return band if orientation == 1 else band.transpose(UPRIGHT[orientation])


def _whole(im: Image.Image, orientation: int, quality: int, subsampling: int) -> bytes:
    if orientation != 1:
        im = im.transpose(UPRIGHT[orientation])
    out = io.BytesIO()
    im.save(out, "JPEG", quality=quality, subsampling=subsampling)
    return out.getvalue()


def encode_jpeg(im: Image.Image, quality: int, *, subsampling: int,
                orientation: int = 1) -> bytes:
    """`im` (an L or RGB image as stored, turned upright by `orientation`) as a baseline
    JPEG; `subsampling` as Pillow's (0: 4:4:4, 2: 4:2:0)."""
    width, height = im.size if orientation < 5 else im.size[::-1]
    grey = im.mode == "L"
    if im.mode not in ("L", "RGB") or width * height < PARALLEL_MIN_PIXELS:
        return _whole(im, orientation, quality, subsampling)
    mcu_w, mcu_h = (8, 8) if grey or subsampling == 0 else (16, 16)
    per_row = -(-width // mcu_w)
    # The restart interval counts MCUs in a 16-bit field.
    rows = mcu_h * min(_BAND_ROWS // mcu_h, 65535 // per_row)
    if rows == 0 or rows >= height:
        return _whole(im, orientation, quality, subsampling)
    cuts = [*range(0, height, rows), height]

    def band(i: int) -> bytes:
        out = io.BytesIO()
        upright_band(im, orientation, cuts[i], cuts[i + 1]).save(
            out, "JPEG", quality=quality, subsampling=subsampling)
        return out.getvalue()

    joined = _join(list(executor().map(band, range(len(cuts) - 1))), height,
                   per_row * (rows // mcu_h))
    return joined if joined is not None else _whole(im, orientation, quality, subsampling)


def _split(jpeg: bytes) -> tuple[list[bytes], bytes] | None:
    """(the marker segments up to and including SOS, the entropy-coded data) of a
    single-scan baseline JPEG as libjpeg writes it; None for anything else."""
    if not jpeg.startswith(_SOI) or not jpeg.endswith(_EOI):
        return None
    segments: list[bytes] = []
    pos = len(_SOI)
    while pos + 4 <= len(jpeg) and jpeg[pos] == 0xFF:
        marker = jpeg[pos + 1]
        (length,) = struct.unpack_from(">H", jpeg, pos + 2)
        end = pos + 2 + length
        segments.append(jpeg[pos:end])
        if marker == _DRI or (0xC1 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC)):
            return None                  # restart markers already, or not baseline DCT
        if marker == _SOS:
            return segments, jpeg[end:-len(_EOI)]
        pos = end
    return None


def _join(bands: list[bytes], height: int, interval: int) -> bytes | None:
    """One JPEG of `height` rows from bands encoded alike, each but the last exactly
    `interval` MCUs; None if the bands are not what `_split` expects or their tables
    differ."""
    parts = [_split(b) for b in bands]
    if any(p is None for p in parts):
        return None
    split = [p for p in parts if p is not None]
    tables = [[s for s in segments if s[1] != _SOF0] for segments, _data in split]
    header = split[0][0]
    if any(t != tables[0] for t in tables) or not any(s[1] == _SOF0 for s in header):
        return None
    out = [_SOI]
    for segment in header:
        if segment[1] == _SOF0:          # FF C0, length, precision, then the height
            segment = segment[:5] + struct.pack(">H", height) + segment[7:]
        elif segment[1] == _SOS:
            out.append(bytes((0xFF, _DRI)) + struct.pack(">HH", 4, interval))
        out.append(segment)
    for i, (_segments, data) in enumerate(split):
        if i:
            out.append(bytes((0xFF, _RST0 + (i - 1) % 8)))
        out.append(data)
    out.append(_EOI)
    return b"".join(out)
