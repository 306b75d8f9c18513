"""`-i` sources that are documents or videos: which file, which pages, which frames.

`-i doc.pdf` sends the first `PAGE_CAP` pages (and says so on stderr when the document
has more); `-i doc.pdf:2-5` sends exactly the pages named. `-i clip.mp4` samples frames
at `--fps` (default 2) up to `--max-frames` (default 32).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TextIO

from ..core.catalog import Model, Provider
from ..core.media import PreparedMedia

__all__ = ["is_media_source", "prepare_media_source", "split_page_range"]

_DOCUMENT_SUFFIX = ".pdf"


def split_page_range(source: str) -> tuple[str, str | None]:
    """("doc.pdf", "2-5") for "doc.pdf:2-5"; a path that exists as given has no range."""
    if Path(source).exists() or ":" not in source:
        return source, None
    path, _, pages = source.rpartition(":")
    if path.lower().endswith(_DOCUMENT_SUFFIX) and pages.strip():
        return path, pages
    return source, None


def is_media_source(source: str) -> bool:
    """Whether `-i source` names a PDF (maybe with a range) or a video file."""
    from ..core.video import is_video_name

    if source.startswith(("http://", "https://")):
        return False
    path, _ = split_page_range(source)
    return path.lower().endswith(_DOCUMENT_SUFFIX) or is_video_name(path)


async def prepare_media_source(source: str, *, model: Model, provider: Provider,
                               high_resolution: bool, fps: float | None,
                               max_frames: int | None, max_bytes: int | None,
                               notes: TextIO) -> PreparedMedia:
    """Render the pages or sample the frames `source` names, off the event loop."""
    path_text, pages_text = split_page_range(source)
    path = Path(path_text)
    if path.name.lower().endswith(_DOCUMENT_SUFFIX):
        from ..core import documents

        data = await asyncio.to_thread(documents.read_document_file, path)
        info = await asyncio.to_thread(documents.inspect_document, data, path.name)
        if pages_text is not None:
            pages = documents.parse_page_range(pages_text, info.page_count, path.name)
        else:
            pages = list(range(1, min(info.page_count, documents.PAGE_CAP) + 1))
            if info.page_count > documents.PAGE_CAP:
                print(f"[{path.name}: sending pages 1–{documents.PAGE_CAP} of "
                      f"{info.page_count}; name the pages for more, e.g. "
                      f"-i '{path.name}:{documents.PAGE_CAP + 1}-{info.page_count}']",
                      file=notes)
        return await asyncio.to_thread(
            lambda: documents.prepare_document(
                data, name=path.name, pages=pages, model=model, provider=provider,
                high_resolution=high_resolution, max_bytes=max_bytes))
    from ..core import video

    return await asyncio.to_thread(
        lambda: video.prepare_video(
            path, name=path.name, fps=fps or video.DEFAULT_FPS,
            max_frames=max_frames or video.DEFAULT_MAX_FRAMES, model=model,
            provider=provider, max_bytes=max_bytes))
