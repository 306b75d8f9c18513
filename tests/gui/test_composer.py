"""The composer: keys, Send/Stop, token estimates per model, vision warnings, removal."""

from __future__ import annotations

import asyncio
import functools
import io
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from PIL import Image
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from qwenvl_desktop.core.catalog import Catalog, CustomEndpoint, load_builtin
from qwenvl_desktop.core.secrets import KeyStore
from qwenvl_desktop.core.tokens import image_tokens, target_size
from qwenvl_desktop.services import Services
from qwenvl_desktop.ui.attachment_tray import PendingAttachment
from qwenvl_desktop.ui.composer import Composer


@pytest.fixture
def catalog() -> Catalog:
    return load_builtin().with_custom([
        CustomEndpoint(name="local", base_url="http://127.0.0.1:9/v1",
                       models=("llama3.1:8b",)),
    ])


@pytest.fixture
def services(qasync_loop: asyncio.AbstractEventLoop, qtbot: QtBot) -> Iterator[Services]:
    svc = Services.create(keystore=KeyStore(keyring.get_keyring()))
    yield svc
    closing = qasync_loop.create_task(svc.aclose())
    qtbot.waitUntil(closing.done)


@pytest.fixture
def composer(qtbot: QtBot, services: Services, catalog: Catalog) -> Composer:
    widget = Composer(services)
    qtbot.addWidget(widget)
    use(widget, catalog, "dashscope-intl", "qwen3-vl-plus")
    widget.resize(700, 300)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def use(composer: Composer, catalog: Catalog, provider_id: str, model_id: str,
        high_resolution: bool = False) -> None:
    provider = catalog.get(provider_id)
    composer.set_target(provider, provider.model(model_id), high_resolution)


@functools.cache
def encoded(width: int, height: int, kind: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (90, 140, 60)).save(buffer, kind)
    return buffer.getvalue()


@pytest.fixture
def screenshot_file(tmp_path: Path) -> Path:
    path = tmp_path / "dialog.png"
    path.write_bytes(encoded(1920, 1080, "PNG"))
    return path


@pytest.fixture
def photo_file(tmp_path: Path) -> Path:
    path = tmp_path / "photo.jpg"
    path.write_bytes(encoded(4032, 3024, "JPEG"))
    return path


# --- keys -------------------------------------------------------------------------------

def test_enter_sends_and_shift_enter_breaks_the_line(composer: Composer, qtbot: QtBot) -> None:
    qtbot.keyClicks(composer.input, "first line")
    qtbot.keyClick(composer.input, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClicks(composer.input, "second line")
    assert composer.text() == "first line\nsecond line"

    with qtbot.waitSignal(composer.send_requested) as blocker:
        qtbot.keyClick(composer.input, Qt.Key.Key_Return)
    assert blocker.args == ["first line\nsecond line", []]
    assert composer.text() == ""


def test_keypad_enter_sends_too_and_empty_input_sends_nothing(composer: Composer,
                                                              qtbot: QtBot) -> None:
    with qtbot.assertNotEmitted(composer.send_requested):
        qtbot.keyClick(composer.input, Qt.Key.Key_Return)
        qtbot.keyClicks(composer.input, "   ")
        qtbot.keyClick(composer.input, Qt.Key.Key_Return)
    composer.clear()
    qtbot.keyClicks(composer.input, "hi")
    with qtbot.waitSignal(composer.send_requested):
        qtbot.keyClick(composer.input, Qt.Key.Key_Enter, Qt.KeyboardModifier.KeypadModifier)


def test_send_button_turns_into_stop_while_streaming(composer: Composer, qtbot: QtBot) -> None:
    composer.set_streaming(True)
    # An icon button: its words are its accessible name and tooltip.
    assert composer.send_button.accessibleName() == "Stop the answer"
    assert composer.send_button.toolTip() == "Stop the answer (Esc)"
    qtbot.keyClicks(composer.input, "next question")
    with qtbot.assertNotEmitted(composer.send_requested):
        qtbot.keyClick(composer.input, Qt.Key.Key_Return)
    assert composer.text() == "next question"        # kept for after the answer
    with qtbot.waitSignal(composer.stop_requested):
        qtbot.mouseClick(composer.send_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(composer.stop_requested):
        qtbot.keyClick(composer.input, Qt.Key.Key_Escape)

    composer.set_streaming(False)
    assert composer.send_button.accessibleName() == "Send"
    assert composer.send_button.toolTip() == "Send (Enter)"
    with qtbot.waitSignal(composer.send_requested) as blocker:
        qtbot.mouseClick(composer.send_button, Qt.MouseButton.LeftButton)
    assert blocker.args[0] == "next question"


# --- attachments and estimates ------------------------------------------------------------

def test_send_carries_the_attachments(composer: Composer, qtbot: QtBot,
                                      screenshot_file: Path, photo_file: Path) -> None:
    assert composer.add_files([screenshot_file, photo_file]) == 2
    composer.set_text("Compare these")
    with qtbot.waitSignal(composer.send_requested) as blocker:
        composer.submit()
    text, attachments = blocker.args
    assert text == "Compare these"
    assert [a.name for a in attachments] == ["dialog.png", "photo.jpg"]
    assert all(isinstance(a, PendingAttachment) for a in attachments)
    assert attachments[0].data == screenshot_file.read_bytes()
    assert (attachments[1].info.width, attachments[1].info.height) == (4032, 3024)
    assert composer.attachments() == []                 # the composer is empty again


def test_token_estimates_follow_the_model(composer: Composer, catalog: Catalog,
                                          screenshot_file: Path, photo_file: Path) -> None:
    composer.add_files([screenshot_file, photo_file])
    tray = composer.tray
    shot, photo = tray.handles()

    qwen3 = catalog.get("dashscope-intl").model("qwen3-vl-plus")      # 32-pixel patches
    expected_shot = image_tokens(1920, 1080, qwen3)
    expected_photo = image_tokens(4032, 3024, qwen3)
    assert tray.token_estimate(shot) == expected_shot
    w, h = target_size(1920, 1080, qwen3)
    assert tray.card(shot).size_label.text() == f"1920×1080 → {w}×{h}"
    assert tray.card(shot).tokens_label.text() == f"≈ {expected_shot:,} tokens"
    assert f"≈ {expected_shot + expected_photo:,} image tokens" in tray.total_label.text()

    use(composer, catalog, "dashscope-intl", "qwen2.5-vl-72b-instruct")   # 28-pixel patches
    qwen25 = catalog.get("dashscope-intl").model("qwen2.5-vl-72b-instruct")
    assert qwen25.patch_factor == 28
    assert qwen3.patch_factor == 32
    assert tray.token_estimate(shot) == image_tokens(1920, 1080, qwen25)
    assert tray.token_estimate(shot) != expected_shot
    w, h = target_size(1920, 1080, qwen25)
    assert tray.card(shot).size_label.text() == f"1920×1080 → {w}×{h}"
    assert tray.card(photo).tokens_label.text() == (
        f"≈ {image_tokens(4032, 3024, qwen25):,} tokens")

    use(composer, catalog, "dashscope-intl", "qwen2.5-vl-72b-instruct", high_resolution=True)
    assert tray.token_estimate(photo) == image_tokens(4032, 3024, qwen25, True)
    assert tray.token_estimate(photo) > image_tokens(4032, 3024, qwen25)
    assert "high resolution" in tray.total_label.text()


def test_remove_button_drops_one_image_and_updates_the_total(
        composer: Composer, qtbot: QtBot, screenshot_file: Path, photo_file: Path,
        catalog: Catalog) -> None:
    composer.add_files([screenshot_file, photo_file])
    shot, photo = composer.tray.handles()
    photo_tokens = composer.tray.token_estimate(photo)
    with qtbot.waitSignal(composer.tray.changed):
        qtbot.mouseClick(composer.tray.card(shot).remove_button, Qt.MouseButton.LeftButton)
    assert [a.name for a in composer.attachments()] == ["photo.jpg"]
    assert composer.tray.total_tokens() == photo_tokens
    assert "1 image ·" in composer.tray.total_label.text()


def test_text_only_model_warns_and_send_explains(composer: Composer, qtbot: QtBot,
                                                 catalog: Catalog,
                                                 screenshot_file: Path) -> None:
    composer.add_files([screenshot_file])
    use(composer, catalog, "local", "llama3.1:8b")
    assert composer.tray.vision_warning() == (
        "llama3.1:8b cannot see images; pick a vision model or remove the images.")
    assert composer.tray.vision_note.isVisible()

    composer.set_text("What is in the picture?")
    with qtbot.assertNotEmitted(composer.send_requested), \
            qtbot.waitSignal(composer.error) as blocker:
        qtbot.keyClick(composer.input, Qt.Key.Key_Return)
    assert "llama3.1:8b cannot see images" in blocker.args[0]
    assert composer.text() == "What is in the picture?"      # nothing lost
    assert len(composer.attachments()) == 1

    use(composer, catalog, "dashscope-intl", "qwen3-vl-flash")
    assert composer.tray.vision_warning() == ""


def test_set_attachments_restores_images_for_edit_and_resend(
        composer: Composer, screenshot_file: Path, photo_file: Path) -> None:
    composer.add_files([screenshot_file, photo_file])
    kept = composer.attachments()
    composer.clear()
    assert composer.attachments() == []
    assert not composer.tray.isVisible()

    composer.set_attachments(kept[::-1])
    composer.set_text("again")
    assert [a.name for a in composer.attachments()] == ["photo.jpg", "dialog.png"]
    assert composer.text() == "again"


def test_thumbnails_arrive_from_the_worker_thread(composer: Composer, qtbot: QtBot,
                                                  photo_file: Path) -> None:
    composer.add_files([photo_file])
    card = composer.tray.card(composer.tray.handles()[0])
    qtbot.waitUntil(lambda: not card.thumb.pixmap().isNull())
    pixmap = card.thumb.pixmap()
    assert pixmap.width() <= 96
    assert pixmap.height() <= 72
    assert pixmap.width() == 96 or pixmap.height() == 72
