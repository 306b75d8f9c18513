"""The library's trash folder: a deleted conversation's file waits there, whole.

Nothing in the app empties it; the person can, with their file manager. The library
moves files in and (to undo a delete) back out, and never over another file.
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import ConversationFileError
from .i18n import _
from .storage import FILE_SUFFIX

__all__ = ["TRASH_NAME", "move_into_trash", "take_out_of_trash"]

TRASH_NAME = "trash"


def move_into_trash(library_folder: Path, path: Path, conv_id: str) -> Path | None:
    """Move conversation `conv_id`'s file into the trash under a name not yet taken
    there; returns where it went (None when there was no file)."""
    trash = library_folder / TRASH_NAME
    try:
        if not path.exists():
            return None
        trash.mkdir(parents=True, exist_ok=True)
        target = trash / path.name
        counter = 1
        while target.exists():
            target = trash / f"{conv_id}.{counter}{FILE_SUFFIX}"
            counter += 1
        os.replace(path, target)
    except OSError as exc:
        raise ConversationFileError(
            path.name, _("could not be moved to the trash: {reason}").format(
                reason=exc.strerror or exc)) from exc
    return target


def take_out_of_trash(trashed: Path, target: Path) -> None:
    """Move a file back from the trash to `target` (a name the caller checked is free)."""
    if not trashed.exists():
        raise ConversationFileError(target.name, _("is not in the trash any more"))
    try:
        os.replace(trashed, target)
    except OSError as exc:
        raise ConversationFileError(
            target.name, _("could not be restored from the trash: {reason}").format(
                reason=exc.strerror or exc)) \
            from exc
