"""The provider / region / model bar above the transcript.

Providers are grouped: the three Alibaba Model Studio (DashScope) regions first, then
the other built-in hosts, then the person's custom endpoints. Every provider carries a
mark saying where its key comes from, so a missing key is visible before sending.
"""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QWidget,
)

from ..core.catalog import Catalog, Model, Provider
from ..core.errors import ConfigError
from ..core.secrets import KeyStore
from .widgets import HintLabel, key_mark

__all__ = ["ModelBar", "model_caption"]

_PROVIDER_ROLE = Qt.ItemDataRole.UserRole
_MODEL_ROLE = Qt.ItemDataRole.UserRole


def model_caption(model: Model) -> str:
    """How a model is listed: its label, its id, and what it can or cannot do."""
    marks = []
    if not model.vision:
        marks.append("(text only)")
    if model.thinking == "always":
        marks.append("· thinking")
    elif model.thinking == "optional":
        marks.append("· thinking optional")
    caption = model.label if model.label == model.id else f"{model.label} — {model.id}"
    return " ".join([caption, *marks])


class ModelBar(QWidget):
    """Provider combo (each entry with its key-status mark), model combo, region hint.

    `selection_changed(provider_id, model_id)` is emitted whenever the chosen pair
    changes, whether the person picked it or `set_selection`/`refresh_catalog` did.
    `keys_requested(provider_id)` asks the window to open Settings › Keys.
    """

    selection_changed = Signal(str, str)
    keys_requested = Signal(str)

    def __init__(self, catalog: Catalog, keystore: KeyStore,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._catalog = catalog
        self._keystore = keystore
        self._last: tuple[str, str] = ("", "")

        self.provider_combo = QComboBox(self)
        self.provider_combo.setAccessibleName("Provider")
        self.model_combo = QComboBox(self)
        self.model_combo.setAccessibleName("Model")
        # Sized to their longest entries, the combos made the bar ~690 px wide at least:
        # the middle pane sat at its minimum in a 1280-px window, and hiding "Add key…"
        # when a provider got a key made the splitter jump. They stretch anyway; their
        # popups still show the full names.
        for combo, length in ((self.provider_combo, 22), (self.model_combo, 16)):
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(length)
            combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.key_button = QPushButton("Add key…", self)
        self.key_button.setAccessibleName("Add an API key")
        self.key_button.clicked.connect(
            lambda: self.keys_requested.emit(self._current_provider_id()))
        self.region_label = HintLabel("", self)
        self.region_label.setWordWrap(False)
        self.region_label.setAccessibleName("Region")
        self.region_label.setSizePolicy(QSizePolicy.Policy.Ignored,
                                        QSizePolicy.Policy.Preferred)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        provider_caption = QLabel("&Provider", self)
        provider_caption.setBuddy(self.provider_combo)
        model_caption_label = QLabel("&Model", self)
        model_caption_label.setBuddy(self.model_combo)
        layout.addWidget(provider_caption)
        layout.addWidget(self.provider_combo, 1)
        layout.addWidget(self.key_button)
        layout.addSpacing(12)
        layout.addWidget(model_caption_label)
        layout.addWidget(self.model_combo, 1)
        layout.addWidget(self.region_label)

        self.provider_combo.currentIndexChanged.connect(self._on_provider_changed)
        self.model_combo.currentIndexChanged.connect(self._on_model_changed)
        self._fill_providers()
        self._on_provider_changed()

    # --- public ------------------------------------------------------------------------

    def provider(self) -> Provider:
        return self._catalog.get(self._current_provider_id())

    def model(self) -> Model:
        provider = self.provider()
        model_id = self._current_model_id()
        if not model_id:
            raise ConfigError(f"{provider.name} has no models yet; add some in "
                              "Settings › Endpoints.")
        return provider.model(model_id)

    def set_selection(self, provider_id: str, model_id: str) -> None:
        """Select a provider and model; unknown ones fall back to the first available."""
        index = self._provider_index(provider_id)
        usable = index >= 0 and self._provider_items().item(index).isEnabled()
        with QSignalBlocker(self.provider_combo):
            if usable:
                self.provider_combo.setCurrentIndex(index)
        self._fill_models(model_id)
        self._update_hints()
        self._emit_if_changed()

    def refresh_catalog(self, catalog: Catalog) -> None:
        """Rebuild the lists (custom endpoints added or removed), keeping the choice."""
        provider_id, model_id = self._current_provider_id(), self._current_model_id()
        self._catalog = catalog
        with QSignalBlocker(self.provider_combo):
            self._fill_providers()
        self.set_selection(provider_id, model_id)

    def refresh_key_status(self) -> None:
        """Re-read where every provider's key comes from (after Settings › Keys)."""
        for row in range(self.provider_combo.count()):
            provider_id = self.provider_combo.itemData(row, _PROVIDER_ROLE)
            if not provider_id:
                continue
            provider = self._catalog.get(provider_id)
            mark, tip = key_mark(self._keystore, provider)
            if not provider.models:
                mark, tip = "no models", (f"{provider.name} lists no models yet; add them in "
                                          "Settings › Endpoints.")
            self.provider_combo.setItemText(row, f"{provider.name}   {mark}")
            self.provider_combo.setItemData(row, tip, Qt.ItemDataRole.ToolTipRole)
        self._update_hints()

    # --- filling -----------------------------------------------------------------------

    def _groups(self) -> list[list[Provider]]:
        builtin = self._catalog.builtin()
        dashscope = [p for p in builtin if p.family == "dashscope"]
        others = [p for p in builtin if p.family != "dashscope"]
        return [group for group in (dashscope, others, self._catalog.custom()) if group]

    def _fill_providers(self) -> None:
        self.provider_combo.clear()
        for number, group in enumerate(self._groups()):
            if number:
                self.provider_combo.insertSeparator(self.provider_combo.count())
            for provider in group:
                self.provider_combo.addItem(provider.name, provider.id)
                if not provider.models:
                    # Nothing to talk to until models are listed for it in settings.
                    self._provider_items().item(self.provider_combo.count() - 1).setEnabled(
                        False)
        self.refresh_key_status()

    def _fill_models(self, wanted: str = "") -> None:
        provider = self._catalog.get(self._current_provider_id())
        with QSignalBlocker(self.model_combo):
            self.model_combo.clear()
            for model in provider.models:
                self.model_combo.addItem(model_caption(model), model.id)
                tip = f"{model.label} ({model.id})"
                if not model.vision:
                    tip += " cannot see images."
                self.model_combo.setItemData(self.model_combo.count() - 1, tip,
                                             Qt.ItemDataRole.ToolTipRole)
            if wanted and self.model_combo.findData(wanted) < 0:
                self._add_extra_model(provider, wanted)
            if not provider.models and not wanted:
                self.model_combo.addItem("no models — add some in Settings › Endpoints", "")
                self._model_items().item(0).setEnabled(False)
            index = self.model_combo.findData(wanted) if wanted else -1
            self.model_combo.setCurrentIndex(max(index, 0))

    def _add_extra_model(self, provider: Provider, model_id: str) -> None:
        """A dated snapshot or a model a custom endpoint serves but was not listed."""
        try:
            model = provider.model(model_id)
        except ConfigError:
            return
        self.model_combo.addItem(model_caption(model), model_id)

    def _provider_items(self) -> QStandardItemModel:
        model = self.provider_combo.model()
        assert isinstance(model, QStandardItemModel)
        return model

    def _model_items(self) -> QStandardItemModel:
        model = self.model_combo.model()
        assert isinstance(model, QStandardItemModel)
        return model

    # --- reacting ----------------------------------------------------------------------

    def _on_provider_changed(self) -> None:
        if not self._current_provider_id():
            return
        self._fill_models()
        self._update_hints()
        self._emit_if_changed()

    def _on_model_changed(self) -> None:
        self._emit_if_changed()

    def _emit_if_changed(self) -> None:
        pair = (self._current_provider_id(), self._current_model_id())
        if pair != self._last and all(pair):
            self._last = pair
            self.selection_changed.emit(*pair)

    def _update_hints(self) -> None:
        provider_id = self._current_provider_id()
        if not provider_id:
            return
        provider = self._catalog.get(provider_id)
        _mark, tip = key_mark(self._keystore, provider)
        self.provider_combo.setToolTip(tip)
        self.provider_combo.setAccessibleDescription(tip)
        missing = self._keystore.source(provider) == "none" and not provider.key_optional
        self.key_button.setVisible(missing)
        if provider.region:
            self.region_label.setText(f"Region: {provider.region}")
            self.region_label.setToolTip(
                "Model Studio keys belong to one region: a key made in Singapore does "
                "not work in Virginia or Beijing.")
            self.region_label.show()
        else:
            self.region_label.clear()
            self.region_label.hide()

    def _current_provider_id(self) -> str:
        value = self.provider_combo.currentData(_PROVIDER_ROLE)
        return value if isinstance(value, str) else ""

    def _current_model_id(self) -> str:
        value = self.model_combo.currentData(_MODEL_ROLE)
        return value if isinstance(value, str) else ""

    def _provider_index(self, provider_id: str) -> int:
        return self.provider_combo.findData(provider_id, _PROVIDER_ROLE)
