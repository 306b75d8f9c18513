"""Documents and video clips inside a message: which of its images belong together.

A PDF's pages and a video's frames are stored and sent as ordinary images (each once,
keyed by the SHA-256 of the bytes sent), so everything that handles images keeps
working on them. A `MediaGroup` adds what is needed to show and resend them as one
document or one clip: the source file name, the page numbers or frame timestamps, and
which images they are, in order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from .i18n import _, ngettext

__all__ = ["MediaGroup", "MediaKind", "VisualSection", "format_seconds", "page_span",
           "visual_sections"]

MediaKind = Literal["document", "video"]


@dataclass
class MediaGroup:
    """One document (pages) or one video clip (frames) of a message."""

    kind: MediaKind
    name: str
    """The source file name, as the person attached it."""
    images: list[str] = field(default_factory=list)
    """SHA-256 keys of the pages or frames, in order (also listed in `Message.images`)."""
    pages: list[int] = field(default_factory=list)
    """Documents: the 1-based page number of each image."""
    page_count: int = 0
    """Documents: the pages the file has (more than were sent, when a range was chosen)."""
    timestamps: list[float] = field(default_factory=list)
    """Videos: the time of each frame in the clip, in seconds."""
    duration: float = 0.0
    """Videos: the length of the clip, in seconds."""
    tokens: int = 0
    """The estimate shown when it was attached (the whole document or clip)."""

    def describe(self) -> str:
        """One line a person reads: "report.pdf · pages 1–5 of 12" / "clip.mp4 · 8 frames"."""
        if self.kind == "document":
            if self.page_count > len(self.pages):
                return _("{name} · {pages} of {count}").format(
                    name=self.name, pages=page_span(self.pages), count=self.page_count)
            return f"{self.name} · {page_span(self.pages)}"
        frames = len(self.images)
        return ngettext("{name} · {length} · {count} frame", "{name} · {length} · {count} frames",
                        frames).format(name=self.name, length=format_seconds(self.duration),
                                       count=frames)


def page_span(pages: list[int]) -> str:
    """"page 3", "pages 1–5" or "pages 1, 3, 7" for a list of page numbers."""
    if not pages:
        return _("no pages")
    if len(pages) == 1:
        return _("page {page}").format(page=pages[0])
    if pages == list(range(pages[0], pages[-1] + 1)):
        return _("pages {first}–{last}").format(first=pages[0], last=pages[-1])
    return _("pages {list}").format(list=", ".join(str(p) for p in pages))


def format_seconds(seconds: float) -> str:
    """"4.0 s", "1:05", "1:02:03": a clip length as people read it."""
    if seconds < 60:
        return _("{seconds} s").format(seconds=f"{seconds:.1f}")
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@dataclass(frozen=True)
class VisualSection:
    """A run of a message's pictures as shown: loose images, one document, or one clip."""

    group: MediaGroup | None
    images: list[tuple[str, str]]
    """(sha256, label) in order; the label is "p. 3" or "1.5 s" (empty for loose images)."""


def visual_sections(images: list[str], media: list[MediaGroup]) -> list[VisualSection]:
    """How the transcript and the exports lay out a message's pictures: loose images
    first, then each document and clip with its pages or frames labelled."""
    grouped = {sha for group in media for sha in group.images}
    sections: list[VisualSection] = []
    loose = [(sha, "") for sha in images if sha not in grouped]
    if loose:
        sections.append(VisualSection(None, loose))
    for group in media:
        if group.kind == "document":
            labels = ([_("p. {page}").format(page=p) for p in group.pages]
                      or [""] * len(group.images))
        else:
            labels = ([_("{seconds} s").format(seconds=f"{t:.1f}") for t in group.timestamps]
                      or [""] * len(group.images))
        sections.append(VisualSection(group, list(zip(group.images, labels, strict=False))))
    return sections
