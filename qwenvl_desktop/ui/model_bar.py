"""Who answers, in the composer's row: the model chip (opening the model picker), the
region, "Images" for guessed models, Refresh models and "Add key…".

The picker (model_picker.py) lists every provider's models, grouped: the three Alibaba
Model Studio (DashScope) regions first, then the other built-in hosts, then the
person's custom endpoints. Every provider carries a mark saying where its key comes
from, so a missing key is visible before sending.

"Refresh models" asks the chosen provider which models it serves today, without
blocking the window; models the catalog does not know are then listed, marked
"guessed", with what was guessed in their tooltip. "Images" lets the person say
whether the chosen model takes images, whatever the catalog or the guess says.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, Protocol

from PySide6.QtCore import QPoint, QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QMenu,
    QSizePolicy,
    QToolButton,
    QWidget,
)

from ..core.catalog import Catalog, Model, Provider
from ..core.errors import ConfigError, QwenVLError, explain
from ..core.i18n import N_, _, ngettext
from ..core.secrets import KeyStore
from .model_captions import model_caption, vision_tooltip
from .model_picker import ModelPicker
from .theme.icons import icon
from .theme.tokens import SPACE
from .widgets import ElidedHintLabel, InlineNote, key_mark, start_task

if TYPE_CHECKING:
    from qwenvl_desktop.services import RefreshOutcome

__all__ = ["ModelBar", "ModelLists", "model_caption"]

_VISION = N_("Images")
# The chip names the model in at most this many pixels (elided in the middle beyond).
_CHIP_TEXT_WIDTH = 220


class ModelLists(Protocol):
    """What the bar needs for live model lists (the app's `Services`)."""

    catalog: Catalog

    def refresh_models(self, provider: Provider) -> Coroutine[Any, Any, RefreshOutcome]: ...

    def set_vision(self, provider_id: str, model_id: str, vision: bool | None) -> None: ...


class ModelBar(QWidget):
    """The model chip and its picker (each provider with its key-status mark), the region
    hint, the vision switch, Refresh models and Add key.

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

        # One chip, one searchable list of every provider's models (model_picker.py):
        # full names in the list, the chip elided in the middle with the full name as
        # its tooltip.
        self._provider_id = ""
        self._model_id = ""
        self._extra: dict[str, list[str]] = {}     # snapshots and unlisted ids in use
        self.chip = QToolButton(self)
        self.chip.setProperty("role", "chip")
        self.chip.setAccessibleName(_("Model"))
        self.chip.setIcon(icon("expand"))
        self.chip.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.chip.setLayoutDirection(Qt.LayoutDirection.RightToLeft)   # the arrow at its end
        self.chip.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        self.chip.clicked.connect(self.open_picker)
        self.picker = ModelPicker(self)
        self.picker.chosen.connect(self.choose)
        self.picker.vision_menu_requested.connect(self._model_menu)
        self.key_button = QToolButton(self)
        self.key_button.setText(_("Add key…"))
        self.key_button.setIcon(icon("key", "warning", "warning"))
        self.key_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.key_button.setAccessibleName(_("Add an API key"))
        self.key_button.clicked.connect(
            lambda: self.keys_requested.emit(self._current_provider_id()))
        self.region_label = ElidedHintLabel("", self)     # gives way first when narrow
        self.region_label.setAccessibleName(_("Region"))

        self.refresh_button = QToolButton(self)
        self.refresh_button.setIcon(icon("refresh"))
        self.refresh_button.setAccessibleName(_("Refresh models"))
        self.refresh_button.clicked.connect(self.refresh_models)
        self.refresh_button.setVisible(lists is not None)
        self.vision_button = QToolButton(self)
        self.vision_button.setText(_(_VISION))
        self.vision_button.setIcon(icon("vision"))
        self.vision_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.vision_button.setProperty("role", "chip")
        self.vision_button.setCheckable(True)
        self.vision_button.setAccessibleName(_("Model sees images"))
        self.vision_button.toggled.connect(self.set_model_vision)
        self.vision_button.hide()      # shown for guessed or overridden models
        # Placed by the window where there is room for a sentence (above the composer).
        self.note = InlineNote(parent if parent is not None else self)
        self.note.setAccessibleName(_("Model list"))

        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(SPACE.xs)
        layout.addWidget(self.chip)
        layout.addWidget(self.region_label)
        layout.addWidget(self.vision_button)
        layout.addWidget(self.refresh_button)
        layout.addWidget(self.key_button)

        self._fill_providers()
        self._choose_first_usable("")
        self._emit_if_changed()

    # --- public ------------------------------------------------------------------------

    def provider(self) -> Provider:
        return self._catalog.get(self._current_provider_id())

    def model(self) -> Model:
        provider = self.provider()
        model_id = self._current_model_id()
        if not model_id:
            raise ConfigError(_("{name} has no models yet; add some in Settings › "
                                "Endpoints.").format(name=provider.name))
        return provider.model(model_id)

    def set_selection(self, provider_id: str, model_id: str) -> None:
        """Select a provider and model; unknown ones fall back to the first available
        (a provider that cannot be chosen leaves the choice as it is)."""
        if self._usable_provider(provider_id):
            self._provider_id = provider_id
            self._model_id = self._resolve_model(provider_id, model_id)
        elif not self._usable_provider(self._provider_id):
            self._choose_first_usable(model_id)
        self._show_choice()
        self._emit_if_changed()

    def choose(self, provider_id: str, model_id: str = "") -> None:
        """What picking a row in the list does (a provider alone: its first model)."""
        self.set_selection(provider_id, model_id)

    def open_picker(self) -> None:
        """The searchable list of every provider's models, under the chip."""
        self.picker.select(self._provider_id, self._model_id)
        self.picker.popup_below(self.chip, self.width())

    def refresh_catalog(self, catalog: Catalog) -> None:
        """Rebuild the lists (custom endpoints added or removed), keeping the choice."""
        provider_id, model_id = self._provider_id, self._model_id
        self._catalog = catalog
        self._fill_providers()
        if not self._usable_provider(provider_id):
            self._provider_id = ""
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
        self.note.show_message(_("Asking {endpoint_label} which models it serves…").format(
            endpoint_label=provider.endpoint_label),
                               "info")
        self._refreshing = start_task(self._lists.refresh_models(provider), self,
                                      lambda outcome, error: self._refreshed(
                                          provider, outcome, error))

    def _refreshed(self, provider: Provider, outcome: RefreshOutcome | None,
                   error: BaseException | None) -> None:
        self._refreshing = None
        failure = error or (outcome.error if outcome is not None else None)
        if self._lists is not None:
            self.refresh_catalog(self._lists.catalog)
            self.catalog_changed.emit()
        if failure is not None:
            kept = (_(" The list {age_text} is kept.").format(age_text=outcome.listing.age_text())
                    if outcome is not None and outcome.listing is not None
                    else _(" The catalog's models are shown."))
            self.note.show_message(explain(failure) + kept, "error")
        elif outcome is not None and outcome.listing is not None:
            self._show_new_models(provider, outcome)
        self.refresh_finished.emit(provider.id)

    def _show_new_models(self, provider: Provider, outcome: RefreshOutcome) -> None:
        assert outcome.listing is not None
        count = len(outcome.listing.ids)
        text = ngettext("{provider} lists {count} model.", "{provider} lists {count} models.",
                        count).format(provider=provider.endpoint_label, count=count)
        if outcome.new_ids:
            shown = ", ".join(outcome.new_ids[:6])
            more = _(" and {count} more").format(
                count=len(outcome.new_ids) - 6) if len(outcome.new_ids) > 6 else ""
            text += (_(" Not in the catalog: {shown}{more} — marked “guessed” in the model "
                       "list; their tooltips say what was guessed.").format(shown=shown, more=more))
        else:
            text += _(" The catalog knows them all.")
        self.note.show_message(text, "ok")

    def _model_menu(self, provider_id: str, model_id: str, pos: QPoint) -> None:
        """The list's context menu: whether that model sees images."""
        if (provider_id, model_id) != (self._provider_id, self._model_id):
            self.choose(provider_id, model_id)
        try:
            model = self.model()
        except ConfigError:
            return
        menu = QMenu(self)
        action = menu.addAction(_("Sees images"))
        action.setCheckable(True)
        action.setChecked(model.vision)
        action.setToolTip(vision_tooltip(model))
        action.toggled.connect(self.set_model_vision)
        menu.exec(pos)
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
        self.vision_button.setText(_(_VISION) + ("✎" if model.overridden else ""))
        self.vision_button.setToolTip(vision_tooltip(model))
        listed = bool(provider.models_path)
        self.refresh_button.setEnabled(listed and self._refreshing is None)
        if not listed:
            tip = (_("Refresh models: {name} has no model list (each of its models has its own "
                     "address).").format(name=provider.name))
        elif provider.listed_at:
            tip = (_("Refresh models: ask {name} which models it serves today. Last list: "
                     "{date} UTC, {count} models.").format(
                         name=provider.name, date=provider.listed_at.replace('T', ' ')[:16],
                         count=len(provider.listed)))
        else:
            tip = (_("Refresh models: ask {name} which models it serves today (never asked "
                     "yet).").format(name=provider.name))
        self.refresh_button.setToolTip(tip)

    def refresh_key_status(self) -> None:
        """Re-read where every provider's key comes from (after Settings › Keys)."""
        self._fill_providers()
        self._update_hints()

    # --- filling -----------------------------------------------------------------------

    def _groups(self) -> list[list[Provider]]:
        builtin = self._catalog.builtin()
        dashscope = [p for p in builtin if p.family == "dashscope"]
        others = [p for p in builtin if p.family != "dashscope"]
        return [group for group in (dashscope, others, self._catalog.custom()) if group]

    def _fill_providers(self) -> None:
        rows = []
        for group in self._groups():
            for provider in group:
                mark, tip = key_mark(self._keystore, provider)
                if not provider.models:
                    # Nothing to talk to until models are listed for it in settings.
                    mark, tip = _("no models"), (_("{name} lists no models yet; add them in "
                                                "Settings › Endpoints.").format(name=provider.name))
                models = list(provider.models)
                for extra in self._extra.get(provider.id, []):
                    if all(m.id != extra for m in models):
                        try:
                            models.append(provider.model(extra))
                        except ConfigError:
                            continue
                rows.append((provider, mark, tip, models))
        self.picker.fill(rows, (self._provider_id, self._model_id))

    def _usable_provider(self, provider_id: str) -> bool:
        if not provider_id:
            return False
        try:
            return bool(self._catalog.get(provider_id).models)
        except (ConfigError, KeyError):
            return False

    def _choose_first_usable(self, model_id: str) -> None:
        for group in self._groups():
            for provider in group:
                if provider.models:
                    self._provider_id = provider.id
                    self._model_id = self._resolve_model(provider.id, model_id)
                    self._show_choice()
                    return

    def _resolve_model(self, provider_id: str, wanted: str) -> str:
        """`wanted` when the provider has it (a dated snapshot or an id a custom endpoint
        serves is added to its list), else its first model."""
        provider = self._catalog.get(provider_id)
        if wanted and all(m.id != wanted for m in provider.models):
            try:
                provider.model(wanted)
            except ConfigError:
                wanted = ""
            else:
                extras = self._extra.setdefault(provider_id, [])
                if wanted not in extras:
                    extras.append(wanted)
                    self._fill_providers()
        if wanted:
            return wanted
        return provider.models[0].id if provider.models else ""

    # --- reacting ----------------------------------------------------------------------

    def _show_choice(self) -> None:
        """The chip: the model's name, elided in the middle, the full names as tooltip."""
        try:
            provider, model = self.provider(), self.model()
        except (ConfigError, KeyError):
            self.chip.setText(_("Choose a model"))
            return
        metrics = self.chip.fontMetrics()
        self.chip.setText(metrics.elidedText(model.label, Qt.TextElideMode.ElideMiddle,
                                             _CHIP_TEXT_WIDTH))
        self.picker.select(provider.id, model.id)
        if self._refreshing is None:
            self.note.clear_message()       # a note about the previous provider's list
        self._update_hints()

    def _emit_if_changed(self) -> None:
        pair = (self._provider_id, self._model_id)
        if pair != self._last and all(pair):
            self._last = pair
            self.selection_changed.emit(*pair)

    def _update_hints(self) -> None:
        provider_id = self._current_provider_id()
        if not provider_id:
            return
        provider = self._catalog.get(provider_id)
        _mark, tip = key_mark(self._keystore, provider)
        names = f"{provider.name} — {self._model_id}" if self._model_id else provider.name
        self.chip.setToolTip(_("{names}\n{tip}\nClick to choose another model (all providers, "
                               "searchable).").format(names=names, tip=tip))
        self.chip.setAccessibleDescription(f"{names}. {tip}")
        missing = self._keystore.source(provider) == "none" and not provider.key_optional
        self.key_button.setVisible(missing)
        self._update_vision_button()
        if provider.region:
            self.region_label.setText(_(provider.region))
            self.region_label.setToolTip(
                _("Region: {region}. Model Studio keys belong to one region: a key made in "
                  "Singapore does not work in Virginia or Beijing.").format(
                      region=_(provider.region)))
            self.region_label.show()
        else:
            self.region_label.clear()
            self.region_label.hide()

    def _current_provider_id(self) -> str:
        return self._provider_id

    def _current_model_id(self) -> str:
        return self._model_id
