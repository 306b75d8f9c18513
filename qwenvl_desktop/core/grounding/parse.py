"""Finding boxes and points in a model's answer, in the coordinates the model wrote.

Qwen-VL models answer "where is…" with JSON objects — `{"bbox_2d": [x1, y1, x2, y2],
"label": "cat"}` or `{"point_2d": [x, y], "label": "…"}` — usually in a ```json fence,
sometimes bare, one object or a list, sometimes wrapped (`{"objects": [...]}`) or keyed
per image (`{"image 1": [...], "image 2": [...]}`). Older models write tags:
`<|object_ref_start|>cat<|object_ref_end|><|box_start|>(x1,y1),(x2,y2)<|box_end|>`
(Qwen2-VL) or `<ref>cat</ref><box>(x1,y1),(x2,y2)</box>` (Qwen-VL).

Nothing here trusts the text: an answer still streaming ends in half an object, models
add trailing commas, and values can be words. Every object that can be read is
returned; every one that cannot is left out with a note saying why, never an
exception. What the numbers mean (pixels or a 0-1000 grid) is decided elsewhere
(`mapping`): this module only reads them.
"""

from __future__ import annotations

import ast
import bisect
import json
import math
import re
from collections.abc import Iterator
from dataclasses import replace
from functools import lru_cache
from typing import Any

from ..i18n import _
from .detections import ParsedAnswer, RawDetection, snippet
from .tags import read_tags

__all__ = ["ParsedAnswer", "RawDetection", "has_grounding_markers", "parse_answer"]

_MARKERS = ("bbox_2d", "point_2d", "<|box_start|>", "<box>")
_IMAGE_NAME = re.compile(
    r"(?:\bimage|\bpicture|\bphoto|\bscreenshot|\bimg|图片?|图像)\s*(?:#|no\.?|number)?\s*(\d{1,3})"
    r"(?!\d)|第\s*(\d{1,3})\s*张", re.IGNORECASE)
_FLAT_OBJECT = re.compile(r"\{[^{}]*\}")
_TRAILING_COMMA = re.compile(r",(\s*[\]}])")


def has_grounding_markers(text: str) -> bool:
    """A cheap test run before any parsing: most answers have no detections at all."""
    return any(marker in text for marker in _MARKERS)


def parse_answer(text: str, *, complete: bool = True) -> ParsedAnswer:
    """Every box and point in `text`.

    `complete=False` (an answer still streaming) says nothing about the object being
    written at the end; once complete, a fragment that cannot be read gets a note.
    """
    if not has_grounding_markers(text):
        return ParsedAnswer()
    return _parse_cached(text, complete)


@lru_cache(maxsize=256)
def _parse_cached(text: str, complete: bool) -> ParsedAnswer:
    result = ParsedAnswer()
    _JsonReader(text, result, complete).read()
    read_tags(text, result)
    result.detections.sort(key=lambda d: d.offset)
    _images_named_in_prose(text, result)
    return result


def _images_named_in_prose(text: str, result: ParsedAnswer) -> None:
    """Tie each detection without an image key of its own to the image last named
    before it ("Image 2: ```json …"): that naming holds until another image is named."""
    mentions = [(m.start(), int(m.group(1) or m.group(2)) - 1)
                for m in _IMAGE_NAME.finditer(text) if int(m.group(1) or m.group(2)) >= 1]
    if not mentions:
        return
    starts = [start for start, _ in mentions]
    for position, detection in enumerate(result.detections):
        if detection.image is not None:
            continue
        before = bisect.bisect_right(starts, detection.offset) - 1
        if before >= 0:
            result.detections[position] = replace(detection, image=mentions[before][1])


# --- JSON -----------------------------------------------------------------------------

class _JsonReader:
    """Whole JSON values first (anything `raw_decode` accepts, trailing commas fixed);
    then, in the text no whole value covered, single flat objects — which is what a
    stream cut mid-list, or a list with one broken entry, still holds."""

    def __init__(self, text: str, result: ParsedAnswer, complete: bool) -> None:
        self.text = text
        self.result = result
        self.complete = complete
        self.decoder = json.JSONDecoder()
        self.covered: list[tuple[int, int]] = []
    def read(self) -> None:
        text = self.text
        index = 0
        while True:
            start = _next_json_start(text, index)
            if start < 0:
                break
            end = self._read_value(start)
            index = end if end > start else start + 1
        self._read_flat_objects()

    def _read_value(self, start: int) -> int:
        """Decode the JSON value starting at `start`; its end, or `start` if none."""
        value, end = self._decode(start)
        if value is None or not _holds_detection(value):
            return start
        self._walk(value, start, None)
        self.covered.append((start, end))
        return end

    def _decode(self, start: int) -> tuple[Any, int]:
        try:
            value, end = self.decoder.raw_decode(self.text, start)
        except ValueError:
            pass
        else:
            return value, end
        # Trailing commas are the most common slip: try once without them, on the
        # stretch up to the end of the fence (or of the text) the value sits in.
        fence_end = self.text.find("```", start)
        stop = fence_end if fence_end > 0 else len(self.text)
        chunk = self.text[start:stop]
        fixed = _TRAILING_COMMA.sub(r"\1", chunk)
        if fixed == chunk:
            return None, start
        try:
            value, used = self.decoder.raw_decode(fixed)
        except ValueError:
            return None, start
        # Offsets in the fixed text do not map back; claim the stretch only when the
        # value filled it (otherwise the entries are read one by one).
        return (value, stop) if not fixed[used:].strip() else (None, start)

    def _walk(self, value: Any, offset: int, image: int | None) -> None:
        if isinstance(value, list):
            for item in value:
                self._walk(item, offset, image)
        elif isinstance(value, dict):
            if any(k in value for k in ("bbox_2d", "point_2d")):
                self._add(value, offset, image)
                return
            for key, item in value.items():
                named = _image_named_in(str(key), whole=True)
                self._walk(item, offset, named if named is not None else image)

    def _add(self, obj: dict[str, Any], offset: int, image: int | None) -> None:
        found = _detection(obj, offset, image, self.result)
        if found is not None:
            self.result.detections.append(found)

    def _read_flat_objects(self) -> None:
        for gap_start, gap_end in _gaps(self.covered, len(self.text)):
            gap = self.text[gap_start:gap_end]
            last = 0
            for match in _FLAT_OBJECT.finditer(gap):
                body = match.group(0)
                if "bbox_2d" not in body and "point_2d" not in body:
                    continue
                obj = _lenient_object(body)
                if obj is None:
                    self.result.note(_("An entry that is not valid JSON "
                                       "was skipped: {snippet}").format(
                        snippet=snippet(body)))
                    continue
                if isinstance(obj, dict):
                    self._add(obj, gap_start + match.start(), None)
                last = match.end()
            tail = gap[last:]
            if self.complete and ("bbox_2d" in tail or "point_2d" in tail):
                marker = tail.find("bbox_2d") if "bbox_2d" in tail else tail.find("point_2d")
                if "}" not in tail[marker:]:
                    self.result.note(_("The answer ends in the middle of an entry; that entry "
                                       "was skipped."))


def _lenient_object(body: str) -> Any:
    """A flat object as JSON, JSON without trailing commas, or a Python literal (some
    answers use single quotes); None when it is none of these."""
    try:
        return json.loads(_TRAILING_COMMA.sub(r"\1", body))
    except ValueError:
        pass
    try:
        # literal_eval evaluates literals only (no names, calls or attributes).
        return ast.literal_eval(body)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None


def _next_json_start(text: str, index: int) -> int:
    """The next `[` or `{` that could open a value with a detection in it."""
    while True:
        brace = text.find("{", index)
        bracket = text.find("[", index)
        candidates = [p for p in (brace, bracket) if p >= 0]
        if not candidates:
            return -1
        start = min(candidates)
        # Only worth decoding when a detection key follows before the next fence ends.
        window_end = text.find("```", start)
        window = text[start:window_end if window_end > 0 else len(text)]
        if "bbox_2d" in window or "point_2d" in window:
            return start
        if window_end < 0:
            return -1
        index = window_end + 3


def _holds_detection(value: Any) -> bool:
    if isinstance(value, dict):
        return ("bbox_2d" in value or "point_2d" in value
                or any(_holds_detection(v) for v in value.values()))
    if isinstance(value, list):
        return any(_holds_detection(v) for v in value)
    return False


def _gaps(covered: list[tuple[int, int]], length: int) -> Iterator[tuple[int, int]]:
    position = 0
    for start, end in sorted(covered):
        if start > position:
            yield position, start
        position = max(position, end)
    if position < length:
        yield position, length


def _detection(obj: dict[str, Any], offset: int, image: int | None,
               result: ParsedAnswer) -> RawDetection | None:
    label_value = obj.get("label", "")
    label = label_value.strip() if isinstance(label_value, str) else (
        "" if label_value is None else str(label_value))
    name = f"'{label}'" if label else _("an entry without a label")
    bbox = point = None
    if "bbox_2d" in obj:
        bbox = _box(obj["bbox_2d"], name, result)
    if "point_2d" in obj:
        point = _point(obj["point_2d"], name, result)
    if bbox is None and point is None:
        return None
    own = _image_key(obj)
    attributes = tuple((str(k), v) for k, v in obj.items()
                       if k not in ("bbox_2d", "point_2d", "label"))
    return RawDetection(label=label, bbox=bbox, point=point, attributes=attributes,
                        image=own if own is not None else image, offset=offset)


def _numbers(value: Any) -> list[float] | None:
    """The numbers of a coordinate list (nested pairs flattened), or None if any is not
    a finite number."""
    flat: list[Any] = []
    if isinstance(value, list | tuple):
        for item in value:
            if isinstance(item, list | tuple):
                flat.extend(item)
            else:
                flat.append(item)
    else:
        return None
    numbers: list[float] = []
    for item in flat:
        if isinstance(item, bool):
            return None
        if isinstance(item, int | float):
            number = float(item)
        elif isinstance(item, str):
            try:
                number = float(item.strip())
            except ValueError:
                return None
        else:
            return None
        if not math.isfinite(number):
            return None
        numbers.append(number)
    return numbers


def _box(value: Any, name: str, result: ParsedAnswer) -> tuple[float, float, float, float] | None:
    numbers = _numbers(value)
    if numbers is None or len(numbers) != 4:
        result.note(_("The box of {name} was skipped: it is not four numbers ({snippet}).").format(
            name=name, snippet=snippet(json.dumps(value, ensure_ascii=False))))
        return None
    x1, y1, x2, y2 = numbers
    # Swapped corners are a slip, not a different box.
    return min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)


def _point(value: Any, name: str, result: ParsedAnswer) -> tuple[float, float] | None:
    numbers = _numbers(value)
    if numbers is None or len(numbers) != 2:
        result.note(_("The point of {name} was skipped: it is not two numbers ({snippet}).").format(
            name=name, snippet=snippet(json.dumps(value, ensure_ascii=False))))
        return None
    return numbers[0], numbers[1]


def _image_key(obj: dict[str, Any]) -> int | None:
    """An object's own image key: "image": 2, "image_index": 1, "image": "image 2"."""
    for key in ("image", "image_index", "image_id", "img", "img_idx", "picture"):
        value = obj.get(key)
        if isinstance(value, bool) or value is None:
            continue
        if isinstance(value, int):
            return value - 1 if value >= 1 else 0   # people count images from 1
        if isinstance(value, str):
            named = _image_named_in(value, whole=True)
            if named is not None:
                return named
            if value.strip().isdigit():
                number = int(value.strip())
                return number - 1 if number >= 1 else 0
    return None


def _image_named_in(text: str, *, whole: bool = False) -> int | None:
    """The 0-based image a stretch of prose names last ("Image 2:", "第2张"), if any.

    `whole`: the text is a key or value by itself ("image_2", "Image 2").
    """
    if whole:
        text = text.replace("_", " ")
    found = None
    for match in _IMAGE_NAME.finditer(text):
        number = int(match.group(1) or match.group(2))
        if number >= 1:
            found = number - 1
    return found
