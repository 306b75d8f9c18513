"""PDF pages: ranges, the default choice of pages, and rendering at the model's size."""

from __future__ import annotations

import io
from typing import Any

import pypdfium2 as pdfium
import pytest
from PIL import Image

from qwenvl_desktop.core import documents
from qwenvl_desktop.core.catalog import load_builtin
from qwenvl_desktop.core.documents import (
    DocumentInfo,
    default_pages,
    inspect_document,
    page_size,
    page_tokens,
    parse_page_range,
    prepare_document,
)
from qwenvl_desktop.core.errors import DocumentError, explain
from qwenvl_desktop.core.tokens import image_tokens, target_size
from qwenvl_desktop.testing.media_samples import pdf_bytes

DASHSCOPE = load_builtin().get("dashscope-intl")
QWEN3 = DASHSCOPE.model("qwen3-vl-plus")          # 32-px patches, 2560 tokens a page
QWEN25 = DASHSCOPE.model("qwen2.5-vl-7b-instruct")  # 28-px patches, 1280 tokens a page
LETTER = (612.0, 792.0)


def _info(pages: int, size: tuple[float, float] = LETTER) -> DocumentInfo:
    return DocumentInfo(name="report.pdf", page_count=pages, page_sizes=(size,) * pages,
                        bytes=1000)


@pytest.mark.parametrize(("text", "pages"), [
    ("2-5", [2, 3, 4, 5]), ("3", [3]), ("1,3,7-9", [1, 3, 7, 8, 9]), ("8-", [8, 9, 10]),
    ("2–4", [2, 3, 4]), (" 1 , 2 ", [1, 2]), ("3,1-3", [3, 1, 2]),
])
def test_page_ranges(text: str, pages: list[int]) -> None:
    assert parse_page_range(text, 10, "report.pdf") == pages


@pytest.mark.parametrize(("text", "reason"), [
    ("0", "count from 1"), ("5-2", "first to last"), ("11", "has 10 pages"),
    ("9-12", "goes past the end"), ("two", "not a page range"), ("", "not a page range"),
])
def test_bad_page_ranges_name_the_file_and_the_reason(text: str, reason: str) -> None:
    with pytest.raises(DocumentError) as caught:
        parse_page_range(text, 10, "report.pdf")
    explained = explain(caught.value)
    assert explained.startswith("report.pdf: ")
    assert reason in explained


def test_default_pages_stop_at_the_token_budget() -> None:
    per_page = page_tokens(_info(1), [1], QWEN3)[0]
    assert per_page == 2510                        # a letter page at Qwen3-VL Plus's cap
    chosen = default_pages(_info(30), QWEN3, budget=20_000)
    assert chosen == list(range(1, 20_000 // per_page + 1))     # 7 pages
    # A model with a smaller cap fits more pages in the same budget.
    assert len(default_pages(_info(30), QWEN25, budget=20_000)) > len(chosen)


def test_default_pages_are_capped_and_never_empty() -> None:
    small = _info(50, (72.0, 72.0))                # one-inch pages: a few tokens each
    assert default_pages(small, QWEN3) == list(range(1, documents.PAGE_CAP + 1))
    assert default_pages(_info(3), QWEN3, budget=1) == [1]
    assert default_pages(_info(2), QWEN3) == [1, 2]


def test_page_size_is_the_models_size_for_the_page() -> None:
    # At most 200 DPI: a letter page is 1700×2200 before the model's cap.
    assert page_size(LETTER, QWEN3) == target_size(1700, 2200, QWEN3)
    assert page_size(LETTER, QWEN3) == (1408, 1824)       # Qwen3-VL Plus's cap decides
    big_cap = load_builtin().get("ovh").model("Qwen2.5-VL-72B-Instruct")
    assert page_size(LETTER, big_cap) == target_size(1700, 2200, big_cap)
    width, height = page_size(LETTER, QWEN3)
    assert width % 32 == 0
    assert height % 32 == 0
    assert width * height <= QWEN3.max_pixels()
    assert page_size(LETTER, QWEN3, high_resolution=True)[0] > width
    w28, h28 = page_size(LETTER, QWEN25)
    assert w28 % 28 == 0
    assert h28 % 28 == 0
    # Landscape pages stay landscape.
    landscape = page_size((792.0, 612.0), QWEN3)
    assert landscape[0] > landscape[1]


def test_pages_are_rendered_at_the_model_size_not_resampled_from_high_dpi(
        monkeypatch: pytest.MonkeyPatch) -> None:
    drawn: list[tuple[int, int]] = []
    real_render = pdfium.PdfPage.render

    def recording_render(self: Any, *args: Any, **kwargs: Any) -> Any:
        bitmap = real_render(self, *args, **kwargs)
        drawn.append((bitmap.width, bitmap.height))
        return bitmap

    monkeypatch.setattr(pdfium.PdfPage, "render", recording_render)
    data = pdf_bytes(4)
    prepared = prepare_document(data, name="report.pdf", pages=[2, 4], model=QWEN3,
                                provider=DASHSCOPE)
    target = page_size(LETTER, QWEN3)
    assert len(drawn) == 2
    for size in drawn:
        # Drawn covering the target, within one patch of it: no high-DPI pass.
        assert target[0] <= size[0] < target[0] + 32
        assert target[1] <= size[1] < target[1] + 32
    assert prepared.pages == (2, 4)
    assert prepared.page_count == 4
    for frame in prepared.frames:
        assert (frame.width, frame.height) == target
        assert frame.tokens == image_tokens(*target, QWEN3)
        with Image.open(io.BytesIO(frame.data)) as im:
            assert im.size == target
    assert prepared.tokens == 2 * image_tokens(*target, QWEN3)
    group = prepared.to_group()
    assert group.kind == "document"
    assert group.pages == [2, 4]
    assert group.images == [f.sha256 for f in prepared.frames]


def test_the_right_page_is_rendered() -> None:
    data = pdf_bytes(3)
    prepared = prepare_document(data, name="r.pdf", pages=[3], model=QWEN25,
                                provider=DASHSCOPE)
    with Image.open(io.BytesIO(prepared.frames[0].data)) as im:
        rgb = im.convert("RGB")
        # The blue band across the top of every sample page.
        band = rgb.getpixel((rgb.width // 2, round(rgb.height * 50 / 792)))
        assert isinstance(band, tuple)
        assert band[2] > 120
        assert band[0] < 80
        assert rgb.getpixel((5, rgb.height - 5)) == (255, 255, 255)


def test_inspect_reports_pages_and_sizes() -> None:
    info = inspect_document(pdf_bytes(2, (300, 200)), "wide.pdf")
    assert info.page_count == 2
    assert info.page_sizes == ((300.0, 200.0), (300.0, 200.0))


def test_page_outside_the_document_is_refused() -> None:
    with pytest.raises(DocumentError, match="no page 5"):
        prepare_document(pdf_bytes(2), name="r.pdf", pages=[5], model=QWEN3,
                         provider=DASHSCOPE)
