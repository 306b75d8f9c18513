"""The transcript without a mouse.

QTextBrowser already moves between links with Tab / Shift+Tab and follows the one with
keyboard focus on Enter; this adds what a screen reader needs to use that, and a menu:

* the link with keyboard focus is selected, scrolled into view, and its meaning ("Delete
  this message", an image's name and size) becomes the transcript's accessible
  description — the link's own word ("Copy") does not say which message it acts on;
* the Menu key (or Shift+F10) opens the actions of the message at the cursor: every
  action link of that message, in order, each doing what clicking it does.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QUrl
from PySide6.QtGui import QContextMenuEvent, QKeyEvent, QPalette, QTextCursor
from PySide6.QtWidgets import QMenu, QTextEdit

from ..core.i18n import _
from . import accessibility_text as text
from .transcript import Transcript

__all__ = ["TranscriptKeys", "describe_link", "message_links"]

# Links that act on a message (not the prose's own web links, which ask first anyway).
_MESSAGE_SCHEMES = ("msg-", "branch-", "copy-", "save-", "image", "grounding")


def describe_link(transcript: Transcript, href: str) -> str:
    """What following `href` does, in words (an image's name, pixels and bytes)."""
    scheme, _sep, rest = href.partition(":")
    if scheme in ("image", "grounding"):
        sha = rest.rpartition(":")[2] if scheme == "grounding" else rest
        conv = transcript.conversation
        image = conv.images.get(sha) if conv is not None and sha else None
        words = _(text.LINK_DESCRIPTIONS[scheme])
        if image is not None:
            from .transcript_html import image_alt_text

            return f"{words}: {image_alt_text(image)}"
        return words
    return _(text.LINK_DESCRIPTIONS[scheme]) if scheme in text.LINK_DESCRIPTIONS else href


def message_links(transcript: Transcript, position: int) -> list[tuple[str, str]]:
    """(label, href) of each action link of the message holding `position`, in order."""
    starts = transcript.loaded_message_ids()
    spans = [(transcript.message_span(mid), mid) for mid in starts]
    span = next((s for s, _mid in spans if s is not None and s[0] <= position <= s[1]),
                None)
    if span is None:
        return []
    labels: dict[str, str] = {}         # href → its words (an icon alone has none)
    block = transcript.document().findBlock(span[0])
    while block.isValid() and block.position() <= span[1]:
        iterator = block.begin()
        while not iterator.atEnd():
            fragment = iterator.fragment()
            fmt = fragment.charFormat()
            href = fmt.anchorHref() if fmt.isAnchor() else ""
            if href.startswith(_MESSAGE_SCHEMES):
                label = fragment.text().replace("\ufffc", "").strip()
                if not labels.get(href):
                    labels[href] = label
            iterator += 1
        block = block.next()
    found = []
    for href, label in labels.items():
        # The description says what the link's own word ("Copy") leaves open.
        words = describe_link(transcript, href)
        found.append((words if words != href else label or href, href))
    return found


def _menu_key(event: QKeyEvent) -> bool:
    """The Menu key, or Shift+F10 (the context-menu key of keyboards without one)."""
    return (event.key() == Qt.Key.Key_Menu
            or (event.key() == Qt.Key.Key_F10
                and event.modifiers() == Qt.KeyboardModifier.ShiftModifier))


class TranscriptKeys(QObject):
    def __init__(self, transcript: Transcript) -> None:
        super().__init__(transcript)
        self.transcript = transcript
        self.menu: QMenu | None = None
        # Tab selects the next link, but QTextBrowser emits neither `highlighted` nor
        # `selectionChanged` for that: the description follows once the key is handled.
        transcript.installEventFilter(self)

    def focused_link(self) -> str:
        """The href of the link Tab has selected ("" when none is)."""
        cursor = self.transcript.textCursor()
        if not cursor.hasSelection():
            return ""
        fmt = cursor.charFormat()
        return fmt.anchorHref() if fmt.isAnchor() else ""

    def _on_selection(self) -> None:
        href = self.focused_link()
        if href:
            self.transcript.setAccessibleDescription(describe_link(self.transcript, href))
            self.transcript.ensureCursorVisible()
        self._mark(href)

    def _mark(self, href: str) -> None:
        """Paint the link with keyboard focus in the selection colours (Qt's own mark is a
        faint dotted frame)."""
        if not href:
            self.transcript.setExtraSelections([])
            return
        palette = self.transcript.palette()
        mark = QTextEdit.ExtraSelection()
        mark.cursor = self.transcript.textCursor()
        mark.format.setBackground(palette.color(QPalette.ColorRole.Highlight))
        mark.format.setForeground(palette.color(QPalette.ColorRole.HighlightedText))
        self.transcript.setExtraSelections([mark])

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (watched is self.transcript and event.type() == QEvent.Type.KeyRelease
                and isinstance(event, QKeyEvent)
                and event.key() in (Qt.Key.Key_Tab, Qt.Key.Key_Backtab)):
            self._on_selection()
        if watched is self.transcript and event.type() == QEvent.Type.FocusOut:
            self._mark("")
        if (watched is self.transcript and event.type() == QEvent.Type.KeyPress
                and isinstance(event, QKeyEvent) and _menu_key(event)):
            return self.open_menu()
        if (watched is self.transcript and event.type() == QEvent.Type.ContextMenu
                and isinstance(event, QContextMenuEvent)
                and event.reason() == QContextMenuEvent.Reason.Keyboard):
            # (The platform may send this after the Menu key the filter already took.)
            return (self.menu is not None and self.menu.isVisible()) or self.open_menu()
        return False

    def open_menu(self) -> bool:
        """The actions of the message at the cursor as a menu; False when there are none."""
        cursor: QTextCursor = self.transcript.textCursor()
        links = message_links(self.transcript, cursor.selectionStart())
        if not links:
            return False
        menu = QMenu(self.transcript)
        menu.setAccessibleName(_(text.MESSAGE_ACTIONS_MENU))
        for label, href in links:
            action = menu.addAction(label)
            action.triggered.connect(
                lambda _c=False, h=href: self.transcript.anchorClicked.emit(QUrl(h)))
        self.menu = menu
        rect = self.transcript.cursorRect(cursor)
        menu.popup(self.transcript.viewport().mapToGlobal(rect.bottomLeft()))
        return True
