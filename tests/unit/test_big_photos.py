"""Phone photos of 108 and 250 megapixels are accepted; true decompression bombs are not.

Pillow's default limit (89.5 MP, an error past 179 MP) refused a normal 12000×9000 phone
photo as a "possible decompression bomb". A baseline JPEG decodes at 1/2, 1/4 or 1/8
scale (`Image.draft`), so its size in the file says little about the memory it takes;
formats decoded whole (PNG…) keep the strict limit, checked before a pixel is decoded.
"""

from __future__ import annotations

import pytest
from big_images import flat_jpeg, zero_png
from PIL import JpegImagePlugin, PngImagePlugin

from qwenvl_desktop.core.catalog import load_builtin
from qwenvl_desktop.core.errors import ImageError
from qwenvl_desktop.core.images import inspect_image, prepare_image

PROVIDER = load_builtin().get("dashscope-intl")
MODEL = PROVIDER.model("qwen3-vl-plus")


@pytest.mark.parametrize(("width", "height"), [(12000, 9000), (16320, 12240), (19400, 12900)])
def test_big_phone_photos_are_accepted_and_downscaled(width: int, height: int) -> None:
    data = flat_jpeg(width, height)
    info = inspect_image(data, "photo.jpg")
    assert (info.width, info.height) == (width, height)
    for high_resolution in (False, True):
        prepared = prepare_image(data, name="photo.jpg", model=MODEL, provider=PROVIDER,
                                 high_resolution=high_resolution)
        assert (prepared.original_width, prepared.original_height) == (width, height)
        assert prepared.width * prepared.height <= MODEL.max_pixels(high_resolution)
        assert prepared.width / prepared.height == pytest.approx(width / height, rel=0.02)


def test_a_big_jpeg_is_decoded_at_a_reduced_scale(monkeypatch: pytest.MonkeyPatch) -> None:
    decoded: list[tuple[int, int]] = []
    real_load = JpegImagePlugin.JpegImageFile.load

    def load(self: JpegImagePlugin.JpegImageFile) -> object:
        decoded.append(self.size)
        return real_load(self)

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "load", load)
    prepare_image(flat_jpeg(12000, 9000), name="photo.jpg", model=MODEL, provider=PROVIDER)
    assert decoded
    assert all(w * h <= 12000 * 9000 // 16 for w, h in decoded)


def test_a_png_bomb_is_refused_before_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    def never(self: PngImagePlugin.PngImageFile) -> object:
        raise AssertionError("the pixels of a bomb were decoded")

    monkeypatch.setattr(PngImagePlugin.PngImageFile, "load", never)
    data = zero_png(20000, 20000)
    assert len(data) < 1_000_000
    for attempt in (lambda: inspect_image(data, "bomb.png"),
                    lambda: prepare_image(data, name="bomb.png", model=MODEL,
                                          provider=PROVIDER)):
        with pytest.raises(ImageError) as caught:
            attempt()
        reason = caught.value.reason
        assert "20000×20000" in reason
        assert "400 megapixels" in reason
        assert "decompression bomb" in reason
        assert caught.value.name == "bomb.png"


def test_a_jpeg_past_its_own_limit_is_refused_with_the_reason() -> None:
    with pytest.raises(ImageError, match=r"30000×20000.*decompression bomb"):
        inspect_image(flat_jpeg(30000, 20000), "huge.jpg")


def test_a_big_progressive_jpeg_is_refused_it_cannot_be_decoded_at_reduced_memory() -> None:
    # libjpeg keeps every coefficient of a progressive JPEG in memory (~3 bytes a pixel:
    # 316 MB measured for 108 MP) whatever the scale it decodes at.
    with pytest.raises(ImageError, match=r"progressive"):
        inspect_image(flat_jpeg(16000, 12000, progressive=True), "prog.jpg")
    assert inspect_image(flat_jpeg(4000, 3000, progressive=True), "small.jpg").width == 4000
