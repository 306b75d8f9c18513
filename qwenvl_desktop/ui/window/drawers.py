"""The conversation list and the parameter panel as drawers: docked beside the chat when
the window is wide, laid over it when it is narrow, so the window fits half of a
1366-pixel screen.

    width ≥ LAYOUT.list_docks_from    the list sits at the left of the chat (if shown)
    width ≥ LAYOUT.params_dock_from   the parameters sit at its right (if open)
    narrower                          each opens over the chat, at its edge, and closes
                                      again when used (a conversation chosen) or toggled

The parameter drawer is closed by default: closed, it costs no width at all. Each
panel stays in the main splitter while docked (its sizes are remembered as before);
only an open overlay takes it out, into the window's central widget, and puts it back.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, QRect
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QSizePolicy, QSplitter, QWidget

from ..theme.tokens import LAYOUT

__all__ = ["Drawer", "Drawers"]


@dataclass
class Drawer:
    """One panel: where it docks in the splitter, from which width, at which edge."""

    panel: QWidget
    action: QAction          # checked: shown (docked or overlaid)
    index: int               # its place in the splitter when docked
    docks_from: int
    width: int
    left: bool
    wanted: bool = True      # shown when the window is wide enough to dock it
    overlaid: bool = False


class Drawers(QObject):
    """Keeps both panels docked, overlaid or hidden as the window's width changes."""

    def __init__(self, host: QWidget, splitter: QSplitter, drawers: list[Drawer]) -> None:
        super().__init__(host)
        self._host = host
        self._splitter = splitter
        self.drawers = drawers
        self._narrow: dict[int, bool] = {}
        host.window().installEventFilter(self)
        for drawer in drawers:
            # A docked panel adds nothing to the window's minimum width: it only docks
            # when there is room, so the window can always shrink to the chat's minimum
            # (and a window manager can snap it to half a screen).
            policy = drawer.panel.sizePolicy()
            policy.setHorizontalPolicy(QSizePolicy.Policy.Ignored)
            drawer.panel.setSizePolicy(policy)
            drawer.action.toggled.connect(
                lambda shown, d=drawer: self.set_shown(d, shown))

    def is_docked(self, drawer: Drawer) -> bool:
        # The window's width (known from its first resize, before the central widget
        # has been laid out), not the host's.
        return self._host.window().width() >= drawer.docks_from

    def remember(self, drawer: Drawer, shown: bool) -> None:
        """The person's choice for when the panel can dock (restored from settings)."""
        drawer.wanted = shown
        if self.is_docked(drawer):
            self.set_shown(drawer, shown)

    def set_shown(self, drawer: Drawer, shown: bool) -> None:
        """Show or hide a panel: docked when there is room, overlaid when not."""
        if drawer.action.isChecked() != shown:
            drawer.action.setChecked(shown)     # comes back here through `toggled`
            return
        docked = self.is_docked(drawer)
        if docked:
            drawer.wanted = shown
        if shown and not docked:
            self._overlay(drawer)
        else:
            self._dock(drawer)
            drawer.panel.setVisible(shown)

    def close_overlay(self, drawer: Drawer) -> None:
        """Close `drawer` if it lies over the chat (a docked one stays)."""
        if drawer.overlaid:
            self.set_shown(drawer, False)

    def apply(self) -> None:
        """Follow the window's width: dock what fits, close overlays that no longer need
        to be overlays, and close docked panels that no longer fit."""
        for drawer in self.drawers:
            narrow = not self.is_docked(drawer)
            if self._narrow.get(id(drawer)) == narrow:
                if drawer.overlaid:
                    self._place(drawer)
                continue
            self._narrow[id(drawer)] = narrow
            if narrow:
                was = drawer.action.isChecked()
                if not drawer.overlaid:
                    drawer.wanted = was
                self.set_shown(drawer, False)
            else:
                self._dock(drawer)
                self.set_shown(drawer, drawer.wanted)

    # --- internals ----------------------------------------------------------------------

    def _overlay(self, drawer: Drawer) -> None:
        if not drawer.overlaid:
            drawer.overlaid = True
            drawer.panel.setParent(self._host)
            drawer.panel.setProperty("overlay", True)
            _repolish(drawer.panel)
        self._place(drawer)
        drawer.panel.show()
        drawer.panel.raise_()

    def _place(self, drawer: Drawer) -> None:
        host = self._host.rect()
        width = min(drawer.width, host.width() - LAYOUT.send_button * 2)
        x = host.left() if drawer.left else host.right() - width + 1
        drawer.panel.setGeometry(QRect(x, host.top(), width, host.height()))

    def _dock(self, drawer: Drawer) -> None:
        if not drawer.overlaid:
            return
        drawer.overlaid = False
        drawer.panel.setProperty("overlay", False)
        _repolish(drawer.panel)
        index = min(drawer.index, self._splitter.count())
        self._splitter.insertWidget(index, drawer.panel)
        self._splitter.setCollapsible(index, False)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._host.window() and event.type() == QEvent.Type.Resize:
            self.apply()
        return False


def _repolish(widget: QWidget) -> None:
    widget.style().unpolish(widget)
    widget.style().polish(widget)
