"""A full-size JPEG encoded again while it decodes: the file sent is exactly one encode of
the upright image, for every EXIF orientation; it fits the byte limit, keeps the colours
and carries none of the photo's metadata; pieces really go out before the decode ends;
a broken file is still refused with its name."""

from __future__ import annotations

import io
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest
from PIL import Image, ImageFilter, ImageOps
from PIL.JpegImagePlugin import JpegImageFile

from qwenvl_desktop.core import image_jpeg_stream
from qwenvl_desktop.core.catalog import load_builtin
from qwenvl_desktop.core.errors import ImageError
from qwenvl_desktop.core.image_checks import UPRIGHT
from qwenvl_desktop.core.image_jpeg import plan_pieces
from qwenvl_desktop.core.image_jpeg_stream import can_stream, decode_encoding
from qwenvl_desktop.core.images import image_byte_budget, prepare_image

CATALOG = load_builtin()
OVH = CATALOG.get("ovh")
OVH_MODEL = OVH.model("Qwen2.5-VL-72B-Instruct")        # takes 12.8 MP: photos go full size
DRI = b"\xff\xdd"


def photo(width: int, height: int) -> Image.Image:
    """Smooth colour with some grain, different in every row and column, with a red
    block in the stored top-left corner to tell the turns apart."""
    small = Image.merge("RGB", [Image.effect_noise((width // 16, height // 16), 70 + 20 * i)
                                for i in range(3)])
    im = small.filter(ImageFilter.GaussianBlur(1)).resize((width, height),
                                                          Image.Resampling.BICUBIC)
    grain = Image.effect_noise((width, height), 12).convert("RGB")
    im = Image.blend(im, grain, 0.15)
    im.paste((230, 20, 20), (0, 0, width // 5, height // 5))
    return im


def jpeg_file(im: Image.Image, orientation: int, **options: Any) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    out = io.BytesIO()
    im.save(out, "JPEG", quality=options.pop("quality", 95), exif=exif, **options)
    return out.getvalue()


def opened(data: bytes) -> JpegImageFile:
    im = Image.open(io.BytesIO(data))
    assert isinstance(im, JpegImageFile)
    return im


def decoded(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as im:
        return im.convert("RGB")


def one_encode(im: Image.Image, quality: int, subsampling: int) -> bytes:
    out = io.BytesIO()
    im.save(out, "JPEG", quality=quality, subsampling=subsampling)
    return out.getvalue()


def mean_abs_diff(a: Image.Image, b: Image.Image) -> float:
    assert a.size == b.size
    pairs = zip(a.tobytes(), b.tobytes(), strict=True)
    return sum(abs(x - y) for x, y in pairs) / (a.width * a.height * 3)


# 1,600 × 1,008: over a megapixel; upright widths 1,600 (rows of bands) and 1,008
# (63 MCUs: tiles of 21), heights that are no multiple of the MCU for 5-8.
STORED = photo(1600, 1008)


def encode_watching(monkeypatch: pytest.MonkeyPatch,
                    im: JpegImageFile) -> tuple[bytes | None, list[bool]]:
    """`decode_encoding(im, 6, 80, 2)`, noting for each piece sent to the image threads
    whether the decode was still running then (Pillow clears `tile` once loaded)."""
    still_decoding: list[bool] = []
    pool = ThreadPoolExecutor(max_workers=2)

    class Watching:
        def submit(self, fn: Callable[[int], bytes], i: int) -> Future[bytes]:
            still_decoding.append(bool(im.tile))
            return pool.submit(fn, i)

    monkeypatch.setattr(image_jpeg_stream, "executor", Watching)
    try:
        _canvas, jpeg = decode_encoding(im, 6, 80, 2)
    finally:
        pool.shutdown()
    return jpeg, still_decoding


@pytest.mark.parametrize("orientation", range(1, 9))
def test_streamed_jpeg_is_exactly_one_encode_of_the_upright_image(orientation: int) -> None:
    data = jpeg_file(STORED, orientation)
    reference = decoded(data)                      # as stored: Pillow ignores EXIF here
    upright = reference if orientation == 1 else reference.transpose(UPRIGHT[orientation])
    im = opened(data)
    assert can_stream(im)
    canvas, jpeg = decode_encoding(im, orientation, 80, 2)
    assert jpeg is not None
    assert DRI in jpeg[:2000], "not joined from pieces"
    assert canvas.tobytes() == reference.tobytes()
    with Image.open(io.BytesIO(jpeg)) as sent:
        assert sent.size == upright.size
        assert sent.convert("RGB").tobytes() == decoded(one_encode(upright, 80, 2)).tobytes()


def test_pieces_are_encoded_while_the_file_is_still_decoding(
        monkeypatch: pytest.MonkeyPatch) -> None:
    data = jpeg_file(photo(2400, 1600), 6)
    im = opened(data)
    jpeg, still_decoding = encode_watching(monkeypatch, im)
    assert jpeg is not None
    pieces = plan_pieces((1600, 2400), grey=False, subsampling=2, columns=True)
    assert pieces is not None
    assert len(still_decoding) == len(pieces.boxes)
    assert any(still_decoding)
    assert not all(still_decoding)           # the last piece needs the last rows


def test_a_photo_in_the_marker_colour_where_it_is_looked_at_is_still_right(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows are known to be in when the marker colour is gone; where the photo itself
    has it (it decodes exactly to it here), its pieces wait for the end of the decode."""
    stored = Image.new("RGB", (1600, 1008), image_jpeg_stream._MARK)
    stored.paste(photo(1280, 800), (160, 100))
    data = jpeg_file(stored, 6, quality=100)
    reference = decoded(data)
    assert reference.getpixel((0, 500)) == reference.getpixel((1599, 500)) == \
        image_jpeg_stream._MARK
    im = opened(data)
    jpeg, still_decoding = encode_watching(monkeypatch, im)
    assert jpeg is not None
    assert still_decoding
    assert not any(still_decoding)
    upright = reference.transpose(UPRIGHT[6])
    assert decoded(jpeg).tobytes() == decoded(one_encode(upright, 80, 2)).tobytes()


def test_a_width_no_tile_divides_is_decoded_whole_and_still_sent_upright() -> None:
    # Upright 3,152 px wide: 197 MCUs, a prime; no tiles of equal width fit.
    assert plan_pieces((3152, 1200), grey=False, subsampling=2, columns=True) is None
    data = jpeg_file(photo(1200, 3152), 8)
    canvas, jpeg = decode_encoding(opened(data), 8, 80, 2)
    assert jpeg is None
    assert canvas.tobytes() == decoded(data).tobytes()
    result = prepare_image(data, name="odd.jpg", model=OVH_MODEL, provider=OVH)
    assert (result.width, result.height) == (3152, 1200)
    reference = ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")
    assert mean_abs_diff(decoded(result.data), reference) < 3


@pytest.mark.parametrize("orientation", range(1, 9))
def test_full_size_photo_is_upright_within_the_limit_with_its_colours(orientation: int) -> None:
    data = jpeg_file(STORED, orientation)
    limit = 150_000                      # well under the file: the quality must come down
    assert len(data) > 2 * limit
    result = prepare_image(data, name="IMG_0001.jpg", model=OVH_MODEL, provider=OVH,
                           max_bytes=limit)
    upright = (1008, 1600) if orientation >= 5 else (1600, 1008)
    assert (result.width, result.height) == upright
    assert len(result.data) <= limit
    assert result.mime == "image/jpeg"
    assert ("turned upright (EXIF orientation)" in result.notes) == (orientation != 1)
    sent = decoded(result.data)
    assert sent.size == upright
    # What a viewer honouring the EXIF tag shows (any other turn differs by far more).
    reference = ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")
    assert mean_abs_diff(sent, reference) < 3


def test_twelve_megapixel_photo_for_ovh_fits_its_body_in_one_go() -> None:
    data = jpeg_file(photo(4032, 3024), 6, quality=92)
    budget = image_byte_budget(OVH, 1)
    assert budget is not None
    assert len(data) > budget
    result = prepare_image(data, name="IMG_0002.jpg", model=OVH_MODEL, provider=OVH)
    assert (result.width, result.height) == (3024, 4032)
    assert len(result.data) <= budget
    assert DRI in result.data[:2000]
    assert not any("reduced to" in note for note in result.notes)


def test_nothing_of_the_photos_metadata_is_sent() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "SecretCam"                               # Make
    exif.get_ifd(0x8825)[2] = (51.0, 30.0, 26.0)             # GPS latitude
    out = io.BytesIO()
    STORED.save(out, "JPEG", quality=95, exif=exif, comment=b"Home, 12 Secret Lane",
                icc_profile=b"\0" * 128 + b"PRIVATE-PROFILE", xmp=b"<x:xmpmeta>Secret</x:xmpmeta>")
    result = prepare_image(out.getvalue(), name="IMG_0003.jpg", model=OVH_MODEL,
                           provider=OVH, max_bytes=150_000)
    assert DRI in result.data[:2000], "not the streamed path"
    for secret in (b"SecretCam", b"Exif", b"Secret Lane", b"PRIVATE-PROFILE", b"xmpmeta"):
        assert secret not in result.data
    assert b"\xff\xfe" not in result.data[:result.data.index(b"\xff\xda")]   # no COM


def test_a_truncated_photo_is_refused_with_its_name() -> None:
    data = jpeg_file(STORED, 6)
    with pytest.raises(ImageError) as caught:
        prepare_image(data[: len(data) // 2], name="cut.jpg", model=OVH_MODEL, provider=OVH)
    assert "cut.jpg" in str(caught.value)


def test_progressive_and_small_jpegs_take_the_ordinary_path() -> None:
    assert not can_stream(opened(jpeg_file(STORED, 6, progressive=True)))
    assert not can_stream(opened(jpeg_file(photo(800, 600), 6)))
    assert not can_stream(opened(jpeg_file(STORED.convert("L"), 6)))
