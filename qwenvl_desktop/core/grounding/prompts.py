"""The words that make a Qwen-VL model answer with boxes or points ("Locate…").

Each family was trained on its own phrasing; these are the documented ones:

* JSON families (Qwen2.5-VL, QVQ, Qwen3-VL and later): the cookbooks' "Locate every
  instance that belongs to the following categories: "…". Report bbox coordinates in
  JSON format." for boxes, and "…output the point coordinates in JSON format" with a
  `point_2d` example for points (Qwen3-VL `2d_grounding` cookbook; Qwen2.5-VL
  `spatial_understanding` cookbook).
* Qwen2-VL answers in tags: its grounding data asks with the object wrapped in
  `<|object_ref_start|>…<|object_ref_end|>` and answers with `<|box_start|>…`; it was
  not trained on points.

The prompt is put into the composer, where the person sees it and can change it
before anything is sent.
"""

from __future__ import annotations

import re
from typing import Literal

from ..catalog import Model

__all__ = ["LocateKind", "locate_prompt", "prompt_style", "supports_points"]

LocateKind = Literal["boxes", "points"]
PromptStyle = Literal["json", "qwen2-tags"]

_QWEN2_VL = re.compile(r"qwen2[-_ ]?vl", re.IGNORECASE)


def prompt_style(model: Model) -> PromptStyle:
    """How the model's family asks for boxes: JSON, or Qwen2-VL's tags."""
    return "qwen2-tags" if _QWEN2_VL.search(model.id) else "json"


def supports_points(model: Model) -> bool:
    return prompt_style(model) == "json"


def _clean(what: str) -> str:
    return " ".join(what.replace('"', "'").split())


def locate_prompt(model: Model, what: str, kind: LocateKind = "boxes") -> str:
    """The grounding prompt for `what` ("the Save button", "cars, people") on `model`."""
    target = _clean(what) or "object"
    if prompt_style(model) == "qwen2-tags":
        return (f"Find <|object_ref_start|>{target}<|object_ref_end|> in the image and "
                "give its bounding box.")
    if kind == "points":
        return (f'Locate every instance of "{target}" in the image and output the point '
                'coordinates in JSON format, for example: '
                f'[{{"point_2d": [x, y], "label": "{target}"}}].')
    return (f'Locate every instance that belongs to the following categories: "{target}". '
            "Report bbox coordinates in JSON format.")
