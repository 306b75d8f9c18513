"""Keyboard and screen-reader access to the real window, against the loopback server.

The accessibility tree (what a screen reader reads) is walked in every state a test
reaches cheaply and must name every control a person operates; a whole turn — attach,
ask, stop, regenerate, save — is done with key events only, a filter counting any
mouse event the window or its dialogs receive.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from accessibility_tree import unnamed_controls, walk
from PIL import Image
from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot
from scripted_dialogs import ScriptedDialogs
from window_harness import (
    close_window,
    make_services,
    open_window,
    provider_server_fixture,
    send,
    server_fixture,
    wait_answer,
    window_fixture,
)

from qwenvl_desktop.testing.provider_server import ProviderServer, Script
from qwenvl_desktop.ui import accessibility_text as text
from qwenvl_desktop.ui.image_viewer import GroundingViewer
from qwenvl_desktop.ui.main_window import MainWindow
from qwenvl_desktop.ui.shortcuts_dialog import ShortcutsDialog, shortcut_rows
from qwenvl_desktop.ui.transcript_keys import message_links

__all__ = ["provider_server_fixture", "server_fixture", "window_fixture"]

pytestmark = pytest.mark.gui

LOCATED = ('Found:\n```json\n[{"bbox_2d": [100, 100, 400, 400], "label": "cat"},\n'
           ' {"bbox_2d": [500, 500, 900, 900], "label": "dog"}]\n```')


def _png(size: tuple[int, int] = (320, 240)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 120, 40)).save(buffer, "PNG")
    return buffer.getvalue()


def _problems(root: QObject) -> list[str]:
    return [f"{node.role.name} at {node.path}" for node in unnamed_controls(root)]


def _focus() -> QWidget | None:
    return QApplication.focusWidget()


def _key(key: Qt.Key, modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier
         ) -> None:
    """A key press where a person's would go: to the focused widget."""
    target = _focus() or QApplication.activeWindow()
    assert target is not None
    QTest.keyClick(target, key, modifier)


class MouseCounter(QObject):
    """Counts every mouse event any widget of the application receives."""

    KINDS = frozenset({QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonRelease,
                       QEvent.Type.MouseButtonDblClick, QEvent.Type.MouseMove,
                       QEvent.Type.Wheel})

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def eventFilter(self, _watched: QObject, event: QEvent) -> bool:
        if event.type() in self.KINDS:
            self.count += 1
        return False


# --- the accessibility tree ----------------------------------------------------------


def test_first_run_names_every_control(qtbot: QtBot, qasync_loop: object,
                                       server: ProviderServer) -> None:
    window = open_window(qtbot, make_services(server, keys=False))
    try:
        assert window.stack.currentWidget() is window.welcome
        assert len(walk(window)) > 50          # the walk reaches into the panes
        assert _problems(window) == []
    finally:
        close_window(qtbot, window)


def test_every_state_names_every_control(qtbot: QtBot, window: MainWindow,
                                         server: ProviderServer) -> None:
    # A conversation with an image and an answer that located things.
    window.composer.add_image_bytes(_png(), "kitchen.png")
    server.enqueue(Script(content=LOCATED))
    send(qtbot, window, "Where are the animals?")
    wait_answer(qtbot, window)
    assert _problems(window) == []
    # Both drawers open, docked in a wide window…
    window.resize(1800, 900)
    window.action("toggle_params").setChecked(True)
    qtbot.waitUntil(lambda: window.param_panel.isVisible())
    assert _problems(window) == []
    # …and over the chat in a narrow one.
    window.resize(700, 800)
    window.action("toggle_list").setChecked(True)
    qtbot.waitUntil(lambda: window.conversation_list.isVisible())
    assert _problems(window) == []
    window.action("toggle_params").setChecked(False)
    window.resize(1400, 900)
    # The model picker (a popup window of its own).
    window.action("model_picker").trigger()
    picker = window.model_bar.picker
    qtbot.waitUntil(picker.isVisible)
    assert _problems(picker) == []
    picker.hide()
    # The viewer of what the answer located.
    window.action("open_viewer").trigger()
    qtbot.waitUntil(lambda: window.findChild(GroundingViewer) is not None)
    viewer = window.findChild(GroundingViewer)
    assert viewer is not None
    qtbot.waitExposed(viewer)
    assert _problems(viewer) == []
    viewer.close()
    # Help › Keyboard Shortcuts.
    window.action("shortcuts").trigger()
    dialog = window.findChild(ShortcutsDialog)
    assert dialog is not None
    assert _problems(dialog) == []
    dialog.close()


def test_a_nameless_control_is_found(qtbot: QtBot, window: MainWindow) -> None:
    """The walk is not blind: an icon button without a name is reported."""
    window.composer.attach_button.setAccessibleName("")
    assert any("QToolButton" in problem for problem in _problems(window))


def test_transcript_images_have_name_and_size_as_alternative_text(
        qtbot: QtBot, window: MainWindow, server: ProviderServer) -> None:
    window.composer.add_image_bytes(_png((320, 240)), "receipt.png")
    send(qtbot, window, "Read it")
    wait_answer(qtbot, window)
    html = window.transcript.toHtml()
    assert 'alt="Image receipt.png, 320×240 pixels, ' in html
    conv = window.current_conversation()
    assert conv is not None
    question = next(m for m in conv.messages if m.role == "user")
    links = dict((href, label) for label, href in message_links(
        window.transcript, window.transcript.message_span(question.id)[0]))  # type: ignore[index]
    image_link = next(href for href in links if href.startswith(("image:", "grounding:")))
    assert "receipt.png, 320×240 pixels" in links[image_link]


def test_an_answer_is_announced_once_when_it_ends(
        qtbot: QtBot, window: MainWindow, server: ProviderServer) -> None:
    said = window.access.announcer.said
    words = " ".join(f"w{i}" for i in range(80))
    server.enqueue(Script(content=words, tokens_per_second=400))
    send(qtbot, window, "Count")
    qtbot.waitUntil(lambda: window.transcript.streaming_message_id is not None)
    assert window.transcript.accessibleDescription() == text.TRANSCRIPT_WRITING
    wait_answer(qtbot, window)
    # 80 tokens streamed, one sentence spoken, at the end.
    assert said == [text.answer_announcement(text.ANSWER_FINISHED, "qwen3-vl-plus", 80)]
    assert window.transcript.accessibleDescription() == text.TRANSCRIPT_DESCRIPTION


# --- keyboard paths --------------------------------------------------------------------


def test_tab_goes_through_the_panes_in_reading_order(qtbot: QtBot,
                                                     window: MainWindow) -> None:
    window.resize(1400, 900)
    window.activateWindow()
    window.conversation_list.search_edit.setFocus()
    seen: list[str] = []
    panes = {"list": window.conversation_list, "header": window.header,
             "transcript": window.transcript, "composer": window.composer}
    for _ in range(40):
        focus = _focus()
        pane = next((name for name, widget in panes.items()
                     if focus is widget or (focus is not None and widget.isAncestorOf(focus))),
                    None)
        if pane is not None and (not seen or seen[-1] != pane):
            seen.append(pane)
        _key(Qt.Key.Key_Tab)
    assert seen[:4] == ["list", "header", "transcript", "composer"]
    # F6 from the message field goes round to the list, Shift+F6 back.
    window.composer.focus_input()
    _key(Qt.Key.Key_F6)
    assert window.conversation_list.isAncestorOf(_focus())
    _key(Qt.Key.Key_F6, Qt.KeyboardModifier.ShiftModifier)
    assert window.composer.isAncestorOf(_focus())


def test_message_actions_by_keyboard(qtbot: QtBot, window: MainWindow,
                                     server: ProviderServer) -> None:
    """Tab reaches the transcript's links; Enter follows the focused one."""
    server.enqueue(Script(content="The answer to copy."))
    send(qtbot, window, "Question")
    wait_answer(qtbot, window)
    transcript = window.transcript
    transcript.setFocus()
    QGuiApplication.clipboard().clear()
    conv = window.current_conversation()
    assert conv is not None
    answer_copy = f"msg-copy:{conv.messages[-1].id}"
    described: list[str] = []
    for _ in range(12):
        _key(Qt.Key.Key_Tab)
        if _focus() is not transcript:
            break
        described.append(transcript.accessibleDescription())
        if window.access.transcript_keys.focused_link() == answer_copy:
            break
    assert text.LINK_DESCRIPTIONS["msg-edit"] in described      # the question's links
    assert _focus() is transcript
    _key(Qt.Key.Key_Return)
    assert QGuiApplication.clipboard().text() == "The answer to copy."
    # The Menu key lists the actions of the message at the cursor.
    _key(Qt.Key.Key_Menu)
    menu = window.access.transcript_keys.menu
    assert menu is not None
    qtbot.waitUntil(menu.isVisible)
    labels = [action.text() for action in menu.actions()]
    assert any(text.LINK_DESCRIPTIONS["msg-regen"] in label for label in labels)
    assert any(text.LINK_DESCRIPTIONS["msg-delete"] in label for label in labels)
    menu.close()


def test_viewer_boxes_by_keyboard(qtbot: QtBot, window: MainWindow,
                                  server: ProviderServer) -> None:
    window.composer.add_image_bytes(_png((800, 600)), "pets.png")
    server.enqueue(Script(content=LOCATED))
    send(qtbot, window, "Where are the animals?")
    wait_answer(qtbot, window)
    window.activateWindow()
    _key(Qt.Key.Key_I, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: window.findChild(GroundingViewer) is not None)
    viewer = window.findChild(GroundingViewer)
    assert viewer is not None
    qtbot.waitExposed(viewer)
    viewer.activateWindow()
    qtbot.waitUntil(lambda: _focus() is viewer.found)
    _key(Qt.Key.Key_Down, Qt.KeyboardModifier.AltModifier)
    first = viewer.highlighted()
    assert first is not None
    _key(Qt.Key.Key_Down, Qt.KeyboardModifier.AltModifier)
    second = viewer.highlighted()
    assert second is not None
    assert second != first
    _key(Qt.Key.Key_Up, Qt.KeyboardModifier.AltModifier)
    assert viewer.highlighted() == first
    _key(Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not viewer.isVisible())


def test_shortcuts_dialog_lists_the_window_actions(window: MainWindow) -> None:
    rows = {words: keys for _group, items in shortcut_rows(window) for words, keys in items}
    for name in ("attach", "screenshot", "paste", "send", "stop", "regenerate",
                 "branch_prev", "branch_next", "toggle_list", "toggle_params",
                 "model_picker", "open_viewer", "next_pane", "save"):
        action = window.action(name)
        assert action.text().replace("&", "") in rows, name
    assert rows["Next / previous item found"] == "Alt+↓ / Alt+↑"
    # Icon buttons name their keys in their tooltips.
    assert "Ctrl+Shift+A" in window.composer.attach_button.toolTip()
    assert "Ctrl+Shift+X" in window.composer.screenshot_button.toolTip()
    assert "Ctrl+Shift+P" in window.header.buttons["toggle_params"].toolTip()


def test_a_whole_turn_without_the_mouse(qtbot: QtBot, window: MainWindow,
                                        server: ProviderServer, tmp_path: Path) -> None:
    picture = tmp_path / "chart.png"
    picture.write_bytes(_png((400, 300)))
    saved = tmp_path / "chart talk.qwenvl"
    dialogs = ScriptedDialogs([[str(picture)], str(saved)])
    window.file_dialogs.ask = dialogs
    window.composer.file_dialogs.ask = dialogs
    mice = MouseCounter()
    app = QApplication.instance()
    assert app is not None
    app.installEventFilter(mice)
    ctrl, shift = Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.ShiftModifier
    try:
        window.activateWindow()
        _key(Qt.Key.Key_L, ctrl)                                   # to the message field
        assert _focus() is window.composer.input
        _key(Qt.Key.Key_A, ctrl | shift)                           # attach…
        assert [item.name for item in window.composer.attachments()] == ["chart.png"]
        QTest.keyClicks(window.composer.input, "What does it show?")
        server.enqueue(Script(content="A long answer " * 40, stall=True, fault_after=3))
        _key(Qt.Key.Key_Return)                                    # send
        qtbot.waitUntil(lambda: window.transcript.streaming_message_id is not None)
        server.wait_for_stall()
        _key(Qt.Key.Key_Escape)                                    # stop
        stopped = wait_answer(qtbot, window)
        assert stopped.status == "stopped"
        server.enqueue(Script(content="A bar chart of sales."))
        _key(Qt.Key.Key_R, ctrl)                                   # regenerate
        qtbot.waitUntil(lambda: len(server.requests) >= 2)
        again = wait_answer(qtbot, window)
        assert again.text == "A bar chart of sales."
        assert again.id != stopped.id
        _key(Qt.Key.Key_S, ctrl)                                   # save
        qtbot.waitUntil(saved.exists)
    finally:
        app.removeEventFilter(mice)
    assert mice.count == 0
    assert [call.kind for call in dialogs.calls] == ["open_files", "save_file"]
    conv = window.current_conversation()
    assert conv is not None
    assert [m.role for m in conv.messages] == ["user", "assistant"]
    assert conv.messages[-1].text == "A bar chart of sales."
    assert window.access.announcer.said[-1].startswith(text.ANSWER_FINISHED)
    assert window.access.announcer.said[0].startswith(text.ANSWER_STOPPED)


def test_a_drawer_over_the_chat_takes_focus_and_closes_on_escape(
        qtbot: QtBot, window: MainWindow) -> None:
    window.resize(700, 800)
    qtbot.waitUntil(lambda: not window.conversation_list.isVisible())
    window.activateWindow()
    window.composer.focus_input()
    ctrl_shift = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    _key(Qt.Key.Key_L, ctrl_shift)
    qtbot.waitUntil(window.conversation_list.isVisible)
    assert window.conversation_list.isAncestorOf(_focus())
    _key(Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not window.conversation_list.isVisible())
    assert _focus() is window.composer.input
    assert not window.action("toggle_list").isChecked()
    # The parameters the same way.
    _key(Qt.Key.Key_P, ctrl_shift)
    qtbot.waitUntil(window.param_panel.isVisible)
    assert window.param_panel.isAncestorOf(_focus())
    _key(Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not window.param_panel.isVisible())
    assert _focus() is window.composer.input


def test_model_picker_by_keyboard(qtbot: QtBot, window: MainWindow) -> None:
    window.activateWindow()
    window.composer.focus_input()
    _key(Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    picker = window.model_bar.picker
    qtbot.waitUntil(picker.isVisible)
    qtbot.waitUntil(lambda: _focus() is picker.search)
    QTest.keyClicks(picker.search, "flash")
    _key(Qt.Key.Key_Down)
    _key(Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not picker.isVisible())
    assert "flash" in window.model_bar.model().id
