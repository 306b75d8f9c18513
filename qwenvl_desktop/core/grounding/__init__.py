"""Qwen's eyes: boxes and points in answers, placed on the images that were asked about.

`parse` reads them from the answer's text, `mapping` turns the model's numbers into
pixels of the image (per the model's coordinate convention and the size it saw),
`answer` ties an answer to its images, `draw` draws them with Pillow and `prompts`
holds the words that ask for them. All of it is Qt-free: the terminal, the exports and
the window use the same code.

`draw`'s functions are imported from here at their first use: the window shows the
grounding links of a transcript without importing Pillow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .answer import (
    AnswerGrounding,
    annotated_stored_png,
    answer_grounding,
    question_for,
    summary_text,
)
from .colours import PALETTE, colours_for
from .mapping import Detection, Frame, frame_for, place, scaled
from .parse import ParsedAnswer, RawDetection, has_grounding_markers, parse_answer
from .prompts import LocateKind, locate_prompt, prompt_style, supports_points

if TYPE_CHECKING:
    from .draw import annotate, annotated_png, load_upright

_DRAWN = frozenset({"annotate", "annotated_png", "load_upright"})


def __getattr__(name: str) -> Any:
    if name in _DRAWN:
        from . import draw

        return getattr(draw, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "PALETTE",
    "AnswerGrounding",
    "Detection",
    "Frame",
    "LocateKind",
    "ParsedAnswer",
    "RawDetection",
    "annotate",
    "annotated_png",
    "annotated_stored_png",
    "answer_grounding",
    "colours_for",
    "frame_for",
    "has_grounding_markers",
    "load_upright",
    "locate_prompt",
    "parse_answer",
    "place",
    "prompt_style",
    "question_for",
    "scaled",
    "summary_text",
    "supports_points",
]

