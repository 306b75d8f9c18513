"""What a reading of an answer yields: detections in the model's own numbers, and notes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["ParsedAnswer", "RawDetection", "snippet"]

_MAX_NOTES = 20


@dataclass(frozen=True)
class RawDetection:
    """One box and/or point as the model wrote it (not yet mapped to pixels)."""

    label: str
    bbox: tuple[float, float, float, float] | None = None
    """Left, top, right, bottom: corners already put in order."""
    point: tuple[float, float] | None = None
    attributes: tuple[tuple[str, Any], ...] = ()
    """The object's other keys, in the order written (e.g. colour, text_content)."""
    image: int | None = None
    """0-based index of the image the answer tied it to, when it says so."""
    offset: int = 0
    """Where in the answer it was written."""

    @property
    def display_label(self) -> str:
        """The label, or for text spotting (no label) the text it found."""
        if self.label:
            return self.label
        for key, value in self.attributes:
            if key in ("text_content", "text", "name", "description") and isinstance(
                    value, str) and value.strip():
                return value.strip()
        return ""


@dataclass
class ParsedAnswer:
    """What an answer holds: its detections in order, and notes on what was skipped."""

    detections: list[RawDetection] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def boxes(self) -> int:
        return sum(1 for d in self.detections if d.bbox is not None)

    @property
    def points(self) -> int:
        return sum(1 for d in self.detections if d.point is not None)

    def note(self, text: str) -> None:
        if len(self.notes) < _MAX_NOTES and text not in self.notes:
            self.notes.append(text)


def snippet(text: str, limit: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit - 1] + "…"
