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
from PySide6.QtCore import QMimeData, QUrl
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
