"""The model bar's live model lists on the real window: Refresh without blocking, guessed
models marked with what was guessed, bad listings explained, vision switched by hand."""

from __future__ import annotations

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from window_harness import (  # noqa: F401 - fixtures are found by name
    close_window,
    make_services,
    open_window,
    provider_server_fixture,
    server_fixture,
    window_fixture,
)

from qwenvl_desktop.core.settings import Settings
from qwenvl_desktop.testing.provider_server import ProviderServer
from qwenvl_desktop.ui.main_window import MainWindow

LISTED = ["qwen3-vl-plus", "qwen3.5-plus", "qwen3.9-plus", "text-embedding-v4",
          "wan2.5-t2i-preview"]


def captions(window: MainWindow) -> dict[str, str]:
    bar = window.model_bar
    return bar.picker.model_captions(bar.provider().id)


def refresh(qtbot: QtBot, window: MainWindow) -> None:
    bar = window.model_bar
    with qtbot.waitSignal(bar.refresh_finished, timeout=15000):
        qtbot.mouseClick(bar.refresh_button, Qt.MouseButton.LeftButton)


def test_refresh_lists_new_models_marked_as_guessed(qtbot: QtBot, window: MainWindow,
                                                     server: ProviderServer) -> None:
    server.listing["dashscope"] = LISTED
    bar = window.model_bar
    assert bar.refresh_button.isVisible()
    assert bar.refresh_button.isEnabled()
    assert "never asked yet" in bar.refresh_button.toolTip()
    refresh(qtbot, window)
    shown = captions(window)
    assert shown["qwen3.9-plus"] == "qwen3.9-plus · thinks by default · guessed"
    assert "text-embedding-v4" not in shown
    assert "wan2.5-t2i-preview" not in shown
    assert "guessed" not in shown["qwen3.5-plus"]
    tip = bar.picker.model_tooltip("dashscope-intl", "qwen3.9-plus")
    assert "guessed from its name" in tip
    assert "*qwen3.[5-9]*" in tip
    assert "sees images" in tip
    assert "boxes in thousandths" in tip
    assert bar.note.isVisible()
    assert "qwen3.9-plus" in bar.note.text()
    assert "Last list:" in bar.refresh_button.toolTip()
    # The new model can be chosen and used like any other.
    bar.set_selection("dashscope-intl", "qwen3.9-plus")
    assert bar.model().id == "qwen3.9-plus"
    assert bar.model().guessed
    assert bar.vision_button.isChecked()
    assert "guessed from its name" in bar.vision_button.toolTip()


def test_refresh_does_not_block_the_window(qtbot: QtBot, server: ProviderServer,
                                           qasync_loop: object) -> None:
    window = open_window(qtbot, make_services(server, read_timeout=30.0))
    try:
        server.models_fault = "stall"
        bar = window.model_bar
        qtbot.mouseClick(bar.refresh_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: server.stalls >= 1, timeout=10000)
        assert bar.refreshing
        assert not bar.refresh_button.isEnabled()
        assert "Asking" in bar.note.text()
        # Meanwhile the window answers: typing goes into the composer.
        window.composer.input.setFocus()
        qtbot.keyClicks(window.composer.input, "still typing")
        assert "still typing" in window.composer.input.toPlainText()
        with qtbot.waitSignal(bar.refresh_finished, timeout=15000):
            server.release_stalls()
        assert not bar.refreshing
        assert bar.refresh_button.isEnabled()
        assert bar.note.kind == "error"
    finally:
        close_window(qtbot, window)


def test_a_bad_listing_is_explained_and_the_previous_list_stays(
        qtbot: QtBot, window: MainWindow, server: ProviderServer) -> None:
    server.listing["dashscope"] = LISTED
    refresh(qtbot, window)
    for fault, words in (("html", "answered with a web page"), ("empty", "listed no models"),
                         ("unauthorized", "Settings › Keys")):
        server.models_fault = fault
        refresh(qtbot, window)
        note = window.model_bar.note
        assert note.kind == "error", fault
        assert words in note.text()
        assert "is kept" in note.text()
        assert "qwen3.9-plus" in captions(window)        # the previous list is still there


def test_vision_can_be_switched_per_model_and_is_remembered(
        qtbot: QtBot, window: MainWindow, server: ProviderServer) -> None:
    server.listing["dashscope"] = LISTED
    refresh(qtbot, window)
    bar = window.model_bar
    bar.set_selection("dashscope-intl", "qwen3.9-plus")
    with qtbot.waitSignal(bar.catalog_changed):
        qtbot.mouseClick(bar.vision_button, Qt.MouseButton.LeftButton)
    assert not bar.model().vision
    assert captions(window)["qwen3.9-plus"].startswith("qwen3.9-plus (text only)")
    assert "you set this" in bar.vision_button.toolTip()
    assert bar.vision_button.text() == "Images✎"
    saved, _ = Settings.load()
    assert saved.vision_overrides == {"dashscope-intl": {"qwen3.9-plus": False}}
    assert not window.services.catalog.get("dashscope-intl").model("qwen3.9-plus").vision
    # Switching back goes back to the guess and forgets the choice.
    with qtbot.waitSignal(bar.catalog_changed):
        qtbot.mouseClick(bar.vision_button, Qt.MouseButton.LeftButton)
    assert bar.model().vision
    assert Settings.load()[0].vision_overrides == {}


def test_providers_without_a_list_cannot_be_refreshed(qtbot: QtBot, window: MainWindow) -> None:
    bar = window.model_bar
    bar.set_selection("segmind", "qwen2p5-vl-32b-instruct")
    assert not bar.refresh_button.isEnabled()
    assert "no model list" in bar.refresh_button.toolTip()


def test_a_catalog_models_vision_is_switched_from_the_lists_menu(
        qtbot: QtBot, window: MainWindow) -> None:
    bar = window.model_bar
    bar.set_selection("dashscope-intl", "qwen3-vl-plus")
    assert not bar.vision_button.isVisible()          # documented: no switch in the way
    assert bar.picker.tree.contextMenuPolicy() == Qt.ContextMenuPolicy.CustomContextMenu
    with qtbot.waitSignal(bar.catalog_changed):
        bar.set_model_vision(False)                   # what the menu's action does
    assert not bar.model().vision
    assert bar.vision_button.isVisible()
    assert "you set this" in bar.vision_button.toolTip()
    assert "back to the catalog" in bar.vision_button.toolTip()
    assert Settings.load()[0].vision_overrides == {"dashscope-intl": {"qwen3-vl-plus": False}}
