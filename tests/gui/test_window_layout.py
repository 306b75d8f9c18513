"""The window fits any screen: at 760 px the list and the parameters are drawers over the
chat; at 1920 px they sit beside it. And the model picker finds models by any name."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot
from window_harness import (  # noqa: F401 - fixtures are found by name
    provider_server_fixture,
    server_fixture,
    window_fixture,
)

from qwenvl_desktop.ui.main_window import MainWindow
from qwenvl_desktop.ui.theme.tokens import LAYOUT


def resize(qtbot: QtBot, window: MainWindow, width: int, height: int) -> None:
    window.resize(width, height)
    qtbot.waitUntil(lambda: window.width() == width and window.height() == height)
    QApplication.processEvents()


def docked(window: MainWindow, widget: QWidget) -> bool:
    splitter = window.splitter
    return any(splitter.widget(i) is widget for i in range(splitter.count())) and (
        widget.isVisible())


def test_the_window_shrinks_to_half_a_small_screen(qtbot: QtBot, window: MainWindow) -> None:
    resize(qtbot, window, 1920, 1080)
    # With the default panels, nothing stops the window from being 683 px (half of 1366).
    assert window.minimumSizeHint().width() <= 683
    resize(qtbot, window, 683, 700)
    assert window.width() == 683
    resize(qtbot, window, 760, 700)
    assert not docked(window, window.conversation_list)
    assert not window.conversation_list.isVisible()
    assert not window.param_panel.isVisible()
    chat = window.transcript.mapTo(window, window.transcript.rect().topLeft())
    assert chat.x() < 40                     # the chat has the whole width
    assert window.composer.send_button.isVisible()
    assert window.model_bar.chip.isVisible()


def test_narrow_drawers_open_over_the_chat_and_close(qtbot: QtBot, window: MainWindow) -> None:
    resize(qtbot, window, 760, 700)
    width_before = window.width()
    window.action("toggle_list").trigger()
    panel = window.conversation_list
    assert panel.isVisible()
    assert not docked(window, panel)
    assert panel.geometry().left() == 0
    assert panel.width() == LAYOUT.sidebar_width
    assert window.width() == width_before            # over the chat, not beside it
    # Choosing a conversation closes the drawer.
    panel.open_requested.emit(panel.ids()[0])
    assert not panel.isVisible()
    assert not window.action("toggle_list").isChecked()

    window.action("toggle_params").trigger()
    drawer = window.param_panel
    assert drawer.isVisible()
    assert drawer.geometry().right() == window.centralWidget().width() - 1
    assert window.width() == width_before
    window.action("toggle_params").trigger()
    assert not drawer.isVisible()


def test_wide_panels_dock_beside_the_chat(qtbot: QtBot, window: MainWindow) -> None:
    resize(qtbot, window, 760, 700)
    resize(qtbot, window, 1920, 1080)
    # The list comes back where it was; the parameters stay closed until asked for.
    assert docked(window, window.conversation_list)
    assert not window.param_panel.isVisible()
    window.action("toggle_params").trigger()
    QApplication.processEvents()
    assert docked(window, window.param_panel)
    chat_right = window.transcript.mapTo(window, window.transcript.rect().topRight()).x()
    assert chat_right < window.param_panel.mapTo(window, window.param_panel.rect().topLeft()).x()
    # Closed, the drawer costs no width: the chat takes it back.
    before = window.transcript.width()
    window.action("toggle_params").trigger()
    QApplication.processEvents()
    assert window.transcript.width() > before


def test_the_model_picker_searches_every_provider(qtbot: QtBot, window: MainWindow) -> None:
    bar = window.model_bar
    picker = bar.picker
    bar.open_picker()
    qtbot.waitUntil(picker.isVisible)
    assert picker.search.hasFocus()
    assert picker.width() >= 640                       # full names, not "…Singapor"
    qtbot.keyClicks(picker.search, "72b ovh")
    assert picker.visible_models() == [("ovh", "Qwen2.5-VL-72B-Instruct")]
    with qtbot.waitSignal(bar.selection_changed) as blocker:
        qtbot.keyClick(picker.search, Qt.Key.Key_Return)
    assert blocker.args == ["ovh", "Qwen2.5-VL-72B-Instruct"]
    assert not picker.isVisible()
    assert "OVHcloud AI Endpoints — Qwen2.5-VL-72B-Instruct" in bar.chip.toolTip()


def test_picker_rows_show_capabilities_and_context(window: MainWindow) -> None:
    picker = window.model_bar.picker
    assert picker.model_badges("dashscope-intl", "qwen3-vl-plus") == [
        "Vision", "Thinking", "Video", "Grounding"]
    assert "262K context" in picker.model_detail("dashscope-intl", "qwen3-vl-plus")
    assert "Thinking" not in picker.model_badges("ovh", "Qwen2.5-VL-72B-Instruct")


def test_the_thinking_chip_is_the_parameter(qtbot: QtBot, window: MainWindow) -> None:
    window.model_bar.set_selection("dashscope-intl", "qwen3-vl-plus")
    chip, box = window.composer.thinking_button, window.param_panel.thinking_check
    assert chip.isEnabled()
    assert chip.isChecked() == box.isChecked()
    qtbot.mouseClick(chip, Qt.MouseButton.LeftButton)
    assert box.isChecked()
    assert window.param_panel.params().thinking is True
    window.model_bar.set_selection("ovh", "Qwen2.5-VL-72B-Instruct")
    assert not chip.isEnabled()
    assert chip.toolTip() == box.toolTip()


def test_a_preset_sets_the_family_values_and_marks_them(window: MainWindow) -> None:
    window.model_bar.set_selection("dashscope-intl", "qwen3-vl-32b-instruct")
    panel = window.param_panel
    panel.apply_preset("Balanced")
    params = panel.params()
    assert (params.temperature, params.top_p, params.presence_penalty) == (0.7, 0.8, 1.5)
    assert panel.preset_buttons["Balanced"].isChecked()
    assert panel.rows["temperature"].check.property("changed") is True
    assert not panel.rows["seed"].check.property("changed")
    assert "3 set by you" in panel.details_button.text()
    panel.rows["temperature"].spin.setValue(0.9)           # the person's own mix now
    assert not any(b.isChecked() for b in panel.preset_buttons.values())
    assert window.current_conversation().params.temperature == 0.9


def test_the_composer_keeps_to_the_reading_column(qtbot: QtBot, window: MainWindow) -> None:
    resize(qtbot, window, 1920, 1080)
    field = window.composer.frame
    qtbot.waitUntil(lambda: field.width() <= LAYOUT.reading_width)
    left = field.mapTo(window.composer, field.rect().topLeft()).x()
    right_gap = window.composer.width() - left - field.width()
    assert abs(left - right_gap) <= 1                # centred under the transcript
    assert field.width() >= LAYOUT.reading_width - 2
    resize(qtbot, window, 760, 700)
    # Narrow: the field takes the whole width but for the usual margin.
    qtbot.waitUntil(lambda: field.width() > window.composer.width() - 2 * LAYOUT.send_button)


def test_the_region_gives_way_with_an_ellipsis(qtbot: QtBot, window: MainWindow) -> None:
    label = window.model_bar.region_label
    full = label.text()
    assert full
    assert label.shown_text() == full                # room enough by default
    label.resize(label.fontMetrics().horizontalAdvance(full) // 2, label.height())
    assert label.shown_text().endswith("…")
    assert full.startswith(label.shown_text()[:-1])
    assert label.text() == full                      # only the drawing is shortened
    assert full in label.toolTip()
