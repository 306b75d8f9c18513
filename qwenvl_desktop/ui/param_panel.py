"""The parameter panel: sliders with exact, editable values, per conversation.

Every numeric parameter is a row of three controls: a check box named after the
parameter (ticked: send this value; unticked: let the provider use its default), a
slider, and a spin box showing the exact value. Moving either ticks the box. Ranges
come from the chosen provider's `ParamSpec` (exclusive bounds become the nearest
representable value inside them), and rows the provider or model does not take are
disabled with a tooltip that says why — values are then kept but not sent.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QObject, QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QDoubleSpinBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..core.api.types import ChatParams
from ..core.catalog import Model, ParamSpec, Provider
from ..core.i18n import N_, _
from ..core.presets import PRESET_NAMES, PresetFamily, family_for, matching_preset
from .theme.icons import icon
from .theme.tokens import LAYOUT, SPACE
from .widgets import HintLabel

__all__ = ["NumberRow", "ParamPanel"]

_SEED_MAX = 2**31 - 1


class NumberRow(QObject):
    """Check box + slider + spin box for one numeric parameter, kept in sync.

    `value()` is None while the box is unticked (provider default).
    """

    changed = Signal()

    def __init__(self, label: str, *, integer: bool, decimals: int = 2,
                 default: float = 0.0, fallback: tuple[float, float] = (0.0, 1.0),
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.integer = integer
        self.step = 1.0 if integer else 10.0 ** -decimals
        self.check = QCheckBox(label, parent)
        self.check.setAccessibleName(label)
        self.slider = QSlider(Qt.Orientation.Horizontal, parent)
        self.slider.setAccessibleName(_("{label} slider").format(label=label))
        self.spin = QDoubleSpinBox(parent)
        self.spin.setAccessibleName(_("{label} value").format(label=label))
        self.spin.setDecimals(0 if integer else decimals)
        self.spin.setSingleStep(self.step)
        self.spin.setKeyboardTracking(False)
        self.spin.setMinimumWidth(90)
        self._syncing = False
        self._reason = ""
        self._help = ""
        self.set_range(*fallback)
        self._show(default)
        self.check.toggled.connect(self._on_check)
        self.slider.valueChanged.connect(self._on_slider)
        self.spin.valueChanged.connect(self._on_spin)

    # --- range and value ---------------------------------------------------------------

    def set_range(self, lo: float, hi: float) -> None:
        current = self.spin.value()
        with QSignalBlocker(self.slider), QSignalBlocker(self.spin):
            self.spin.setRange(lo, hi)
            self.slider.setRange(self._position(lo), self._position(hi))
            span = self.slider.maximum() - self.slider.minimum()
            self.slider.setPageStep(max(1, span // 10))
            self._show(min(max(current, lo), hi))

    def set_spec(self, spec: ParamSpec, fallback: tuple[float, float]) -> None:
        """Follow a provider's range; exclusive bounds step one unit inside."""
        lo = spec.min if spec.min is not None else fallback[0]
        hi = spec.max if spec.max is not None else fallback[1]
        if spec.min_exclusive:
            lo += self.step
        if spec.max_exclusive:
            hi -= self.step
        self.set_range(lo, hi)
        self._help = _("Accepted range: {describe}").format(describe=self._describe(spec))
        self._update_tooltips()

    def _describe(self, spec: ParamSpec) -> str:
        """`ParamSpec.describe` with whole numbers written out (2147483647, not 2.1e+09)."""
        def num(value: float | None) -> str:
            if value is None:
                return "∞"
            return f"{value:.0f}" if self.integer or value == int(value) else f"{value:g}"
        lo = "(" if spec.min_exclusive else "["
        hi = ")" if spec.max_exclusive else "]"
        return f"{lo}{num(spec.min)}, {num(spec.max)}{hi}"

    def value(self) -> float | None:
        if not self.check.isChecked():
            return None
        return float(round(self.spin.value())) if self.integer else round(self.spin.value(), 6)

    def set_value(self, value: float | None) -> None:
        """Show `value` (clamped into range), or tick off for None (provider default)."""
        with QSignalBlocker(self.check):
            self.check.setChecked(value is not None)
        if value is not None:
            self._show(value)

    # --- enabling ----------------------------------------------------------------------

    def set_available(self, available: bool, reason: str = "") -> None:
        self._reason = "" if available else reason
        for widget in (self.check, self.slider, self.spin):
            widget.setEnabled(available)
        self._update_tooltips()

    def is_available(self) -> bool:
        return self.check.isEnabled()

    def _update_tooltips(self) -> None:
        tip = self._reason or (
            _("{help}. Ticked: this value is sent. Unticked: the provider's default is "
              "used.").format(help=self._help))
        for widget in (self.check, self.slider, self.spin):
            widget.setToolTip(tip)

    # --- syncing -----------------------------------------------------------------------

    def _position(self, value: float) -> int:
        return round(value / self.step)

    def _show(self, value: float) -> None:
        self._syncing = True
        try:
            self.spin.setValue(value)
            self.slider.setValue(self._position(self.spin.value()))
        finally:
            self._syncing = False

    def _on_slider(self, position: int) -> None:
        if self._syncing:
            return
        self._syncing = True
        try:
            self.spin.setValue(position * self.step)
        finally:
            self._syncing = False
        self._touched()

    def _on_spin(self, value: float) -> None:
        if self._syncing:
            return
        self._syncing = True
        try:
            self.slider.setValue(self._position(value))
        finally:
            self._syncing = False
        self._touched()

    def _touched(self) -> None:
        if not self.check.isChecked():
            with QSignalBlocker(self.check):
                self.check.setChecked(True)
        self.changed.emit()

    def _on_check(self) -> None:
        self.changed.emit()


# name on the wire → (label, integer, fallback range, shown default)
_ROWS: dict[str, tuple[str, bool, tuple[float, float], float]] = {
    "temperature": (N_("Temperature"), False, (0.0, 2.0), 0.7),
    "top_p": (N_("Top p"), False, (0.0, 1.0), 0.8),
    "max_tokens": (N_("Max tokens"), True, (1.0, 32768.0), 2048.0),
    "presence_penalty": (N_("Presence penalty"), False, (-2.0, 2.0), 0.0),
    "frequency_penalty": (N_("Frequency penalty"), False, (-2.0, 2.0), 0.0),
    "seed": (N_("Seed"), True, (0.0, float(_SEED_MAX)), 1.0),
    "thinking_budget": (N_("Thinking budget"), True, (1.0, 81920.0), 4096.0),
}


class ParamPanel(QWidget):
    """Request parameters and the system prompt for the current conversation.

    `changed()` fires on any edit. `params()` returns only what the target accepts;
    values of disabled rows are remembered and come back when the target takes them.
    """

    changed = Signal()
    thinking_state = Signal()
    """Whether thinking can be switched, and its state, may have changed (the composer's
    Thinking chip mirrors the panel's check box)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("paramPanel")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self._provider: Provider | None = None
        self._model: Model | None = None
        self._thinking_set = False
        # Accepted by ChatParams but without a control here; carried through unchanged.
        self._extra = ChatParams()

        grid = QGridLayout()
        grid.setColumnStretch(1, 1)
        grid.setHorizontalSpacing(SPACE.sm)
        self.rows: dict[str, NumberRow] = {}
        for line, (name, (label, integer, fallback, default)) in enumerate(_ROWS.items()):
            row = NumberRow(_(label), integer=integer, default=default, fallback=fallback,
                            parent=self)
            row.spin.setMinimumWidth(0)
            row.spin.setMaximumWidth(LAYOUT.spin_width)       # the slider gets the rest
            grid.addWidget(row.check, line, 0)
            grid.addWidget(row.slider, line, 1)
            grid.addWidget(row.spin, line, 2)
            row.changed.connect(self._on_changed)
            self.rows[name] = row
        self.thinking_check = QCheckBox(_("Thinking"), self)
        self.thinking_check.setAccessibleName(_("Thinking"))
        self.high_res_check = QCheckBox(_("High-resolution images"), self)
        self.high_res_check.setAccessibleName(_("High-resolution images"))

        title = QLabel(_("Parameters"), self)
        title.setProperty("role", "subtitle")
        # Presets first: three sensible starting points for the model's family.
        self.preset_buttons: dict[str, QPushButton] = {}
        presets = QHBoxLayout()
        presets.setSpacing(SPACE.xs)
        group = QButtonGroup(self)
        group.setExclusive(False)
        for name in PRESET_NAMES:
            button = QPushButton(_(name), self)
            button.setProperty("role", "segment")
            button.setCheckable(True)
            button.setAccessibleName(_("{name} preset").format(name=_(name)))
            button.clicked.connect(lambda _checked=False, n=name: self.apply_preset(n))
            group.addButton(button)
            presets.addWidget(button)
            self.preset_buttons[name] = button
        self.preset_note = QLabel(self)
        self.preset_note.setProperty("role", "caption")
        self.preset_note.setWordWrap(True)

        self.system_label = QLabel(_("&System prompt"), self)
        self.system_label.setProperty("role", "section")
        self.system_edit = QPlainTextEdit(self)
        self.system_edit.setAccessibleName(_("System prompt"))
        self.system_edit.setPlaceholderText(_("Instructions for the model (optional)"))
        self.system_edit.setTabChangesFocus(True)
        self.system_edit.setMinimumHeight(60)
        self.system_label.setBuddy(self.system_edit)

        # Every value behind a disclosure; the ones sent instead of the provider's
        # default are marked (and counted on the disclosure itself).
        self.details_button = QToolButton(self)
        self.details_button.setProperty("role", "disclosure")
        self.details_button.setCheckable(True)
        self.details_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.details_button.setAccessibleName(_("Detailed parameters"))
        self.details = QWidget(self)
        self.hint = HintLabel(_("Ticked values are sent; unticked ones use the provider's "
                                "default."), self.details)
        details_layout = QVBoxLayout(self.details)
        details_layout.setContentsMargins(0, 0, 0, 0)
        details_layout.addWidget(self.hint)
        details_layout.addLayout(grid)
        self.details.hide()
        self.details_button.toggled.connect(self._show_details)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(SPACE.lg, SPACE.md, SPACE.lg, SPACE.md)
        layout.setSpacing(SPACE.sm)
        layout.addWidget(title)
        layout.addLayout(presets)
        layout.addWidget(self.preset_note)
        layout.addSpacing(SPACE.xs)
        layout.addWidget(self.thinking_check)
        layout.addWidget(self.high_res_check)
        layout.addSpacing(SPACE.xs)
        layout.addWidget(self.system_label)
        layout.addWidget(self.system_edit, 1)
        layout.addWidget(self.details_button)
        layout.addWidget(self.details)
        self._show_details(False)

        self.thinking_check.toggled.connect(self._on_thinking)
        self.high_res_check.toggled.connect(self._on_changed)
        self.system_edit.textChanged.connect(self._on_changed)
        self._apply_availability()

    # --- target ------------------------------------------------------------------------

    def set_target(self, provider: Provider, model: Model) -> None:
        """Adapt ranges and enabled controls to what `provider` and `model` take."""
        self._provider = provider
        self._model = model
        for name, row in self.rows.items():
            spec = provider.params.get(name)
            if spec is not None:
                row.set_spec(spec, _ROWS[name][2])
        self._apply_availability()
        self._update_marks()

    def _apply_availability(self) -> None:
        model = self._model
        for name, row in self.rows.items():
            row.set_available(*self._availability(name))
        ok, why = self._availability("enable_thinking")
        self.thinking_check.setEnabled(ok)
        self.thinking_check.setToolTip(why or _("Let the model reason before it answers (shown "
                                                "apart from the answer)."))
        if model is not None and model.thinking == "always":
            with QSignalBlocker(self.thinking_check):
                self.thinking_check.setChecked(True)
        elif model is not None and not ok:
            with QSignalBlocker(self.thinking_check):
                self.thinking_check.setChecked(False)
        ok, why = self._availability("vl_high_resolution_images")
        self.high_res_check.setEnabled(ok)
        self.high_res_check.setToolTip(
            why or _("Let each image use up to the model's high-resolution token cap (more "
                     "detail, more tokens)."))
        system_ok = model is None or model.accepts_system
        self.system_edit.setEnabled(system_ok)
        why_system = "" if system_ok or model is None else (
            _("{id} ignores system messages").format(id=model.id))
        self.system_edit.setToolTip(why_system)
        self.system_label.setToolTip(why_system)
        self.thinking_state.emit()

    def _availability(self, name: str) -> tuple[bool, str]:
        """Whether the target takes `name` (wire name), and if not, why not."""
        provider, model = self._provider, self._model
        if provider is None or model is None:
            return True, ""
        if not provider.params:
            return False, (_("{name} documents only messages; no parameters are sent").format(
                name=provider.name))
        if name == "enable_thinking":
            if model.thinking == "none":
                return False, _("{id} has no thinking mode").format(id=model.id)
            if model.thinking == "always":
                return False, _("{id} always thinks; thinking cannot be turned off").format(
                    id=model.id)
            if not provider.accepts("enable_thinking"):
                return False, _("{name} has no switch for thinking").format(name=provider.name)
            return True, ""
        if name == "thinking_budget":
            if model.thinking == "none":
                return False, _("{id} has no thinking mode, so no thinking budget").format(
                    id=model.id)
            if not provider.accepts(name):
                return False, _("{id} on {name} has no thinking_budget").format(
                    id=model.id, name=provider.name)
            if model.thinking == "optional" and not self.thinking_check.isChecked():
                return False, _("Turn thinking on to set its budget")
            return True, ""
        if name == "vl_high_resolution_images":
            if not provider.accepts(name):
                return False, _("no high-resolution mode on {name}").format(name=provider.name)
            if not model.high_res_token_cap:
                return False, _("{id} has no high-resolution mode").format(id=model.id)
            return True, ""
        if not provider.accepts(name):
            return False, _("{id} on {name} has no {name2}").format(
                id=model.id, name=provider.name, name2=name)
        return True, ""

    # --- values ------------------------------------------------------------------------

    def params(self) -> ChatParams:
        """The values to send: only those the target accepts and the person set."""
        values: dict[str, float | None] = {}
        for name, row in self.rows.items():
            values[name] = row.value() if row.is_available() else None

        def as_int(value: float | None) -> int | None:
            return None if value is None else int(value)

        thinking: bool | None = None
        if self.thinking_check.isEnabled() and self._thinking_set:
            thinking = self.thinking_check.isChecked()
        extra = self._extra
        accepts = self._provider.accepts if self._provider else (lambda _n: True)
        return ChatParams(
            temperature=values["temperature"],
            top_p=values["top_p"],
            max_tokens=as_int(values["max_tokens"]),
            presence_penalty=values["presence_penalty"],
            frequency_penalty=values["frequency_penalty"],
            seed=as_int(values["seed"]),
            thinking=thinking,
            thinking_budget=as_int(values["thinking_budget"]),
            high_resolution=self.high_res_check.isEnabled() and self.high_res_check.isChecked(),
            top_k=extra.top_k if accepts("top_k") else None,
            repetition_penalty=(extra.repetition_penalty
                                if accepts("repetition_penalty") else None),
            stop=extra.stop if accepts("stop") else (),
        )

    def set_params(self, params: ChatParams) -> None:
        """Show a conversation's values (None = provider default); emits no `changed`."""
        with QSignalBlocker(self):
            for name, row in self.rows.items():
                value = getattr(params, name)
                row.set_value(None if value is None else float(value))
            self._thinking_set = params.thinking is not None
            with QSignalBlocker(self.thinking_check):
                if self.thinking_check.isEnabled() or params.thinking is not None:
                    self.thinking_check.setChecked(bool(params.thinking))
            with QSignalBlocker(self.high_res_check):
                self.high_res_check.setChecked(params.high_resolution)
            self._extra = replace(ChatParams(), top_k=params.top_k,
                                  repetition_penalty=params.repetition_penalty,
                                  stop=params.stop)
            self._apply_availability()
        self._update_marks()

    def high_resolution(self) -> bool:
        """Whether images will be sent in high-resolution mode (affects token estimates)."""
        return self.params().high_resolution

    def system_prompt(self) -> str:
        return self.system_edit.toPlainText()

    def set_system_prompt(self, text: str) -> None:
        with QSignalBlocker(self.system_edit):
            self.system_edit.setPlainText(text)

    # --- reacting ----------------------------------------------------------------------

    def _on_thinking(self) -> None:
        self._thinking_set = True
        self._apply_availability()
        self._on_changed()

    def _on_changed(self) -> None:
        self._update_marks()
        self.changed.emit()

    # --- presets and marks ----------------------------------------------------------------

    def _family(self) -> PresetFamily | None:
        model = self._model
        if model is None:
            return None
        thinking = model.thinking == "always" or (
            model.thinking == "optional" and (self.thinking_check.isChecked()
                                              if self._thinking_set
                                              else model.thinking_default))
        return family_for(model.id, thinking)

    def apply_preset(self, name: str) -> None:
        """Set the family's values for `name` (those the target takes); the other
        sampling values go back to the provider's default."""
        family = self._family()
        if family is None:
            return
        values = family.preset(name).as_dict()
        with QSignalBlocker(self):
            for key in ("temperature", "top_p", "presence_penalty"):
                row = self.rows[key]
                row.set_value(values.get(key) if row.is_available() else None)
        self._on_changed()

    def active_preset(self) -> str | None:
        family = self._family()
        if family is None:
            return None
        values = {name: row.value() for name, row in self.rows.items()
                  if row.is_available()}
        accepted = {name for name, row in self.rows.items() if row.is_available()}
        return matching_preset(family, values, accepted)

    def _update_marks(self) -> None:
        """Check the preset the values match; mark each value sent (not the default)."""
        active = self.active_preset()
        for name, button in self.preset_buttons.items():
            button.setChecked(name == active)
        sent = 0
        for row in self.rows.values():
            changed = row.value() is not None and row.is_available()
            sent += changed
            if bool(row.check.property("changed")) != changed:
                row.check.setProperty("changed", changed)
                row.check.style().unpolish(row.check)
                row.check.style().polish(row.check)
        family = self._family()
        if family is None:
            self.preset_note.setText("")
        elif not sent:
            self.preset_note.setText(_("The provider's defaults. Presets suit {name}.").format(
                name=_(family.name)))
        elif active is None:
            self.preset_note.setText(_("Your own values ({name}).").format(name=_(family.name)))
        else:
            self.preset_note.setText(_("{active} values for {name}.").format(
                active=_(active), name=_(family.name)))
        self.details_button.setText(_("Detailed parameters — provider defaults") if not sent
                                    else _("Detailed parameters — {sent} set by you").format(
                                        sent=sent))
        self.details_button.setToolTip(_("Every parameter, with its exact value. Marked values "
                                         "are sent instead of the provider's default."))

    def _show_details(self, shown: bool) -> None:
        self.details.setVisible(shown)
        self.details_button.setIcon(icon("expand" if shown else "collapse"))
