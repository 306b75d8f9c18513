"""Pages and frames made ready to send: the shared end of `documents` and `video`.

A rendered page or a decoded frame is already at the size the model reads it; here it
is encoded within the provider's byte limit exactly like an attached image (PNG for
flat pages, JPEG for photos and video), and the pages or frames of one file are kept
together as a `PreparedMedia` that becomes one `MediaGroup` of the message.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from PIL import Image

from .catalog import Model, Provider
from .conversation import Message, StoredImage
from .image_encoding import encode, looks_like_graphic
from .image_pixels import resize
from .images import PreparedImage, image_byte_budget
from .media_groups import MediaGroup, MediaKind
from .resend import resend_costs
from .tokens import image_tokens

__all__ = ["PreparedMedia", "prepare_pixels", "resend_costs", "stored_items"]


@dataclass(frozen=True)
class PreparedMedia:
    """A document's pages or a video's frames, exactly as they will be sent."""

    kind: MediaKind
    name: str
    frames: tuple[PreparedImage, ...]
    tokens: int
    """What the whole document or clip costs on the model it was prepared for."""
    pages: tuple[int, ...] = ()
    page_count: int = 0
    timestamps: tuple[float, ...] = ()
    duration: float = 0.0
    original_bytes: int = 0

    def to_group(self) -> MediaGroup:
        return MediaGroup(kind=self.kind, name=self.name,
                          images=[f.sha256 for f in self.frames], pages=list(self.pages),
                          page_count=self.page_count, timestamps=list(self.timestamps),
                          duration=self.duration, tokens=self.tokens)


def prepare_pixels(im: Image.Image, *, name: str, size: tuple[int, int], model: Model,
                   provider: Provider, photo: bool, max_bytes: int | None,
                   original_size: tuple[int, int], original_bytes: int,
                   high_resolution: bool = False) -> PreparedImage:
    """Encode a page or frame that is already (about) `size` pixels, like an image.

    `photo`: video frames always go as JPEG; a page as PNG when it is flat (text and
    line art), else JPEG, as `looks_like_graphic` decides for attached images.
    """
    if im.mode not in ("RGB", "L"):
        im = im.convert("RGB")
    if im.size != size:
        im = resize(im, size)
    caps = [c for c in (max_bytes or None, image_byte_budget(provider, 1)) if c]
    notes: list[str] = []
    graphic = not photo and looks_like_graphic(im, "")
    fit = encode(im, graphic=graphic, cap=min(caps) if caps else None, model=model,
                 name=name, notes=notes)
    width, height = fit.width, fit.height
    return PreparedImage(
        data=fit.data, mime=fit.mime, width=width, height=height,
        sha256=hashlib.sha256(fit.data).hexdigest(), original_name=name,
        original_width=original_size[0], original_height=original_size[1],
        original_bytes=original_bytes,
        tokens=image_tokens(width, height, model, high_resolution),
        notes=tuple(notes),
    )


def stored_items(images: dict[str, StoredImage], message: Message
                 ) -> list[PreparedImage | PreparedMedia]:
    """What a sent message held, ready to be sent again exactly as it was: its loose
    images, then each document and clip with its pages or frames (regenerate, resend)."""

    def prepared(sha: str) -> PreparedImage | None:
        stored = images.get(sha)
        if stored is None:
            return None
        return PreparedImage(
            data=stored.data, mime=stored.mime, width=stored.width, height=stored.height,
            sha256=stored.sha256, original_name=stored.original_name,
            original_width=stored.original_width, original_height=stored.original_height,
            original_bytes=stored.original_bytes, tokens=message.image_tokens.get(sha, 0),
            source_url=stored.source_url)

    grouped = {sha for group in message.media for sha in group.images}
    items: list[PreparedImage | PreparedMedia] = [
        p for p in (prepared(sha) for sha in message.images if sha not in grouped)
        if p is not None]
    for group in message.media:
        frames = [prepared(sha) for sha in group.images]
        if not frames or any(f is None for f in frames):
            continue
        items.append(PreparedMedia(
            kind=group.kind, name=group.name,
            frames=tuple(f for f in frames if f is not None), tokens=group.tokens,
            pages=tuple(group.pages), page_count=group.page_count,
            timestamps=tuple(group.timestamps), duration=group.duration))
    return items
