"""Images: every bad or odd input gets a clear error; good ones become exactly what the
model uses, within the provider's byte limits. All inputs are made here with Pillow."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import os
import random
import struct
import warnings
import zlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from PIL import Image, ImageChops, ImageDraw, ImageOps, ImageStat

from qwenvl_desktop.core.catalog import Model, Provider, load_builtin
from qwenvl_desktop.core.errors import ImageError
from qwenvl_desktop.core.image_pixels import RESAMPLE, resize
from qwenvl_desktop.core.images import (
    MAX_FILE_BYTES,
    PreparedImage,
    estimate_tokens,
    fetch_image_url,
    image_byte_budget,
    inspect_image,
    prepare_image,
    prepare_image_async,
    read_image_file,
)
from qwenvl_desktop.core.tokens import image_tokens, target_size

CATALOG = load_builtin()
DASHSCOPE = CATALOG.get("dashscope-intl")
OVH = CATALOG.get("ovh")
NEBULA = CATALOG.get("nebula")          # documents no byte limits
QWEN3 = DASHSCOPE.model("qwen3-vl-plus")                    # F = 32
QWEN25 = DASHSCOPE.model("qwen2.5-vl-72b-instruct")         # F = 28
OVH_MODEL = OVH.model("Qwen2.5-VL-72B-Instruct")            # F = 28, 16384 tokens


# --- making inputs ------------------------------------------------------------------------

def encode(im: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    im.save(out, fmt, **options)
    return out.getvalue()


def screenshot(width: int, height: int) -> Image.Image:
    """Flat UI colours, a title bar, buttons and lines of anti-aliased text."""
    rnd = random.Random(width * height)
    im = Image.new("RGB", (width, height), (246, 246, 246))
    draw = ImageDraw.Draw(im)
    draw.rectangle((0, 0, width, 30), fill=(40, 40, 48))
    for y in range(40, height - 20, 22):
        draw.text((12, y), "".join(rnd.choice("abcdef ghijk") for _ in range(40)),
                  fill=(20, 20, 20))
    draw.rounded_rectangle((width - 140, height - 50, width - 20, height - 20), radius=5,
                           fill=(0, 110, 200))
    return im


def noise(width: int, height: int, mode: str = "RGB") -> Image.Image:
    """A photo's worth of randomness: thousands of colours, no flat areas."""
    bands = [Image.effect_noise((width, height), 60 + 10 * i) for i in range(len(mode))]
    return Image.merge(mode, bands) if len(bands) > 1 else bands[0]


def quadrants(width: int, height: int) -> Image.Image:
    """Red, green / blue, yellow: every flip and turn gives a different picture."""
    im = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(im)
    half_w, half_h = width // 2, height // 2
    draw.rectangle((0, 0, half_w, half_h), fill=(255, 0, 0))
    draw.rectangle((half_w, 0, width, half_h), fill=(0, 255, 0))
    draw.rectangle((0, half_h, half_w, height), fill=(0, 0, 255))
    draw.rectangle((half_w, half_h, width, height), fill=(255, 255, 0))
    return im


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims a size but holds (almost) no pixels: a decompression bomb shape."""
    def chunk(kind: bytes, payload: bytes) -> bytes:
        crc = zlib.crc32(kind + payload)
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


def decoded(prepared: PreparedImage) -> Image.Image:
    im = Image.open(io.BytesIO(prepared.data))
    im.load()
    return im


def mean_colour(im: Image.Image, box: tuple[int, int, int, int]) -> tuple[float, ...]:
    return tuple(ImageStat.Stat(im.convert("RGB").crop(box)).mean)


def close(a: tuple[float, ...], b: tuple[float, ...], tolerance: float = 12) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=True))


def prepare(data: bytes, model: Model = QWEN3, provider: Provider = DASHSCOPE,
            **options: object) -> PreparedImage:
    return prepare_image(data, name="pic.png", model=model, provider=provider,
                         **options)  # type: ignore[arg-type]


# --- reading files -----------------------------------------------------------------------

def test_read_image_file_returns_the_bytes(tmp_path: Path) -> None:
    path = tmp_path / "a.png"
    path.write_bytes(b"abc")
    assert read_image_file(path) == b"abc"


def test_read_refuses_a_folder(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="folder") as caught:
        read_image_file(tmp_path)
    assert caught.value.name == tmp_path.name


def test_read_refuses_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="does not exist") as caught:
        read_image_file(tmp_path / "gone.jpg")
    assert str(caught.value).startswith("gone.jpg: ")


def test_read_refuses_an_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.png"
    path.touch()
    with pytest.raises(ImageError, match=r"empty \(0 bytes\)"):
        read_image_file(path)


def test_read_refuses_a_huge_file_without_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "huge.tif"
    with path.open("wb") as handle:        # sparse: no disk used
        handle.truncate(MAX_FILE_BYTES + 1)
    with pytest.raises(ImageError, match="not accepted"):
        read_image_file(path)


def test_read_refuses_a_fifo_instead_of_blocking(tmp_path: Path) -> None:
    # POSIX only, like CI; a FIFO would block a naive read forever.
    path = tmp_path / "pipe.png"
    os.mkfifo(path)
    with pytest.raises(ImageError, match="not a regular file"):
        read_image_file(path)


# --- inspecting --------------------------------------------------------------------------

def test_inspect_reports_size_format_frames_and_bytes() -> None:
    data = encode(screenshot(640, 400), "PNG")
    info = inspect_image(data, "shot.png")
    assert (info.name, info.width, info.height, info.format, info.frames, info.bytes) == (
        "shot.png", 640, 400, "PNG", 1, len(data))
    assert estimate_tokens(info, QWEN3) == image_tokens(640, 400, QWEN3)


def test_inspect_reports_upright_size_of_an_exif_rotated_photo() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6
    data = encode(quadrants(300, 200), "JPEG", exif=exif)
    info = inspect_image(data, "phone.jpg")
    assert (info.width, info.height) == (200, 300)


def test_inspect_counts_animation_frames() -> None:
    frames = [Image.new("RGB", (40, 40), c) for c in ("red", "green", "blue")]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=50)
    assert inspect_image(data, "a.gif").frames == 3


@pytest.mark.parametrize(("data", "reason"), [
    (b"", r"empty \(0 bytes\)"),
    (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10"/>', "SVG"),
    (b'<svg width="100" height="100"><rect/></svg>', "SVG"),
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "PDF"),
    (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(64), "HEIC"),
    (b"Dear diary,\nthis is not a picture, only text saved as .png\n" * 3, "text file"),
    (random.Random(5).randbytes(5000), "not an image in a supported format"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "not an image|truncated or corrupt"),
])
def test_unusable_files_are_refused_with_the_reason(data: bytes, reason: str) -> None:
    with pytest.raises(ImageError, match=reason) as caught:
        inspect_image(data, "upload.png")
    assert caught.value.name == "upload.png"
    with pytest.raises(ImageError, match=reason):
        prepare(data)


@pytest.mark.parametrize("size", [(20_000, 20_000), (10_000, 10_000)])
def test_decompression_bombs_are_refused_from_the_header(size: tuple[int, int]) -> None:
    # 400 MP is past Pillow's error threshold; 100 MP only past its warning threshold,
    # which this test run turns into an exception (filterwarnings = error).
    limit_before, filters_before = Image.MAX_IMAGE_PIXELS, list(warnings.filters)
    with pytest.raises(ImageError, match="decompression bomb"):
        inspect_image(png_header_only(*size), "bomb.png")
    with pytest.raises(ImageError, match="megapixels"):
        prepare(png_header_only(*size))
    assert limit_before == Image.MAX_IMAGE_PIXELS          # no global state changed
    assert list(warnings.filters) == filters_before


def test_bombs_are_refused_also_when_pillow_only_warns() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        with pytest.raises(ImageError, match="decompression bomb"):
            inspect_image(png_header_only(10_000, 10_000), "bomb.png")


@pytest.mark.parametrize(("size", "reason"), [
    ((10, 300), "too small"), ((300, 10), "too small"), ((4020, 20), "200:1"),
    ((20, 4020), "200:1"),
])
def test_tiny_and_extreme_shapes_are_refused(size: tuple[int, int], reason: str) -> None:
    data = encode(Image.new("L", size, 128), "PNG")
    with pytest.raises(ImageError, match=reason):
        inspect_image(data, "odd.png")


@pytest.mark.parametrize("size", [(11, 11), (4000, 20)])
def test_shapes_at_the_limits_are_accepted(size: tuple[int, int]) -> None:
    data = encode(Image.new("L", size, 128), "PNG")
    assert inspect_image(data, "edge.png").width == size[0]
    assert prepare(data, provider=NEBULA).width > 0


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_truncated_files_are_refused_as_truncated(fmt: str) -> None:
    data = encode(noise(400, 300), fmt)
    with pytest.raises(ImageError, match="the file is truncated or corrupt"):
        prepare(data[: len(data) // 2])


def test_a_jpeg_named_png_is_read_by_its_content() -> None:
    data = encode(noise(300, 200), "JPEG")
    result = prepare_image(data, name="really-a-jpeg.png", model=QWEN3, provider=DASHSCOPE)
    assert result.mime == "image/jpeg"


# --- choosing the size -------------------------------------------------------------------

@pytest.mark.parametrize(("model", "size"), [
    (QWEN3, (3000, 1700)), (QWEN3, (2500, 1800)), (QWEN3, (1200, 3000)),
    (QWEN25, (1920, 1080)), (QWEN25, (2500, 1800)), (QWEN25, (1200, 3000)),
])
def test_output_is_exactly_the_models_size_at_the_default_cap(
        model: Model, size: tuple[int, int]) -> None:
    result = prepare(encode(Image.new("L", size, 90), "PNG"), model=model, provider=NEBULA)
    assert (result.width, result.height) == target_size(*size, model)
    assert decoded(result).size == (result.width, result.height)
    assert result.tokens == image_tokens(*size, model)
    assert result.tokens <= model.token_cap() + 2


@pytest.mark.parametrize(("model", "size"), [
    (QWEN3, (9000, 2000)), (QWEN25, (9000, 2000)), (QWEN3, (4000, 4500)),
])
def test_output_is_exactly_the_models_size_at_the_high_resolution_cap(
        model: Model, size: tuple[int, int]) -> None:
    result = prepare(encode(Image.new("L", size, 90), "PNG"), model=model, provider=NEBULA,
                     high_resolution=True)
    assert (result.width, result.height) == target_size(*size, model, True)
    assert result.tokens == image_tokens(*size, model, True)
    assert (result.width, result.height) != target_size(*size, model)   # the cap mattered


def test_an_image_the_model_would_enlarge_is_sent_as_it_is() -> None:
    data = encode(screenshot(100, 60), "PNG")
    result = prepare(data, model=QWEN25)
    assert (result.width, result.height) == (100, 60)
    assert result.tokens == image_tokens(100, 60, QWEN25) == 2 * 4 + 2    # 56×112 on the server


def test_an_image_only_rounded_to_the_patch_grid_is_not_resampled() -> None:
    # 1000×1010 → 1008×1008 on F = 28: under a patch off on each side.
    data = encode(screenshot(1000, 1010), "PNG")
    result = prepare(data, model=OVH_MODEL, provider=OVH)
    assert (result.width, result.height) == (1000, 1010)
    assert result.tokens == 36 * 36 + 2


def test_resizing_in_strips_gives_exactly_the_single_call_result() -> None:
    im = noise(2400, 1700)
    size = (1376, 992)
    expected = im.resize(size, RESAMPLE)
    assert ImageChops.difference(resize(im, size), expected).getbbox() is None


# --- orientation -------------------------------------------------------------------------

@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied_like_exif_transpose(orientation: int) -> None:
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = encode(quadrants(120, 80), "JPEG", quality=95, exif=exif)
    expected = ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")
    result = prepare(data, model=QWEN25)
    out = decoded(result)
    assert out.size == expected.size
    w, h = out.size
    for box in ((0, 0, w // 2 - 4, h // 2 - 4), (w // 2 + 4, h // 2 + 4, w, h),
                (0, h // 2 + 4, w // 2 - 4, h)):
        assert close(mean_colour(out, box), mean_colour(expected, box))
    assert ("turned upright (EXIF orientation)" in result.notes) == (orientation != 1)


def test_exif_rotated_photo_comes_out_rotated_and_resized() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6                       # rotate 90° clockwise to view
    data = encode(quadrants(4000, 3000), "JPEG", exif=exif)
    result = prepare(data, model=QWEN3)
    assert (result.width, result.height) == target_size(3000, 4000, QWEN3)
    out = decoded(result)
    # Clockwise: the stored left column (red over blue) becomes the top row, blue left.
    assert close(mean_colour(out, (0, 0, 50, 50)), (0, 0, 255))
    assert close(mean_colour(out, (out.width - 50, 0, out.width, 50)), (255, 0, 0))
    assert b"Exif" not in result.data


def test_png_exif_orientation_is_applied_too() -> None:
    exif = Image.Exif()
    exif[0x0112] = 8                       # rotate 90° counter-clockwise to view
    data = encode(quadrants(300, 200), "PNG", exif=exif)
    assert (inspect_image(data, "p.png").width, inspect_image(data, "p.png").height) == (200, 300)
    out = decoded(prepare(data, provider=NEBULA))
    assert out.size == (200, 300)
    # Counter-clockwise: the stored top row (red, green) becomes the left column, green on top.
    assert close(mean_colour(out, (0, 0, 50, 50)), (0, 255, 0))


# --- colour modes, transparency, animation ------------------------------------------------

def test_cmyk_is_converted_to_rgb_with_a_note() -> None:
    cmyk = Image.new("CMYK", (200, 150), (0, 255, 255, 0))        # pure red in print
    result = prepare(encode(cmyk, "JPEG", quality=95))
    out = decoded(result)
    assert out.mode == "RGB"
    assert close(mean_colour(out, (0, 0, out.width, out.height)), (255, 0, 0), 20)
    assert "converted from CMYK" in result.notes


@pytest.mark.parametrize(("fmt", "mode"), [("PNG", "I;16"), ("TIFF", "I;16B")])
def test_16_bit_grey_is_scaled_not_clipped(fmt: str, mode: str) -> None:
    width = 256
    ramp = b"".join(struct.pack(">H" if mode.endswith("B") else "<H", x * 257)
                    for x in range(width)) * 40
    im = Image.frombytes(mode, (width, 40), ramp)
    result = prepare(encode(im, fmt), provider=NEBULA)
    out = decoded(result)
    assert out.mode == "L"
    assert [out.getpixel((x, 20)) for x in (0, 64, 128, 255)] == [0, 64, 128, 255]
    assert "converted from 16-bit" in result.notes


def test_palette_transparency_is_kept_in_png() -> None:
    im = Image.new("P", (200, 120), 0)
    im.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    ImageDraw.Draw(im).rectangle((100, 0, 200, 120), fill=1)
    result = prepare(encode(im, "PNG", transparency=0))
    out = decoded(result)
    assert result.mime == "image/png"
    rgba = out.convert("RGBA")
    assert rgba.getpixel((10, 10)) in ((255, 0, 0, 0), (0, 0, 0, 0))      # clear
    assert rgba.getpixel((150, 60)) == (0, 0, 255, 255)


@pytest.mark.parametrize("mode", ["RGBA", "LA"])
def test_transparency_becomes_white_when_sent_as_jpeg(mode: str) -> None:
    im = noise(300, 200, mode)
    alpha = Image.new("L", im.size, 255)
    ImageDraw.Draw(alpha).rectangle((0, 0, 150, 200), fill=0)      # left half clear
    im.putalpha(alpha)
    result = prepare(encode(im, "PNG"))
    out = decoded(result)
    assert result.mime == "image/jpeg"
    assert close(mean_colour(out, (5, 5, 140, 195)), (255, 255, 255), 3)
    assert "transparent areas filled with white" in result.notes


@pytest.mark.parametrize(("fmt", "label"), [("GIF", "GIF"), ("WEBP", "WebP"),
                                            ("PNG", "APNG")])
def test_animations_send_their_first_frame_with_a_note(fmt: str, label: str) -> None:
    frames = [Image.new("RGB", (120, 90), c) for c in ((255, 0, 0), (0, 0, 255), (0, 255, 0))]
    options: dict[str, object] = {"lossless": True} if fmt == "WEBP" else {}
    data = encode(frames[0], fmt, save_all=True, append_images=frames[1:], duration=80,
                  **options)
    result = prepare(data)
    assert f"animated {label}: first frame used" in result.notes
    assert close(mean_colour(decoded(result), (0, 0, 120, 90)), (255, 0, 0), 3)


# --- encoding and byte limits --------------------------------------------------------------

def test_a_screenshot_stays_lossless_png() -> None:
    shot = screenshot(1600, 1000)
    result = prepare(encode(shot, "PNG"), model=QWEN3)
    assert result.mime == "image/png"
    expected = shot.resize((result.width, result.height), RESAMPLE)
    assert ImageChops.difference(decoded(result).convert("RGB"), expected).getbbox() is None


def test_a_noisy_photo_becomes_jpeg() -> None:
    result = prepare(encode(noise(1200, 900), "PNG"))
    assert result.mime == "image/jpeg"
    assert result.data.startswith(b"\xff\xd8")


def test_an_unchanged_png_is_sent_without_its_metadata() -> None:
    from PIL import PngImagePlugin
    text = PngImagePlugin.PngInfo()
    text.add_text("Comment", "home address: 1 Secret Lane")
    shot = screenshot(500, 300)
    result = prepare(encode(shot, "PNG", pnginfo=text), provider=NEBULA)
    assert (result.width, result.height) == (500, 300)
    assert b"Secret Lane" not in result.data
    assert ImageChops.difference(decoded(result).convert("RGB"), shot).getbbox() is None


def test_photo_metadata_is_never_sent() -> None:
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"            # Make
    result = prepare(encode(noise(600, 400), "JPEG", exif=exif), provider=NEBULA)
    assert b"SecretCam" not in result.data


@pytest.mark.parametrize("max_bytes", [15_000, 40_000, 120_000])
@pytest.mark.parametrize("kind", ["photo", "screenshot"])
def test_payload_never_exceeds_max_bytes(kind: str, max_bytes: int) -> None:
    im = noise(1600, 1200) if kind == "photo" else screenshot(1600, 1200)
    result = prepare(encode(im, "PNG"), model=QWEN25, max_bytes=max_bytes)
    assert len(result.data) <= max_bytes
    assert result.width % 28 == 0
    assert result.height % 28 == 0
    assert result.tokens == image_tokens(result.width, result.height, QWEN25)
    assert decoded(result).size == (result.width, result.height)


def test_an_impossible_limit_is_an_error() -> None:
    with pytest.raises(ImageError, match="cannot be made small enough") as caught:
        prepare(encode(noise(800, 600), "PNG"), max_bytes=300)
    assert caught.value.name == "pic.png"


def test_byte_budgets_follow_provider_limits() -> None:
    assert image_byte_budget(NEBULA, 1) is None
    dash = image_byte_budget(DASHSCOPE, 5)
    assert dash is not None
    assert dash * 4 / 3 < DASHSCOPE.max_image_bytes
    one, three = image_byte_budget(OVH, 1), image_byte_budget(OVH, 3)
    assert one is not None
    assert three is not None
    assert 3 * three * 4 / 3 < OVH.max_body_bytes - 100_000 < one * 4 / 3 * 3
    assert image_byte_budget(OVH, 0) == one


@pytest.mark.parametrize("count", [1, 3])
def test_ovh_requests_stay_under_2_mb(count: int) -> None:
    budget = image_byte_budget(OVH, count)
    photo = encode(noise(2000, 1500), "JPEG", quality=95)       # ~4 MB of noise
    prepared = [prepare(photo, model=OVH_MODEL, provider=OVH, max_bytes=budget)] * count
    assert budget is not None
    assert len(prepared[0].data) <= budget
    body = {"model": OVH_MODEL.id, "stream": True, "messages": [
        {"role": "system", "content": "You are a careful assistant. " * 300},
        {"role": "user", "content": [
            *({"type": "image_url", "image_url": {"url": p.data_uri()}} for p in prepared),
            {"type": "text", "text": "Compare these photos in detail, please. " * 200},
        ]},
    ]}
    assert len(json.dumps(body).encode()) <= OVH.max_body_bytes
    shrunk = count == 3          # 1 image fits by JPEG quality alone, 3 need fewer pixels
    assert (prepared[0].width % 28 == 0 and prepared[0].height % 28 == 0) == shrunk
    assert prepared[0].tokens == image_tokens(prepared[0].width, prepared[0].height, OVH_MODEL)


def test_prepared_image_hashes_and_serialises_what_it_sends() -> None:
    import hashlib
    result = prepare_image(encode(screenshot(400, 300), "PNG"), name="s.png", model=QWEN3,
                           provider=DASHSCOPE, source_url="https://example.com/s.png")
    assert result.sha256 == hashlib.sha256(result.data).hexdigest()
    head, payload = result.data_uri().split(",", 1)
    assert head == f"data:{result.mime};base64"
    assert base64.b64decode(payload) == result.data
    stored = result.to_stored()
    assert (stored.sha256, stored.data, stored.width, stored.original_name, stored.source_url,
            stored.original_width) == (result.sha256, result.data, result.width, "s.png",
                                       "https://example.com/s.png", 400)


def test_prepare_async_runs_off_the_loop_with_the_same_result() -> None:
    data = encode(screenshot(700, 500), "PNG")

    async def run() -> PreparedImage:
        return await prepare_image_async(data, name="a.png", model=QWEN3, provider=DASHSCOPE)

    assert asyncio.run(run()).sha256 == prepare(data).sha256


# --- downloading ------------------------------------------------------------------------

def _client(handler: httpx.MockTransport) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=handler)


def _fetch(response: httpx.Response, url: str = "https://img.example/cat.png",
           max_bytes: int = 20_000_000) -> bytes:
    async def run() -> bytes:
        async with _client(httpx.MockTransport(lambda _request: response)) as http:
            return await fetch_image_url(http, url, max_bytes=max_bytes)
    return asyncio.run(run())


def test_fetch_returns_image_bytes() -> None:
    png = encode(screenshot(50, 40), "PNG")
    assert _fetch(httpx.Response(200, headers={"content-type": "image/png"}, content=png)) == png


@pytest.mark.parametrize(("response", "reason"), [
    (httpx.Response(404, content=b"nope"), "HTTP 404"),
    (httpx.Response(200, headers={"content-type": "text/html"}, content=b"<html>"),
     "not an image"),
    (httpx.Response(200, headers={"content-type": "image/png"}, content=b""), "empty"),
    (httpx.Response(200, headers={"content-type": "image/png"}, content=b"x" * 2000),
     "larger than"),
])
def test_fetch_refuses_errors_pages_and_oversize(response: httpx.Response, reason: str) -> None:
    with pytest.raises(ImageError, match=reason) as caught:
        _fetch(response, max_bytes=1000)
    assert caught.value.name == "https://img.example/cat.png"


def test_fetch_stops_reading_a_stream_at_the_cap() -> None:
    sent = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal sent
        for _ in range(1000):
            sent += 1
            yield b"\xff\xd8\xff" + b"\0" * 997      # a JPEG start, then too much of it

    response = httpx.Response(200, headers={"content-type": "image/jpeg"}, content=body())
    with pytest.raises(ImageError, match="larger than"):
        _fetch(response, max_bytes=5000)
    assert sent < 10


def test_fetch_refuses_other_schemes_and_keeps_query_secrets_out_of_the_name() -> None:
    with pytest.raises(ImageError, match="http"):
        _fetch(httpx.Response(200), url="file:///etc/passwd")
    with pytest.raises(ImageError, match="HTTP 403") as caught:
        _fetch(httpx.Response(403), url="https://bucket.example/a.jpg?X-Signature=abc123")
    assert "abc123" not in str(caught.value)
