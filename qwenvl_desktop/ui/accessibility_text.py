"""Every sentence the keyboard and screen-reader support adds to the window, in one table.

Kept apart (plain constants, no logic) so that the translation can wrap this one file:
accessible names and descriptions, the shortcut list, the announcements a screen reader
speaks. Functions at the end only put values into sentences; the words stay here.
"""

from __future__ import annotations

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
ACTION_CHOOSE_MODEL = "Choose &Model…"
ACTION_OPEN_VIEWER = "Open &Image Viewer"
ACTION_NEXT_PANE = "Next &Pane"
ACTION_PREVIOUS_PANE = "Previous Pa&ne"
ACTION_FOCUS_MESSAGE = "Go to &Message Field"
ACTION_SHORTCUTS = "&Keyboard Shortcuts"
NO_IMAGE_TO_VIEW = "This conversation has no image to show yet."

# --- accessible names and descriptions ------------------------------------------------
CLEAR_TEXT = "Clear the text"
TRANSCRIPT_DESCRIPTION = ("The conversation. Tab and Shift+Tab move between its links "
                          "(copy, edit, regenerate, delete, versions, images); Enter "
                          "follows one; the Menu key lists the actions of the message "
                          "at the cursor.")
TRANSCRIPT_WRITING = "An answer is being written."
MESSAGE_ACTIONS_MENU = "Message actions"

#: What a transcript link does, by its scheme (read when it has keyboard focus).
LINK_DESCRIPTIONS = {
    "msg-copy": "Copy this message",
    "msg-edit": "Edit this question and ask it again",
    "msg-delete": "Delete this message (Undo brings it back)",
    "msg-regen": "Regenerate this answer",
    "msg-retry": "Ask this question again",
    "msg-reasoning": "Show or hide the model's reasoning",
    "branch-prev": "Show the previous version",
    "branch-next": "Show the next version",
    "copy-code": "Copy this code block",
    "copy-table": "Copy this table",
    "save-table": "Save this table as a file",
    "image": "Open this image at full size",
    "grounding": "Open what the answer located in this image",
    "transcript": "Show earlier messages",
    "http": "Web link (asks before opening)",
    "https": "Web link (asks before opening)",
    "mailto": "E-mail link (asks before opening)",
}

# --- the image viewer -----------------------------------------------------------------
VIEWER_NEXT_BOX = "Next item found"
VIEWER_PREVIOUS_BOX = "Previous item found"
VIEWER_ZOOM_FIT = "Fit the image"

# --- announcements ---------------------------------------------------------------------
ANSWER_FINISHED = "Answer finished"
ANSWER_STOPPED = "Answer stopped"
ANSWER_FAILED = "Answer failed"

# --- Help › Keyboard shortcuts ---------------------------------------------------------
SHORTCUTS_TITLE = "Keyboard Shortcuts"
SHORTCUTS_COLUMNS = ("Action", "Keys")
SHORTCUTS_HINT = ("Tab and Shift+Tab move between controls; F6 moves between the "
                  "conversation list, the header, the conversation and the message field.")
#: Keys that are not window actions (they act inside one pane), by group.
SHORTCUT_GROUPS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("In the conversation", (
        ("Next / previous link or action", "Tab / Shift+Tab"),
        ("Follow the link (copy, edit, regenerate, delete, version, image)", "Enter"),
        ("Actions of the message at the cursor", "Menu / Shift+F10"),
    )),
    ("In the message field", (
        ("Send", "Enter"),
        ("New line", "Shift+Enter"),
        ("Stop the answer", "Esc"),
    )),
    ("In the model picker", (
        ("Search, then move through the models", "Type, then ↑ / ↓"),
        ("Choose the model", "Enter"),
        ("Close without choosing", "Esc"),
    )),
    ("In the image viewer", (
        ("Next / previous item found", "Alt+↓ / Alt+↑"),
        ("Zoom in / out", "Ctrl++ / Ctrl+−"),
        ("Fit the image", "Ctrl+0"),
        ("Close", "Esc"),
    )),
)


def with_shortcut(words: str, keys: str) -> str:
    """A tooltip that names the keys: "Send (Ctrl+Return)"."""
    return f"{words} ({keys})" if keys else words


def image_alt(name: str, width: int, height: int, size: str) -> str:
    """An image's alternative text: its file name, pixel size and file size."""
    return f"Image {name}, {width}×{height} pixels, {size}"


def answer_announcement(outcome: str, model: str, words: int) -> str:
    """What a screen reader speaks once an answer has ended (never per token)."""
    return f"{outcome}: {model}, {words} word{'s' if words != 1 else ''}."
