"""Settings › Endpoints: custom OpenAI-compatible endpoints and base-URL overrides.

A custom endpoint is a name, a base URL (https, or plain http only to this machine or
the LAN: a key must not cross the internet unencrypted), an optional environment
variable for its key, and its models — typed in or fetched from GET {base}/models.
Its key, if any, goes to the keyring like every other key; settings never hold it.
A user name and password or a secret query parameter typed into an address (`key=`,
`sig=`…) is split off when it is saved and kept in the keyring next to the key
(`url_credentials`); the field then shows the address without them.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from dataclasses import replace

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ..core.catalog import CustomEndpoint, Provider, check_base_url, load_builtin
from ..core.errors import ConfigError, KeyStoreError, explain
from ..core.i18n import _, ngettext
from ..core.url_credentials import UrlCredentials, split_url_credentials
from ..services import Services
from .widgets import InlineNote, start_task

__all__ = ["EndpointsPage", "parse_model_list"]


def parse_model_list(text: str) -> tuple[str, ...]:
    """Model ids typed one per line or separated by commas; duplicates dropped."""
    seen: list[str] = []
    for part in re.split(r"[,\n]", text):
        name = part.strip()
        if name and name not in seen:
            seen.append(name)
    return tuple(seen)


def _models(n: int) -> str:
    """"1 model", "3 models"."""
    return ngettext("{count} model", "{count} models", n).format(count=n)


class EndpointsPage(QWidget):
    """Add, edit and remove custom endpoints; point built-in providers at a gateway."""

    catalog_changed = Signal()
    keys_changed = Signal()

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self._editing: str | None = None        # name of the endpoint in the form
        self._url_credentials = UrlCredentials(base_url="")   # split off the form's URL
        self._fetch: asyncio.Task[list[str]] | None = None

        self.list = QListWidget(self)
        self.list.setAccessibleName(_("Custom endpoints"))
        self.new_button = QPushButton(_("New"), self)
        self.remove_button = QPushButton(_("Remove"), self)
        self.name_edit = QLineEdit(self)
        self.name_edit.setAccessibleName(_("Endpoint name"))
        self.name_edit.setPlaceholderText(_("e.g. local-vllm"))
        self.url_edit = QLineEdit(self)
        self.url_edit.setAccessibleName(_("Base URL"))
        self.url_edit.setPlaceholderText(_("https://gateway.example.com/v1 or "
                                           "http://127.0.0.1:8000/v1"))
        self.env_edit = QLineEdit(self)
        self.env_edit.setAccessibleName(_("Key environment variable"))
        self.env_edit.setPlaceholderText(_("optional, e.g. VLLM_API_KEY"))
        self.key_edit = QLineEdit(self)
        self.key_edit.setAccessibleName(_("Endpoint key"))
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_edit.setPlaceholderText(
            _("optional; kept in the OS keyring") if services.keystore.secure
            else _("optional; kept for this session only (no keyring)"))
        self.models_edit = QPlainTextEdit(self)
        self.models_edit.setAccessibleName(_("Models"))
        self.models_edit.setPlaceholderText(_("One model id per line (or comma separated)"))
        self.models_edit.setTabChangesFocus(True)
        self.cap_check = QCheckBox(_("Send the output cap as max_completion_tokens"), self)
        self.cap_check.setToolTip(
            _("Most local servers (vLLM, Ollama, llama.cpp) take max_tokens; some gateways and "
              "newer OpenAI-style APIs want max_completion_tokens instead."))
        self.fetch_button = QPushButton(_("Fetch models"), self)
        self.fetch_button.setToolTip(_("Ask the endpoint for its models (GET …/models)"))
        self.save_button = QPushButton(_("Save endpoint"), self)
        self.note = InlineNote(self)

        form = QFormLayout()
        form.addRow(_("&Name"), self.name_edit)
        form.addRow(_("&Base URL"), self.url_edit)
        form.addRow(_("&Key"), self.key_edit)
        form.addRow(_("Key &variable"), self.env_edit)
        form.addRow(_("&Models"), self.models_edit)
        form.addRow("", self.cap_check)
        actions = QHBoxLayout()
        actions.addWidget(self.fetch_button)
        actions.addStretch(1)
        actions.addWidget(self.save_button)
        editor = QVBoxLayout()
        editor.addLayout(form)
        editor.addLayout(actions)
        editor.addWidget(self.note)
        side = QVBoxLayout()
        side.addWidget(self.list, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.new_button)
        buttons.addWidget(self.remove_button)
        side.addLayout(buttons)
        custom_box = QGroupBox(_("Custom OpenAI-compatible endpoints"), self)
        top = QHBoxLayout(custom_box)
        top.addLayout(side, 1)
        top.addLayout(editor, 2)

        self.override_box = QGroupBox(_("Base URL overrides (proxy or company gateway)"), self)
        self.override_form = QFormLayout(self.override_box)
        self.override_edits: dict[str, QLineEdit] = {}
        for provider in services.catalog.builtin():
            edit = QLineEdit(self.override_box)
            edit.setAccessibleName(_("Base URL for {name}").format(name=provider.name))
            edit.setClearButtonEnabled(True)
            self.override_form.addRow(provider.name, edit)
            self.override_edits[provider.id] = edit
        self.override_save = QPushButton(_("Save overrides"), self.override_box)
        self.override_note = InlineNote(self.override_box)
        self.override_form.addRow(self.override_save)
        self.override_form.addRow(self.override_note)

        layout = QVBoxLayout(self)
        layout.addWidget(custom_box, 3)
        layout.addWidget(self.override_box, 2)

        self.list.currentRowChanged.connect(self._on_select)
        self.new_button.clicked.connect(self.new_endpoint)
        self.remove_button.clicked.connect(self.remove_endpoint)
        self.save_button.clicked.connect(self.save_endpoint)
        self.fetch_button.clicked.connect(self.fetch_models)
        self.override_save.clicked.connect(self.save_overrides)
        self._fill_list()
        self._fill_overrides()
        self.new_endpoint()

    # --- list ---------------------------------------------------------------------------

    def _fill_list(self, select: str | None = None) -> None:
        self.list.blockSignals(True)
        self.list.clear()
        for endpoint in self.services.settings.custom_endpoints:
            self.list.addItem(endpoint.name)
        self.list.blockSignals(False)
        names = [e.name for e in self.services.settings.custom_endpoints]
        if select in names:
            self.list.setCurrentRow(names.index(select))
        self.remove_button.setEnabled(self._editing is not None)

    def _on_select(self, row: int) -> None:
        endpoints = self.services.settings.custom_endpoints
        if not 0 <= row < len(endpoints):
            return
        endpoint = endpoints[row]
        self._editing = endpoint.name
        self.name_edit.setText(endpoint.name)
        self.url_edit.setText(endpoint.base_url)
        self.env_edit.setText(endpoint.key_env)
        self.key_edit.clear()
        self.models_edit.setPlainText("\n".join(endpoint.models))
        self.cap_check.setChecked(endpoint.output_cap_field == "max_completion_tokens")
        self.note.clear_message()
        self.remove_button.setEnabled(True)

    def new_endpoint(self) -> None:
        self._editing = None
        self.list.clearSelection()
        for edit in (self.name_edit, self.url_edit, self.env_edit, self.key_edit):
            edit.clear()
        self.models_edit.clear()
        self.cap_check.setChecked(False)
        self.note.clear_message()
        self.remove_button.setEnabled(False)

    # --- saving -----------------------------------------------------------------------

    def _keep_url_credentials(self, provider: Provider, creds: UrlCredentials) -> str:
        """Put what was split off an address in the keyring; the sentence that says so."""
        if not creds:
            return ""
        where = _("kept in the OS keyring")
        try:
            self.services.keystore.set_url_credentials(provider, creds)
            if not self.services.keystore.secure:
                where = _("kept for this session only (no secure keyring)")
        except KeyStoreError as err:
            return " " + explain(err)
        return (_(" Its address carried {describe}: split off, {where} and sent with each "
                  "request; settings hold only the address.").format(
                      describe=creds.describe(), where=where))

    def _endpoint_from_form(self) -> CustomEndpoint:
        name = self.name_edit.text().strip()
        url, self._url_credentials = split_url_credentials(self.url_edit.text().strip())
        if not name:
            raise ConfigError(_("Give the endpoint a name."))
        if not url:
            raise ConfigError(_("Enter the endpoint's base URL (the part before "
                                "/chat/completions)."))
        check_base_url(url, allow_http=True)
        models = parse_model_list(self.models_edit.toPlainText())
        if not models:
            raise ConfigError(_("Add at least one model: type its id, or press Fetch models to "
                                "ask the endpoint."))
        cap_field = "max_completion_tokens" if self.cap_check.isChecked() else ""
        return CustomEndpoint(name=name, base_url=url.rstrip("/"), models=models,
                              key_env=self.env_edit.text().strip(), output_cap_field=cap_field)

    def save_endpoint(self) -> None:
        settings = self.services.settings
        before = list(settings.custom_endpoints)
        try:
            endpoint = self._endpoint_from_form()
            taken = {e.name for e in before}
            if endpoint.name != self._editing and endpoint.name in taken:
                raise ConfigError(_("There is already an endpoint called “{name}”; pick "
                                    "another name or select it in the list to edit it.").format(
                                        name=endpoint.name))
            if self._editing and self._editing != endpoint.name:
                settings.remove_custom_endpoint(self._editing)
            settings.add_custom_endpoint(endpoint)
            self.services.save_settings()
        except (ConfigError, OSError) as err:
            settings.custom_endpoints = before
            self.note.show_message(explain(err), "error")
            return
        self._editing = endpoint.name
        message = _("Saved “{name}” ({count}).").format(
            name=endpoint.name, count=_models(len(endpoint.models)))
        kind = "ok"
        self.url_edit.setText(endpoint.base_url)
        saved = self.services.catalog.get(endpoint.name)
        message += self._keep_url_credentials(saved, self._url_credentials)
        key = self.key_edit.text().strip()
        if key:
            try:
                self.services.keystore.set(self.services.catalog.get(endpoint.name), key)
            except (ConfigError, KeyStoreError) as err:
                message += " " + explain(err)
                kind = "warning"
            self.key_edit.clear()
            self.keys_changed.emit()
        self._fill_list(select=endpoint.name)
        self.note.show_message(message, kind)  # type: ignore[arg-type]
        self.catalog_changed.emit()

    def remove_endpoint(self) -> None:
        name = self._editing
        if name is None:
            return
        settings = self.services.settings
        before = list(settings.custom_endpoints)
        provider = self.services.catalog.providers.get(name)
        settings.remove_custom_endpoint(name)
        try:
            self.services.save_settings()
        except (ConfigError, OSError) as err:
            settings.custom_endpoints = before
            self.note.show_message(explain(err), "error")
            return
        if provider is not None:
            # The endpoint is gone; a stale keyring entry left behind does no harm.
            with contextlib.suppress(KeyStoreError):
                self.services.keystore.delete(provider)
                self.services.keystore.delete_url_credentials(provider)
        self.new_endpoint()
        self._fill_list()
        self.note.show_message(_("Removed “{name}”.").format(name=name), "ok")
        self.catalog_changed.emit()
        self.keys_changed.emit()

    # --- fetching models --------------------------------------------------------------

    def fetch_models(self) -> None:
        if self._fetch is not None and not self._fetch.done():
            return
        url, creds = split_url_credentials(self.url_edit.text().strip())
        name = self.name_edit.text().strip() or "endpoint"
        try:
            if not url:
                raise ConfigError(_("Enter the base URL first."))
            provider = self.services.catalog.make_custom(CustomEndpoint(name=name,
                                                                        base_url=url))
        except ConfigError as err:
            self.note.show_message(explain(err), "error")
            return
        key = self.key_edit.text().strip() or None
        if key is None and self._editing in self.services.catalog.providers:
            key = self.services.keystore.get(self.services.catalog.get(self._editing))
        self.fetch_button.setEnabled(False)
        self.note.show_message(_("Asking {base_url}/models …").format(
            base_url=provider.base_url), "info")
        if not creds and self._editing in self.services.catalog.providers:
            creds = (self.services.keystore.url_credentials(replace(
                self.services.catalog.get(self._editing), base_url=url))
                or UrlCredentials(base_url=url))
        self._fetch = start_task(self.services.client.list_models(
            provider, api_key=key, url_credentials=creds), self, self._fetched)

    def _fetched(self, ids: list[str] | None, error: BaseException | None) -> None:
        self._fetch = None
        self.fetch_button.setEnabled(True)
        if error is not None:
            self.note.show_message(explain(error), "error")
            return
        found = list(ids or [])
        typed = list(parse_model_list(self.models_edit.toPlainText()))
        merged = typed + [m for m in found if m not in typed]
        self.models_edit.setPlainText("\n".join(merged))
        if found:
            self.note.show_message(_("The endpoint serves {count}; press Save endpoint to keep "
                                     "them.").format(count=_models(len(found))), "ok")
        else:
            self.note.show_message(_("The endpoint listed no models; type their ids in."),
                                   "warning")

    # --- overrides ----------------------------------------------------------------------

    def _fill_overrides(self) -> None:
        overrides = self.services.settings.base_url_overrides
        shipped = load_builtin()
        for provider_id, edit in self.override_edits.items():
            edit.setText(overrides.get(provider_id, ""))
            edit.setPlaceholderText(shipped.get(provider_id).base_url)

    def save_overrides(self) -> None:
        settings = self.services.settings
        before = dict(settings.base_url_overrides)
        split: dict[str, UrlCredentials] = {}
        try:
            for provider_id, edit in self.override_edits.items():
                url, split[provider_id] = split_url_credentials(edit.text().strip())
                try:
                    settings.set_base_url_override(provider_id, url or None)
                except ConfigError as err:
                    name = self.services.catalog.get(provider_id).name
                    raise ConfigError(f"{name}: {err}") from None
            self.services.save_settings()
        except (ConfigError, OSError) as err:
            settings.base_url_overrides = before
            self.override_note.show_message(explain(err), "error")
            return
        count = len(settings.base_url_overrides)
        message = (ngettext("Saved: {count} provider uses another address.",
                            "Saved: {count} providers use another address.",
                            count).format(count=count) if count
                   else _("Saved: every provider uses its own address."))
        for provider_id, creds in split.items():
            provider = self.services.catalog.get(provider_id)
            if creds:
                self.override_edits[provider_id].setText(provider.base_url)
                message += self._keep_url_credentials(provider, creds).replace(
                    " Its address", f" The address of {provider.name}", 1)
        self.override_note.show_message(message, "ok")
        self.catalog_changed.emit()

    def cancel_tasks(self) -> None:
        if self._fetch is not None and not self._fetch.done():
            self._fetch.cancel()
        self._fetch = None
