"""The viewer of what an answer located: its image at full resolution with the boxes and
points drawn over it, a list of what was found, and a switch per label.

Zoom with the wheel (or the buttons), drag to pan. Boxes keep a 2-pixel outline and
labels stay readable at any zoom. Hovering a box highlights its row in the list and the
other way round. With several images, a combo box picks the image; detections the
answer did not tie to an image go where the person says. "Save annotated image…" and
"Copy image" give the image as it was sent with the visible detections drawn in (the
same drawing as exports and the terminal).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QGuiApplication,
    QImage,
    QPen,
    QPixmap,
)
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QGraphicsItem,
    QGraphicsScene,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from qwenvl_desktop.core.grounding import AnswerGrounding, Detection, annotated_png, scaled
from qwenvl_desktop.core.storage import atomic_write

from ..core.i18n import _, ngettext
from .file_dialogs import FileDialogs
from .grounding_scene import (
    ZOOM_STEP,
    BoxItem,
    PointItem,
    ZoomView,
    describe,
    make_tag,
    pen_for,
    swatch,
)
from .theme.tokens import DETECTION_FALLBACK, OVERLAY
from .widgets import HintLabel, InlineNote

__all__ = ["GroundingViewer"]

class GroundingViewer(QDialog):
    """What one answer located, over the image(s) of the question it answered."""

    def __init__(self, grounding: AnswerGrounding, image_index: int = 0,
                 parent: QWidget | None = None, *,
                 file_dialogs: FileDialogs | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName(_("Located in the image"))
        self.file_dialogs = file_dialogs if file_dialogs is not None else FileDialogs({})
        self.grounding = grounding
        self.colours = grounding.colours()
        self._image_index = max(0, min(image_index, len(grounding.images) - 1))
        self._unassigned_to: int | None = 0
        self._hidden: set[str] = set()
        self._highlighted: int | None = None
        self._items: dict[int, list[QGraphicsItem]] = {}
        self._rows: dict[int, QListWidgetItem] = {}
        self._detections: list[Detection] = []      # on the current image, in its pixels

        self.scene = QGraphicsScene(self)
        self.view = ZoomView(self.scene, self)
        self.view.setAccessibleName(_("Image with boxes and points"))
        self.pixmap_item = self.scene.addPixmap(QPixmap())

        self.summary = QLabel(self)
        self.convention = HintLabel("", self)
        self.convention.setWordWrap(True)
        self.image_choice = QComboBox(self)
        self.image_choice.setAccessibleName(_("Image"))
        for index, image in enumerate(grounding.images):
            self.image_choice.addItem(_("Image {number} — {name}").format(
                number=index + 1, name=image.original_name or _("image")))
        self.image_choice.setCurrentIndex(self._image_index)
        self.unassigned_note = HintLabel("", self)
        self.unassigned_note.setWordWrap(True)
        self.unassigned_choice = QComboBox(self)
        self.unassigned_choice.setAccessibleName(_("Show entries that name no image on"))
        for index in range(len(grounding.images)):
            self.unassigned_choice.addItem(_("Image {value}").format(value=index + 1), index)
        self.unassigned_choice.addItem(_("No image (hide them)"), None)
        self.labels = QListWidget(self)
        self.labels.setAccessibleName(_("Labels"))
        self.found = QListWidget(self)
        self.found.setAccessibleName(_("Found"))
        self.found.setMouseTracking(True)
        self.notes = InlineNote(self)
        self.result_note = InlineNote(self)

        self.fit_button = QPushButton(_("Fit"), self)
        self.actual_button = QPushButton("100 %", self)
        self.zoom_in_button = QPushButton("+", self)
        self.zoom_in_button.setAccessibleName(_("Zoom in"))
        self.zoom_out_button = QPushButton("−", self)
        self.zoom_out_button.setAccessibleName(_("Zoom out"))
        self.save_button = QPushButton(_("Save annotated image…"), self)
        self.copy_button = QPushButton(_("Copy image"), self)
        self.close_button = QPushButton(_("Close"), self)
        self._layout()
        self._connect()
        self._show_image(self._image_index)
        self._size_to_screen()
        from .viewer_keys import add_viewer_keys

        add_viewer_keys(self)

    # --- building -----------------------------------------------------------------------

    def _layout(self) -> None:
        side = QWidget(self)
        column = QVBoxLayout(side)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.summary)
        column.addWidget(self.convention)
        column.addWidget(self.image_choice)
        self.image_choice.setVisible(len(self.grounding.images) > 1)
        column.addWidget(self.unassigned_note)
        column.addWidget(self.unassigned_choice)
        column.addWidget(QLabel(_("Labels (untick to hide)"), side))
        column.addWidget(self.labels, 1)
        column.addWidget(QLabel(_("Found on this image"), side))
        column.addWidget(self.found, 2)
        column.addWidget(self.notes)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(self.view)
        splitter.addWidget(side)
        splitter.setStretchFactor(0, 4)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([780, 300])
        self.splitter = splitter
        buttons = QHBoxLayout()
        for button in (self.fit_button, self.actual_button, self.zoom_out_button,
                       self.zoom_in_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.copy_button)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.result_note)
        layout.addLayout(buttons)

    def _connect(self) -> None:
        self.fit_button.clicked.connect(self.fit)
        self.actual_button.clicked.connect(self.actual_size)
        self.zoom_in_button.clicked.connect(lambda: self.view.zoom_by(ZOOM_STEP))
        self.zoom_out_button.clicked.connect(lambda: self.view.zoom_by(1 / ZOOM_STEP))
        self.save_button.clicked.connect(self.choose_save_path)
        self.copy_button.clicked.connect(self.copy_image)
        self.close_button.clicked.connect(self.accept)
        self.image_choice.currentIndexChanged.connect(self._show_image)
        self.unassigned_choice.currentIndexChanged.connect(
            lambda i: self.send_unassigned_to(self.unassigned_choice.itemData(i)))
        self.labels.itemChanged.connect(self._on_label_toggled)
        self.found.itemEntered.connect(
            lambda item: self.highlight(item.data(Qt.ItemDataRole.UserRole)))
        self.found.currentItemChanged.connect(
            lambda item, _old: self.highlight(item.data(Qt.ItemDataRole.UserRole))
            if item is not None else None)

    def _size_to_screen(self) -> None:
        screen = QGuiApplication.primaryScreen()
        if screen is None:
            self.resize(1100, 760)
            return
        room = screen.availableGeometry()
        self.resize(max(640, int(room.width() * 0.8)), max(480, int(room.height() * 0.85)))
        self.splitter.setSizes([int(self.width() * 0.72), int(self.width() * 0.28)])

    # --- what is shown --------------------------------------------------------------------

    @property
    def image_index(self) -> int:
        return self._image_index

    def _show_image(self, index: int) -> None:
        self._image_index = index
        image = self.grounding.images[index]
        pixmap = QPixmap.fromImage(QImage.fromData(image.data)) if image.data else QPixmap()
        self.pixmap_item.setPixmap(pixmap)
        self.scene.setSceneRect(QRectF(pixmap.rect()))
        name = image.original_name or "image"
        self.setWindowTitle(_("{name} — what the answer located").format(name=name))
        self._rebuild()
        self.fit()

    def _stored_size(self) -> tuple[int, int]:
        image = self.grounding.images[self._image_index]
        frame = self.grounding.frames[self._image_index]
        return image.width or frame.size[0], image.height or frame.size[1]

    def _rebuild(self) -> None:
        """Items, rows and notes for the current image and choices."""
        for items in self._items.values():
            for item in items:
                self.scene.removeItem(item)
        self._items.clear()
        self._rows.clear()
        self._highlighted = None
        frame = self.grounding.frames[self._image_index]
        original = self.grounding.detections_for(self._image_index,
                                                 unassigned_to=self._unassigned_to)
        self._detections = scaled(original, frame.size, self._stored_size())
        for detection in self._detections:
            self._items[detection.index] = self._make_items(detection)
        self._fill_labels()
        self._fill_rows(original)
        self._describe_state()
        self._apply_visibility()

    def _make_items(self, detection: Detection) -> list[QGraphicsItem]:
        colour = QColor(self.colours.get(detection.display_label, DETECTION_FALLBACK))
        items: list[QGraphicsItem] = []
        anchor: QPointF | None = None
        if detection.bbox is not None:
            x1, y1, x2, y2 = detection.bbox
            box = BoxItem(QRectF(x1, y1, max(1.0, x2 - x1), max(1.0, y2 - y1)))
            box.setup_hover(box, detection.index, self._on_item_hover)
            box.setPen(pen_for(colour, False))
            box.setZValue(1)
            self.scene.addItem(box)
            items.append(box)
            anchor = QPointF(x1, y1)
        if detection.point is not None:
            dot = PointItem(QRectF(-6, -6, 12, 12))
            dot.setup_hover(dot, detection.index, self._on_item_hover)
            dot.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations, True)
            dot.setPos(QPointF(*detection.point))
            dot.setBrush(QBrush(colour))
            dot.setPen(QPen(QColor(OVERLAY.marker_outline), 2))
            dot.setZValue(2)
            self.scene.addItem(dot)
            items.append(dot)
            if anchor is None:
                anchor = QPointF(detection.point[0], detection.point[1])
        if anchor is not None and detection.display_label:
            items.append(make_tag(self.scene, detection.display_label, colour, anchor,
                                        above=detection.bbox is not None))
        return items

    def _fill_labels(self) -> None:
        self.labels.blockSignals(True)
        self.labels.clear()
        seen: list[str] = []
        for raw in self.grounding.parsed.detections:
            if raw.display_label not in seen:
                seen.append(raw.display_label)
        for label in seen:
            item = QListWidgetItem(swatch(self.colours.get(label, DETECTION_FALLBACK)),
                                   label or _("(no label)"))
            item.setData(Qt.ItemDataRole.UserRole, label)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked if label in self._hidden
                               else Qt.CheckState.Checked)
            self.labels.addItem(item)
        self.labels.blockSignals(False)

    def _fill_rows(self, original: list[Detection]) -> None:
        self.found.blockSignals(True)
        self.found.clear()
        for detection in original:
            colour = self.colours.get(detection.display_label, DETECTION_FALLBACK)
            item = QListWidgetItem(swatch(colour), describe(detection))
            item.setData(Qt.ItemDataRole.UserRole, detection.index)
            item.setToolTip(describe(detection) + _("  (pixels of the original image)"))
            self.found.addItem(item)
            self._rows[detection.index] = item
        self.found.blockSignals(False)

    def _describe_state(self) -> None:
        g = self.grounding
        self.summary.setText(_("<b>Located: {summary}</b>").format(summary=g.summary()))
        frame = g.frames[self._image_index]
        if g.convention == "relative-1000":
            how = _("coordinates on a 0–1000 grid over the image")
        else:
            how = (_("pixel coordinates of the {width}×{height} image the model saw, mapped "
                     "back to the original").format(width=frame.model_input[0],
                                                    height=frame.model_input[1]))
        original = f"{frame.size[0]}×{frame.size[1]}"
        self.convention.setText(_("{model}: {how}. Original {original}; list in original "
                                  "pixels.").format(model=g.model_id or _("Unknown model"),
                                                    how=how, original=original))
        unassigned = g.unassigned()
        self.unassigned_note.setText(
            ngettext("{count} entry does not say which image it belongs to. Show it on:",
                     "{count} entries do not say which image they belong to. Show them on:",
                     unassigned).format(count=unassigned) if unassigned else "")
        self.unassigned_note.setVisible(bool(unassigned))
        self.unassigned_choice.setVisible(bool(unassigned))
        notes = g.all_notes(self._unassigned_to)
        self.notes.show_message("\n".join(notes), "warning") if notes else \
            self.notes.clear_message()

    # --- choices ----------------------------------------------------------------------

    def choose_image(self, index: int) -> None:
        self.image_choice.setCurrentIndex(index)
        if self._image_index != index:
            self._show_image(index)

    def send_unassigned_to(self, index: int | None) -> None:
        """Where entries without an image go (None: nowhere)."""
        self._unassigned_to = index
        self._rebuild()

    def set_label_visible(self, label: str, visible: bool) -> None:
        if visible:
            self._hidden.discard(label)
        else:
            self._hidden.add(label)
        self._fill_labels()
        self._apply_visibility()

    def _on_label_toggled(self, item: QListWidgetItem) -> None:
        label = item.data(Qt.ItemDataRole.UserRole)
        self.set_label_visible(label, item.checkState() == Qt.CheckState.Checked)

    def _apply_visibility(self) -> None:
        for detection in self._detections:
            shown = detection.display_label not in self._hidden
            for item in self._items.get(detection.index, []):
                item.setVisible(shown)
            row = self._rows.get(detection.index)
            if row is not None:
                row.setHidden(not shown)

    def visible_detections(self) -> list[Detection]:
        """The current image's detections that are switched on, in its sent pixels."""
        return [d for d in self._detections if d.display_label not in self._hidden]

    # --- highlighting -------------------------------------------------------------------

    def _on_item_hover(self, index: int, entered: bool) -> None:
        if entered:
            self.highlight(index)
            row = self._rows.get(index)
            if row is not None:
                self.found.blockSignals(True)
                self.found.setCurrentItem(row)
                self.found.scrollToItem(row)
                self.found.blockSignals(False)

    def highlight(self, index: int | None) -> None:
        """Thicken one detection's outline (None: none)."""
        previous, self._highlighted = self._highlighted, index
        for position in (previous, index):
            if position is None:
                continue
            detection = next((d for d in self._detections if d.index == position), None)
            if detection is None:
                continue
            colour = QColor(self.colours.get(detection.display_label, DETECTION_FALLBACK))
            for item in self._items.get(position, []):
                if isinstance(item, BoxItem):
                    item.setPen(pen_for(colour, position == index))
                    item.setZValue(5 if position == index else 1)

    def highlighted(self) -> int | None:
        return self._highlighted

    def current_row(self) -> int | None:
        item = self.found.currentItem()
        return None if item is None else int(item.data(Qt.ItemDataRole.UserRole))

    # --- zoom -------------------------------------------------------------------------------

    def fit(self) -> None:
        rect = self.scene.sceneRect()
        if rect.isEmpty():
            return
        self.view.resetTransform()
        self.view.fitInView(rect, Qt.AspectRatioMode.KeepAspectRatio)
        if self.view.zoom() > 1.0:      # small images are shown at their own size
            self.view.resetTransform()

    def actual_size(self) -> None:
        self.view.resetTransform()

    # --- output -----------------------------------------------------------------------------

    def annotated_png(self) -> bytes:
        """The image as it was sent, with the visible detections drawn in."""
        image = self.grounding.images[self._image_index]
        return annotated_png(image.data, image.original_name or "image",
                             self.visible_detections(), colours=self.colours)

    def save_to(self, path: Path) -> None:
        try:
            atomic_write(path, self.annotated_png())
        except Exception as err:   # disk full, no permission, an image Pillow refuses
            from qwenvl_desktop.core.errors import explain

            self.result_note.show_message(_("Could not save {name}: {explain}").format(
                name=path.name, explain=explain(err)),
                                          "error")
            return
        self.result_note.show_message(_("Saved {path}").format(path=path), "ok")

    def choose_save_path(self) -> None:
        image = self.grounding.images[self._image_index]
        stem = Path(image.original_name or "image").stem or "image"
        target = self.file_dialogs.save_file(self, "images", _("Save annotated image"),
                                             f"{stem}-annotated.png", _("PNG (*.png)"))
        if target is not None:
            self.save_to(target if target.suffix else target.with_suffix(".png"))

    def copy_image(self) -> None:
        try:
            image = QImage.fromData(self.annotated_png())
        except Exception as err:
            from qwenvl_desktop.core.errors import explain

            self.result_note.show_message(_("Could not copy the image: {explain}").format(
                explain=explain(err)), "error")
            return
        QGuiApplication.clipboard().setImage(image)
        self.result_note.show_message(_("The annotated image is on the clipboard."), "ok")
