"""The pieces the grounding viewer's scene is made of: a zooming view, boxes and points
that report hovering, label tabs that keep their size at any zoom."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QIcon, QPainter, QPen, QPixmap, QWheelEvent
from PySide6.QtWidgets import (
    QGraphicsEllipseItem,
    QGraphicsItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsSceneHoverEvent,
    QGraphicsSimpleTextItem,
    QGraphicsView,
    QWidget,
)

from qwenvl_desktop.core.grounding import Detection

from ..core.i18n import _
from .theme.tokens import OVERLAY

__all__ = ["ZOOM_STEP", "BoxItem", "PointItem", "ZoomView", "describe", "make_tag", "pen_for",
           "swatch"]

ZOOM_STEP = 1.25
_MIN_ZOOM, _MAX_ZOOM = 0.05, 32.0


class ZoomView(QGraphicsView):
    """A graphics view that zooms under the mouse with the wheel and pans by dragging."""

    zoomed = Signal(float)

    def __init__(self, scene: QGraphicsScene, parent: QWidget | None = None) -> None:
        super().__init__(scene, parent)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setRenderHints(QPainter.RenderHint.Antialiasing
                            | QPainter.RenderHint.SmoothPixmapTransform)
        self.setBackgroundBrush(QColor(OVERLAY.viewer_backdrop))

    def zoom(self) -> float:
        return self.transform().m11()

    def zoom_by(self, factor: float) -> None:
        target = min(_MAX_ZOOM, max(_MIN_ZOOM, self.zoom() * factor))
        self.scale(target / self.zoom(), target / self.zoom())
        self.zoomed.emit(self.zoom())

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120
        if steps:
            self.zoom_by(ZOOM_STEP ** steps)
        event.accept()


class _Hoverable:
    """Reports hovering to the viewer, by the detection's position in the answer."""

    def setup_hover(self, item: QGraphicsItem, index: int,
                    on_hover: Callable[[int, bool], None]) -> None:
        self._index = index
        self._on_hover = on_hover
        item.setAcceptHoverEvents(True)

    def hover(self, entered: bool) -> None:
        self._on_hover(self._index, entered)


class BoxItem(QGraphicsRectItem, _Hoverable):
    def hoverEnterEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        self.hover(True)
        super().hoverEnterEvent(event)

    def hoverLeaveEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        self.hover(False)
        super().hoverLeaveEvent(event)


class PointItem(QGraphicsEllipseItem, _Hoverable):
    def hoverEnterEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        self.hover(True)
        super().hoverEnterEvent(event)

    def hoverLeaveEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        self.hover(False)
        super().hoverLeaveEvent(event)


def swatch(colour: str) -> QIcon:
    pixmap = QPixmap(12, 12)
    pixmap.fill(QColor(colour))
    return QIcon(pixmap)


def describe(detection: Detection) -> str:
    label = detection.display_label or _("(no label)")
    extras = [f"{key}: {value}" for key, value in detection.attributes
              if isinstance(value, str | int | float) and str(value) != label]
    parts = [label + (f" ({', '.join(extras)})" if extras else "")]
    if detection.bbox is not None:
        x1, y1, x2, y2 = (round(v) for v in detection.bbox)
        parts.append(_("box {x1},{y1} – {x2},{y2}").format(x1=x1, y1=y1, x2=x2, y2=y2))
    if detection.point is not None:
        x, y = (round(v) for v in detection.point)
        parts.append(_("point {x},{y}").format(x=x, y=y))
    return " — ".join(parts)


def pen_for(colour: QColor, highlighted: bool) -> QPen:
    pen = QPen(colour, 4 if highlighted else 2)
    pen.setCosmetic(True)            # the same on-screen width at any zoom
    pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
    return pen


def make_tag(scene: QGraphicsScene, text: str, colour: QColor, anchor: QPointF,
             above: bool) -> QGraphicsItem:
    """A label on a tab of its colour, the same size at any zoom, at `anchor`."""
    label = QGraphicsSimpleTextItem(text if len(text) <= 40 else text[:39] + "…")
    dark = colour.lightness() > 150
    label.setBrush(QColor(OVERLAY.marker_label_dark if dark else OVERLAY.marker_label_light))
    rect = label.boundingRect().adjusted(-3, -1, 3, 1)
    tab = QGraphicsRectItem(rect)
    tab.setBrush(QBrush(colour))
    tab.setPen(QPen(Qt.PenStyle.NoPen))
    label.setParentItem(tab)
    tab.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations, True)
    tab.setPos(anchor)
    # Above the box's corner (a point's tag goes right of it); in screen pixels.
    tab.setTransform(tab.transform().translate(0 if above else 9,
                                               -rect.height() if above else -8))
    tab.setZValue(3)
    scene.addItem(tab)
    return tab
