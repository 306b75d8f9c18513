"""Very large images made in a few milliseconds, without holding their pixels.

A 108-megapixel photo made with Pillow would need its 324 MB of pixels in memory first;
these are written byte by byte instead. The JPEG is a valid baseline (or, with
`progressive=True`, a progressive-header) file of one flat grey: every 8×8 block is a
DC difference of 0 and an end-of-block, each coded as the one-bit Huffman code "0".
The PNG is a valid one-bit greyscale image of zeros: tiny on disk, enormous decoded.
"""

from __future__ import annotations

import math
import struct
import zlib


def _segment(marker: int, payload: bytes) -> bytes:
    return b"\xff" + bytes([marker]) + struct.pack(">H", len(payload) + 2) + payload


def flat_jpeg(width: int, height: int, *, progressive: bool = False) -> bytes:
    """A grey JPEG of any size up to 65535×65535, 4:2:0 like a phone's, ~1 bit a pixel/64."""
    one_code = bytes([1] + [0] * 15)           # a single Huffman code, of length 1
    parts = [
        b"\xff\xd8",
        _segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"),
        _segment(0xDB, b"\x00" + b"\x01" * 64),
        _segment(0xC2 if progressive else 0xC0, struct.pack(">BHHB", 8, height, width, 3)
                 + bytes([1, 0x22, 0, 2, 0x11, 0, 3, 0x11, 0])),
        _segment(0xC4, b"\x00" + one_code + b"\x00"),     # DC: difference category 0
        _segment(0xC4, b"\x10" + one_code + b"\x00"),     # AC: end of block
        _segment(0xDA, bytes([3, 1, 0, 2, 0, 3, 0, 0, 63, 0])),
    ]
    # Each 16×16 MCU holds six blocks (four Y, Cb, Cr) of two bits each.
    bits = math.ceil(width / 16) * math.ceil(height / 16) * 12
    data = bytearray(bits // 8)
    if bits % 8:
        data.append(0xFF >> (bits % 8))        # padding bits are ones
    return b"".join([*parts, bytes(data), b"\xff\xd9"])


def zero_png(width: int, height: int) -> bytes:
    """A real one-bit PNG of `width`×`height` black pixels (valid all the way through)."""
    def chunk(kind: bytes, payload: bytes) -> bytes:
        return (struct.pack(">I", len(payload)) + kind + payload
                + struct.pack(">I", zlib.crc32(kind + payload)))
    row = b"\0" * (1 + math.ceil(width / 8))
    packer = zlib.compressobj(1)
    rows = [row * 1000] * (height // 1000) + [row * (height % 1000)]
    idat = b"".join(packer.compress(block) for block in rows) + packer.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat)
            + chunk(b"IEND", b""))
