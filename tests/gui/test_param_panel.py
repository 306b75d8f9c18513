"""The parameter panel follows what each provider and model accepts."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from qwenvl_desktop.core.api.types import ChatParams
from qwenvl_desktop.core.catalog import Catalog, load_builtin
from qwenvl_desktop.ui.param_panel import ParamPanel


@pytest.fixture
def catalog() -> Catalog:
    return load_builtin()


@pytest.fixture
def panel(qtbot: QtBot) -> ParamPanel:
    widget = ParamPanel()
    qtbot.addWidget(widget)
    return widget


def target(panel: ParamPanel, catalog: Catalog, provider_id: str, model_id: str) -> None:
    provider = catalog.get(provider_id)
    panel.set_target(provider, provider.model(model_id))


def test_segmind_disables_every_parameter(panel: ParamPanel, catalog: Catalog) -> None:
    target(panel, catalog, "ovh", "Qwen2.5-VL-72B-Instruct")
    panel.rows["temperature"].set_value(0.4)
    target(panel, catalog, "segmind", "qwen2p5-vl-32b-instruct")

    for name, row in panel.rows.items():
        assert not row.is_available(), name
        assert "Segmind documents only messages; no parameters are sent" in row.spin.toolTip()
        assert row.slider.toolTip() == row.check.toolTip() == row.spin.toolTip()
    assert not panel.thinking_check.isEnabled()
    assert not panel.high_res_check.isEnabled()
    assert panel.params() == ChatParams()


def test_dashscope_hybrid_model_offers_thinking_and_budget(
        panel: ParamPanel, catalog: Catalog, qtbot: QtBot) -> None:
    target(panel, catalog, "dashscope-intl", "qwen3-vl-plus")

    assert panel.thinking_check.isEnabled()
    assert not panel.thinking_check.isChecked()
    budget = panel.rows["thinking_budget"]
    assert not budget.is_available()
    assert "Turn thinking on" in budget.spin.toolTip()
    frequency = panel.rows["frequency_penalty"]
    assert not frequency.is_available()
    assert frequency.spin.toolTip() == (
        "qwen3-vl-plus on Alibaba Model Studio — Singapore has no frequency_penalty")
    assert panel.high_res_check.isEnabled()

    with qtbot.waitSignal(panel.changed):
        qtbot.mouseClick(panel.thinking_check, Qt.MouseButton.LeftButton)
    assert panel.thinking_check.isChecked()
    assert budget.is_available()
    budget.spin.setValue(2000)
    panel.high_res_check.setChecked(True)

    params = panel.params()
    assert params.thinking is True
    assert params.thinking_budget == 2000
    assert params.high_resolution is True
    assert params.frequency_penalty is None


def test_qvq_always_thinks_and_ignores_system_prompt(panel: ParamPanel,
                                                     catalog: Catalog) -> None:
    target(panel, catalog, "dashscope-intl", "qvq-max")

    assert panel.thinking_check.isChecked()
    assert not panel.thinking_check.isEnabled()
    assert "always thinks" in panel.thinking_check.toolTip()
    assert panel.rows["thinking_budget"].is_available()
    assert not panel.system_edit.isEnabled()
    assert "ignores system messages" in panel.system_edit.toolTip()
    assert panel.params().thinking is None      # nothing to switch: not sent


def test_non_thinking_model_has_no_thinking_controls(panel: ParamPanel,
                                                     catalog: Catalog) -> None:
    target(panel, catalog, "dashscope-intl", "qwen2.5-vl-72b-instruct")
    assert not panel.thinking_check.isEnabled()
    assert "has no thinking mode" in panel.thinking_check.toolTip()
    assert not panel.rows["thinking_budget"].is_available()


def test_ovh_has_no_high_resolution_mode(panel: ParamPanel, catalog: Catalog) -> None:
    target(panel, catalog, "ovh", "Qwen2.5-VL-72B-Instruct")
    assert not panel.high_res_check.isEnabled()
    assert panel.high_res_check.toolTip() == "no high-resolution mode on OVHcloud AI Endpoints"
    assert panel.rows["frequency_penalty"].is_available()
    assert panel.params().high_resolution is False


def test_ranges_follow_the_provider(panel: ParamPanel, catalog: Catalog) -> None:
    target(panel, catalog, "dashscope-intl", "qwen3-vl-plus")
    top_p = panel.rows["top_p"]
    assert 0 < top_p.spin.minimum() <= 0.01
    assert top_p.spin.maximum() == 1.0
    assert top_p.slider.minimum() == 1          # one step above the exclusive 0
    temperature = panel.rows["temperature"]
    assert temperature.spin.maximum() < 2.0     # [0, 2) on DashScope
    assert panel.rows["seed"].spin.minimum() == 0

    target(panel, catalog, "aimlapi", "alibaba/qwen3-vl-32b-instruct")
    assert panel.rows["seed"].spin.minimum() == 1
    assert panel.rows["seed"].slider.minimum() == 1
    assert panel.rows["top_p"].spin.minimum() == pytest.approx(0.01)
    assert panel.rows["temperature"].spin.maximum() == 2.0
    assert "[1, 2147483647]" in panel.rows["seed"].spin.toolTip()


def test_slider_and_spin_box_stay_in_sync(panel: ParamPanel, catalog: Catalog,
                                          qtbot: QtBot) -> None:
    target(panel, catalog, "ovh", "Qwen2.5-VL-72B-Instruct")
    row = panel.rows["temperature"]
    assert not row.check.isChecked()

    with qtbot.waitSignal(panel.changed):
        row.slider.setValue(150)
    assert row.spin.value() == pytest.approx(1.5)
    assert row.check.isChecked()                # touching a control means "send it"

    row.spin.setValue(0.35)
    assert row.slider.value() == 35

    row.spin.lineEdit().selectAll()
    qtbot.keyClicks(row.spin.lineEdit(), "1.25")
    qtbot.keyClick(row.spin.lineEdit(), Qt.Key.Key_Return)
    assert row.spin.value() == pytest.approx(1.25)
    assert row.slider.value() == 125
    assert panel.params().temperature == pytest.approx(1.25)

    row.check.setChecked(False)
    assert panel.params().temperature is None


def test_params_only_hold_accepted_values_and_come_back(panel: ParamPanel,
                                                        catalog: Catalog) -> None:
    target(panel, catalog, "ovh", "Qwen2.5-VL-72B-Instruct")
    panel.set_params(ChatParams(temperature=0.3, frequency_penalty=0.5, seed=42,
                                max_tokens=512))
    assert panel.params().frequency_penalty == pytest.approx(0.5)

    target(panel, catalog, "nebula", "Qwen/Qwen2.5-VL-7B-Instruct")
    params = panel.params()
    assert params.frequency_penalty is None
    assert params.seed is None
    assert params.temperature == pytest.approx(0.3)
    assert params.max_tokens == 512

    target(panel, catalog, "ovh", "Qwen2.5-VL-72B-Instruct")
    assert panel.params() == ChatParams(temperature=0.3, frequency_penalty=0.5, seed=42,
                                        max_tokens=512)


def test_set_params_round_trip_and_system_prompt(panel: ParamPanel, catalog: Catalog,
                                                 qtbot: QtBot) -> None:
    target(panel, catalog, "dashscope-intl", "qwen3-vl-plus")
    chosen = ChatParams(temperature=0.2, top_p=0.9, presence_penalty=-0.5, seed=7,
                        thinking=True, thinking_budget=1024, high_resolution=True,
                        top_k=20)
    with qtbot.assertNotEmitted(panel.changed):
        panel.set_params(chosen)
        panel.set_system_prompt("Answer in French.\nBe brief.")
    assert panel.params() == chosen
    assert panel.system_prompt() == "Answer in French.\nBe brief."

    panel.set_params(ChatParams())
    assert panel.params() == ChatParams()


def test_out_of_range_values_are_clamped_to_the_new_range(panel: ParamPanel,
                                                          catalog: Catalog) -> None:
    target(panel, catalog, "ovh", "Qwen2.5-VL-72B-Instruct")
    panel.set_params(ChatParams(seed=0))
    target(panel, catalog, "aimlapi", "alibaba/qwen3-vl-32b-instruct")
    assert panel.params().seed == 1
