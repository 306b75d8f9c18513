"""Settings › Keys: enter, test, replace and delete each provider's key.

One box per built-in provider (each Model Studio region separately: keys are
region-locked) and per custom endpoint. The key itself is never shown — not even
masked: the box says only where the key comes from (keyring, session, environment).
"""

from __future__ import annotations

import asyncio

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from ..core.catalog import Model, Provider
from ..core.errors import ConfigError, KeyringUnavailableError, KeyStoreError, explain
from ..core.i18n import _
from ..core.secrets import KeyStore
from ..services import Services
from .keyring_watch import KeyringWatch
from .widgets import InlineNote, key_status_text, start_task

__all__ = ["KeyRow", "KeysPage", "keys_intro"]


def _test_model(provider: Provider) -> Model | None:
    """The model a key test asks: a non-thinking one, so the answer can be one token."""
    if not provider.models:
        return None
    plain = [m for m in provider.models if m.thinking == "none"]
    return (plain or list(provider.models))[0]


def keys_intro(keystore: KeyStore) -> str:
    """Where keys entered on this page go — true with, without and with a failing keyring."""
    if keystore.secure and keystore.trouble is not None:
        return (_("Keys are kept in your OS keyring ({backend_name}), which is not working "
                  "right now (see above): keys entered meanwhile are kept for this session "
                  "only. Keys are never written to settings, conversations or logs.").format(
                      backend_name=keystore.backend_name))
    if keystore.secure:
        return (_("Keys are kept in your OS keyring ({backend_name}) and never written to "
                  "settings, conversations or logs.").format(backend_name=keystore.backend_name))
    return (_("Keys entered here are kept in memory for this session only (there is no secure "
              "keyring, see above); they are never written to settings, conversations or logs."))


class KeyRow(QGroupBox):
    """Status, entry field and Save / Test / Delete for one provider's key."""

    keys_changed = Signal()

    def __init__(self, services: Services, provider: Provider,
                 parent: QWidget | None = None) -> None:
        super().__init__(provider.name, parent)
        self.services = services
        self.provider = provider
        self._task: asyncio.Task[str] | None = None
        self._saved_late = False    # a save is waiting for the keyring to answer

        self.status = QLabel(self)
        self.status.setWordWrap(True)
        self.edit = QLineEdit(self)
        self.edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.edit.setAccessibleName(_("Key for {name}").format(name=provider.name))
        self.edit.setClearButtonEnabled(True)
        self.save_button = QPushButton(_("Save"), self)
        self.save_button.setAccessibleName(_("Save the key for {name}").format(name=provider.name))
        self.test_button = QPushButton(_("Test"), self)
        self.test_button.setAccessibleName(_("Test the key for {name}").format(name=provider.name))
        self.delete_button = QPushButton(_("Delete"), self)
        self.delete_button.setAccessibleName(_("Delete the key for {name}").format(
            name=provider.name))
        self.note = InlineNote(self)

        entry = QHBoxLayout()
        entry.addWidget(self.edit, 1)
        entry.addWidget(self.save_button)
        entry.addWidget(self.test_button)
        entry.addWidget(self.delete_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        if provider.region:
            region = QLabel(_("Region: {region}. Keys made in another region are refused here "
                              "(401 invalid_api_key).").format(region=_(provider.region)), self)
            region.setWordWrap(True)
            layout.addWidget(region)
        layout.addLayout(entry)
        if provider.console_url:
            link = QLabel(_("<a href=\"{console_url}\">Get a key from {provider}</a>").format(
                console_url=provider.console_url, provider=provider.name.split(" — ")[0]), self)
            link.setTextFormat(Qt.TextFormat.RichText)
            link.setOpenExternalLinks(True)
            layout.addWidget(link)
        layout.addWidget(self.note)

        self.edit.textChanged.connect(self._update_buttons)
        self.edit.returnPressed.connect(self.save)
        self.save_button.clicked.connect(self.save)
        self.test_button.clicked.connect(self.test)
        self.delete_button.clicked.connect(self.delete)
        self.refresh()

    # --- state -------------------------------------------------------------------------

    def refresh(self) -> None:
        self.status.setText(key_status_text(self.services.keystore, self.provider))
        self.status.setToolTip(self.services.keystore.status_line(self.provider))
        source = self.services.keystore.source(self.provider)
        if self._saved_late and source == "keyring":
            self._saved_late = False
            self.note.show_message(_("The keyring answered: the key is saved in it now."), "ok")
        self.edit.setPlaceholderText(
            _("Paste a new key to replace the current one") if source != "none"
            else _("Paste the key"))
        self._update_buttons()

    def _update_buttons(self) -> None:
        testing = self.is_testing()
        source = self.services.keystore.source(self.provider)
        self.save_button.setEnabled(bool(self.edit.text().strip()))
        self.delete_button.setEnabled(source in ("keyring", "session") and not testing)
        self.test_button.setEnabled(not testing)

    def is_testing(self) -> bool:
        return self._task is not None and not self._task.done()

    # --- actions -----------------------------------------------------------------------

    def save(self) -> None:
        text = self.edit.text()
        if not text.strip():
            return
        try:
            self.services.keystore.set(self.provider, text)
        except KeyStoreError as err:
            self.edit.clear()
            self._saved_late = (isinstance(err, KeyringUnavailableError)
                                and err.trouble == "timeout")
            self.note.show_message(explain(err), "warning")
        except ConfigError as err:
            self.note.show_message(explain(err), "error")
            return
        else:
            self.edit.clear()
            where = (_("in the keyring") if self.services.keystore.secure
                     else _("for this session only"))
            self.note.show_message(_("Key saved {where}.").format(where=where), "ok")
        self.refresh()
        self.keys_changed.emit()

    def delete(self) -> None:
        try:
            self.services.keystore.delete(self.provider)
        except KeyStoreError as err:
            self.note.show_message(explain(err), "error")
            return
        after = self.services.keystore.source(self.provider)
        if after == "env":
            self.note.show_message(_("Key deleted. The {key_env} environment variable still "
                                     "provides one.").format(key_env=self.provider.key_env), "info")
        else:
            self.note.show_message(_("Key deleted."), "ok")
        self.refresh()
        self.keys_changed.emit()

    def test(self) -> None:
        """Send the cheapest real request with the typed key, or the saved one."""
        if self.is_testing():
            return
        key = self.edit.text().strip() or self.services.keystore.get(self.provider)
        if not key and not self.provider.key_optional:
            self.note.show_message(_("There is no key to test: paste one first."), "error")
            return
        model = _test_model(self.provider)
        if model is None:
            coro = self._list_models(key)
        else:
            coro = self.services.client.check_key(self.provider, model, api_key=key)
        self.note.show_message(_("Testing against {base_url} …").format(
            base_url=self.provider.base_url), "info")
        self._task = start_task(coro, self, self._tested)
        self._update_buttons()

    async def _list_models(self, key: str | None) -> str:
        ids = await self.services.client.list_models(self.provider, api_key=key)
        return _("OK — {name} answered with {count} models.").format(
            name=self.provider.name, count=len(ids))

    def _tested(self, result: str | None, error: BaseException | None) -> None:
        self._task = None
        if error is not None:
            self.note.show_message(explain(error), "error")
        else:
            self.note.show_message(result or "OK", "ok")
        self._update_buttons()

    def cancel(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self._task = None


class KeysPage(QScrollArea):
    """Every provider's key box, with a banner when keys can only live for this session."""

    keys_changed = Signal()

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.setWidgetResizable(True)
        self.rows: dict[str, KeyRow] = {}
        self.banner = InlineNote()
        self.intro: QLabel | None = None
        self.rebuild()
        # The keyring may answer after a row was drawn (late unlock, background read).
        self._watch = KeyringWatch(services.keystore, self)
        self._watch.changed.connect(self.refresh)

    def rebuild(self) -> None:
        """(Re)create the boxes: custom endpoints may have been added or removed."""
        self.cancel_tests()
        self.banner.setParent(None)
        inner = QWidget()
        layout = QVBoxLayout(inner)
        layout.addWidget(self.banner)
        self.intro = QLabel(keys_intro(self.services.keystore), inner)
        self.intro.setWordWrap(True)
        layout.addWidget(self.intro)
        self._show_warning()
        self.rows = {}
        providers = self.services.catalog.builtin() + self.services.catalog.custom()
        for provider in providers:
            row = KeyRow(self.services, provider, inner)
            row.keys_changed.connect(self._on_keys_changed)
            layout.addWidget(row)
            self.rows[provider.id] = row
        layout.addStretch(1)
        self.setWidget(inner)

    def _on_keys_changed(self) -> None:
        self._show_warning()
        self.keys_changed.emit()

    def refresh(self) -> None:
        """Redraw every row's status and the banner from the key store."""
        for row in self.rows.values():
            row.refresh()
        self._show_warning()

    def _show_warning(self) -> None:
        if self.intro is not None:
            self.intro.setText(keys_intro(self.services.keystore))
        warning = self.services.keystore.warning
        if warning:
            self.banner.show_message(warning, "warning")
        else:
            self.banner.clear_message()

    def cancel_tests(self) -> None:
        for row in self.rows.values():
            row.cancel()
