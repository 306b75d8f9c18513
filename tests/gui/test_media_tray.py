"""Documents and videos in the window: tray cards, their controls and costs, bad files,
and a message with a PDF and a clip sent through the real window to the loopback server."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from pytestqt.qtbot import QtBot
from window_harness import (  # noqa: F401 - fixtures are found by name
    conversation,
    provider_server_fixture,
    send,
    server_fixture,
    wait_answer,
    window_fixture,
)

from qwenvl_desktop.core.catalog import Catalog, load_builtin
from qwenvl_desktop.core.documents import inspect_document, page_tokens
from qwenvl_desktop.core.secrets import KeyStore
from qwenvl_desktop.core.video import estimate_video_tokens, inspect_video
from qwenvl_desktop.services import Services
from qwenvl_desktop.testing.media_samples import (
    encrypted_pdf_bytes,
    pdf_bytes,
    write_audio_only,
    write_video,
)
from qwenvl_desktop.testing.provider_server import ProviderServer
from qwenvl_desktop.ui.composer import Composer
from qwenvl_desktop.ui.main_window import MainWindow
from qwenvl_desktop.ui.media_cards import DocumentCard, VideoCard
from qwenvl_desktop.ui.media_items import PendingDocument, PendingVideo


@pytest.fixture
def catalog() -> Catalog:
    return load_builtin()


@pytest.fixture
def services(qasync_loop: asyncio.AbstractEventLoop, qtbot: QtBot) -> Iterator[Services]:
    svc = Services.create(keystore=KeyStore(keyring.get_keyring()))
    yield svc
    closing = qasync_loop.create_task(svc.aclose())
    qtbot.waitUntil(closing.done)


def target(composer: Composer, catalog: Catalog, provider_id: str, model_id: str) -> None:
    provider = catalog.get(provider_id)
    composer.set_target(provider, provider.model(model_id))


@pytest.fixture
def composer(qtbot: QtBot, services: Services, catalog: Catalog) -> Composer:
    widget = Composer(services)
    qtbot.addWidget(widget)
    target(widget, catalog, "dashscope-intl", "qwen3-vl-plus")
    widget.resize(900, 320)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


@pytest.fixture
def report_pdf(tmp_path: Path) -> Path:
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf_bytes(12))
    return path


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_video(tmp_path_factory.mktemp("clips") / "clip.mp4", seconds=3.0)


def read(qtbot: QtBot, composer: Composer, *paths: Path) -> None:
    """Attach files as the picker or a drop would, and wait until they have been read."""
    composer.add_files(list(paths))
    qtbot.waitUntil(lambda: composer.reading() == 0 and composer.tray.pending_count() == 0)


def test_a_pdf_is_one_card_with_pages_range_size_and_tokens(
        qtbot: QtBot, composer: Composer, report_pdf: Path, catalog: Catalog) -> None:
    read(qtbot, composer, report_pdf)
    [item] = composer.attachments()
    assert isinstance(item, PendingDocument)
    assert item.info.page_count == 12
    model = catalog.get("dashscope-intl").model("qwen3-vl-plus")
    per_page = page_tokens(inspect_document(report_pdf.read_bytes(), "r"), [1], model)[0]
    assert item.pages == list(range(1, 8))              # 7 pages fit 20,000 tokens
    card = composer.tray.media_card(composer.tray.handles()[0])
    assert isinstance(card, DocumentCard)
    assert card.pages_label.text() == "PDF · 12 pages"
    assert card.range_edit.text() == "1-7"
    assert card.size_label.text() == "1408×1824 per page"
    assert card.tokens_label.text() == f"≈ {7 * per_page:,} tokens for 7 pages"
    assert composer.tray.total_tokens() == 7 * per_page
    assert "1 document" in composer.tray.total_label.text()
    qtbot.waitUntil(lambda: card.thumb.pixmap() is not None and not card.thumb.pixmap().isNull())
    # The rest is a click away.
    assert card.all_button.isVisibleTo(card)
    card.all_button.click()
    assert item.pages == list(range(1, 13))
    assert composer.tray.total_tokens() == 12 * per_page
    assert not card.all_button.isVisibleTo(card)
    card.set_range("2, 4-5")
    assert item.pages == [2, 4, 5]
    assert card.tokens_label.text() == f"≈ {3 * per_page:,} tokens for 3 pages"


def test_a_bad_range_blocks_sending_and_says_why(
        qtbot: QtBot, composer: Composer, report_pdf: Path) -> None:
    read(qtbot, composer, report_pdf)
    card = composer.tray.media_card(composer.tray.handles()[0])
    assert isinstance(card, DocumentCard)
    card.set_range("10-14")
    assert "goes past the end" in card.size_label.text()
    sent: list[object] = []
    composer.send_requested.connect(lambda *args: sent.append(args))
    composer.set_text("Summarise")
    composer.submit()
    assert sent == []
    assert "report.pdf" in composer.tray.error_text()
    assert composer.text() == "Summarise"                # nothing lost


def test_model_change_reestimates_pages(qtbot: QtBot, composer: Composer, report_pdf: Path,
                                        catalog: Catalog) -> None:
    read(qtbot, composer, report_pdf)
    before = composer.tray.total_tokens()
    target(composer, catalog, "dashscope-intl", "qwen2.5-vl-7b-instruct")
    card = composer.tray.media_card(composer.tray.handles()[0])
    assert isinstance(card, DocumentCard)
    assert composer.tray.total_tokens() < before
    assert card.size_label.text().endswith("per page")
    width = int(card.size_label.text().split("×")[0])
    assert width % 28 == 0


@pytest.mark.parametrize(("name", "make", "reason"), [
    ("secret.pdf", lambda p: p.write_bytes(encrypted_pdf_bytes()), "password-protected"),
    ("blank.pdf", lambda p: p.write_bytes(pdf_bytes(0)), "no pages"),
    ("voice.mp4", write_audio_only, "sound only"),
    ("noise.webm", lambda p: p.write_bytes(bytes(range(256)) * 20), "damaged"),
])
def test_bad_documents_and_videos_are_named_and_nothing_is_lost(
        qtbot: QtBot, composer: Composer, report_pdf: Path, tmp_path: Path,
        name: str, make: object, reason: str) -> None:
    read(qtbot, composer, report_pdf)
    errors: list[str] = []
    composer.error.connect(errors.append)
    bad = tmp_path / name
    make(bad)  # type: ignore[operator]
    read(qtbot, composer, bad)
    qtbot.waitUntil(lambda: bool(errors))
    assert errors[0].startswith(f"{name}: ")
    assert reason in errors[0]
    assert errors[0] in composer.tray.error_text()
    assert [a.name for a in composer.attachments()] == ["report.pdf"]


def test_a_video_is_a_filmstrip_with_sampling_controls_and_cost(
        qtbot: QtBot, composer: Composer, clip: Path, catalog: Catalog) -> None:
    read(qtbot, composer, clip)
    [item] = composer.attachments()
    assert isinstance(item, PendingVideo)
    card = composer.tray.media_card(composer.tray.handles()[0])
    assert isinstance(card, VideoCard)
    info = inspect_video(clip)
    provider = catalog.get("dashscope-intl")
    model = provider.model("qwen3-vl-plus")
    assert card.info_label.text() == "3.0 s · 320×240 · mpeg4"
    assert card.summary_label.text() == "6 frames at 448×320, sent as one video"
    assert composer.tray.total_tokens() == estimate_video_tokens(info, 6, model, provider)
    qtbot.waitUntil(lambda: all(c.pixmap() is not None and not c.pixmap().isNull()
                                for c in card.film_cells))
    card.fps_box.setValue(8.0)
    card.max_box.setValue(10)
    assert (item.fps, item.max_frames) == (8.0, 10)
    assert card.summary_label.text().startswith("10 frames")
    assert composer.tray.total_tokens() == estimate_video_tokens(info, 10, model, provider)
    # On a provider without frame-list videos the frames go as images: another cost.
    target(composer, catalog, "ovh", "Qwen2.5-VL-72B-Instruct")
    assert card.summary_label.text().endswith("sent as images with times")
    ovh = catalog.get("ovh")
    assert composer.tray.total_tokens() == estimate_video_tokens(
        info, 10, ovh.model("Qwen2.5-VL-72B-Instruct"), ovh)


def test_window_sends_pages_and_a_clip_and_shows_them(
        qtbot: QtBot, window: MainWindow, server: ProviderServer, tmp_path: Path,
        clip: Path) -> None:
    pdf = tmp_path / "slides.pdf"
    pdf.write_bytes(pdf_bytes(3))
    read(qtbot, window.composer, pdf, clip)
    send(qtbot, window, "What do these show?")
    answer = wait_answer(qtbot, window, timeout=30000)
    assert answer.status == "complete"
    content = server.requests[-1].json["messages"][-1]["content"]
    kinds = [part["type"] for part in content]
    assert kinds == ["image_url"] * 3 + ["video", "text"]
    assert len(content[3]["video"]) == 6
    user = conversation(window).messages[-2]
    assert [g.kind for g in user.media] == ["document", "video"]
    shown = window.transcript.toHtml()
    assert "slides.pdf · pages 1–3" in shown
    assert "clip.mp4 · 3.0 s · 6 frames" in shown
    assert "1.2 s" in shown                                # a frame's time in the filmstrip


def test_two_bad_files_in_one_drop_are_both_reported(
        qtbot: QtBot, composer: Composer, tmp_path: Path) -> None:
    locked = tmp_path / "locked.pdf"
    locked.write_bytes(encrypted_pdf_bytes())
    voice = write_audio_only(tmp_path / "voice.mp4")
    read(qtbot, composer, locked, voice)
    qtbot.waitUntil(lambda: "voice.mp4" in composer.tray.error_text()
                    and "locked.pdf" in composer.tray.error_text())
    assert composer.attachments() == []
