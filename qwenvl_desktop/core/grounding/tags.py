"""Qwen's tag forms of boxes: `<|object_ref_start|>cat<|object_ref_end|><|box_start|>
(x1,y1),(x2,y2)<|box_end|>` (Qwen2-VL) and `<ref>cat</ref><box>(x1,y1),(x2,y2)</box>`
(Qwen-VL). One tag may hold several boxes, corner pairs one after another."""

from __future__ import annotations

import re

from ..i18n import _
from .detections import ParsedAnswer, RawDetection, snippet

__all__ = ["read_tags"]

_NUMBER = r"\s*(-?\d+(?:\.\d+)?)\s*"
_PAIR = re.compile(r"\(" + _NUMBER + "," + _NUMBER + r"\)")
_QWEN2_TAG = re.compile(
    r"(?:<\|object_ref_start\|>(?P<ref>.*?)<\|object_ref_end\|>\s*)?"
    r"<\|box_start\|>(?P<body>.*?)<\|box_end\|>", re.DOTALL)
_QWEN1_TAG = re.compile(r"(?:<ref>(?P<ref>.*?)</ref>\s*)?<box>(?P<body>.*?)</box>", re.DOTALL)


def read_tags(text: str, result: ParsedAnswer) -> None:
    if "<|box_start|>" not in text and "<box>" not in text:
        return
    matches = sorted([*_QWEN2_TAG.finditer(text), *_QWEN1_TAG.finditer(text)],
                     key=lambda m: m.start())
    for match in matches:
        label = " ".join((match.group("ref") or "").split())
        body = match.group("body")
        pairs = [(float(a), float(b)) for a, b in _PAIR.findall(body)]
        if len(pairs) < 2 or len(pairs) % 2:
            name = f"'{label}'" if label else _("a box without a label")
            result.note(_("The box of {name} was skipped: it is not two corner points "
                          "({snippet}).").format(name=name, snippet=snippet(body)))
            continue
        # One tag may hold several boxes: corner pairs one after another.
        for first, second in zip(pairs[0::2], pairs[1::2], strict=True):
            box = (min(first[0], second[0]), min(first[1], second[1]),
                   max(first[0], second[0]), max(first[1], second[1]))
            result.detections.append(RawDetection(label=label, bbox=box,
                                                  offset=match.start()))
