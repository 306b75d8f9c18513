"""The key store's background news (a prefetch done, a call that answered late) as a
Qt signal on the GUI thread; and a background re-read whenever the app becomes active,
since keys may have been changed from a terminal meanwhile."""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QGuiApplication

from ..core.secrets import KeyStore

__all__ = ["KeyringWatch"]


class KeyringWatch(QObject):
    """`changed` is emitted on the GUI thread whenever the keyring answered in the
    background, so whatever shows where keys come from can refresh itself."""

    changed = Signal()
    _answered = Signal()    # emitted on the keyring's worker thread; queued to ours

    def __init__(self, keystore: KeyStore, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._answered.connect(self.changed)
        self._remove = keystore.add_listener(self._answered.emit)
        self.destroyed.connect(lambda *_args, remove=self._remove: remove())
        self._keystore = keystore
        app = QGuiApplication.instance()
        if isinstance(app, QGuiApplication):
            app.applicationStateChanged.connect(self._on_state)

    def _on_state(self, state: Qt.ApplicationState) -> None:
        if state == Qt.ApplicationState.ApplicationActive:
            self._keystore.refresh()
