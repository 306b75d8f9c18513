"""Every sentence the keyboard and screen-reader support adds to the window, in one table.

Kept apart (plain constants, no logic), each marked with `N_` for the catalog and translated
with `_()` where it is shown (the language is chosen after this module is imported):
accessible names and descriptions, the shortcut list, the announcements a screen reader
speaks. Functions at the end only put values into sentences; the words stay here.
"""

from __future__ import annotations

from ..core.i18n import N_, _, ngettext

__all__ = [
    "ACTION_CHOOSE_MODEL", "ACTION_FOCUS_MESSAGE", "ACTION_NEXT_PANE", "ACTION_OPEN_VIEWER",
    "ACTION_PREVIOUS_PANE", "ACTION_SHORTCUTS", "ANSWER_FAILED", "ANSWER_FINISHED",
    "ANSWER_STOPPED", "CLEAR_TEXT", "LINK_DESCRIPTIONS", "MESSAGE_ACTIONS_MENU",
    "NO_IMAGE_TO_VIEW", "SHORTCUTS_COLUMNS", "SHORTCUTS_HINT", "SHORTCUTS_TITLE",
    "SHORTCUT_GROUPS", "TRANSCRIPT_DESCRIPTION", "TRANSCRIPT_WRITING", "VIEWER_NEXT_BOX",
    "VIEWER_PREVIOUS_BOX", "VIEWER_ZOOM_FIT", "answer_announcement", "image_alt",
    "with_shortcut",
]

# --- window actions added for the keyboard (menu entries) -----------------------------
ACTION_CHOOSE_MODEL = N_("Choose &Model…")
ACTION_OPEN_VIEWER = N_("Open &Image Viewer")
ACTION_NEXT_PANE = N_("Next &Pane")
ACTION_PREVIOUS_PANE = N_("Previous Pa&ne")
ACTION_FOCUS_MESSAGE = N_("Go to &Message Field")
ACTION_SHORTCUTS = N_("&Keyboard Shortcuts")
NO_IMAGE_TO_VIEW = N_("This conversation has no image to show yet.")

# --- accessible names and descriptions ------------------------------------------------
CLEAR_TEXT = N_("Clear the text")
TRANSCRIPT_DESCRIPTION = N_("The conversation. Tab and Shift+Tab move between its links "
                          "(copy, edit, regenerate, delete, versions, images); Enter "
                          "follows one; the Menu key lists the actions of the message "
                          "at the cursor.")
TRANSCRIPT_WRITING = N_("An answer is being written.")
MESSAGE_ACTIONS_MENU = N_("Message actions")

#: What a transcript link does, by its scheme (read when it has keyboard focus).
LINK_DESCRIPTIONS = {
    "msg-copy": N_("Copy this message"),
    "msg-edit": N_("Edit this question and ask it again"),
    "msg-delete": N_("Delete this message (Undo brings it back)"),
    "msg-regen": N_("Regenerate this answer"),
    "msg-retry": N_("Ask this question again"),
    "msg-reasoning": N_("Show or hide the model's reasoning"),
    "branch-prev": N_("Show the previous version"),
    "branch-next": N_("Show the next version"),
    "copy-code": N_("Copy this code block"),
    "copy-table": N_("Copy this table"),
    "save-table": N_("Save this table as a file"),
    "image": N_("Open this image at full size"),
    "grounding": N_("Open what the answer located in this image"),
    "transcript": N_("Show earlier messages"),
    "http": N_("Web link (asks before opening)"),
    "https": N_("Web link (asks before opening)"),
    "mailto": N_("E-mail link (asks before opening)"),
}

# --- the image viewer -----------------------------------------------------------------
VIEWER_NEXT_BOX = N_("Next item found")
VIEWER_PREVIOUS_BOX = N_("Previous item found")
VIEWER_ZOOM_FIT = N_("Fit the image")

# --- announcements ---------------------------------------------------------------------
ANSWER_FINISHED = N_("Answer finished")
ANSWER_STOPPED = N_("Answer stopped")
ANSWER_FAILED = N_("Answer failed")

# --- Help › Keyboard shortcuts ---------------------------------------------------------
SHORTCUTS_TITLE = N_("Keyboard Shortcuts")
SHORTCUTS_COLUMNS = (N_("Action"), N_("Keys"))
SHORTCUTS_HINT = N_("Tab and Shift+Tab move between controls; F6 moves between the "
                  "conversation list, the header, the conversation and the message field.")
#: Keys that are not window actions (they act inside one pane), by group.
SHORTCUT_GROUPS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    (N_("In the conversation"), (
        (N_("Next / previous link or action"), "Tab / Shift+Tab"),
        (N_("Follow the link (copy, edit, regenerate, delete, version, image)"), "Enter"),
        (N_("Actions of the message at the cursor"), "Menu / Shift+F10"),
    )),
    (N_("In the message field"), (
        (N_("Send"), "Enter"),
        (N_("New line"), "Shift+Enter"),
        (N_("Stop the answer"), "Esc"),
    )),
    (N_("In the model picker"), (
        (N_("Search, then move through the models"), N_("Type, then ↑ / ↓")),
        (N_("Choose the model"), "Enter"),
        (N_("Close without choosing"), "Esc"),
    )),
    (N_("In the image viewer"), (
        (N_("Next / previous item found"), "Alt+↓ / Alt+↑"),
        (N_("Zoom in / out"), "Ctrl++ / Ctrl+−"),
        (N_("Fit the image"), "Ctrl+0"),
        (N_("Close"), "Esc"),
    )),
)


def with_shortcut(words: str, keys: str) -> str:
    """A tooltip that names the keys: "Send (Ctrl+Return)"."""
    return f"{words} ({keys})" if keys else words


def image_alt(name: str, width: int, height: int, size: str) -> str:
    """An image's alternative text: its file name, pixel size and file size."""
    return _("Image {name}, {width}×{height} pixels, {size}").format(
        name=name, width=width, height=height, size=size)


def answer_announcement(outcome: str, model: str, words: int) -> str:
    """What a screen reader speaks once an answer has ended (never per token)."""
    return ngettext("{outcome}: {model}, {n} word.", "{outcome}: {model}, {n} words.",
                    words).format(outcome=outcome, model=model, n=words)
