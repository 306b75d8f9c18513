"""The provider / region / model bar above the transcript.

Providers are grouped: the three Alibaba Model Studio (DashScope) regions first, then
the other built-in hosts, then the person's custom endpoints. Every provider carries a
mark saying where its key comes from, so a missing key is visible before sending.

"Refresh models" asks the chosen provider which models it serves today, without
blocking the window; models the catalog does not know are then listed, marked
"guessed", with what was guessed in their tooltip. "Images" lets the person say
whether the chosen model takes images, whatever the catalog or the guess says.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, Protocol

from PySide6.QtCore import QPoint, QSignalBlocker, Qt, Signal
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..core.catalog import Catalog, Model, Provider
from ..core.errors import ConfigError, QwenVLError, explain
from ..core.secrets import KeyStore
from .model_captions import model_caption, model_tooltip, vision_tooltip
from .widgets import HintLabel, InlineNote, key_mark, start_task

if TYPE_CHECKING:
    from qwenvl_desktop.services import RefreshOutcome

__all__ = ["ModelBar", "ModelLists", "model_caption"]

_REFRESH = "⟳"
_VISION = "Images"
_PROVIDER_ROLE = Qt.ItemDataRole.UserRole
_MODEL_ROLE = Qt.ItemDataRole.UserRole


class ModelLists(Protocol):
    """What the bar needs for live model lists (the app's `Services`)."""

    catalog: Catalog

    def refresh_models(self, provider: Provider) -> Coroutine[Any, Any, RefreshOutcome]: ...

    def set_vision(self, provider_id: str, model_id: str, vision: bool | None) -> None: ...


class ModelBar(QWidget):
    """Provider combo (each entry with its key-status mark), model combo, region hint.

    `selection_changed(provider_id, model_id)` is emitted whenever the chosen pair
    changes, whether the person picked it or `set_selection`/`refresh_catalog` did.
    `keys_requested(provider_id)` asks the window to open Settings › Keys.
    """

    selection_changed = Signal(str, str)
    keys_requested = Signal(str)
    catalog_changed = Signal()
    """The bar rebuilt the catalog (a refreshed model list, a vision switch)."""
    refresh_finished = Signal(str)
    """A model-list refresh of this provider ended (well or not)."""

    def __init__(self, catalog: Catalog, keystore: KeyStore,
                 parent: QWidget | None = None, *, lists: ModelLists | None = None) -> None:
        super().__init__(parent)
        self._catalog = catalog
        self._keystore = keystore
        self._lists = lists
        self._refreshing: object | None = None
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

        self.refresh_button = QToolButton(self)
        # Compact (an icon and a word) so the bar needs no more width than before.
        self.refresh_button.setText(_REFRESH)
        self.refresh_button.setAccessibleName("Refresh models")
        self.refresh_button.clicked.connect(self.refresh_models)
        self.refresh_button.setVisible(lists is not None)
        self.vision_button = QToolButton(self)
        self.vision_button.setText(_VISION)
        self.vision_button.setCheckable(True)
        self.vision_button.setAccessibleName("Model sees images")
        self.vision_button.toggled.connect(self.set_model_vision)
        self.vision_button.hide()      # shown for guessed or overridden models
        if lists is not None:
            # Any model's vision can be switched from the model list's context menu.
            self.model_combo.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
            self.model_combo.customContextMenuRequested.connect(self._model_menu)
        self.note = InlineNote(self)
        self.note.setAccessibleName("Model list")

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(4)
        row = QWidget(self)
        outer.addWidget(row)
        outer.addWidget(self.note)
        layout = QHBoxLayout(row)
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
        layout.addWidget(self.vision_button)
        layout.addWidget(self.refresh_button)
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

    # --- live model lists ---------------------------------------------------------------

    @property
    def refreshing(self) -> bool:
        return self._refreshing is not None

    def refresh_models(self) -> None:
        """Ask the chosen provider for its model list, without blocking the window."""
        if self._lists is None or self._refreshing is not None:
            return
        try:
            provider = self.provider()
        except ConfigError as err:
            self.note.show_message(explain(err), "error")
            return
        self.refresh_button.setEnabled(False)
        self.refresh_button.setText("…")
        self.note.show_message(f"Asking {provider.endpoint_label} which models it serves…",
                               "info")
        self._refreshing = start_task(self._lists.refresh_models(provider), self,
                                      lambda outcome, error: self._refreshed(
                                          provider, outcome, error))

    def _refreshed(self, provider: Provider, outcome: RefreshOutcome | None,
                   error: BaseException | None) -> None:
        self._refreshing = None
        self.refresh_button.setText(_REFRESH)
        failure = error or (outcome.error if outcome is not None else None)
        if self._lists is not None:
            self.refresh_catalog(self._lists.catalog)
            self.catalog_changed.emit()
        if failure is not None:
            kept = (f" The list {outcome.listing.age_text()} is kept."
                    if outcome is not None and outcome.listing is not None
                    else " The catalog's models are shown.")
            self.note.show_message(explain(failure) + kept, "error")
        elif outcome is not None and outcome.listing is not None:
            self._show_new_models(provider, outcome)
        self.refresh_finished.emit(provider.id)

    def _show_new_models(self, provider: Provider, outcome: RefreshOutcome) -> None:
        assert outcome.listing is not None
        count = len(outcome.listing.ids)
        text = f"{provider.endpoint_label} lists {count} model{'s' if count != 1 else ''}."
        if outcome.new_ids:
            shown = ", ".join(outcome.new_ids[:6])
            more = f" and {len(outcome.new_ids) - 6} more" if len(outcome.new_ids) > 6 else ""
            text += (f" Not in the catalog: {shown}{more} — marked “guessed” in the model "
                     "list; their tooltips say what was guessed.")
        else:
            text += " The catalog knows them all."
        self.note.show_message(text, "ok")

    def _model_menu(self, pos: QPoint) -> None:
        try:
            model = self.model()
        except ConfigError:
            return
        menu = QMenu(self)
        action = menu.addAction("Sees images")
        action.setCheckable(True)
        action.setChecked(model.vision)
        action.setToolTip(vision_tooltip(model))
        action.toggled.connect(self.set_model_vision)
        menu.exec(self.model_combo.mapToGlobal(pos))
        menu.deleteLater()

    def set_model_vision(self, checked: bool) -> None:
        """Say whether the chosen model sees images (the switch, or the list's menu)."""
        if self._lists is None:
            return
        try:
            provider, model = self.provider(), self.model()
        except ConfigError:
            return
        if checked == model.vision:
            return
        # Switching back to what the catalog or the guess says drops the override.
        vision: bool | None = None if "vision" in model.overridden else checked
        try:
            self._lists.set_vision(provider.id, model.id, vision)
        except (QwenVLError, OSError) as err:
            self.note.show_message(explain(err), "error")
            self._update_vision_button()
            return
        self.refresh_catalog(self._lists.catalog)
        self.catalog_changed.emit()

    def _update_vision_button(self) -> None:
        try:
            provider, model = self.provider(), self.model()
        except ConfigError:
            self.vision_button.setEnabled(False)
            self.refresh_button.setEnabled(False)
            return
        with QSignalBlocker(self.vision_button):
            self.vision_button.setChecked(model.vision)
        self.vision_button.setEnabled(True)
        self.vision_button.setVisible(self._lists is not None
                                      and bool(model.guessed or model.overridden))
        self.vision_button.setText(_VISION + ("✎" if model.overridden else ""))
        self.vision_button.setToolTip(vision_tooltip(model))
        listed = bool(provider.models_path)
        self.refresh_button.setEnabled(listed and self._refreshing is None)
        if not listed:
            tip = (f"Refresh models: {provider.name} has no model list (each of its models "
                   "has its own address).")
        elif provider.listed_at:
            tip = (f"Refresh models: ask {provider.name} which models it serves today. "
                   f"Last list: {provider.listed_at.replace('T', ' ')[:16]} UTC, "
                   f"{len(provider.listed)} models.")
        else:
            tip = (f"Refresh models: ask {provider.name} which models it serves today "
                   "(never asked yet).")
        self.refresh_button.setToolTip(tip)

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
                self.model_combo.setItemData(self.model_combo.count() - 1,
                                             model_tooltip(model),
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
        self.model_combo.setItemData(self.model_combo.count() - 1, model_tooltip(model),
                                     Qt.ItemDataRole.ToolTipRole)

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
        if self._refreshing is None:
            self.note.clear_message()       # a note about the previous provider's list
        self._fill_models()
        self._update_hints()
        self._emit_if_changed()

    def _on_model_changed(self) -> None:
        self._update_vision_button()
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
        self._update_vision_button()
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
