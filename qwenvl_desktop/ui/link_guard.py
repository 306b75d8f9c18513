"""Links in a text browser open only after the person has seen where they go.

Every external link in the transcript comes from model-written text, which a prompt
injected through a screenshot can steer. So hovering one shows its real target (a
tooltip and the window's status bar), and activating one opens a small confirmation
with the full address, the host emphasised (as it will be contacted: punycode shows
look-alike letters), a warning when the link's text shows another address, and
"Copy link" as the alternative. Only http, https and mailto links are ever opened.

`LinkGuard` attaches to a QTextBrowser; the browser hands it the external links it is
asked to open (`activate`). The decisions are Qt-free (`core.links`).
"""

from __future__ import annotations

import html
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QPoint, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QGuiApplication, QMouseEvent, QTextBlock
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QMainWindow,
    QPushButton,
    QTextBrowser,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from ..core.i18n import _
from ..core.links import LinkTarget, is_openable, link_target, text_shows
from .theme import scheme

__all__ = ["LinkConfirmDialog", "LinkGuard", "anchor_text"]

_BREAK_AFTER = "/?&=#"


def _breakable(text: str) -> str:
    """Escaped `text` with zero-width spaces where a long address may wrap."""
    out: list[str] = []
    run = 0
    for char in text:
        out.append(html.escape(char))
        run += 1
        if char in _BREAK_AFTER or run >= 32:
            out.append("\u200b")
            run = 0
    return "".join(out)


def _address_html(target: LinkTarget) -> str:
    """The whole address, monospaced, with its host in bold and larger."""
    if not target.host:
        return f"<tt>{_breakable(target.url)}</tt>"
    return (f"<tt>{_breakable(target.before_host)}"
            f"<b><span style='font-size:large'>{html.escape(target.host)}</span></b>"
            f"{_breakable(target.after_host)}</tt>")


def anchor_text(browser: QTextBrowser, url: QUrl, near: QPoint | None = None) -> str:
    """The visible text of the link to `url`: the one at viewport point `near` if there
    is one, else the first such link in the document."""
    wanted = url.toString()
    if near is not None:
        cursor = browser.cursorForPosition(near)
        found = _anchor_in_block(cursor.block(), wanted, cursor.position())
        if found:
            return found
    block = browser.document().begin()
    while block.isValid():
        found = _anchor_in_block(block, wanted, None)
        if found:
            return found
        block = block.next()
    return ""


def _anchor_in_block(block: QTextBlock, wanted: str, position: int | None) -> str:
    """The text of the run of fragments linking to `wanted` (containing `position`)."""
    runs: list[tuple[int, int, str]] = []          # start, end, text
    it = block.begin()
    while not it.atEnd():
        fragment = it.fragment()
        fmt = fragment.charFormat()
        if fmt.isAnchor() and QUrl(fmt.anchorHref()).toString() == wanted:
            start, end = fragment.position(), fragment.position() + fragment.length()
            if runs and runs[-1][1] == start:
                runs[-1] = (runs[-1][0], end, runs[-1][2] + fragment.text())
            else:
                runs.append((start, end, fragment.text()))
        it += 1
    for start, end, text in runs:
        if position is None or start <= position <= end:
            return text
    return ""


def hover_text(url: str, text: str) -> str:
    """Where a link goes, in lines: the tooltip (the status bar joins them)."""
    target = link_target(url)
    if not target.openable:
        return _("{url}\nLinks of this kind are never opened; copy it if you need it.").format(
            url=url)
    if target.scheme == "mailto":
        return _("Writes an e-mail: {url}\nOpens after you confirm.").format(url=url)
    if text_shows(text, url) == "other":
        return _("⚠ Not the address its text shows. Goes to:\n{url}\n"
                 "Opens after you confirm.").format(url=url)
    return _("Goes to {url}\nOpens after you confirm.").format(url=url)


class LinkConfirmDialog(QDialog):
    """"Open this link?": the full address, host emphasised, Open / Copy link / Cancel."""

    def __init__(self, url: str, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.url = url
        target = link_target(url)
        shows = text_shows(text, url)
        image = text.startswith("[image:")
        self.setObjectName("linkConfirm")
        self.setWindowTitle(_("Open image link?") if image else _("Open link?"))
        self.setAccessibleName(_("Open link confirmation"))
        self.setMinimumWidth(460)

        if not target.openable:
            lead = (_("This link was written by the model. Links of this kind ({scheme}) are "
                      "never opened from a conversation; you can copy it.").format(
                          scheme=html.escape(target.scheme or _('no scheme'))))
        elif shows == "other":
            lead = (_("<span style='color:{warning}'><b>⚠ The link's text shows “{text}”, "
                      "but it goes to another address:</b></span>").format(
                          warning=scheme().warning, text=html.escape(text)))
        elif target.scheme == "mailto":
            lead = _("This link, written by the model, opens your mail program to write to:")
        else:
            lead = _("This link was written by the model. It goes to:")
        self.lead_label = QLabel(lead, self)
        self.lead_label.setTextFormat(Qt.TextFormat.RichText)
        self.lead_label.setWordWrap(True)
        self.address_label = QLabel(_address_html(target), self)
        self.address_label.setObjectName("linkAddress")
        self.address_label.setTextFormat(Qt.TextFormat.RichText)
        self.address_label.setWordWrap(True)
        self.address_label.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse)
        self.address_label.setAccessibleName(_("Address: {url}").format(url=url))
        layout = QVBoxLayout(self)
        layout.addWidget(self.lead_label)
        layout.addWidget(self.address_label)
        if target.host_shown:
            self.lookalike_label = QLabel(
                _("The host is written “{host}”: it contains letters from other alphabets "
                  "that look like Latin ones.").format(host=html.escape(target.host_shown)), self)
            self.lookalike_label.setWordWrap(True)
            layout.addWidget(self.lookalike_label)

        buttons = QDialogButtonBox(self)
        self.open_button: QPushButton | None = None
        if target.openable:
            label = _("Write e-mail") if target.scheme == "mailto" else _("Open in browser")
            self.open_button = buttons.addButton(label, QDialogButtonBox.ButtonRole.AcceptRole)
            self.open_button.setAutoDefault(False)
            self.open_button.clicked.connect(self.accept)
        self.copy_button = buttons.addButton(_("Copy link"), QDialogButtonBox.ButtonRole.ActionRole)
        self.cancel_button = buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        # Enter must not open a link the person has not read: Cancel is the default.
        self.cancel_button.setDefault(True)
        self.cancel_button.clicked.connect(self.reject)
        layout.addWidget(buttons)


class LinkGuard(QObject):
    """Hover shows where a browser's links go; `activate` asks before opening one."""

    copied = Signal(str)

    def __init__(self, browser: QTextBrowser,
                 opener: Callable[[QUrl], object] | None = None) -> None:
        super().__init__(browser)
        self.browser = browser
        self.opener = opener            # None: the system's (QDesktopServices.openUrl)
        self.dialog: LinkConfirmDialog | None = None
        self.hovered = ""                   # the hover line shown now ("" for none)
        self._pointer: QPoint | None = None
        browser.viewport().installEventFilter(self)
        browser.highlighted.connect(self._on_hover)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in (QEvent.Type.MouseMove, QEvent.Type.MouseButtonPress,
                            QEvent.Type.MouseButtonRelease) and isinstance(event, QMouseEvent):
            self._pointer = event.position().toPoint()
        return super().eventFilter(watched, event)

    # --- opening -------------------------------------------------------------------------

    def activate(self, url: QUrl) -> None:
        """The person clicked (or pressed Enter on) a link: ask before anything opens."""
        href = url.toString()
        text = anchor_text(self.browser, url, self._pointer)
        if self.dialog is not None:
            self.dialog.close()
        dialog = LinkConfirmDialog(href, text, self.browser)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self._open(href))
        dialog.copy_button.clicked.connect(lambda: self._copy(href, dialog))
        dialog.destroyed.connect(lambda _obj=None: self._forget(dialog))
        self.dialog = dialog
        dialog.open()

    def _open(self, href: str) -> None:
        if is_openable(href):           # checked again: nothing else ever reaches the opener
            (self.opener or QDesktopServices.openUrl)(QUrl(href))

    def _copy(self, href: str, dialog: QDialog) -> None:
        QGuiApplication.clipboard().setText(href)
        self.copied.emit(href)
        dialog.reject()

    def _forget(self, dialog: QDialog) -> None:
        if self.dialog is dialog:
            self.dialog = None

    # --- hovering ------------------------------------------------------------------------

    def _on_hover(self, url: QUrl) -> None:
        href = url.toString()
        line = ""
        if href and ":" in href and link_target(href).scheme and is_openable(href):
            line = hover_text(href, anchor_text(self.browser, url, self._pointer))
        self._show(line)

    def _show(self, line: str) -> None:
        previous, self.hovered = self.hovered, line
        window = self.browser.window()
        bar = window.statusBar() if isinstance(window, QMainWindow) else None
        if line:
            where = self.browser.viewport().mapToGlobal(self._pointer or QPoint(0, 0))
            QToolTip.showText(where, line, self.browser.viewport())
            if bar is not None:
                bar.showMessage(line.replace("\n", " — ").replace(": — ", ": "))
        else:
            QToolTip.hideText()
            shown = previous.replace("\n", " — ").replace(": — ", ": ")
            if bar is not None and previous and bar.currentMessage() == shown:
                bar.clearMessage()
