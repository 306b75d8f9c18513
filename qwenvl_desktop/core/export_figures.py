"""The annotated images of exports: an answer's boxes and points drawn into its image.

An answer that located things is followed, in both exports, by the image(s) it spoke
about with its detections drawn in (Pillow, the same drawing as the terminal's
`--annotate`), at the size the image was sent — the only copy a conversation keeps.
Markdown gets a PNG file next to the original image; HTML gets it inline.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from .catalog import Catalog, load_builtin
from .conversation import Conversation, Message
from .grounding import annotated_stored_png, answer_grounding
from .i18n import _, ngettext

__all__ = ["Figure", "answer_figures", "write_figures"]


@dataclass(frozen=True)
class Figure:
    """One annotated image of an answer."""

    image_sha: str
    name: str
    png: bytes
    caption: str


def answer_figures(conv: Conversation, message: Message,
                   catalog: Catalog | None = None) -> list[Figure]:
    """The answer's images with its detections drawn in (none for most answers)."""
    if message.role != "assistant" or message.status == "streaming":
        return []
    grounding = answer_grounding(conv, message, catalog or load_builtin(), complete=True)
    if grounding is None:
        return []
    figures = []
    for index, image in enumerate(grounding.images):
        png = annotated_stored_png(grounding, index)
        if png is None:
            continue
        count = len(grounding.detections_for(index))
        name = image.original_name or _("image {number}").format(number=index + 1)
        caption = ngettext("Located {what} — {count} detection drawn on {name}",
                           "Located {what} — {count} detections drawn on {name}", count).format(
                               what=grounding.summary(), count=count, name=name)
        figures.append(Figure(image.sha256, name, png, caption))
    return figures


def write_figures(conv: Conversation, folder: Path, folder_name: str,
                  originals: dict[str, str],
                  catalog: Catalog | None = None) -> dict[str, list[tuple[str, Figure]]]:
    """Write each answer's annotated PNGs into `folder`, named after the original image
    file (`originals`: sha256 -> link) they sit next to; answer id -> [(link, figure)]."""
    written: dict[str, list[tuple[str, Figure]]] = {}
    for message in conv.messages:
        for figure in answer_figures(conv, message, catalog):
            folder.mkdir(parents=True, exist_ok=True)
            original = urllib.parse.unquote(originals.get(figure.image_sha, ""))
            stem = Path(original).stem if original.startswith(folder_name + "/") else \
                figure.image_sha[:12]
            name = f"{stem}-annotated-{message.id[:8]}.png"
            (folder / name).write_bytes(figure.png)
            link = urllib.parse.quote(f"{folder_name}/{name}")
            written.setdefault(message.id, []).append((link, figure))
    return written
