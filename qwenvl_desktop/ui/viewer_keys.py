"""The image viewer without a mouse: Alt+↓ / Alt+↑ go to the next / previous item found
(its box is outlined thick and scrolled into view, its row selected, whatever has focus),
Ctrl++ / Ctrl+− zoom, Ctrl+0 fits. Up and Down in the list of what was found do the same
as the Alt keys; Esc closes (the dialog's own)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QKeySequence, QShortcut

from ..core.i18n import _
from . import accessibility_text as text
from .grounding_scene import ZOOM_STEP

if TYPE_CHECKING:
    from .image_viewer import GroundingViewer

__all__ = ["add_viewer_keys", "step_found"]


def step_found(viewer: GroundingViewer, step: int) -> None:
    """Select the next (`step` 1) or previous (-1) visible row of the found list."""
    found = viewer.found
    rows = [i for i in range(found.count()) if not found.item(i).isHidden()]
    if not rows:
        return
    current = found.currentRow()
    if current in rows:
        index = rows[(rows.index(current) + step) % len(rows)]
    else:
        index = rows[0] if step > 0 else rows[-1]
    found.setCurrentRow(index)
    found.scrollToItem(found.item(index))
    detection = viewer.current_row()
    for item in viewer._items.get(detection if detection is not None else -1, []):
        viewer.view.ensureVisible(item)
        break


def add_viewer_keys(viewer: GroundingViewer) -> None:
    def key(sequence: str, slot: object, words: str = "") -> None:
        shortcut = QShortcut(QKeySequence(sequence), viewer)
        shortcut.activated.connect(slot)
        if words:
            shortcut.setWhatsThis(words)

    key("Alt+Down", lambda: step_found(viewer, 1), _(text.VIEWER_NEXT_BOX))
    key("Alt+Up", lambda: step_found(viewer, -1), _(text.VIEWER_PREVIOUS_BOX))
    key("Ctrl++", lambda: viewer.view.zoom_by(ZOOM_STEP))
    key("Ctrl+=", lambda: viewer.view.zoom_by(ZOOM_STEP))
    key("Ctrl+-", lambda: viewer.view.zoom_by(1 / ZOOM_STEP))
    key("Ctrl+0", viewer.fit, _(text.VIEWER_ZOOM_FIT))
    keys = QKeySequence("Alt+Down").toString(QKeySequence.SequenceFormat.NativeText)
    viewer.found.setAccessibleDescription(text.with_shortcut(_(text.VIEWER_NEXT_BOX), keys))
    viewer.fit_button.setToolTip(text.with_shortcut(_(text.VIEWER_ZOOM_FIT), "Ctrl+0"))
    # The list of what was found takes the keys first: Up and Down walk the boxes.
    viewer.found.setFocus()
