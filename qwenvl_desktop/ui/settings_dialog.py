"""The settings dialog: Keys, Endpoints and General pages.

Every change takes effect at once and is saved atomically through `core.settings`
(keys go to the keyring, never to the settings file), so there is nothing to lose by
closing the dialog. Long operations (testing a key, fetching models) run on the
qasync loop; the window stays responsive and the result appears inline.
"""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QListWidget,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ..core.errors import ConfigError, explain
from ..core.i18n import LANGUAGES, N_, SYSTEM, _
from ..services import Services
from .settings_endpoints import EndpointsPage
from .settings_keys import KeysPage
from .widgets import HintLabel, InlineNote

__all__ = ["PAGES", "GeneralPage", "SettingsDialog"]

PAGES = ("keys", "endpoints", "general")
_TITLES = {"keys": N_("Keys"), "endpoints": N_("Endpoints"), "general": N_("General")}


class GeneralPage(QWidget):
    """Timeouts, retries and whether older turns' images are sent again."""

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        settings = services.settings
        self.connect_spin = QDoubleSpinBox(self)
        self.connect_spin.setRange(1.0, 120.0)
        self.connect_spin.setSuffix(_(" s"))
        self.connect_spin.setDecimals(0)
        self.connect_spin.setAccessibleName(_("Connect timeout"))
        self.connect_spin.setToolTip(_("How long to wait for a connection to the provider."))
        self.read_spin = QDoubleSpinBox(self)
        self.read_spin.setRange(5.0, 900.0)
        self.read_spin.setSuffix(_(" s"))
        self.read_spin.setDecimals(0)
        self.read_spin.setAccessibleName(_("Idle read timeout"))
        self.read_spin.setToolTip(
            _("The longest silence allowed between two pieces of an answer. Thinking models "
              "may be quiet for a while before they start."))
        self.retries_spin = QSpinBox(self)
        self.retries_spin.setRange(0, 10)
        self.retries_spin.setAccessibleName(_("Retries"))
        self.retries_spin.setToolTip(
            _("Retries after connection failures, 429 and 5xx — only before anything has "
              "streamed, because a retried request is billed again."))
        self.drop_images = QCheckBox(_("Send images only with the turn they belong to"), self)
        self.drop_images.setToolTip(
            _("Older turns are sent as text only: cheaper and shorter requests, but the model "
              "no longer sees earlier images."))
        for spin in (self.connect_spin, self.read_spin, self.retries_spin):
            spin.setKeyboardTracking(False)
        with QSignalBlocker(self):
            self.connect_spin.setValue(settings.connect_timeout)
            self.read_spin.setValue(settings.read_timeout)
            self.retries_spin.setValue(settings.max_retries)
            self.drop_images.setChecked(settings.drop_old_images)
        # Light or dark: the desktop's choice (followed as it changes), or always one.
        self.theme_combo = QComboBox(self)
        self.theme_combo.setAccessibleName(_("Appearance"))
        for value, label in (("system", _("Same as the system")), ("light", _("Light")),
                             ("dark", _("Dark"))):
            self.theme_combo.addItem(label, value)
        with QSignalBlocker(self.theme_combo):
            self.theme_combo.setCurrentIndex(max(0, self.theme_combo.findData(settings.theme)))
        # The language: the system's, or one the app ships (named in itself). Widgets take
        # their words when they are built, so a change applies on the next start.
        self.language_combo = QComboBox(self)
        self.language_combo.setAccessibleName(_("Language"))
        self.language_combo.addItem(_("Same as the system"), SYSTEM)
        for code, language in LANGUAGES.items():
            self.language_combo.addItem(language.native_name, code)
        with QSignalBlocker(self.language_combo):
            self.language_combo.setCurrentIndex(
                max(0, self.language_combo.findData(settings.language)))
        self.language_hint = HintLabel(
            _("A change of language applies when Qwen-VL Desktop is next started."), self)
        self.note = InlineNote(self)

        form = QFormLayout(self)
        form.addRow(_("&Language"), self.language_combo)
        form.addRow(self.language_hint)
        form.addRow(_("&Appearance"), self.theme_combo)
        form.addRow(_("&Connect timeout"), self.connect_spin)
        form.addRow(_("&Idle read timeout"), self.read_spin)
        form.addRow(_("&Retries"), self.retries_spin)
        form.addRow(self.drop_images)
        form.addRow(self.note)

        self.connect_spin.valueChanged.connect(self.apply)
        self.read_spin.valueChanged.connect(self.apply)
        self.retries_spin.valueChanged.connect(self.apply)
        self.drop_images.toggled.connect(self.apply)
        self.theme_combo.currentIndexChanged.connect(self.apply_theme)
        self.language_combo.currentIndexChanged.connect(self.apply_language)

    def apply_language(self) -> None:
        """Keep the language choice; the window shows it from the next start."""
        settings = self.services.settings
        before = settings.language
        settings.language = str(self.language_combo.currentData())
        try:
            self.services.save_settings()
        except (ConfigError, OSError) as err:
            settings.language = before
            self.note.show_message(explain(err), "error")
            return
        self.note.show_message(_("Saved; the language changes when the app is next started."),
                               "ok")

    def apply_theme(self) -> None:
        """Switch between light and dark at once, and keep the choice."""
        from PySide6.QtWidgets import QApplication

        from .theme import apply_theme

        settings = self.services.settings
        before = settings.theme
        settings.theme = str(self.theme_combo.currentData())
        try:
            self.services.save_settings()
        except (ConfigError, OSError) as err:
            settings.theme = before
            self.note.show_message(explain(err), "error")
            return
        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_theme(app, settings.theme)

    def apply(self) -> None:
        """Save the page's values and apply them to new requests."""
        settings = self.services.settings
        before = (settings.connect_timeout, settings.read_timeout, settings.max_retries,
                  settings.drop_old_images)
        settings.connect_timeout = self.connect_spin.value()
        settings.read_timeout = self.read_spin.value()
        settings.max_retries = self.retries_spin.value()
        settings.drop_old_images = self.drop_images.isChecked()
        try:
            self.services.save_settings()
        except (ConfigError, OSError) as err:
            (settings.connect_timeout, settings.read_timeout, settings.max_retries,
             settings.drop_old_images) = before
            self.note.show_message(explain(err), "error")
            return
        self.services.reconfigure_client()
        self.note.show_message(_("Saved; new requests use these values."), "ok")


class SettingsDialog(QDialog):
    """Keys, endpoints and general settings. Changes are saved as they are made.

    `catalog_changed()`: custom endpoints or base-URL overrides changed (the window
    refreshes its model bar from `services.catalog`). `keys_changed()`: a key was
    saved or deleted (the window refreshes the key marks).
    """

    catalog_changed = Signal()
    keys_changed = Signal()

    def __init__(self, services: Services, parent: QWidget | None = None,
                 page: str = "keys") -> None:
        super().__init__(parent)
        self.services = services
        self.setWindowTitle(_("Settings — Qwen-VL Desktop"))
        self.setAccessibleName(_("Settings"))
        self.resize(820, 640)

        self.nav = QListWidget(self)
        self.nav.setObjectName("settingsNav")
        self.nav.setAccessibleName(_("Settings pages"))
        self.nav.setMaximumWidth(150)
        self.stack = QStackedWidget(self)
        self.keys_page = KeysPage(services, self)
        self.endpoints_page = EndpointsPage(services, self)
        self.general_page = GeneralPage(services, self)
        for name, widget in zip(PAGES, (self.keys_page, self.endpoints_page,
                                        self.general_page), strict=True):
            self.nav.addItem(_(_TITLES[name]))
            self.stack.addWidget(widget)
        self.nav.currentRowChanged.connect(self.stack.setCurrentIndex)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)

        body = QHBoxLayout()
        body.addWidget(self.nav)
        body.addWidget(self.stack, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(body, 1)
        layout.addWidget(buttons)

        self.keys_page.keys_changed.connect(self.keys_changed)
        self.endpoints_page.keys_changed.connect(self._on_keys_changed_elsewhere)
        self.endpoints_page.catalog_changed.connect(self._on_catalog_changed)
        self.show_page(page)

    def show_page(self, page: str) -> None:
        """Switch to "keys", "endpoints" or "general" (unknown names: keys)."""
        self.nav.setCurrentRow(PAGES.index(page) if page in PAGES else 0)

    def current_page(self) -> str:
        return PAGES[self.stack.currentIndex()]

    def _on_catalog_changed(self) -> None:
        self.keys_page.rebuild()
        self.catalog_changed.emit()

    def _on_keys_changed_elsewhere(self) -> None:
        for row in self.keys_page.rows.values():
            row.refresh()
        self.keys_changed.emit()

    def done(self, result: int) -> None:
        """Stop any key test or model fetch still running, then close."""
        self.keys_page.cancel_tests()
        self.endpoints_page.cancel_tasks()
        super().done(result)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.keys_page.cancel_tests()
        self.endpoints_page.cancel_tasks()
        super().closeEvent(event)
