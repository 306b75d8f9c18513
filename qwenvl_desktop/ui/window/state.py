"""The window's remembered layout: geometry and splitter sizes in `settings.ui`.

Qt's own `saveGeometry()` bytes are kept as base64 text (the settings file is JSON);
splitter sizes as lists of ints. Anything unreadable is ignored: a damaged entry must
never stop the window from opening.
"""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QByteArray
from PySide6.QtWidgets import QMainWindow, QSplitter

if TYPE_CHECKING:
    from ..main_window import MainWindow

__all__ = ["WindowState"]

_SPLITTERS = ("mainSplitter", "chatSplitter")


class WindowState:
    """Reads and writes the window part of `Settings.ui`."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data: dict[str, Any] = dict(data)

    def restore_geometry(self, window: QMainWindow) -> bool:
        raw = self.data.get("geometry")
        if isinstance(raw, str):
            try:
                blob = base64.b64decode(raw.encode("ascii"), validate=True)
            except (binascii.Error, ValueError, UnicodeEncodeError):
                blob = b""
            if blob and window.restoreGeometry(QByteArray(blob)):
                return True
        window.resize(1280, 820)
        return False

    def save_geometry(self, window: QMainWindow) -> None:
        blob = bytes(window.saveGeometry().data())
        self.data["geometry"] = base64.b64encode(blob).decode("ascii")

    def restore_splitters(self, window: MainWindow) -> None:
        saved = self.data.get("splitters")
        if not isinstance(saved, dict):
            return
        for name in _SPLITTERS:
            sizes = saved.get(name)
            splitter = window.findChild(QSplitter, name)
            if (splitter is not None and isinstance(sizes, list)
                    and len(sizes) == splitter.count()
                    and all(isinstance(s, int) and s >= 0 for s in sizes) and any(sizes)):
                splitter.setSizes(sizes)
        panels = self.data.get("panels")
        if isinstance(panels, dict):
            for index, key in enumerate(("list", "params")):
                if isinstance(panels.get(key), bool):
                    window.drawers.remember(window.drawers.drawers[index], panels[key])

    def save_splitters(self, window: MainWindow) -> None:
        sizes: dict[str, list[int]] = {}
        for name in _SPLITTERS:
            splitter = window.findChild(QSplitter, name)
            if splitter is not None:
                sizes[name] = [int(s) for s in splitter.sizes()]
        self.data["splitters"] = sizes
        list_drawer, params_drawer = window.drawers.drawers
        self.data["panels"] = {"list": list_drawer.wanted, "params": params_drawer.wanted}
