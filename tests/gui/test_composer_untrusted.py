"""The composer and what people paste or drop into it: text stays text, links are
fetched only when asked, and big phone photos get in."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import keyring
import pytest
from big_images import flat_jpeg
from PySide6.QtCore import QMimeData, Qt, QUrl
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot
from qt_drops import simulate_drop

from qwenvl_desktop.core.catalog import load_builtin
from qwenvl_desktop.core.secrets import KeyStore
from qwenvl_desktop.services import Services
from qwenvl_desktop.ui.composer import Composer


class FakeWeb:
    """A mock transport that records every request the composer makes."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.pages: dict[str, httpx.Response] = {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        found = self.pages.get(str(request.url))
        if found is None:
            return httpx.Response(404, headers={"content-type": "text/plain"}, content=b"no")
        return found


@pytest.fixture
def web() -> FakeWeb:
    return FakeWeb()


@pytest.fixture
def services(qasync_loop: asyncio.AbstractEventLoop, qtbot: QtBot,
             web: FakeWeb) -> Iterator[Services]:
    http = httpx.AsyncClient(transport=httpx.MockTransport(web))
    svc = Services.create(http=http, keystore=KeyStore(keyring.get_keyring()))
    yield svc
    closing = qasync_loop.create_task(http.aclose())
    qtbot.waitUntil(closing.done)


@pytest.fixture
def composer(qtbot: QtBot, services: Services) -> Composer:
    widget = Composer(services)
    qtbot.addWidget(widget)
    provider = load_builtin().get("dashscope-intl")
    widget.set_target(provider, provider.model("qwen3-vl-plus"))
    widget.resize(700, 300)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


# --- big photos ------------------------------------------------------------------------------

def test_a_108_megapixel_phone_photo_drops_in_with_a_thumbnail(
        composer: Composer, qtbot: QtBot, tmp_path: Path) -> None:
    photo = tmp_path / "IMG_20261101.jpg"
    photo.write_bytes(flat_jpeg(12000, 9000))
    errors: list[str] = []
    composer.error.connect(errors.append)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(photo))])
    assert simulate_drop(composer, mime)
    assert [a.name for a in composer.attachments()] == ["IMG_20261101.jpg"]
    card = composer.tray.card(composer.tray.handles()[0])
    qtbot.waitUntil(lambda: card.thumb.pixmap() is not None
                    and not card.thumb.pixmap().isNull(), timeout=10_000)
    assert errors == []
    assert composer.tray.error_text() == ""


# --- pasted and dropped links -------------------------------------------------------------------

CAT = "https://images.example/cat.png"


def _png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (320, 200), "orange").save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def cat(web: FakeWeb) -> str:
    web.pages[CAT] = httpx.Response(200, headers={"content-type": "image/png"}, content=_png())
    return CAT


def paste(qtbot: QtBot, composer: Composer, *, shift: bool = False) -> None:
    composer.input.setFocus()
    mods = Qt.KeyboardModifier.ControlModifier
    if shift:
        mods |= Qt.KeyboardModifier.ShiftModifier
    qtbot.keyClick(composer.input, Qt.Key.Key_V, mods)


def test_ctrl_v_of_a_link_inserts_the_text_and_fetches_nothing(
        qtbot: QtBot, composer: Composer, web: FakeWeb, cat: str) -> None:
    composer.set_text("Compare with ")
    QGuiApplication.clipboard().setText(cat)
    paste(qtbot, composer)
    assert composer.text() == f"Compare with {cat}"
    assert composer.attachments() == []
    assert composer.downloads_running() == 0
    qtbot.wait(50)
    assert web.requests == []
    assert composer.link_offer.isVisible()
    assert cat in composer.link_offer.urls()


def test_attach_image_from_this_link_fetches_it_when_asked(
        qtbot: QtBot, composer: Composer, web: FakeWeb, cat: str) -> None:
    QGuiApplication.clipboard().setText(cat)
    paste(qtbot, composer)
    qtbot.mouseClick(composer.link_offer.attach_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: [a.name for a in composer.attachments()] == ["cat.png"])
    (request,) = web.requests
    assert str(request.url) == cat
    assert "cookie" not in request.headers
    assert "authorization" not in request.headers
    assert not composer.link_offer.isVisible()
    assert composer.text() == cat                     # the pasted text stays


def test_a_copied_link_from_a_browser_is_text_too(
        qtbot: QtBot, composer: Composer, web: FakeWeb, cat: str) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl(cat)])
    mime.setText(cat)
    QGuiApplication.clipboard().setMimeData(mime)
    paste(qtbot, composer)
    assert composer.text() == cat
    qtbot.wait(50)
    assert web.requests == []
    assert composer.attachments() == []


def test_ctrl_shift_v_pastes_plain_text_even_over_an_image(
        qtbot: QtBot, composer: Composer, web: FakeWeb) -> None:
    mime = QMimeData()
    mime.setData("image/png", _png())
    mime.setText("the words that came with it")
    QGuiApplication.clipboard().setMimeData(mime)
    paste(qtbot, composer, shift=True)
    assert composer.text() == "the words that came with it"
    assert composer.attachments() == []
    assert web.requests == []


def test_a_dropped_link_without_image_data_is_offered_not_fetched(
        qtbot: QtBot, composer: Composer, web: FakeWeb, cat: str) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl(cat)])
    assert simulate_drop(composer, mime)
    qtbot.wait(50)
    assert web.requests == []
    assert composer.tray.pending_count() == 0
    assert composer.link_offer.isVisible()
    qtbot.mouseClick(composer.link_offer.attach_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: [a.name for a in composer.attachments()] == ["cat.png"])
    assert len(web.requests) == 1


def test_a_dropped_image_with_its_link_is_attached_without_a_fetch(
        qtbot: QtBot, composer: Composer, web: FakeWeb) -> None:
    mime = QMimeData()
    mime.setData("image/png", _png())
    mime.setUrls([QUrl("https://images.example/photos/beach")])
    assert simulate_drop(composer, mime)
    assert [a.name for a in composer.attachments()] == ["beach.png"]
    assert web.requests == []
    assert not composer.link_offer.isVisible()
