"""`ask --annotate OUT.png` and the `detections` of `ask --json`.

Both speak in pixels of the original image the person gave (`-i`), whatever size it
was sent at: the core maps the model's coordinates back through the size the model saw.
With several images, a detection the answer does not tie to an image goes to the first.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any, TextIO

from ..core.catalog import Catalog
from ..core.conversation import Conversation, Message
from ..core.grounding import (
    AnswerGrounding,
    annotate,
    annotated_stored_png,
    answer_grounding,
    load_upright,
)
from ..core.storage import atomic_write

__all__ = ["detections_json", "write_annotated"]

_FORMATS = {".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP"}


def _grounding(conversation: Conversation, message: Message,
               catalog: Catalog) -> AnswerGrounding | None:
    return answer_grounding(conversation, message, catalog, complete=True)


def detections_json(conversation: Conversation, message: Message,
                    catalog: Catalog) -> list[dict[str, Any]]:
    """`[{"image": 0, "label": …, "bbox": [x1, y1, x2, y2] | None, "point": [x, y] | None,
    "attributes": {…}}]`, in whole pixels of each original image."""
    grounding = _grounding(conversation, message, catalog)
    if grounding is None:
        return []
    found: list[tuple[int, dict[str, Any]]] = []
    for index in range(len(grounding.images)):
        for detection in grounding.detections_for(index, unassigned_to=0):
            found.append((detection.index, {
                "image": index,
                "label": detection.display_label,
                "bbox": None if detection.bbox is None else [round(v) for v in detection.bbox],
                "point": None if detection.point is None else [round(v)
                                                                for v in detection.point],
                "attributes": dict(detection.attributes),
            }))
    return [entry for _, entry in sorted(found, key=lambda pair: pair[0])]


def write_annotated(out: Path, conversation: Conversation, message: Message,
                    catalog: Catalog, original: tuple[bytes, str] | None,
                    err: TextIO) -> None:
    """Write the answer's first image with its boxes and points drawn in, to `out`.

    `original`: the bytes and name of the first image given with this question; drawn
    at its own size. Without it (a follow-up in `--continue`), the image as it was sent
    is drawn instead, and stderr says so.
    """
    grounding = _grounding(conversation, message, catalog)
    if grounding is None:
        if original is None:
            err.write(f"[--annotate: the answer located nothing and there is no image; "
                      f"{out} not written]\n")
            return
        image = load_upright(*original)
        err.write("[--annotate: the answer has no boxes or points; the image is written "
                  "without marks]\n")
        detections = []
    elif original is not None:
        image = load_upright(*original)
        detections = grounding.detections_for(0, unassigned_to=0)
    else:
        png = annotated_stored_png(grounding, 0, unassigned_to=0)
        if png is None:
            err.write("[--annotate: the image is not kept in the conversation; "
                      f"{out} not written]\n")
            return
        stored = grounding.images[0]
        err.write(f"[--annotate: drawn on the image as it was sent ({stored.width}×"
                  f"{stored.height}); the original is not kept in the conversation]\n")
        atomic_write(out, png)
        return
    for note in grounding.all_notes() if grounding is not None else []:
        err.write(f"[--annotate: {note}]\n")
    drawn = annotate(image, detections,
                     colours=grounding.colours() if grounding is not None else None)
    buffer = io.BytesIO()
    fmt = _FORMATS.get(out.suffix.lower(), "PNG")
    drawn.save(buffer, fmt, **({"quality": 92} if fmt == "JPEG" else {}))
    atomic_write(out, buffer.getvalue())
