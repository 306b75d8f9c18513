"""JPEG in bands: the joined file must decode to exactly what one encode of the upright
image decodes to, for every EXIF orientation, subsampling and band remainder."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageOps

from qwenvl_desktop.core.catalog import load_builtin
from qwenvl_desktop.core.image_checks import UPRIGHT
from qwenvl_desktop.core.image_jpeg import (
    encode_jpeg,
    join_pieces,
    plan_pieces,
    save_jpeg,
    save_options,
    upright_band,
    upright_piece,
)
from qwenvl_desktop.core.images import image_byte_budget, prepare_image

DRI = b"\xff\xdd"


def noisy(width: int, height: int, mode: str = "RGB") -> Image.Image:
    bands = [Image.effect_noise((width, height), 40 + 15 * i) for i in range(len(mode))]
    im = Image.merge(mode, bands) if len(bands) > 1 else bands[0]
    # A gradient on top, so that every row and column differs from its neighbours.
    ramp = Image.linear_gradient("L").resize((width, height))
    return Image.blend(im, Image.merge(mode, [ramp] * len(mode)) if len(mode) > 1 else ramp,
                       0.5)


def pixels(jpeg: bytes) -> tuple[tuple[int, int], bytes]:
    with Image.open(io.BytesIO(jpeg)) as im:
        im.load()
        return im.size, im.tobytes()


def one_encode(im: Image.Image, quality: int, subsampling: int) -> bytes:
    out = io.BytesIO()
    im.save(out, "JPEG", quality=quality, subsampling=subsampling)
    return out.getvalue()


@pytest.mark.parametrize("orientation", range(1, 9))
def test_band_is_the_rows_of_the_upright_image(orientation: int) -> None:
    im = noisy(97, 61)
    upright = im if orientation == 1 else im.transpose(UPRIGHT[orientation])
    band = upright_band(im, orientation, 13, 40)
    assert band.tobytes() == upright.crop((0, 13, upright.width, 40)).tobytes()


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize(("mode", "subsampling"), [("RGB", 2), ("RGB", 0), ("L", 2)])
def test_joined_bands_decode_exactly_like_one_encode(orientation: int, mode: str,
                                                     subsampling: int) -> None:
    # 1,203 × 1,000: more than a megapixel, several bands, a last band of odd height
    # and a width that is no multiple of the MCU.
    im = noisy(1203, 1000, mode)
    upright = im if orientation == 1 else im.transpose(UPRIGHT[orientation])
    joined = encode_jpeg(im, 80, subsampling=subsampling, orientation=orientation)
    assert DRI in joined[:2000], "the image was not encoded in bands"
    assert pixels(joined) == pixels(one_encode(upright, 80, subsampling))
    # Restart markers, the bits each band pads and its first DC values: next to nothing.
    single = len(one_encode(upright, 80, subsampling))
    assert abs(len(joined) - single) <= single * 0.0005


def test_small_images_are_encoded_in_one_piece() -> None:
    im = noisy(640, 480)
    assert encode_jpeg(im, 85, subsampling=2) == one_encode(im, 85, 2)
    turned = encode_jpeg(im, 85, subsampling=2, orientation=6)
    assert turned == one_encode(im.transpose(Image.Transpose.ROTATE_270), 85, 2)


def test_rotated_12_megapixel_photo_for_ovh_is_upright_and_under_the_body_limit() -> None:
    """The case the bands are for: full size (the model takes 12.8 MP), re-encoded to fit
    OVH's 2 MB body, turned upright."""
    catalog = load_builtin()
    ovh = catalog.get("ovh")
    model = ovh.model("Qwen2.5-VL-72B-Instruct")
    # Smooth light and colour with a little sensor noise, as a phone takes it.
    stored = Image.blend(noisy(504, 378).resize((4032, 3024), Image.Resampling.BICUBIC),
                         noisy(4032, 3024), 0.1)
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    stored.save(out, "JPEG", quality=95, exif=exif)
    result = prepare_image(out.getvalue(), name="IMG_0001.jpg", model=model, provider=ovh)
    budget = image_byte_budget(ovh, 1)
    assert budget is not None
    assert len(result.data) <= budget
    assert (result.width, result.height) == (3024, 4032)
    assert result.mime == "image/jpeg"
    assert DRI in result.data[:2000]
    with Image.open(io.BytesIO(result.data)) as sent:
        sent.load()
        expected = ImageOps.exif_transpose(Image.open(io.BytesIO(out.getvalue())))
        # Same picture, up to JPEG loss: compare small versions.
        a = sent.convert("L").resize((63, 84), Image.Resampling.BOX)
        b = expected.convert("L").resize((63, 84), Image.Resampling.BOX)
        diff = max(abs(x - y) for x, y in zip(a.tobytes(), b.tobytes(), strict=True))
        assert diff <= 6


def test_rotated_photo_too_big_for_ovh_is_shrunk_upright() -> None:
    """Noise no JPEG quality fits into OVH's body: fewer pixels, still turned upright."""
    catalog = load_builtin()
    ovh = catalog.get("ovh")
    model = ovh.model("Qwen2.5-VL-72B-Instruct")
    stored = noisy(4032, 3024)
    stored.paste((255, 0, 0), (0, 0, 800, 600))          # red where the file starts
    exif = Image.Exif()
    exif[0x0112] = 6                                      # rotate 90° clockwise to view
    out = io.BytesIO()
    stored.save(out, "JPEG", quality=95, exif=exif)
    result = prepare_image(out.getvalue(), name="noise.jpg", model=model, provider=ovh)
    budget = image_byte_budget(ovh, 1)
    assert budget is not None
    assert len(result.data) <= budget
    assert result.width < result.height < 4032             # fewer pixels, portrait
    assert result.width % 28 == 0
    assert result.height % 28 == 0
    assert f"reduced to {result.width}×{result.height} to fit the provider's size limit" \
        in result.notes
    with Image.open(io.BytesIO(result.data)) as sent:
        assert sent.size == (result.width, result.height)
        rgb = sent.convert("RGB")
        # Turned clockwise, the stored top-left corner is the upright top-right one.
        top_right = rgb.getpixel((result.width - 20, 20))
        top_left = rgb.getpixel((20, 20))
    assert isinstance(top_right, tuple)
    assert isinstance(top_left, tuple)
    assert top_right[0] > 200
    assert top_right[1] < 80
    assert not (top_left[0] > 200 and top_left[1] < 80)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_any_upright_box_is_cut_from_the_stored_image(orientation: int) -> None:
    im = noisy(37, 23)
    upright = im if orientation == 1 else im.transpose(UPRIGHT[orientation])
    w, h = upright.size
    for box in ((3, 5, 11, 17), (0, 0, w, 4), (w - 5, 2, w, h), (0, 0, w, h)):
        assert upright_piece(im, orientation, box).tobytes() == upright.crop(box).tobytes()


@pytest.mark.parametrize(("size", "subsampling"), [((1008, 700), 2), ((1000, 700), 2),
                                                    ((1008, 701), 0)])
def test_tiles_side_by_side_decode_exactly_like_one_encode(size: tuple[int, int],
                                                           subsampling: int) -> None:
    # 1,008 px: 63 MCUs of 16 (tiles of 21); 1,000 px: 62.5, the last tile narrower.
    upright = noisy(*size)
    pieces = plan_pieces(size, grey=False, subsampling=subsampling, columns=True)
    assert pieces is not None
    assert pieces.columns
    assert len(pieces.boxes) > 1
    tiles = [save_jpeg(upright.crop(box), 80, subsampling, **save_options(pieces))
             for box in pieces.boxes]
    joined = join_pieces(pieces, tiles)
    assert joined is not None
    assert pixels(joined) == pixels(one_encode(upright, 80, subsampling))
    # A tile without a restart at each of its rows cannot be laid beside the others.
    plain = [save_jpeg(upright.crop(box), 80, subsampling) for box in pieces.boxes]
    assert join_pieces(pieces, plain) is None


def test_no_comment_of_the_source_is_copied_into_the_jpeg() -> None:
    im = noisy(1203, 1000)
    im.info["comment"] = b"Home, 12 Secret Lane"       # as Pillow decodes a COM segment
    for orientation in (1, 6):
        assert b"Secret Lane" not in encode_jpeg(im, 80, subsampling=2, orientation=orientation)
    small = noisy(300, 200)
    small.info["comment"] = b"Home, 12 Secret Lane"
    assert b"Secret Lane" not in encode_jpeg(small, 80, subsampling=2)
