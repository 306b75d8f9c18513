"""The main window: conversation list | model bar, transcript over composer | parameters.

Built in two steps for a fast start: `MainWindow(ui_state)` makes only the frame and
menus, so it can be shown before anything heavy is imported; then `attach(services)`
builds the panes on the real services (markdown, Pillow, httpx and the keyring are
imported there). Tests call `MainWindow.build(services)`.

This is the one place the window is wired. The state — open conversations, the shown
one, edits, streams, deletions to undo, autosave — is the Qt-free `ChatSession`
(core/session); the parts in `window/` are views on it, each built with only the
widgets and callables it uses:

    ModelChoice        model bar, parameter panel, keys: what a turn is sent with
    ConversationsView  the list, the shown conversation, start-up restore
    TurnView           composer and transcript links → session; session events → transcript
    FileActions        open, save, export, rename, delete conversations

Closing is driven from `closeEvent` (awaiting after Qt's loop has quit fails): stop
streams, autosave, save settings, close the HTTP client, then close.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QByteArray, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QMainWindow,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from qwenvl_desktop.core.errors import QwenVLError

from ..core.i18n import _
from .file_dialogs import FileDialogs
from .window.state import WindowState

if TYPE_CHECKING:
    from collections.abc import Sequence

    from qwenvl_desktop.core.conversation import Conversation
    from qwenvl_desktop.core.images import PreparedImage
    from qwenvl_desktop.core.media import PreparedMedia
    from qwenvl_desktop.core.session import ChatSession, TurnTarget
    from qwenvl_desktop.services import Services

    from .composer import Composer
    from .conversation_list import ConversationList
    from .model_bar import ModelBar
    from .param_panel import ParamPanel
    from .stream_worker import StreamWorker
    from .transcript import Transcript
    from .transcript_panels import Banner, WelcomePanel
    from .window.conversations import ConversationsView
    from .window.files import FileActions
    from .window.models import ModelChoice
    from .window.turns import TurnView

__all__ = ["MainWindow"]

log = logging.getLogger(__name__)


def _mirror(box: Any, chip: Any) -> None:
    """The chip shows the check box's state, availability and reason."""
    chip.setChecked(box.isChecked())
    chip.setEnabled(box.isEnabled())
    chip.setToolTip(box.toolTip())

CONVERSATION_SUFFIX = ".qwenvl"


class MainWindow(QMainWindow):
    """The one window of the app."""

    #: Emitted once the shutdown sequence (streams stopped, saved, closed) has finished.
    shut_down = Signal()

    def __init__(self, ui_state: dict[str, Any] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(_("Qwen-VL Desktop"))
        self.setObjectName("mainWindow")
        self.setAcceptDrops(True)
        self.state = WindowState(ui_state or {})
        # Every file dialog starts where the person was last (kept in the window state).
        self.file_dialogs = FileDialogs(self.state.data)
        self.services: Services | None = None
        self._closing = False
        self._closed = False
        self._shutdown_task: asyncio.Future[None] | None = None
        self._pending_open: list[Path] = []
        self.actions_by_name: dict[str, QAction] = {}
        loading = QLabel(_("Loading…"), self)
        loading.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setCentralWidget(loading)
        self._make_menus()
        self.state.restore_geometry(self)

    @classmethod
    def build(cls, services: Services, open_path: Path | None = None) -> MainWindow:
        """A complete window on `services` (what tests and `run_gui` end up with)."""
        window = cls(services.settings.ui)
        window.attach(services, open_path)
        return window

    # --- panes ------------------------------------------------------------------------

    def attach(self, services: Services, open_path: Path | None = None) -> None:
        """Build the panes on the real services; heavy imports happen here."""
        from qwenvl_desktop.core.errors import use_advice

        from .answer_tools import AnswerTools
        from .composer import Composer
        from .conversation_list import ConversationList
        from .error_advice import window_advice
        from .model_bar import ModelBar
        from .param_panel import ParamPanel
        from .transcript import Transcript
        from .transcript_panels import Banner, WelcomePanel

        self.services = services
        use_advice(window_advice)      # errors read in the window's terms from here on
        self.conversation_list: ConversationList = ConversationList(self)
        self.model_bar: ModelBar = ModelBar(services.catalog, services.keystore, self,
                                            lists=services)
        self.param_panel: ParamPanel = ParamPanel(self)
        self.param_panel.setAccessibleName(_("Parameters"))
        self.transcript: Transcript = Transcript(self)
        self.transcript.setAcceptDrops(False)      # drops go to the window → composer
        from .drop_zone import DropZone, EmptyConversationHint

        # An empty conversation shows where to drop or paste an image.
        self.empty_hint = EmptyConversationHint(self.transcript, DropZone())
        self.welcome: WelcomePanel = WelcomePanel(self)
        self.welcome.set_keyring_available(services.keystore.secure)
        self.composer: Composer = Composer(services, self, file_dialogs=self.file_dialogs)
        self.banner: Banner = Banner(self)
        self._lay_out()
        self.session: ChatSession = self._make_session(services)
        self._make_views(services)
        self.answer_tools: AnswerTools = AnswerTools(self, services)
        self._connect()
        from .keyboard_access import KeyboardAccess

        self.access: KeyboardAccess = KeyboardAccess(self)
        self.state.restore_splitters(self)
        for action in self.actions_by_name.values():
            action.setEnabled(True)
        self.models.start()
        self.chat.start(open_path, self.files.open_path, services.settings_warnings)
        for path in self._pending_open:
            self.files.open_path(path)
        self._pending_open.clear()

    def _lay_out(self) -> None:
        from .theme.tokens import LAYOUT, SPACE
        from .window.drawers import Drawer, Drawers
        from .window.header import HeaderBar

        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.transcript)
        self.stack.addWidget(self.welcome)
        self.composer.add_tool(self.model_bar)
        self.chat_splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.chat_splitter.setObjectName("chatSplitter")
        self.chat_splitter.addWidget(self.stack)
        self.chat_splitter.addWidget(self.composer)
        self.chat_splitter.setStretchFactor(0, 4)
        self.chat_splitter.setStretchFactor(1, 1)
        self.chat_splitter.setChildrenCollapsible(False)
        # The gap above the composer is the handle itself, not a margin: a handle narrower
        # than 5 px reaches over its neighbours to stay grabbable, and a widget lying over
        # the transcript makes Qt repaint its whole viewport on every scroll instead of
        # moving the pixels (GUI thread ~10 % → ~7 % busy streaming at 100 tokens/s).
        self.chat_splitter.setHandleWidth(SPACE.xs)
        middle = QWidget(self)
        middle.setObjectName("chatColumn")
        middle.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self.header = HeaderBar(self.actions_by_name, middle)
        column = QVBoxLayout(middle)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.header)
        notes = QVBoxLayout()
        notes.setContentsMargins(SPACE.lg, SPACE.xs, SPACE.lg, 0)
        notes.addWidget(self.banner)
        notes.addWidget(self.model_bar.note)
        column.addLayout(notes)
        column.addWidget(self.chat_splitter, 1)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.addWidget(self.conversation_list)
        self.splitter.addWidget(middle)
        self.splitter.addWidget(self.param_panel)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setSizes([LAYOUT.sidebar_width, 820, LAYOUT.drawer_width])
        self.chat_splitter.setSizes([780, 140])
        host = QWidget(self)
        box = QVBoxLayout(host)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.splitter)
        self.setCentralWidget(host)
        # Narrow windows: the list and the parameters open over the chat (drawers.py).
        self.drawers = Drawers(host, self.splitter, [
            Drawer(self.conversation_list, self.action("toggle_list"), 0,
                   LAYOUT.list_docks_from, LAYOUT.sidebar_width, left=True),
            Drawer(self.param_panel, self.action("toggle_params"), 2,
                   LAYOUT.params_dock_from, LAYOUT.drawer_width, left=False,
                   wanted=False)])
        self.param_panel.hide()         # closed until asked for: it costs no width
        self.drawers.apply()
        # Created now, not on the first message: appearing later pushed every pane up.
        self.statusBar().setSizeGripEnabled(False)

    def _make_session(self, services: Services) -> ChatSession:
        """The session, reading streams through a `StreamWorker` on its own thread with
        an HTTP client made like the app's (closed on shutdown)."""
        from qwenvl_desktop.core.session import ChatSession
        from qwenvl_desktop.services import make_http_client

        from .stream_worker import StreamWorker

        self.stream_worker: StreamWorker = StreamWorker(
            lambda: services.client, lambda: make_http_client(services.settings))
        async def prepare(items: Sequence[Any], target: TurnTarget
                          ) -> Sequence[PreparedImage | PreparedMedia]:
            """Tray items (images, documents, clips) made what is sent."""
            from .media_items import prepare_items

            return await prepare_items(items, model=target.model, provider=target.provider,
                                       high_resolution=target.high_resolution)

        return ChatSession(services.library, self.stream_worker, api_key=services.api_key,
                           drop_old_images=lambda: services.settings.drop_old_images,
                           prepare=prepare)

    def _make_views(self, services: Services) -> None:
        from .delete_undo import DeleteUndo
        from .window.conversations import ConversationsView, ConversationsViewParts
        from .window.files import FileActions, FileActionsParts
        from .window.models import ModelChoice, ModelChoiceParts
        from .window.turns import TurnView, TurnViewParts

        session, status = self.session, self.show_status
        self.delete_undo: DeleteUndo = DeleteUndo(services.library, self.statusBar(), self)
        self.models: ModelChoice = ModelChoice(ModelChoiceParts(
            settings=services.settings, catalog=lambda: services.catalog,
            keystore=services.keystore, save_settings=services.save_settings,
            model_bar=self.model_bar, param_panel=self.param_panel, composer=self.composer,
            banner=self.banner, status=status, current=lambda: session.current,
            show_welcome=self._show_welcome))
        self.files: FileActions = FileActions(FileActionsParts(
            session=session, library=services.library, dialog_parent=self, status=status,
            show_notice=self.banner.show_notice, catalog=lambda: services.catalog,
            next_provider_id=self.models.next_provider_id,
            show_another=lambda: self.chat.show_another(), file_dialogs=self.file_dialogs,
            offer_undo=self.delete_undo.offer))
        self.chat: ConversationsView = ConversationsView(ConversationsViewParts(
            session=session, library=services.library, models=self.models,
            conversation_list=self.conversation_list, transcript=self.transcript,
            composer=self.composer, banner=self.banner, set_title=self._set_title,
            status=status, show_file_error=self.files.show_file_error,
            remembered=self.state.data))
        self.turns: TurnView = TurnView(TurnViewParts(
            session=session, models=self.models, transcript=self.transcript,
            composer=self.composer, banner=self.banner, status_bar=self.statusBar(),
            stop_action=self.action("stop"), dialog_parent=self,
            update_welcome=self.models.update_welcome))

    def _connect(self) -> None:
        """The signals between panes, all here."""
        files, chat, models = self.files, self.chat, self.models
        self.conversation_list.new_requested.connect(chat.new_conversation)
        self.conversation_list.open_requested.connect(chat.open_conversation)
        # Over a narrow window the list is a drawer: it closes once a conversation is chosen.
        self.conversation_list.open_requested.connect(
            lambda _id: self.drawers.close_overlay(self.drawers.drawers[0]))
        self.conversation_list.rename_requested.connect(files.rename)
        self.conversation_list.delete_requested.connect(files.delete)
        self.conversation_list.search_changed.connect(lambda _t: chat.refresh_list())
        self.welcome.keys_requested.connect(lambda: self.open_settings("keys"))
        self.welcome.endpoint_requested.connect(lambda: self.open_settings("endpoints"))
        self.welcome.attach_requested.connect(self.composer.choose_files)
        self.welcome.dropped.connect(self.composer.add_mime)
        self.empty_hint.zone.attach_requested.connect(self.composer.choose_files)
        self.empty_hint.zone.dropped.connect(self.composer.add_mime)
        self.model_bar.keys_requested.connect(lambda _p: self.open_settings("keys"))
        self.model_bar.catalog_changed.connect(models.on_catalog_changed)
        self.model_bar.selection_changed.connect(models.on_selection_changed)
        self.param_panel.changed.connect(models.on_params_changed)
        # The composer's Thinking chip and the panel's check box are one setting.
        chip, box = self.composer.thinking_button, self.param_panel.thinking_check
        chip.clicked.connect(lambda: box.setChecked(chip.isChecked()))
        self.param_panel.thinking_state.connect(lambda: _mirror(box, chip))
        _mirror(box, chip)
        self.composer.history.resend_toggled.connect(models.on_resend_toggled)
        self.composer.error.connect(lambda text: self.show_status(text, 8000))
        self.transcript.copied.connect(lambda _t: self.show_status(_("Copied"), 2000))
        self.banner.action_triggered.connect(self._on_banner_action)
        # A keyring that answers late (an unlock prompt, the start-up read) updates the marks.
        from .keyring_watch import KeyringWatch

        assert self.services is not None
        self.keyring_watch = KeyringWatch(self.services.keystore, self)
        self.keyring_watch.changed.connect(models.on_keys_changed)
        self.delete_undo.restored.connect(self._show_restored)
        self.session.events.other_version_kept.connect(self._on_other_version_kept)
        self.delete_undo.failed.connect(files.show_error_text)

        from .theme import theme_state

        theme_state().changed.connect(self._restyle)

    def _on_other_version_kept(self, title: str) -> None:
        self.banner.show_notice(
            _("A conversation open here was changed by another program meanwhile. Nothing is "
              "lost: this window's version is kept here, the other one as “{title}”.").format(
                  title=title))

    def _show_restored(self, conv_id: str) -> None:
        if self.chat.open_conversation(conv_id):
            self.show_status(_("Conversation brought back from the trash"), 5000)

    def _restyle(self) -> None:
        """The scheme changed: write the transcript again in its colours (not while an
        answer streams into it; the next conversation shown gets them)."""
        if self.transcript.streaming_message_id is None:
            self.transcript.show_conversation(self.session.current)

    def focusNextPrevChild(self, next: bool) -> bool:
        """Tab and Shift+Tab go through the panes in reading order (keyboard_access.py)."""
        access = getattr(self, "access", None)
        if access is not None and access.move_focus(next):
            return True
        return super().focusNextPrevChild(next)

    def show_status(self, text: str, timeout_ms: int) -> None:
        self.statusBar().showMessage(text, timeout_ms)

    def _set_title(self, title: str) -> None:
        from .window.conversations import window_title

        self.setWindowTitle(window_title(title))
        self.header.set_title(title)

    def _show_welcome(self, welcome: bool) -> None:
        self.stack.setCurrentWidget(self.welcome if welcome else self.transcript)

    # --- menus (built in window/menus.py) -------------------------------------------------

    def _make_menus(self) -> None:
        from .window.menus import build_menus

        build_menus(self)

    def action(self, name: str) -> QAction:
        return self.actions_by_name[name]

    # --- small slots --------------------------------------------------------------------

    def copy_selection(self) -> None:
        focus = QApplication.focusWidget()
        if focus is not None and hasattr(focus, "copy"):
            focus.copy()
        else:
            self.transcript.copy()

    def paste_into_composer(self) -> None:
        self.composer.input.paste()

    def toggle_list(self, shown: bool) -> None:
        self.drawers.set_shown(self.drawers.drawers[0], shown)

    def toggle_params(self, shown: bool) -> None:
        self.drawers.set_shown(self.drawers.drawers[1], shown)

    def show_about(self) -> None:
        # QMessageBox here, not at the top: PySide builds its type (and enums) on first
        # use, and this module is imported before the first frame.
        from PySide6.QtWidgets import QMessageBox

        from qwenvl_desktop import __version__

        QMessageBox.about(
            self, _("About Qwen-VL Desktop"),
            _("<h3>Qwen-VL Desktop {version}</h3><p>A native desktop client for Qwen "
              "vision-language models served by DashScope, OVHcloud AI Endpoints, AI/ML API, "
              "Nebula Block, Segmind and OpenAI-compatible endpoints.</p>"
              "<p>MIT licence.</p>").format(version=__version__))

    def _on_banner_action(self, action: str) -> None:
        if action == "keys":
            self.open_settings("keys")
        elif action == "cancel-edit":
            self.turns.cancel_edit()
        self.banner.hide()

    def open_settings(self, page: str = "keys") -> None:
        """Settings as a window-modal dialog that does not block the event loop."""
        from .settings_dialog import SettingsDialog

        services = self.services
        if services is None:
            return
        existing = self.findChild(SettingsDialog)
        if existing is not None and existing.isVisible():
            existing.show_page(page)
            existing.raise_()
            return
        dialog = SettingsDialog(services, self, page=page)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.catalog_changed.connect(self.models.on_catalog_changed)
        dialog.keys_changed.connect(self.models.on_keys_changed)
        dialog.open()

    # --- drops: conversation files open, images go to the composer ---------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        mime = event.mimeData()
        if mime.hasUrls() or mime.hasImage():
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: Any) -> None:
        event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        mime = event.mimeData()
        conversations = [Path(u.toLocalFile()) for u in mime.urls()
                         if u.isLocalFile() and u.toLocalFile().endswith(CONVERSATION_SUFFIX)]
        if conversations:
            event.acceptProposedAction()
            for path in conversations:
                if self.services is None:
                    self._pending_open.append(path)
                else:
                    self.files.open_path(path)
            return
        if self.services is None:
            event.ignore()
            return
        self.composer.add_mime(mime)
        event.acceptProposedAction()

    # --- closing ------------------------------------------------------------------------

    @property
    def is_shut_down(self) -> bool:
        return self._closed

    def is_closing(self) -> bool:
        """True from the moment closing starts (streams stopping, saving) to the end."""
        return self._closing or self._closed

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._closed or self.services is None:
            self.state.save_geometry(self)
            event.accept()
            if not self._closed:
                self._closed = True
                self.shut_down.emit()
            return
        event.ignore()
        if not self._closing:
            self._closing = True
            try:
                asyncio.get_running_loop()
            except RuntimeError:
                self._shutdown_sync()
                return
            self._shutdown_task = asyncio.ensure_future(self._shutdown())

    async def _shutdown(self) -> None:
        services = self.services
        assert services is not None
        try:
            await self.session.aclose()
            self.stream_worker.close()
            self._save_everything()
        finally:
            try:
                await services.aclose()
            except Exception:   # the window must still close; the log keeps the reason
                log.warning("closing the HTTP client failed", exc_info=True)
            # A stream generator a cancelled turn left behind is only finalised when the
            # garbage collector finds it; do that now, while the loop still runs, and let
            # the finaliser's aclose() task run, or asyncio prints "Task was destroyed but
            # it is pending" at exit. (Not loop.shutdown_asyncgens(): the loop may outlive
            # this window, and later streams would then be refused.)
            gc.collect()
            for _ in range(3):
                await asyncio.sleep(0)
            self._closed = True
            # Close once the current event has been handled (not from inside it).
            QTimer.singleShot(0, self._finish_close)

    def _shutdown_sync(self) -> None:
        self.stream_worker.close()
        self._save_everything()
        self._closed = True
        self._finish_close()

    def _finish_close(self) -> None:
        self.close()

    def _save_everything(self) -> None:
        services = self.services
        if services is None:
            return
        self.session.save_all()
        self.chat.remember()
        self.state.save_geometry(self)
        self.state.save_splitters(self)
        self.models.remember_selection()
        services.settings.ui = self.state.data
        try:
            services.save_settings()
        except (QwenVLError, OSError) as err:
            # Closing goes on: only the window's layout and last choices are not kept.
            log.warning("could not save the settings on closing: %s", err)

    # --- for tests and the screenshot script ----------------------------------------------

    def current_conversation(self) -> Conversation | None:
        return self.session.current if self.services is not None else None

    def geometry_bytes(self) -> QByteArray:
        return self.saveGeometry()
