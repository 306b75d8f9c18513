"""PDF documents: their pages rendered as images at the size the model reads them.

pypdfium2 (PDFium, the renderer of Chromium) draws each page straight at the model's
pixel budget: the scale comes from the page size in points and `smart_resize`, so a
page is never drawn at a high DPI and then shrunk. What the model is sent is then
encoded like any attached image (`media.prepare_pixels`).

PDFium is not thread-safe: every call into it holds `_PDFIUM`, so the tray's preview
thread and a send's preparation never overlap inside the library.
"""

from __future__ import annotations

import math
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pypdfium2 as pdfium
from PIL import Image

from .catalog import Model, Provider
from .errors import DocumentError
from .i18n import N_, _, format_integer, ngettext
from .media import PreparedMedia, prepare_pixels
from .tokens import image_tokens, target_size

__all__ = [
    "DEFAULT_PAGE_TOKENS",
    "MAX_DOCUMENT_BYTES",
    "MAX_PAGES",
    "PAGE_CAP",
    "DocumentInfo",
    "default_pages",
    "inspect_document",
    "is_pdf",
    "page_size",
    "page_tokens",
    "parse_page_range",
    "prepare_document",
    "read_document_file",
    "render_thumbnail",
]

MAX_DOCUMENT_BYTES: Final = 200_000_000
MAX_PAGES: Final = 5_000
"""Past this, a file is refused: nobody sends it whole, and reading it stalls the app."""
PAGE_CAP: Final = 20
"""Pages sent without an explicit range (the terminal's `-i doc.pdf`)."""
DEFAULT_PAGE_TOKENS: Final = 20_000
"""The tray's first choice of pages stops here (e.g. 7 pages on Qwen3-VL Plus)."""
_NOMINAL_DPI: Final = 200
"""The page size smart_resize starts from. The model's pixel cap decides for the hosted
models (Qwen3-VL Plus reads a letter page at 1408×1824, about 170 DPI); for models with
caps of 16,384 tokens, 200 DPI keeps 6-point type legible at 4,800 tokens a page where
the cap alone would allow 10,700."""
_PDFIUM = threading.Lock()


def _too_big(size: int) -> str:
    return _("the file is {size} MB; documents over {limit} MB are not attached").format(
        size=f"{size / 1e6:,.0f}", limit=f"{MAX_DOCUMENT_BYTES / 1e6:,.0f}")


def _page_unreadable(index: int) -> str:
    return _("page {page} cannot be read").format(page=index + 1)
_EMPTY_PAGE_TREE: Final = re.compile(rb"/Count\s*0(?![0-9])")
_PAGES_COUNTED: Final = re.compile(rb"/Count\s*[1-9]")

_PDFIUM_REASONS: Final = {
    # PDFium refuses a document without pages yet reports no error.
    0: N_("the document has no pages"),
    2: N_("the file could not be opened"),
    3: N_("the file is damaged or is not a PDF"),
    4: N_("the document is password-protected (encrypted); remove the password and attach "
          "it again"),
    5: N_("the document's security settings do not allow reading it"),
    6: N_("a page could not be read"),
}


@dataclass(frozen=True)
class DocumentInfo:
    """What the tray needs to know of a PDF before any page is drawn."""

    name: str
    page_count: int
    page_sizes: tuple[tuple[float, float], ...]
    """(width, height) of every page in points (1/72 inch), as displayed."""
    bytes: int


def is_pdf(data: bytes) -> bool:
    """Whether the bytes start like a PDF (the header may follow some junk)."""
    return b"%PDF-" in data[:1024]


def read_document_file(path: Path) -> bytes:
    """The bytes of a PDF on disk, or a `DocumentError` saying why not."""
    try:
        size = path.stat().st_size
        if size > MAX_DOCUMENT_BYTES:
            raise DocumentError(path.name, _too_big(size))
        return path.read_bytes()
    except OSError as err:
        raise DocumentError(path.name, _("the file cannot be read ({reason})").format(
            reason=err.strerror or err)) \
            from None


def _open(data: bytes, name: str) -> pdfium.PdfDocument:
    if len(data) > MAX_DOCUMENT_BYTES:
        raise DocumentError(name, _too_big(len(data)))
    if not is_pdf(data):
        raise DocumentError(name, _("the file is not a PDF (no PDF header)"))
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as err:
        code = getattr(err, "err_code", None)
        if _EMPTY_PAGE_TREE.search(data) and not _PAGES_COUNTED.search(data):
            code = 0       # PDFium's last-error code can be stale after an empty document
        reason = _PDFIUM_REASONS.get(code if isinstance(code, int) else -1,
                                     _PDFIUM_REASONS[3])
        raise DocumentError(name, _(reason)) from None


def inspect_document(data: bytes, name: str) -> DocumentInfo:
    """Page count and sizes, or a `DocumentError`: encrypted, corrupt, empty, too large."""
    with _PDFIUM:
        pdf = _open(data, name)
        try:
            count = len(pdf)
            if count == 0:
                raise DocumentError(name, _("the document has no pages"))
            if count > MAX_PAGES:
                raise DocumentError(name, _("the document has {count} pages; at most {limit} "
                                            "can be attached (split it first)").format(
                                                count=format_integer(count),
                                                limit=format_integer(MAX_PAGES)))
            sizes = []
            for index in range(count):
                try:
                    width, height = pdf.get_page_size(index)
                except pdfium.PdfiumError:
                    raise DocumentError(name, _page_unreadable(index)) from None
                if not (width > 0 and height > 0 and math.isfinite(width * height)):
                    raise DocumentError(name, _("page {page} has no size").format(page=index + 1))
                sizes.append((float(width), float(height)))
        finally:
            pdf.close()
    return DocumentInfo(name=name, page_count=count, page_sizes=tuple(sizes),
                        bytes=len(data))


# --- sizes and costs ------------------------------------------------------------------

def page_size(size_pt: tuple[float, float], model: Model,
              high_resolution: bool = False) -> tuple[int, int]:
    """(width, height) in pixels at which `model` reads a page of this size in points."""
    width = max(1, round(size_pt[0] * _NOMINAL_DPI / 72))
    height = max(1, round(size_pt[1] * _NOMINAL_DPI / 72))
    return target_size(width, height, model, high_resolution)


def page_tokens(info: DocumentInfo, pages: list[int], model: Model,
                high_resolution: bool = False) -> list[int]:
    """The token cost of each listed page (1-based numbers)."""
    return [image_tokens(*page_size(info.page_sizes[p - 1], model, high_resolution),
                         model, high_resolution) for p in pages]


def default_pages(info: DocumentInfo, model: Model, high_resolution: bool = False,
                  budget: int = DEFAULT_PAGE_TOKENS, cap: int = PAGE_CAP) -> list[int]:
    """The first pages that fit `budget` tokens (at least one, at most `cap`)."""
    chosen: list[int] = []
    spent = 0
    for page in range(1, min(info.page_count, cap) + 1):
        cost = page_tokens(info, [page], model, high_resolution)[0]
        if chosen and spent + cost > budget:
            break
        chosen.append(page)
        spent += cost
    return chosen


_RANGE_PART = re.compile(r"^\s*(\d+)\s*(?:[-–]\s*(\d*)\s*)?$")


def parse_page_range(text: str, page_count: int, name: str) -> list[int]:
    """Pages from "2-5", "3", "1,3,7-9" or "4-" (to the end): 1-based, in order, once each.

    Raises DocumentError naming the file when the range is malformed or past the end.
    """
    pages: list[int] = []
    for part in text.split(","):
        match = _RANGE_PART.match(part)
        if match is None:
            raise DocumentError(name, _("'{text}' is not a page range (use e.g. 2-5 or "
                                        "1,3,7-9)").format(text=text))
        first = int(match.group(1))
        last = first if match.group(2) is None else int(match.group(2) or page_count)
        if first < 1 or last < first:
            raise DocumentError(name, _("'{text}' is not a page range (pages count from 1, "
                                        "first to last)").format(text=part.strip()))
        if last > page_count:
            raise DocumentError(name, ngettext(
                "the document has {count} page; '{text}' goes past the end",
                "the document has {count} pages; '{text}' goes past the end",
                page_count).format(count=page_count, text=part.strip()))
        pages.extend(p for p in range(first, last + 1) if p not in pages)
    return pages


# --- drawing ---------------------------------------------------------------------------

def _render(pdf: pdfium.PdfDocument, index: int, size: tuple[int, int],
            name: str) -> Image.Image:
    """Page `index` drawn at `size` pixels (within a pixel of it: PDFium rounds up)."""
    try:
        page = pdf[index]
    except pdfium.PdfiumError:
        raise DocumentError(name, _page_unreadable(index)) from None
    try:
        width_pt, height_pt = page.get_size()
        # Cover the target on both sides; the grid rounding of smart_resize leaves less
        # than one patch of difference, which `prepare_pixels` takes up.
        scale = max(size[0] / width_pt, size[1] / height_pt)
        bitmap = page.render(scale=scale, may_draw_forms=True)
        image: Image.Image = bitmap.to_pil()
        # to_pil shares PDFium's buffer: copy before the bitmap goes away.
        return image.convert("RGB") if image.mode != "RGB" else image.copy()
    except pdfium.PdfiumError:
        raise DocumentError(name, _("page {page} cannot be drawn").format(
            page=index + 1)) from None
    finally:
        page.close()


def render_thumbnail(data: bytes, name: str, page: int, box: tuple[int, int]) -> Image.Image:
    """A small picture of one page (1-based), fitted into `box`, for the tray."""
    with _PDFIUM:
        pdf = _open(data, name)
        try:
            width_pt, height_pt = pdf.get_page_size(page - 1)
            scale = min(box[0] / width_pt, box[1] / height_pt)
            size = (max(1, round(width_pt * scale)), max(1, round(height_pt * scale)))
            return _render(pdf, page - 1, size, name)
        finally:
            pdf.close()


def prepare_document(data: bytes, *, name: str, pages: list[int], model: Model,
                     provider: Provider, high_resolution: bool = False,
                     max_bytes: int | None = None) -> PreparedMedia:
    """Render `pages` (1-based) at the size `model` reads them and encode each to send."""
    if not pages:
        raise DocumentError(name, _("no pages were chosen"))
    info = inspect_document(data, name)
    frames = []
    for number in pages:
        if not 1 <= number <= info.page_count:
            raise DocumentError(name, ngettext(
                "there is no page {page} (the document has {count} page)",
                "there is no page {page} (the document has {count} pages)",
                info.page_count).format(page=number, count=info.page_count))
        size = page_size(info.page_sizes[number - 1], model, high_resolution)
        with _PDFIUM:
            pdf = _open(data, name)
            try:
                image = _render(pdf, number - 1, size, name)
            finally:
                pdf.close()
        frames.append(prepare_pixels(
            image, name=_("{name} p. {page}").format(name=name, page=number), size=size,
            model=model, provider=provider,
            photo=False, max_bytes=max_bytes,
            original_size=(round(info.page_sizes[number - 1][0]),
                           round(info.page_sizes[number - 1][1])),
            original_bytes=len(data), high_resolution=high_resolution))
    tokens = sum(f.tokens for f in frames)
    return PreparedMedia(kind="document", name=name, frames=tuple(frames), tokens=tokens,
                         pages=tuple(pages), page_count=info.page_count,
                         original_bytes=len(data))
