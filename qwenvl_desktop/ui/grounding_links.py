"""Where the transcript shows what an answer located.

* Under the answer: a "⌖ 5 boxes · 2 points" link that opens the viewer.
* On the question's thumbnails: the boxes and points painted in (`athumb:` resources),
  each thumbnail opening the viewer on its image.

Only finished answers count: a streaming answer's text is still growing, and the
question is drawn again once the answer ends.
"""

from __future__ import annotations

import html
from collections.abc import Callable

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QGuiApplication, QImage, QPainter, QPalette, QPen

from qwenvl_desktop.core.catalog import Catalog, load_builtin
from qwenvl_desktop.core.conversation import Conversation, Message
from qwenvl_desktop.core.grounding import (
    AnswerGrounding,
    Detection,
    answer_grounding,
    parse_answer,
    scaled,
    summary_text,
)

from ..core.i18n import ngettext
from .theme import TranscriptColors
from .theme.tokens import DETECTION_FALLBACK, OVERLAY

LOCATE_ICON = "icon:locate"

__all__ = ["LOCATE_ICON", "LocatedImages", "grounding_line_html", "located_by", "overlay_thumbnail",
           "paint_detections"]


def _finished(message: Message) -> bool:
    return message.role == "assistant" and message.status != "streaming"


def grounding_line_html(message: Message, colors: TranscriptColors) -> str:
    """The "⌖ 3 boxes · 1 point" line of a finished answer, or "" without detections."""
    if not _finished(message):
        return ""
    parsed = parse_answer(message.text)
    if not parsed.detections:
        return ""
    skipped = ""
    if parsed.notes:
        count = len(parsed.notes)
        unread = ngettext("{count} entry could not be read", "{count} entries could not be read",
                          count).format(count=count)
        skipped = f'<span style="color:{colors.muted}"> &nbsp;·&nbsp; {unread}</span>'
    # A painted crosshair, not the ⌖ character: few fonts have that glyph.
    return (f'<p style="margin:6px 0 0 0"><a href="grounding:{message.id}" '
            f'style="color:{colors.link}; text-decoration:none" '
            f'title="Show the boxes and points on the image">'
            f'<img src="{LOCATE_ICON}" width="14" height="14">&nbsp;'
            f"{html.escape(summary_text(parsed))}</a>{skipped}</p>")


def located_by(question: Message, conversation: Conversation) -> str | None:
    """The id of the finished answer right after `question` when it located anything."""
    messages = conversation.messages
    for index, message in enumerate(messages):
        if message.id != question.id:
            continue
        if index + 1 < len(messages):
            answer = messages[index + 1]
            if _finished(answer) and parse_answer(answer.text).detections:
                return answer.id
        return None
    return None


def paint_detections(painter: QPainter, detections: list[Detection], colours: dict[str, str],
                     *, width: float = 2.0, radius: float = 4.0) -> None:
    """Boxes as outlines and points as ringed discs, in the painter's coordinates."""
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    for detection in detections:
        colour = QColor(colours.get(detection.display_label, DETECTION_FALLBACK))
        pen = QPen(colour, width)
        pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
        if detection.bbox is not None:
            x1, y1, x2, y2 = detection.bbox
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(QRectF(x1, y1, max(1.0, x2 - x1), max(1.0, y2 - y1)))
        if detection.point is not None:
            painter.setPen(QPen(QColor(OVERLAY.marker_outline), max(1.0, radius / 3)))
            painter.setBrush(colour)
            painter.drawEllipse(QPointF(*detection.point), radius, radius)


def overlay_thumbnail(thumb: QImage, grounding: AnswerGrounding, index: int) -> QImage:
    """A copy of a thumbnail with the answer's detections on image `index` painted in."""
    detections = grounding.detections_for(index)
    frame = grounding.frames[index]
    ratio = thumb.devicePixelRatio() or 1.0
    logical = (max(1, round(thumb.width() / ratio)), max(1, round(thumb.height() / ratio)))
    on_thumb = scaled(detections, frame.size, logical)
    out = thumb.convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)
    out.setDevicePixelRatio(ratio)
    painter = QPainter(out)
    try:
        paint_detections(painter, on_thumb, grounding.colours(), width=2.0, radius=3.5)
    finally:
        painter.end()
    return out


class LocatedImages:
    """The transcript's view of what answers located: groundings and overlaid thumbnails.

    `catalog_source` gives the live catalog (custom endpoints change); without it the
    built-in one is used.
    """

    def __init__(self) -> None:
        self.catalog_source: Callable[[], Catalog] | None = None
        self._thumbs: dict[str, QImage] = {}

    def clear(self) -> None:
        self._thumbs.clear()

    def grounding_for(self, conversation: Conversation | None,
                      answer_id: str) -> AnswerGrounding | None:
        if conversation is None:
            return None
        try:
            answer = conversation.message(answer_id)
        except KeyError:
            return None
        catalog = self.catalog_source() if self.catalog_source is not None else load_builtin()
        return answer_grounding(conversation, answer, catalog)

    def resource(self, href: str, conversation: Conversation,
                 plain: Callable[[str], object]) -> QImage:
        """`athumb:<answer id>:<sha>`: the plain thumbnail (from `plain(sha)`) with the
        answer's detections painted in; `icon:locate`: the crosshair of the ⌖ line."""
        if href == LOCATE_ICON:
            return self._icon()
        found = self._thumbs.get(href)
        if found is not None:
            return found
        answer_id, _, sha = href[len("athumb:"):].partition(":")
        thumb = plain(sha)
        if not isinstance(thumb, QImage) or thumb.isNull():
            return QImage()
        grounding = self.grounding_for(conversation, answer_id)
        index = -1 if grounding is None else next(
            (i for i, image in enumerate(grounding.images) if image.sha256 == sha), -1)
        if grounding is None or index < 0:
            return thumb
        overlaid = overlay_thumbnail(thumb, grounding, index)
        self._thumbs[href] = overlaid
        return overlaid

    def _icon(self) -> QImage:
        found = self._thumbs.get(LOCATE_ICON)
        if found is not None:
            return found
        ratio = 2.0
        icon = QImage(round(14 * ratio), round(14 * ratio),
                      QImage.Format.Format_ARGB32_Premultiplied)
        icon.setDevicePixelRatio(ratio)
        icon.fill(Qt.GlobalColor.transparent)
        painter = QPainter(icon)
        try:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            colour = QGuiApplication.palette().color(QPalette.ColorRole.Link)
            painter.setPen(QPen(colour, 1.4))
            painter.drawEllipse(QPointF(7, 7), 4.2, 4.2)
            for x1, y1, x2, y2 in ((7, 0.5, 7, 4), (7, 10, 7, 13.5), (0.5, 7, 4, 7),
                                   (10, 7, 13.5, 7)):
                painter.drawLine(QPointF(x1, y1), QPointF(x2, y2))
        finally:
            painter.end()
        self._thumbs[LOCATE_ICON] = icon
        return icon

    @staticmethod
    def question_to_redraw(conversation: Conversation | None, answer: Message) -> Message | None:
        """The question right before a just-finished answer, when its thumbnails now get
        the answer's overlay."""
        if conversation is None:
            return None
        messages = conversation.messages
        index = next((i for i, m in enumerate(messages) if m.id == answer.id), -1)
        if index <= 0:
            return None
        question = messages[index - 1]
        if question.role == "user" and question.images and \
                located_by(question, conversation) == answer.id:
            return question
        return None
