"""Re-encode a JPEG while it decodes: each upright piece is encoded once its rows are in.

A 12 MP phone photo for OVH (full size, but re-encoded under its 2 MB body limit) is a
decode, an EXIF turn and an encode. libjpeg decodes on one thread only; done one after
the other, the turning and encoding (about 1.3 × the decode's CPU on the 2-core test
machine) waited for the whole decode while the second core idled. Here the image is
decoded into a canvas of ours, and between the chunks of file the decoder reads, every
piece (`image_jpeg.plan_pieces`) whose stored rows are all in goes to the image threads
to be cut, turned and encoded. (The work is the same: with no core free, as on the
test machine at a load of 3 or more, it saves nothing; the wall time it saves is that
of a free core.) A photo stored sideways (EXIF 5-8, most portrait phone
photos) arrives a column of its upright image at a time: its pieces are tiles side by
side that restart at each MCU row, laid row by row into one file
(`image_jpeg.join_pieces`). The file decodes to exactly the pixels of one encode of the
upright image.

Knowing which rows are in: the first and last pixel of each piece's last row are set to
a marker colour first; once either differs, the decoder has written that row and every
row above it. (Should the photo itself have the marker colour in both places, the
piece merely waits for the end of the decode.)
"""

from __future__ import annotations

from concurrent.futures import Future, wait
from typing import TypeGuard

from PIL import Image
from PIL.JpegImagePlugin import JpegImageFile

from .image_checks import upright_size
from .image_jpeg import (
    join_pieces,
    plan_pieces,
    save_jpeg,
    save_options,
    stored_box,
    upright_piece,
)
from .image_pixels import PARALLEL_MIN_PIXELS, executor

__all__ = ["can_stream", "decode_encoding"]

_MARK = (1, 254, 3)          # any colour works; this one is rare in photos


def can_stream(im: Image.Image) -> TypeGuard[JpegImageFile]:
    """Whether `im` (opened, not loaded) is a JPEG this module can decode piece by piece:
    one baseline scan decoding to RGB, large enough to be worth the threads."""
    width, height = im.size
    return (im.format in ("JPEG", "MPO") and im.mode == "RGB"
            and isinstance(im, JpegImageFile) and len(im.tile) == 1
            and not im.info.get("progressive") and not im.info.get("progression")
            and width * height >= PARALLEL_MIN_PIXELS)


def _row_in(canvas: Image.Image, row: int) -> bool:
    """Whether the decoder has (surely) written pixel row `row`: a marker is gone."""
    return (canvas.getpixel((0, row)) != _MARK
            or canvas.getpixel((canvas.width - 1, row)) != _MARK)


def _load_into(im: JpegImageFile, canvas: Image.Image) -> bool:
    """Decode `im` into `canvas`'s pixels; False if Pillow decoded into pixels of its own
    instead (a version that sets up an image of its own before decoding)."""
    im.im = canvas.im
    im.load()
    return im.im is canvas.im


def decode_encoding(im: JpegImageFile, orientation: int, quality: int,
                    subsampling: int) -> tuple[Image.Image, bytes | None]:
    """Load `im` (see `can_stream`) and encode it, upright under EXIF `orientation`, as a
    JPEG at `quality` and `subsampling` (Pillow's numbers) while it decodes.

    Returns the decoded image (as stored) and the JPEG, or None for the JPEG when it
    could not be made this way (the caller then encodes the image itself). Decoding
    errors are Pillow's, raised once no piece is being encoded any more.
    """
    size = upright_size(im.size, orientation)
    pieces = plan_pieces(size, grey=False, subsampling=subsampling, columns=orientation >= 5)
    canvas = Image.new("RGB", im.size, None)        # not cleared: the decoder fills it
    # Each piece's last row as stored, in the order the decoder reaches them.
    last_rows = [] if pieces is None else [
        stored_box(box, orientation, im.size)[3] - 1 for box in pieces.boxes]
    for row in last_rows:
        canvas.putpixel((0, row), _MARK)
        canvas.putpixel((canvas.width - 1, row), _MARK)
    if pieces is None:             # one piece: decode, and the caller encodes
        return (canvas if _load_into(im, canvas) else im), None
    options = save_options(pieces)

    def encode(i: int) -> bytes:
        piece = upright_piece(canvas, orientation, pieces.boxes[i])
        return save_jpeg(piece, quality, subsampling, **options)

    waiting = sorted(range(len(pieces.boxes)), key=lambda i: last_rows[i])
    jobs: dict[int, Future[bytes]] = {}

    def send_ready() -> None:
        while waiting and _row_in(canvas, last_rows[waiting[0]]):
            i = waiting.pop(0)
            jobs[i] = executor().submit(encode, i)

    read = im.load_read

    def reading(size: int) -> bytes:      # called between the decoder's chunks
        send_ready()
        return read(size)

    im.load_read = reading                 # type: ignore[method-assign,assignment]
    try:
        into_canvas = _load_into(im, canvas)
    except BaseException:
        for job in jobs.values():
            job.cancel()
        wait(jobs.values())
        raise
    finally:
        del im.load_read
    if not into_canvas:
        wait(jobs.values())                # nothing was marked as in: nothing was sent
        return im, None
    for i in waiting:
        jobs[i] = executor().submit(encode, i)
    try:
        jpegs = [jobs[i].result() for i in range(len(pieces.boxes))]
    except Exception:                      # the caller's own encode says what is wrong
        return canvas, None
    return canvas, join_pieces(pieces, jpegs)
