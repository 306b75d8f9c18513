"""The tray says what earlier turns' images cost, and the person can stop resending them."""

from __future__ import annotations

import asyncio
import base64
import io

from PIL import Image
from pytestqt.qtbot import QtBot
from window_harness import (  # noqa: F401 - fixtures are found by name
    close_window,
    make_services,
    open_window,
    provider_server_fixture,
    server_fixture,
    wait_answer,
)

from qwenvl_desktop.core.tokens import image_tokens
from qwenvl_desktop.testing.provider_server import ProviderServer
from qwenvl_desktop.ui.history_images import HistoryImages


def png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "orange").save(buffer, "PNG")
    return buffer.getvalue()


def images_in_last_request(server: ProviderServer) -> int:
    body = server.requests[-1].json
    assert body is not None
    return sum(1 for m in body["messages"] if isinstance(m["content"], list)
               for part in m["content"] if part.get("type") == "image_url")


def answered(qtbot: QtBot, window: object, count: int) -> None:
    """Wait for the `count`-th answer of the shown conversation to end."""
    conv = window.current_conversation()  # type: ignore[attr-defined]
    assert conv is not None
    qtbot.waitUntil(lambda: sum(m.role == "assistant" for m in conv.messages) == count)
    wait_answer(qtbot, window)  # type: ignore[arg-type]


def test_resent_counts_follow_the_wire_rule() -> None:
    history = HistoryImages(count=3, tokens=3000, last_turn_count=1, last_turn_tokens=1000)
    assert history.resent(has_new_images=True) == (3, 3000)
    dropped = HistoryImages(count=3, tokens=3000, last_turn_count=1, last_turn_tokens=1000,
                            drop_old=True)
    assert dropped.resent(has_new_images=True) == (0, 0)
    assert dropped.resent(has_new_images=False) == (1, 1000)


def test_history_cost_is_shown_and_dropping_it_changes_what_is_sent(
        qtbot: QtBot, qasync_loop: asyncio.AbstractEventLoop, server: ProviderServer) -> None:
    window = open_window(qtbot, make_services(server))
    try:
        row = window.composer.history
        assert not row.isVisible()                      # nothing earlier yet
        window.composer.add_image_bytes(png(1280, 800), "first.png")
        window.composer.set_text("what is this?")
        window.composer.submit()
        answered(qtbot, window, 1)
        _provider, model = window.models.target()
        cost = image_tokens(1280, 800, model)
        qtbot.waitUntil(row.isVisible)
        assert row.label.text() == f"Earlier turns resend 1 image ≈ {cost:,} tokens"

        # Resending by default: the follow-up carries the earlier image again.
        window.composer.set_text("and the colour?")
        window.composer.submit()
        answered(qtbot, window, 2)
        assert images_in_last_request(server) == 1

        # The person turns resending off: the saving is shown, the setting remembered,
        # and a new image replaces the old one on the wire.
        row.resend_box.setChecked(False)
        assert window.services.settings.drop_old_images is True
        window.composer.add_image_bytes(png(640, 480), "second.png")
        assert row.label.text() == f"Earlier images not resent (saves ≈ {cost:,} tokens)"
        window.composer.set_text("compare")
        window.composer.submit()
        answered(qtbot, window, 3)
        assert images_in_last_request(server) == 1
        sent = server.requests[-1].json
        assert sent is not None
        url = next(part["image_url"]["url"] for m in sent["messages"]
                   if isinstance(m["content"], list) for part in m["content"]
                   if part.get("type") == "image_url")
        with Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))) as image:
            assert image.size == (640, 480)             # the new image, not the old one
    finally:
        close_window(qtbot, window)
