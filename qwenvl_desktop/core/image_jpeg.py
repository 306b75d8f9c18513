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
import re
import struct
from dataclasses import dataclass
from typing import Final

from PIL import Image

from .image_checks import UPRIGHT, upright_size
from .image_pixels import PARALLEL_MIN_PIXELS, executor

__all__ = [
    "Pieces",
    "encode_jpeg",
    "join_pieces",
    "plan_pieces",
    "save_jpeg",
    "save_options",
    "stored_box",
    "upright_band",
    "upright_piece",
]

_BAND_ROWS: Final = 256       # ~0.8 MP at 3024 px wide: a band and its turned copy stay small
_TILE_COLUMNS: Final = 384    # tiles side by side: about as wide as that, and within
_TILE_MIN: Final = 128        # ... these bounds (a width dividing the MCUs evenly)
_TILE_MAX: Final = 1024
_SOI: Final = b"\xff\xd8"
_EOI: Final = b"\xff\xd9"
_SOF0: Final = 0xC0           # baseline DCT; the only frame type we join
_DRI: Final = 0xDD
_SOS: Final = 0xDA
_RST0: Final = 0xD0
# A restart marker in entropy-coded data (any 0xFF byte of the data is followed by 0x00).
_RESTART: Final = re.compile(rb"\xff[\xd0-\xd7]")


def stored_box(box: tuple[int, int, int, int], orientation: int,
               stored: tuple[int, int]) -> tuple[int, int, int, int]:
    """The box of the image as stored (`stored` is its size) that EXIF `orientation`
    turns into `box` of the upright image."""
    left, top, right, bottom = box
    width, height = stored
    if orientation in (2, 3):                # mirrored left to right
        left, right = width - right, width - left
    if orientation in (3, 4):                # mirrored top to bottom
        top, bottom = height - bottom, height - top
    if orientation < 5:
        return left, top, right, bottom
    # 5-8: upright rows are stored columns and upright columns stored rows.
    if orientation in (6, 7):                # upright x runs up the stored rows
        left, right = height - right, height - left
    if orientation in (7, 8):                # upright y runs leftwards along stored x
        top, bottom = width - bottom, width - top
    return top, left, bottom, right


def upright_piece(im: Image.Image, orientation: int,
                  box: tuple[int, int, int, int]) -> Image.Image:
    """`box` of `im` as seen upright under EXIF `orientation`, cut before it is turned
    (only the piece is ever copied)."""
    piece = im.crop(stored_box(box, orientation, im.size))
    return piece if orientation == 1 else piece.transpose(UPRIGHT[orientation])


def upright_band(im: Image.Image, orientation: int, top: int, bottom: int) -> Image.Image:
    """Rows `top`..`bottom` of `im` as seen upright under EXIF `orientation`."""
    width = upright_size(im.size, orientation)[0]
    return upright_piece(im, orientation, (0, top, width, bottom))


def save_jpeg(im: Image.Image, quality: int, subsampling: int, **options: int) -> bytes:
    """`im` as a JPEG, with no metadata: Pillow would copy a decoded JPEG's comment
    (COM) into it, and EXIF, XMP and ICC only when asked to."""
    out = io.BytesIO()
    im.save(out, "JPEG", quality=quality, subsampling=subsampling, comment=b"", **options)
    return out.getvalue()


def _whole(im: Image.Image, orientation: int, quality: int, subsampling: int) -> bytes:
    if orientation != 1:
        im = im.transpose(UPRIGHT[orientation])
    return save_jpeg(im, quality, subsampling)


@dataclass(frozen=True)
class Pieces:
    """How an upright image of `size` is cut to be encoded piece by piece and joined:
    rows of bands one above the other, or (`columns`) tiles side by side, each a
    whole number of MCUs wide. `interval` is the joined file's restart interval."""

    size: tuple[int, int]
    boxes: tuple[tuple[int, int, int, int], ...]
    columns: bool
    interval: int
    mcu_rows: int


def _mcu(grey: bool, subsampling: int) -> tuple[int, int]:
    return (8, 8) if grey or subsampling == 0 else (16, 16)


def plan_pieces(size: tuple[int, int], *, grey: bool, subsampling: int,
                columns: bool = False) -> Pieces | None:
    """Bands of about `_BAND_ROWS` rows, or with `columns` tiles of about
    `_TILE_COLUMNS` columns; None when the image is one piece anyway (or, for tiles,
    when no tile width divides its MCUs evenly: every restart interval must hold as
    many MCUs)."""
    width, height = size
    mcu_w, mcu_h = _mcu(grey, subsampling)
    per_row, mcu_rows = -(-width // mcu_w), -(-height // mcu_h)
    if columns:
        fits = [n for n in range(1, per_row // 2 + 1) if per_row % n == 0
                and _TILE_MIN <= n * mcu_w <= _TILE_MAX]
        if not fits:
            return None
        step = mcu_w * min(fits, key=lambda n: abs(n * mcu_w - _TILE_COLUMNS))
        boxes = tuple((left, 0, min(left + step, width), height)
                      for left in range(0, width, step))
        return Pieces(size, boxes, True, step // mcu_w, mcu_rows)
    # The restart interval counts MCUs in a 16-bit field.
    rows = mcu_h * min(_BAND_ROWS // mcu_h, 65535 // per_row)
    if rows == 0 or rows >= height:
        return None
    boxes = tuple((0, top, width, min(top + rows, height)) for top in range(0, height, rows))
    return Pieces(size, boxes, False, per_row * (rows // mcu_h), mcu_rows)


def save_options(pieces: Pieces) -> dict[str, int]:
    """What each piece is saved with besides quality and subsampling: a tile restarts
    at every MCU row, so that its rows can be laid beside the other tiles' rows."""
    return {"restart_marker_rows": 1} if pieces.columns else {}


def encode_jpeg(im: Image.Image, quality: int, *, subsampling: int,
                orientation: int = 1) -> bytes:
    """`im` (an L or RGB image as stored, turned upright by `orientation`) as a baseline
    JPEG; `subsampling` as Pillow's (0: 4:4:4, 2: 4:2:0)."""
    size = upright_size(im.size, orientation)
    if im.mode not in ("L", "RGB") or size[0] * size[1] < PARALLEL_MIN_PIXELS:
        return _whole(im, orientation, quality, subsampling)
    pieces = plan_pieces(size, grey=im.mode == "L", subsampling=subsampling)
    if pieces is None:
        return _whole(im, orientation, quality, subsampling)

    def band(box: tuple[int, int, int, int]) -> bytes:
        return save_jpeg(upright_piece(im, orientation, box), quality, subsampling)

    joined = join_pieces(pieces, list(executor().map(band, pieces.boxes)))
    return joined if joined is not None else _whole(im, orientation, quality, subsampling)


def _split(jpeg: bytes, *, restarts: bool = False) -> tuple[list[bytes], bytes] | None:
    """(the marker segments up to and including SOS, the entropy-coded data) of a
    single-scan baseline JPEG as libjpeg writes it; None for anything else. A restart
    interval (DRI) is allowed, and left out of the segments, only with `restarts`."""
    if not jpeg.startswith(_SOI) or not jpeg.endswith(_EOI):
        return None
    segments: list[bytes] = []
    pos = len(_SOI)
    while pos + 4 <= len(jpeg) and jpeg[pos] == 0xFF:
        marker = jpeg[pos + 1]
        (length,) = struct.unpack_from(">H", jpeg, pos + 2)
        end = pos + 2 + length
        if (marker == _DRI and not restarts) or (
                0xC1 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC)):
            return None                  # restart markers already, or not baseline DCT
        if marker != _DRI:
            segments.append(jpeg[pos:end])
        if marker == _SOS:
            return segments, jpeg[end:-len(_EOI)]
        pos = end
    return None


def _header(segments: list[bytes], size: tuple[int, int], interval: int) -> list[bytes]:
    """`segments` (up to SOS) with the frame's size set and a restart interval."""
    out = [_SOI]
    for segment in segments:
        if segment[1] == _SOF0:          # FF C0, length, precision, height, width
            segment = segment[:5] + struct.pack(">HH", size[1], size[0]) + segment[9:]
        elif segment[1] == _SOS:
            out.append(bytes((0xFF, _DRI)) + struct.pack(">HH", 4, interval))
        out.append(segment)
    return out


def join_pieces(pieces: Pieces, jpegs: list[bytes]) -> bytes | None:
    """One JPEG of the whole upright image from its pieces, encoded alike (in the order
    of `pieces.boxes`); None if they are not what `_split` expects, their tables differ,
    or a tile does not restart at each of its MCU rows."""
    parts = [_split(j, restarts=pieces.columns) for j in jpegs]
    split = [p for p in parts if p is not None]
    if len(split) != len(jpegs) or len(split) != len(pieces.boxes):
        return None
    tables = [[s for s in segments if s[1] != _SOF0] for segments, _data in split]
    header = split[0][0]
    if any(t != tables[0] for t in tables) or not any(s[1] == _SOF0 for s in header):
        return None
    if pieces.columns:
        # Every tile restarts at each MCU row: lay row r of every tile side by side.
        rows = [_RESTART.split(data) for _segments, data in split]
        if any(len(r) != pieces.mcu_rows for r in rows):
            return None
        intervals = [tile_rows[r] for r in range(pieces.mcu_rows) for tile_rows in rows]
    else:
        intervals = [data for _segments, data in split]
    out = _header(header, pieces.size, pieces.interval)
    for i, data in enumerate(intervals):
        if i:
            out.append(bytes((0xFF, _RST0 + (i - 1) % 8)))
        out.append(data)
    out.append(_EOI)
    return b"".join(out)
