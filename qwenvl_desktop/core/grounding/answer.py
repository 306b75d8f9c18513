"""An answer's detections, tied to the images it answers about.

The answer replies to the nearest user message before it on the visible path; its
images are the ones the boxes belong to. A follow-up without images of its own ("and
where is the dog?") refers to the last images asked about, so the search goes on back
to the nearest user message that has any.

With several images, each detection goes to the image the answer names ("Image 2:",
an `"image": 2` key, a `{"image 2": [...]}` group); the rest are "unassigned", and the
person (or the caller) chooses where they go.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..catalog import Catalog, Grounding, Model, grounding_rule, infer_model
from ..conversation import Conversation, Message, StoredImage
from ..errors import ConfigError
from ..i18n import ngettext
from .colours import colours_for
from .mapping import Detection, Frame, frame_for, place, scaled
from .parse import ParsedAnswer, parse_answer

__all__ = ["AnswerGrounding", "annotated_stored_png", "answer_grounding", "question_for",
           "summary_text"]


@dataclass
class AnswerGrounding:
    """What one answer located, and on which images."""

    answer_id: str
    convention: Grounding
    images: list[StoredImage]
    frames: list[Frame]
    parsed: ParsedAnswer
    model_id: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.parsed.detections)

    def summary(self) -> str:
        """"5 boxes · 2 points" (an entry with both counts in both)."""
        return summary_text(self.parsed)

    def colours(self) -> dict[str, str]:
        """One colour per label across the whole answer (all its images)."""
        return colours_for(d.display_label for d in self.parsed.detections)

    def unassigned(self) -> int:
        """How many detections name no image while there are several to choose from."""
        if len(self.images) <= 1:
            return 0
        return sum(1 for d in self.parsed.detections
                   if d.image is None or not 0 <= d.image < len(self.images))

    def image_of(self, position: int, unassigned_to: int | None) -> int | None:
        """The image index the `position`-th detection belongs to."""
        raw = self.parsed.detections[position]
        if len(self.images) == 1:
            return 0
        if raw.image is not None and 0 <= raw.image < len(self.images):
            return raw.image
        return unassigned_to

    def detections_for(self, index: int, *, unassigned_to: int | None = 0,
                       notes: list[str] | None = None) -> list[Detection]:
        """The detections on image `index`, in pixels of its original.

        Detections that name no image go to `unassigned_to` (None: to no image).
        """
        if not 0 <= index < len(self.images):
            return []
        positions = [p for p in range(self.count) if self.image_of(p, unassigned_to) == index]
        raws = [self.parsed.detections[p] for p in positions]
        return place(raws, self.frames[index], self.convention, notes, indices=positions)

    def all_notes(self, unassigned_to: int | None = 0) -> list[str]:
        """What was skipped while reading and placing, for the person to see."""
        notes = list(self.parsed.notes) + list(self.notes)
        for index in range(len(self.images)):
            self.detections_for(index, unassigned_to=unassigned_to, notes=notes)
        return notes


def summary_text(parsed: ParsedAnswer) -> str:
    parts = []
    if parsed.boxes:
        parts.append(ngettext("{count} box", "{count} boxes", parsed.boxes).format(
            count=parsed.boxes))
    if parsed.points:
        parts.append(ngettext("{count} point", "{count} points", parsed.points).format(
            count=parsed.points))
    return " · ".join(parts)


def question_for(conversation: Conversation, answer: Message) -> Message | None:
    """The user message whose images `answer` is about (see the module docstring)."""
    messages = conversation.messages
    position = next((i for i, m in enumerate(messages) if m.id == answer.id), -1)
    if position < 0:
        return None
    nearest = None
    for message in reversed(messages[:position]):
        if message.role != "user":
            continue
        if nearest is None:
            nearest = message
        if any(h in conversation.images for h in message.images):
            return message
    return nearest


def _model_of(answer: Message, catalog: Catalog | None) -> tuple[Model | None, bool]:
    """The model that wrote `answer` and whether its provider fetched image links."""
    prov = answer.provenance
    if prov is None or not prov.model:
        return None, False
    if catalog is not None:
        try:
            provider = catalog.get(prov.provider)
            return provider.model(prov.model), provider.fetches_image_urls
        except ConfigError:
            pass
    # A provider or custom endpoint no longer configured: its model is told by its name.
    return infer_model(prov.model), False


def answer_grounding(conversation: Conversation, answer: Message,
                     catalog: Catalog | None = None, *,
                     complete: bool | None = None) -> AnswerGrounding | None:
    """The detections of `answer`, or None when it has none (or no images to put them on).

    `complete`: whether the answer is finished (default: unless it is still streaming).
    """
    if answer.role != "assistant":
        return None
    finished = answer.status != "streaming" if complete is None else complete
    parsed = parse_answer(answer.text, complete=finished)
    if not parsed.detections:
        return None
    question = question_for(conversation, answer)
    if question is None:
        return None
    images = [conversation.images[h] for h in question.images if h in conversation.images]
    if not images:
        return None
    model, fetches_urls = _model_of(answer, catalog)
    prov = answer.provenance
    high_res = bool(prov.params.get("high_resolution")) if prov is not None else False
    frames = [frame_for(image, model, by_url=fetches_urls, high_resolution=high_res)
              for image in images]
    convention = model.grounding if model is not None and model.grounding else (
        grounding_rule(prov.model) if prov is not None else "relative-1000")
    return AnswerGrounding(answer_id=answer.id, convention=convention, images=images,
                           frames=frames, parsed=parsed,
                           model_id=prov.model if prov is not None else "")


def annotated_stored_png(grounding: AnswerGrounding, index: int, *,
                         unassigned_to: int | None = 0) -> bytes | None:
    """Image `index` of the answer's turn, as stored (sent), with its detections drawn
    in; None when it has none or its bytes are not kept (a link-only image)."""
    image = grounding.images[index]
    detections = grounding.detections_for(index, unassigned_to=unassigned_to)
    if not detections or not image.data:
        return None
    from .draw import annotated_png  # Pillow: imported when an image is drawn

    frame = grounding.frames[index]
    on_stored = scaled(detections, frame.size, (image.width or frame.size[0],
                                                image.height or frame.size[1]))
    return annotated_png(image.data, image.original_name or "image", on_stored,
                         colours=grounding.colours())
