"""The main window as a whole: first start, attachments, parameters, files, restore."""

from __future__ import annotations

import asyncio
import base64
import io
from pathlib import Path

from PIL import Image
from PySide6.QtCore import QMimeData, QSize, Qt, QUrl
from PySide6.QtGui import (
    QColor,
    QGuiApplication,
    QImage,
    QTextDocument,
)
from PySide6.QtWidgets import QMessageBox, QSplitter
from pytestqt.qtbot import QtBot
from qt_drops import simulate_drop
from window_harness import (  # noqa: F401 - fixtures are found by name
    close_window,
    conversation,
    make_services,
    open_window,
    provider_server_fixture,
    send,
    server_fixture,
    transcript_text,
    wait_answer,
    window_fixture,
)

from qwenvl_desktop.core.catalog import CustomEndpoint
from qwenvl_desktop.core.conversation import Conversation, Message
from qwenvl_desktop.core.storage import save_conversation
from qwenvl_desktop.testing.provider_server import ProviderServer, Script
from qwenvl_desktop.ui.main_window import MainWindow
from qwenvl_desktop.ui.settings_dialog import SettingsDialog


def png_bytes(width: int = 640, height: int = 400, color: str = "#3366cc") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, "PNG")
    return buffer.getvalue()


def drop_on(widget: MainWindow, mime: QMimeData) -> None:
    """Simulate a drag entering the window and dropping."""
    assert simulate_drop(widget, mime)


def sent_image_urls(server: ProviderServer) -> list[str]:
    content = server.requests[-1].json["messages"][-1]["content"]
    return [p["image_url"]["url"] for p in content if p.get("type") == "image_url"]


# --- first start ---------------------------------------------------------------------------

def test_first_start_without_keys_shows_the_add_key_panel(
        qtbot: QtBot, qasync_loop: asyncio.AbstractEventLoop, server: ProviderServer) -> None:
    win = open_window(qtbot, make_services(server, keys=False))
    try:
        assert win.stack.currentWidget() is win.welcome
        assert win.welcome.isVisible()
        assert not win.banner.isVisible()                 # no wall of errors
        qtbot.mouseClick(win.welcome.keys_button, Qt.MouseButton.LeftButton)
        dialog = win.findChild(SettingsDialog)
        assert dialog is not None
        assert dialog.isVisible()
        assert dialog.current_page() == "keys"
        dialog.close()
        qtbot.mouseClick(win.welcome.endpoint_button, Qt.MouseButton.LeftButton)
        dialogs = [d for d in win.findChildren(SettingsDialog) if d.isVisible()]
        assert dialogs
        assert dialogs[-1].current_page() == "endpoints"
        # A key added in settings replaces the panel with the transcript.
        services = win.services
        assert services is not None
        services.keystore.set(services.catalog.get("dashscope-intl"), "sk-test-0123456789")
        dialogs[-1].keys_changed.emit()
        assert win.stack.currentWidget() is win.transcript
        dialogs[-1].close()
    finally:
        close_window(qtbot, win)


def test_menus_have_standard_shortcuts_and_accessible_controls(window: MainWindow) -> None:
    shortcuts = {name: window.action(name).shortcut().toString()
                 for name in ("new", "open", "save", "save_as", "quit", "settings", "stop",
                              "regenerate", "send")}
    assert shortcuts["new"] == "Ctrl+N"
    assert shortcuts["open"] == "Ctrl+O"
    assert shortcuts["save"] == "Ctrl+S"
    assert shortcuts["save_as"] == "Ctrl+Shift+S"
    assert shortcuts["quit"] == "Ctrl+Q"
    assert shortcuts["settings"] == "Ctrl+,"
    assert shortcuts["stop"] == "Esc"
    assert shortcuts["regenerate"] == "Ctrl+R"
    menus = [a.text().replace("&", "") for a in window.menuBar().actions()]
    assert menus == ["File", "Edit", "Conversation", "View", "Help"]
    for widget in (window.transcript, window.conversation_list.list_widget,
                   window.conversation_list.search_edit, window.param_panel):
        assert widget.accessibleName()


# --- attachments ---------------------------------------------------------------------------

def test_drop_an_image_file_then_send_it(
        qtbot: QtBot, window: MainWindow, server: ProviderServer, tmp_path: Path) -> None:
    picture = tmp_path / "dialog.png"
    picture.write_bytes(png_bytes(1600, 1000))
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(picture))])
    drop_on(window, mime)
    qtbot.waitUntil(lambda: len(window.composer.attachments()) == 1, timeout=5000)
    server.enqueue(Script(content="A blue rectangle."))
    send(qtbot, window, "What is this?")
    answer = wait_answer(qtbot, window)
    assert answer.text == "A blue rectangle."
    urls = sent_image_urls(server)
    assert len(urls) == 1
    assert urls[0].startswith("data:image/")
    conv = conversation(window)
    question = conv.messages[0]
    assert len(question.images) == 1
    stored = conv.images[question.images[0]]
    assert stored.original_name == "dialog.png"
    assert question.image_tokens[stored.sha256] > 0
    assert base64.b64decode(urls[0].split(",", 1)[1]) == stored.data
    # The thumbnail is a real image resource in the transcript.
    thumb = window.transcript.loadResource(int(QTextDocument.ResourceType.ImageResource.value),
                                           QUrl(f"thumb:{stored.sha256}"))
    assert isinstance(thumb, QImage)
    assert not thumb.isNull()
    assert window.composer.attachments() == []


def test_drop_image_data_and_paste_from_clipboard(
        qtbot: QtBot, window: MainWindow, server: ProviderServer) -> None:
    dragged = QImage(QSize(300, 200), QImage.Format.Format_RGB32)
    dragged.fill(QColor("#cc3333"))
    mime = QMimeData()
    mime.setImageData(dragged)
    drop_on(window, mime)
    qtbot.waitUntil(lambda: len(window.composer.attachments()) == 1, timeout=5000)
    pasted = QImage(QSize(120, 90), QImage.Format.Format_RGB32)
    pasted.fill(QColor("#33cc33"))
    QGuiApplication.clipboard().setImage(pasted)
    window.composer.input.setFocus()
    qtbot.keyClick(window.composer.input, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: len(window.composer.attachments()) == 2, timeout=5000)
    server.enqueue(Script(content="Red and green."))
    send(qtbot, window, "Compare")
    wait_answer(qtbot, window)
    assert len(sent_image_urls(server)) == 2
    assert len(conversation(window).images) == 2


def test_model_without_vision_refuses_images_before_sending(
        qtbot: QtBot, qasync_loop: asyncio.AbstractEventLoop, server: ProviderServer) -> None:
    services = make_services(server)
    services.settings.add_custom_endpoint(CustomEndpoint(
        name="local", base_url=server.base_url_for("custom"), models=("llama3.1:8b",)))
    services.save_settings()
    win = open_window(qtbot, services)
    try:
        win.model_bar.set_selection("local", "llama3.1:8b")
        win.composer.add_image_bytes(png_bytes(), "shot.png")
        qtbot.waitUntil(lambda: len(win.composer.attachments()) == 1, timeout=5000)
        send(qtbot, win, "What is in it?")
        assert server.requests == []
        assert len(win.composer.attachments()) == 1           # nothing dropped silently
        assert conversation(win).messages == []
    finally:
        close_window(qtbot, win)


# --- provider, model and parameters ------------------------------------------------------

def test_switching_provider_and_model_enables_and_disables_parameters(
        window: MainWindow) -> None:
    rows = window.param_panel.rows
    window.model_bar.set_selection("dashscope-intl", "qwen3-vl-plus")
    assert rows["temperature"].is_available()
    assert rows["top_p"].is_available()
    window.model_bar.set_selection("segmind", "qwen2p5-vl-32b-instruct")
    assert not rows["temperature"].is_available()
    assert rows["temperature"].spin.toolTip()          # says why
    window.model_bar.set_selection("ovh", "Qwen2.5-VL-72B-Instruct")
    assert rows["temperature"].is_available()
    conv = conversation(window)
    assert (conv.provider_id, conv.model_id) == ("ovh", "Qwen2.5-VL-72B-Instruct")


# --- files ---------------------------------------------------------------------------------

def test_save_and_reopen_round_trip(
        qtbot: QtBot, window: MainWindow, server: ProviderServer, tmp_path: Path) -> None:
    server.enqueue(Script(content="Kept **forever**."))
    send(qtbot, window, "Remember this")
    wait_answer(qtbot, window)
    target = tmp_path / "kept.qwenvl"
    assert window.files.save_to(target)
    assert target.is_file()
    window.chat.new_conversation()
    assert conversation(window).messages == []
    assert window.files.open_path(target)
    reopened = conversation(window)
    assert [m.text for m in reopened.messages] == ["Remember this", "Kept **forever**."]
    assert "Kept forever." in transcript_text(window)


def test_drop_a_conversation_file_opens_it(
        qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    conv = Conversation(title="Dropped chat")
    conv.append(Message(role="user", text="From a file"))
    conv.append(Message(role="assistant", text="Answer in the file"))
    path = tmp_path / "dropped.qwenvl"
    save_conversation(conv, path)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    drop_on(window, mime)
    assert conversation(window).title == "Dropped chat"
    assert "Answer in the file" in transcript_text(window)


def test_corrupt_file_explains_and_loses_nothing(
        qtbot: QtBot, window: MainWindow, server: ProviderServer, tmp_path: Path) -> None:
    server.enqueue(Script(content="Still here."))
    send(qtbot, window, "Before")
    wait_answer(qtbot, window)
    before = conversation(window)
    bad = tmp_path / "broken.qwenvl"
    bad.write_bytes(b'{"format": "qwenvl-desktop/conversation", "version": 1, "mess')
    assert not window.files.open_path(bad)
    boxes = [b for b in window.findChildren(QMessageBox) if b.isVisible()]
    assert boxes
    assert "broken.qwenvl" in boxes[-1].text()
    boxes[-1].close()
    assert conversation(window) is before
    assert "Still here." in transcript_text(window)


def test_corrupt_library_file_reported_once_in_a_banner(
        qtbot: QtBot, qasync_loop: asyncio.AbstractEventLoop, server: ProviderServer) -> None:
    services = make_services(server)
    services.library.folder.mkdir(parents=True, exist_ok=True)
    (services.library.folder / "0123abcd.qwenvl").write_bytes(b"not json at all")
    win = open_window(qtbot, services)
    try:
        assert win.banner.isVisible()
        assert "0123abcd.qwenvl" in win.banner.text()
        assert win.stack.currentWidget() is win.transcript
    finally:
        close_window(qtbot, win)


def test_close_autosaves_and_a_new_window_restores(
        qtbot: QtBot, qasync_loop: asyncio.AbstractEventLoop, server: ProviderServer) -> None:
    first = open_window(qtbot, make_services(server))
    server.enqueue(Script(content="Restored answer."))
    send(qtbot, first, "Restore me")
    wait_answer(qtbot, first)
    conv_id = conversation(first).id
    first.resize(1000, 700)
    first.splitter.setSizes([150, 600, 250])
    sizes = first.splitter.sizes()
    close_window(qtbot, first)

    second = open_window(qtbot, make_services(server))
    try:
        conv = conversation(second)
        assert conv.id == conv_id
        assert [m.text for m in conv.messages] == ["Restore me", "Restored answer."]
        assert "Restored answer." in transcript_text(second)
        assert conv_id in second.conversation_list.ids()
        assert second.size() == first.size()
        assert second.findChild(QSplitter, "mainSplitter").sizes() == sizes
    finally:
        close_window(qtbot, second)


def test_closing_mid_stream_keeps_the_partial_answer(
        qtbot: QtBot, qasync_loop: asyncio.AbstractEventLoop, server: ProviderServer) -> None:
    first = open_window(qtbot, make_services(server))
    server.enqueue(Script(content="Half of an answer that never ends", stall=True,
                          fault_after=3))
    send(qtbot, first, "Long one")
    qtbot.waitUntil(lambda: "Half" in transcript_text(first), timeout=5000)
    close_window(qtbot, first)
    second = open_window(qtbot, make_services(server))
    try:
        conv = conversation(second)
        assert conv.messages[-1].status == "stopped"
        assert conv.messages[-1].text.startswith("Half")
    finally:
        close_window(qtbot, second)


def test_conversation_list_new_rename_search_delete(
        qtbot: QtBot, window: MainWindow, server: ProviderServer) -> None:
    server.enqueue(Script(content="About cats."), Script(content="About dogs."))
    send(qtbot, window, "Tell me about cats")
    wait_answer(qtbot, window)
    cats = conversation(window).id
    qtbot.mouseClick(window.conversation_list.new_button, Qt.MouseButton.LeftButton)
    send(qtbot, window, "Tell me about dogs")
    wait_answer(qtbot, window)
    dogs = conversation(window).id
    assert set(window.conversation_list.ids()) == {cats, dogs}
    window.conversation_list.rename_requested.emit(cats, "Feline notes")
    window.conversation_list.search_edit.setText("dogs")
    qtbot.waitUntil(lambda: window.conversation_list.ids() == [dogs], timeout=5000)
    window.conversation_list.search_edit.setText("")
    qtbot.waitUntil(lambda: len(window.conversation_list.ids()) == 2, timeout=5000)
    window.conversation_list.open_requested.emit(cats)
    assert conversation(window).title == "Feline notes"
    window.conversation_list.delete_requested.emit(cats)
    assert window.conversation_list.ids() == [dogs]
    assert conversation(window).id == dogs


def test_an_image_given_on_the_command_line_starts_a_question_about_it(
        qtbot: QtBot, qasync_loop: asyncio.AbstractEventLoop, server: ProviderServer,
        tmp_path: Path) -> None:
    """`qwenvl-desktop photo.png` (or "Open with" on an image) attaches it to a new
    conversation instead of failing as "not a conversation file"."""
    photo = tmp_path / "photo.png"
    Image.new("RGB", (640, 480), "teal").save(photo)
    window = MainWindow.build(make_services(server), open_path=photo)
    window.show()
    qtbot.waitExposed(window)
    try:
        assert [a.name for a in window.composer.attachments()] == ["photo.png"]
        conv = window.current_conversation()
        assert conv is not None
        assert conv.messages == []
    finally:
        close_window(qtbot, window)
