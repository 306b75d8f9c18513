"""Light and dark: icons drawn crisp in the scheme's colours at any scale, the transcript
written again in the new colours, and the Settings switch that chooses."""

from __future__ import annotations

import asyncio

from PySide6.QtCore import QSize
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from window_harness import (  # noqa: F401 - fixtures are found by name
    close_window,
    make_services,
    open_window,
    provider_server_fixture,
    send,
    server_fixture,
    wait_answer,
    window_fixture,
)

from qwenvl_desktop.core.settings import Settings
from qwenvl_desktop.testing.provider_server import ProviderServer, Script
from qwenvl_desktop.ui.main_window import MainWindow
from qwenvl_desktop.ui.settings_dialog import SettingsDialog
from qwenvl_desktop.ui.theme import apply_theme, scheme
from qwenvl_desktop.ui.theme.icons import ICON_NAMES, icon
from qwenvl_desktop.ui.theme.tokens import DARK, LIGHT


def ink(image: QImage) -> set[str]:
    """The colours of the icon's fully drawn pixels."""
    found = set()
    for y in range(image.height()):
        for x in range(image.width()):
            colour = image.pixelColor(x, y)
            if colour.alpha() == 255:
                found.add(colour.name())
    return found


def test_icons_render_at_device_pixels_for_every_scale() -> None:
    for ratio, side in ((1.0, 18), (1.5, 27), (2.0, 36)):
        pixmap = icon("send").pixmap(QSize(18, 18), ratio)
        assert (pixmap.width(), pixmap.height()) == (side, side), ratio
        assert pixmap.devicePixelRatio() == ratio
    for name in ICON_NAMES:
        assert not icon(name).pixmap(QSize(16, 16)).toImage().isNull(), name


def test_icons_take_the_colour_of_the_scheme_in_force(qapp: QApplication) -> None:
    try:
        apply_theme(qapp, "light")
        assert ink(icon("copy").pixmap(QSize(32, 32)).toImage()) == {LIGHT.text_muted}
        apply_theme(qapp, "dark")
        assert scheme() is DARK
        assert ink(icon("copy").pixmap(QSize(32, 32)).toImage()) == {DARK.text_muted}
    finally:
        apply_theme(qapp, "light")


def test_branch_arrows_are_icons_faint_where_nothing_is_further(qapp: QApplication) -> None:
    from qwenvl_desktop.ui.theme import transcript_colors
    from qwenvl_desktop.ui.transcript_html import branch_switch
    from qwenvl_desktop.ui.transcript_style import TranscriptLook

    colours = transcript_colors(qapp.palette())
    first = branch_switch("m1", (1, 3), colours)
    assert 'src="ui-icon:previous@text_disabled"' in first
    assert "branch-prev:" not in first                 # nothing before the first
    assert '<a href="branch-next:m1"' in first
    assert 'src="ui-icon:next@link"' in first
    assert "1/3" in first
    last = branch_switch("m1", (3, 3), colours)
    assert "branch-next:" not in last
    assert '<a href="branch-prev:m1"' in last
    try:
        apply_theme(qapp, "dark")
        assert ink(TranscriptLook.icon("next@link", 2.0)) == {DARK.link}
        assert ink(TranscriptLook.icon("previous@text_disabled", 2.0)) == {DARK.text_disabled}
        assert ink(TranscriptLook.icon("copy", 2.0)) == {DARK.text_muted}
        assert TranscriptLook.icon("next@no_such_token", 1.0).isNull()
    finally:
        apply_theme(qapp, "light")


def test_switching_to_dark_writes_the_transcript_again(
        qtbot: QtBot, qapp: QApplication, window: MainWindow, server: ProviderServer) -> None:
    server.enqueue(Script(content="An answer."))
    send(qtbot, window, "A question")
    wait_answer(qtbot, window)
    assert QColor(LIGHT.user_bubble).name() in window.transcript.toHtml()
    try:
        apply_theme(qapp, "dark")
        html = window.transcript.toHtml()
        assert QColor(DARK.user_bubble).name() in html
        assert QColor(LIGHT.user_bubble).name() not in html
        assert "An answer." in window.transcript.toPlainText()
    finally:
        apply_theme(qapp, "light")


def test_settings_appearance_applies_and_is_kept(
        qtbot: QtBot, qapp: QApplication, qasync_loop: asyncio.AbstractEventLoop,
        server: ProviderServer) -> None:
    win = open_window(qtbot, make_services(server))
    try:
        win.open_settings("general")
        dialog = win.findChild(SettingsDialog)
        assert dialog is not None
        combo = dialog.general_page.theme_combo
        combo.setCurrentIndex(combo.findData("dark"))
        assert scheme() is DARK
        assert Settings.load()[0].theme == "dark"
        combo.setCurrentIndex(combo.findData("system"))
        assert Settings.load()[0].theme == "system"
        dialog.close()
    finally:
        apply_theme(qapp, "light")
        close_window(qtbot, win)
