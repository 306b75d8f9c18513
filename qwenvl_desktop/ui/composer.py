"""The composer: the message input, its attachment tray, and every way an image gets in.

Images arrive by drag and drop (files, image data from browsers and other apps, web
links), by Ctrl+V, by the file picker and by screenshot. Each is read and checked at
once (header only: cheap), so a bad one is reported by name and reason right away, in
the tray and through `error(str)`; what is already attached is never touched. A web
link without image data is only offered ("Attach image from this link", `LinkOffer`);
when the person accepts, it is downloaded on the qasync loop with a "downloading…"
card in the tray.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QMimeData, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QDragEnterEvent,
    QDragLeaveEvent,
    QDragMoveEvent,
    QDropEvent,
    QImage,
)
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QMenu,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..core.catalog import Model, Provider
from ..core.errors import InputError, explain
from ..core.i18n import N_, _, ngettext
from ..services import Services
from . import screenshot
from .attachment_tray import AttachmentTray, PendingAttachment, PendingItem
from .composer_input import (
    ComposerInput,
    encoded_image,
    name_from_url,
    offers_image,
    png_bytes,
    text_urls,
    timestamp,
)
from .file_dialogs import FileDialogs
from .history_images import HistoryRow
from .link_offer import LinkOffer
from .media_items import MediaIntake, media_kind
from .theme.icons import icon
from .theme.tokens import ICON, LAYOUT, SPACE
from .widgets import start_task

__all__ = ["MAX_DOWNLOAD_BYTES", "Composer", "ComposerInput"]

MAX_DOWNLOAD_BYTES = 20_000_000

IMAGE_FILTER = (N_("Images, PDFs and videos (*.png *.jpg *.jpeg *.webp *.gif *.bmp *.tif "
                   "*.tiff *.avif *.pdf *.mp4 *.m4v *.webm *.mov *.mkv *.avi);;Images (*.png "
                   "*.jpg *.jpeg *.webp *.gif *.bmp *.tif *.tiff *.avif);;PDF documents "
                   "(*.pdf);;Videos (*.mp4 *.m4v *.webm *.mov *.mkv *.avi);;All files (*)"))


def _tool_button(parent: QWidget, name: str, tip: str, accessible: str) -> QToolButton:
    """An icon button of the composer's row (its words in the tooltip and for screen
    readers)."""
    button = QToolButton(parent)
    button.setIcon(icon(name))
    button.setIconSize(QSize(ICON.medium, ICON.medium))
    button.setToolTip(tip)
    button.setAccessibleName(accessible)
    button.setAutoRaise(True)
    return button


class _Field(QFrame):
    """The rounded field: as wide as the transcript's reading column when there is room
    (the composer centres it), narrower when there is not."""

    def sizeHint(self) -> QSize:
        return QSize(LAYOUT.reading_width, super().sizeHint().height())


class Composer(QWidget):
    """Message input, Send/Stop, attach and screenshot buttons, and the attachment tray.

    `send_requested(text, attachments)` carries the text and a list of
    `PendingAttachment`; the composer clears itself after emitting it (the window
    puts them back with `set_text`/`set_attachments` to edit and resend).
    """

    send_requested = Signal(str, list)
    stop_requested = Signal()
    error = Signal(str)

    def __init__(self, services: Services, parent: QWidget | None = None, *,
                 file_dialogs: FileDialogs | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.file_dialogs = file_dialogs if file_dialogs is not None else FileDialogs({})
        self._streaming = False
        self._provider: Provider | None = None
        self._model: Model | None = None
        self._high_resolution = False
        self._downloads: dict[int, asyncio.Task[bytes]] = {}
        self.setAcceptDrops(True)

        self.tray = AttachmentTray(self)
        # What earlier turns' images add to the next request, and the choice to drop them.
        self.history = HistoryRow(self)
        self.link_offer = LinkOffer(self)
        self.input = ComposerInput(self, self)
        self.input.setMinimumHeight(LAYOUT.composer_min_height)
        self.input.setPlaceholderText(_("Ask about an image, or drop, paste or capture one…"))
        self.attach_button = _tool_button(self, "attach", _("Attach images, PDFs or videos… "
                                                            "(or drop or paste them)"),
                                                          _("Attach images"))
        self.screenshot_button = _tool_button(self, "screenshot", _("Take a screenshot"),
                                              _("Take a screenshot"))
        self.screenshot_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.screenshot_button)
        self.screenshot_full_action = menu.addAction(_("Full screen (all monitors)"))
        self.screenshot_region_action = menu.addAction(_("Region…"))
        self.screenshot_button.setMenu(menu)
        self.paste_button = _tool_button(self, "paste", _("Paste an image or text (Ctrl+V)"),
                                         _("Paste"))
        self.locate_button = _tool_button(
            self, "locate", _("Locate: ask the model where things are in the image; it answers "
                              "with boxes or points drawn on the image"), _("Locate in the image"))
        # The most used setting, next to the message (the parameter drawer has the rest).
        self.thinking_button = QToolButton(self)
        self.thinking_button.setProperty("role", "chip")
        self.thinking_button.setText(_("Thinking"))
        self.thinking_button.setIcon(icon("thinking"))
        self.thinking_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.thinking_button.setCheckable(True)
        self.thinking_button.setAccessibleName(_("Thinking"))
        self.send_button = QPushButton(self)
        self.send_button.setObjectName("sendButton")
        self.send_button.setIcon(icon("send", "on_accent", "on_accent"))
        self.send_button.setIconSize(QSize(ICON.large, ICON.large))
        self.send_button.setDefault(False)
        self.send_button.setAutoDefault(False)
        self.set_streaming(False)

        # One rounded field: what is attached, the text, and a row of actions under it.
        self.frame = _Field(self)
        self.frame.setObjectName("composerFrame")
        self.tools = QHBoxLayout()
        self.tools.setContentsMargins(0, 0, 0, 0)
        self.tools.setSpacing(SPACE.xxs)
        for button in (self.attach_button, self.screenshot_button, self.paste_button,
                       self.locate_button):
            self.tools.addWidget(button)
        self.tools.addSpacing(SPACE.sm)
        # The window puts the model chip here (`add_tool`), before the stretch.
        self._tool_slot = self.tools.count()
        self.tools.addStretch(1)
        self.tools.addWidget(self.thinking_button)
        self.tools.addSpacing(SPACE.xs)
        self.tools.addWidget(self.send_button)
        inner = QVBoxLayout(self.frame)
        inner.setContentsMargins(SPACE.md, SPACE.sm, SPACE.sm, SPACE.sm)
        inner.setSpacing(SPACE.xs)
        inner.addWidget(self.tray)
        inner.addWidget(self.history)
        inner.addWidget(self.link_offer)
        inner.addWidget(self.input, 1)
        inner.addLayout(self.tools)
        layout = QVBoxLayout(self)
        # No top margin: the window's splitter handle above is the gap (main_window.py).
        layout.setContentsMargins(SPACE.lg, 0, SPACE.lg, SPACE.md)
        # In a wide window the field keeps to the transcript's reading column, centred
        # under it, instead of stretching to a line no one reads across.
        layout.addWidget(self.frame, 0, Qt.AlignmentFlag.AlignHCenter)
        self.link_offer.attach_requested.connect(self._download_all)

        self.paste_button.clicked.connect(self.input.paste)
        self.input.submitted.connect(self.submit)
        self.input.escape_pressed.connect(self.stop_requested)
        self.send_button.clicked.connect(self._on_send_button)
        self.attach_button.clicked.connect(self.choose_files)
        # Deferred: the menu must be gone before the screen is grabbed.
        self.screenshot_full_action.triggered.connect(
            lambda: QTimer.singleShot(0, self.capture_full_screen))
        self.screenshot_region_action.triggered.connect(
            lambda: QTimer.singleShot(0, self.capture_region))
        self.locate_button.clicked.connect(self.locate)
        self.tray.remove_requested.connect(self._cancel_download)
        self.tray.changed.connect(
            lambda: self.history.show_cost(has_new_images=bool(self.tray.attachments())))
        self.tray.decode_failed.connect(lambda _name, message: self._report([message]))
        # Documents and videos are read on the media worker, a "reading…" card meanwhile.
        self.intake = MediaIntake(self.tray, lambda: (self._model, self._high_resolution), self)
        self.intake.failed.connect(self._media_failed)

    # --- text and state ---------------------------------------------------------------

    def text(self) -> str:
        return self.input.toPlainText()

    def set_text(self, text: str) -> None:
        self.input.setPlainText(text)
        cursor = self.input.textCursor()
        cursor.movePosition(cursor.MoveOperation.End)
        self.input.setTextCursor(cursor)

    def clear(self) -> None:
        """Empty the text and the tray; downloads still running are cancelled."""
        self.input.clear()
        self.link_offer.withdraw()
        for task in self._downloads.values():
            task.cancel()
        self._downloads.clear()
        self.intake.clear()
        self.tray.clear()

    def attachments(self) -> list[PendingItem]:
        return self.tray.attachments()

    def set_attachments(self, attachments: list[PendingItem]) -> None:
        """Replace the tray's images (edit and resend)."""
        for handle in self.tray.handles():
            self.tray.remove(handle)
        for attachment in attachments:
            self.tray.add(attachment)

    def set_streaming(self, streaming: bool) -> None:
        """While an answer streams, the button stops it and Enter does not send."""
        self._streaming = streaming
        self.send_button.setIcon(icon("stop" if streaming else "send", "on_accent", "on_accent"))
        self.send_button.setAccessibleName(_("Stop the answer") if streaming else _("Send"))
        self.send_button.setToolTip(_("Stop the answer (Esc)") if streaming
                                    else _("Send (Enter)"))

    def is_streaming(self) -> bool:
        return self._streaming

    def set_target(self, provider: Provider, model: Model, high_resolution: bool = False) -> None:
        """The model the next message goes to: re-estimates every image in the tray."""
        self._provider = provider
        self._model = model
        self._high_resolution = high_resolution
        self.tray.set_target(model, high_resolution, provider)

    def focus_input(self) -> None:
        self.input.setFocus(Qt.FocusReason.OtherFocusReason)

    def locate(self) -> None:
        """Ask what to find; put the model family's grounding prompt in the input."""
        from .locate_dialog import LocateDialog, insert_prompt

        if self._model is None:
            self._report([_("Choose a model first: the words that ask for boxes depend on it.")])
            return
        dialog = LocateDialog(self._model, self)
        if dialog.exec() == LocateDialog.DialogCode.Accepted and dialog.what.text().strip():
            self.set_text(insert_prompt(self.text(), dialog.prompt()))
            self.focus_input()

    # --- sending ------------------------------------------------------------------------

    def _on_send_button(self) -> None:
        if self._streaming:
            self.stop_requested.emit()
        else:
            self.submit()

    def submit(self) -> None:
        """Send the message if it can be sent; otherwise say why, in place."""
        if self._streaming:
            return
        text = self.text()
        images = self.attachments()
        if not text.strip() and not images:
            return
        model = self._model
        if images and model is not None and not model.vision:
            message = ngettext(
                "{model} cannot see images; pick a vision model or remove the image.",
                "{model} cannot see images; pick a vision model or remove the {count} images.",
                len(images)).format(model=model.id, count=len(images))
            self._report([message])
            return
        if self.tray.pending_count():
            self._report([_("An attachment is still downloading or being read; send when it "
                            "has arrived, or remove it from the tray.")])
            return
        problems = self.tray.problems()
        if problems:
            self._report(problems)
            return
        self.send_requested.emit(text, images)
        self.clear()

    # --- adding images ------------------------------------------------------------------

    def add_files(self, paths: Sequence[str | Path]) -> int:
        """Attach image files; returns how many were added. Problems are reported."""
        errors: list[str] = []
        added = 0
        for raw in paths:
            path = Path(raw)
            kind = media_kind(path) if path.is_file() else ""
            if kind:
                if self.intake.start(path, kind, errors):
                    added += 1
                continue
            # Pillow (through core.images) is imported at first use, not to start the window.
            from ..core.images import read_image_file

            try:
                data = read_image_file(path)
            except InputError as err:
                errors.append(explain(err))
                continue
            if self._add(data, path.name, "", errors):
                added += 1
        self._report(errors, clear=True)
        return added

    def reading(self) -> int:
        """Documents and videos still being read."""
        return self.intake.busy()

    def _media_failed(self, message: str) -> None:
        # Files of one drop are read one after another: their problems add up in the
        # note instead of each replacing the last.
        shown = self.tray.error_text()
        self.error.emit(message)
        self.tray.show_errors([*shown.splitlines(), message] if shown else [message])

    def add_image_bytes(self, data: bytes, name: str, source_url: str = "") -> bool:
        """Attach an image held in memory (pasted, dropped, captured, downloaded)."""
        errors: list[str] = []
        added = self._add(data, name, source_url, errors)
        self._report(errors, clear=True)
        return added

    def _add(self, data: bytes, name: str, source_url: str, errors: list[str]) -> bool:
        from ..core.images import inspect_image

        try:
            info = inspect_image(data, name)
        except InputError as err:
            errors.append(explain(err))
            return False
        if self.tray.contains(data):
            errors.append(_("{name}: this image is attached already.").format(name=name))
            return False
        self.tray.add(PendingAttachment(data=data, name=name, info=info,
                                        source_url=source_url))
        return True

    def add_mime(self, mime: QMimeData, *, pasted: bool = False) -> None:
        """Attach whatever images a drop or paste offers; report everything else."""
        urls = list(mime.urls()) if mime.hasUrls() else []
        if not urls and mime.hasText():
            urls = text_urls(mime.text()) or []
        local = [u.toLocalFile() for u in urls if u.isLocalFile()]
        remote = [u.toString() for u in urls
                  if not u.isLocalFile() and u.scheme() in ("http", "https")]
        other = [u.toString() for u in urls
                 if not u.isLocalFile() and u.scheme() not in ("http", "https")]
        errors = [_("{u}: only image files and http(s) image links can be attached").format(u=u)
                  for u in other]
        if local:
            self._report(errors, clear=True)
            self.add_files(local)
            return
        encoded = encoded_image(mime)
        if encoded is not None:
            data, ext = encoded
            if remote:
                name = name_from_url(remote[0], "image")
                if "." not in name:
                    name = f"{name}.{ext}"
                source = remote[0]
            else:
                name = f"{'pasted' if pasted else 'dropped'}-{timestamp()}.{ext}"
                source = ""
            errors_now: list[str] = []
            self._add(data, name, source, errors_now)
            self._report(errors + errors_now, clear=True)
            return
        if remote:
            self._report(errors, clear=True)
            self.offer_links(remote)
            return
        if "image/svg+xml" in mime.formats():
            errors.append(_("The dropped image is an SVG vector image, which is not supported; "
                            "export it as PNG first."))
        elif not errors:
            what = mime.text().strip()[:40] if mime.hasText() else ", ".join(mime.formats()[:3])
            sentence = (_("Nothing to attach: the pasted item is not an image or an image file "
                          "({what}).") if pasted else
                        _("Nothing to attach: the dropped item is not an image or an image file "
                          "({what})."))
            errors.append(sentence.format(what=what or _("empty")))
        self._report(errors, clear=True)

    # --- downloads ----------------------------------------------------------------------

    def offer_links(self, urls: list[str]) -> None:
        """Offer to fetch images at web links; nothing is fetched until asked."""
        self.link_offer.offer(urls)

    def _download_all(self, urls: list[str]) -> None:
        for url in urls:
            self.download(url)

    def download(self, url: str) -> None:
        """Fetch an image link (at most 20 MB) on the event loop, with a tray card."""
        name = name_from_url(url, "image")
        from ..core.images import fetch_image_url

        handle = self.tray.add_pending(name)
        coro = fetch_image_url(self.services.http, url, max_bytes=MAX_DOWNLOAD_BYTES)
        try:
            task = start_task(coro, self, lambda data, err: self._downloaded(
                handle, url, name, data, err))
        except RuntimeError:
            self.tray.remove(handle)
            self._report([_("{name}: cannot download now (the app's event loop is not "
                            "running).").format(name=name)])
            return
        self._downloads[handle] = task

    def downloads_running(self) -> int:
        return len(self._downloads)

    def _downloaded(self, handle: int, url: str, name: str, data: bytes | None,
                    error: BaseException | None) -> None:
        self._downloads.pop(handle, None)
        self.tray.remove(handle)
        if error is not None:
            self._report([explain(error)])
            return
        if data is not None:
            self.add_image_bytes(data, name, source_url=url)

    def _cancel_download(self, handle: int) -> None:
        task = self._downloads.pop(handle, None)
        if task is not None:
            task.cancel()
        self.tray.remove(handle)

    # --- pickers and screenshots ------------------------------------------------------

    def choose_files(self) -> None:
        paths = self.file_dialogs.open_files(self, "attachments",
                                             _("Attach images, PDFs or videos"), _(IMAGE_FILTER))
        if paths:
            self.add_files(paths)

    def capture_full_screen(self) -> None:
        """Screenshot every monitor (this window hidden meanwhile) into the tray."""
        try:
            self._add_screenshot(screenshot.capture_full(self.window()))
        except screenshot.ScreenshotUnavailable as err:
            self._report([str(err)])

    def capture_region(self) -> None:
        """Let the person drag a region over all monitors; Esc cancels quietly."""
        try:
            self._add_screenshot(screenshot.capture_region(self.window()))
        except screenshot.ScreenshotUnavailable as err:
            self._report([str(err)])

    def _add_screenshot(self, image: QImage | None) -> None:
        if image is None or image.isNull():
            return      # cancelled (Esc) or nothing grabbed: nothing to report
        self.add_image_bytes(png_bytes(image), screenshot.screenshot_name())
        self.focus_input()

    # --- reporting ----------------------------------------------------------------------

    def _report(self, messages: list[str], *, clear: bool = False) -> None:
        """Tell the person about problems: signal each, and show them in the tray."""
        if not messages:
            if clear:
                self.tray.clear_notes()
            return
        for message in messages:
            self.error.emit(message)
        self.tray.show_errors(messages)

    # --- drops on the whole composer ----------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        # Everything is let in, so that a drop of something unusable gets a message
        # instead of the "forbidden" cursor and silence.
        mime = event.mimeData()
        if mime is not None and (offers_image(mime) or mime.hasText() or mime.formats()):
            event.acceptProposedAction()
            self._set_drop_highlight(True)
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        event.acceptProposedAction()

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:
        self._set_drop_highlight(False)
        super().dragLeaveEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        self._set_drop_highlight(False)
        mime = event.mimeData()
        if mime is None:
            return
        event.acceptProposedAction()
        self.add_mime(mime)

    def _set_drop_highlight(self, on: bool) -> None:
        if bool(self.frame.property("drop")) == on:
            return
        self.frame.setProperty("drop", on)
        self.frame.style().unpolish(self.frame)     # the style sheet reads the property
        self.frame.style().polish(self.frame)

    def add_tool(self, widget: QWidget) -> None:
        """Put `widget` (the model chip) in the action row, after the attach buttons."""
        self.tools.insertWidget(self._tool_slot, widget)
        self._tool_slot += 1
