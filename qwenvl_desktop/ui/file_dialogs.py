"""Every file dialog of the app, starting in the folder used last.

Each dialog names what it is for ("conversations", "attachments", "tables"…). It opens
in the folder last chosen for that purpose, else in the folder last chosen in any file
dialog, else in a sensible default (Documents, or Pictures for images; the home folder
when those do not exist). A remembered folder that no longer exists gives way to its
nearest existing parent inside the home folder, else to the next choice. The folders
live in the window's remembered state (`settings.ui["folders"]`), so they outlast a
restart; anything unreadable there is ignored.

Qt's static dialogs are reached through `ask` (a `DialogBackend`): tests put their own
in its place, and nothing modal opens.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtCore import QStandardPaths
from PySide6.QtWidgets import QFileDialog, QWidget

__all__ = ["DialogBackend", "FileDialogs", "QtDialogBackend", "default_folder"]

_KEY = "folders"
_ANY = "last"
_PICTURE_PURPOSES = frozenset({"attachments", "images"})


class DialogBackend(Protocol):
    """The three kinds of file dialog, as Qt's static functions offer them: each returns
    what was chosen ("" or [] when cancelled)."""

    def open_file(self, parent: QWidget | None, caption: str, folder: str,
                  filters: str) -> str: ...

    def open_files(self, parent: QWidget | None, caption: str, folder: str,
                   filters: str) -> list[str]: ...

    def save_file(self, parent: QWidget | None, caption: str, path: str,
                  filters: str) -> str: ...


class QtDialogBackend:
    """Qt's own dialogs (the platform's native ones where Qt uses them)."""

    def open_file(self, parent: QWidget | None, caption: str, folder: str,
                  filters: str) -> str:
        return QFileDialog.getOpenFileName(parent, caption, folder, filters)[0]

    def open_files(self, parent: QWidget | None, caption: str, folder: str,
                   filters: str) -> list[str]:
        return list(QFileDialog.getOpenFileNames(parent, caption, folder, filters)[0])

    def save_file(self, parent: QWidget | None, caption: str, path: str,
                  filters: str) -> str:
        return QFileDialog.getSaveFileName(parent, caption, path, filters)[0]


def default_folder(purpose: str) -> Path:
    """Where a dialog starts the first time: Pictures for images, Documents for the
    rest, the home folder when that folder does not exist."""
    location = (QStandardPaths.StandardLocation.PicturesLocation
                if purpose in _PICTURE_PURPOSES
                else QStandardPaths.StandardLocation.DocumentsLocation)
    found = QStandardPaths.writableLocation(location)
    if found and Path(found).is_dir():
        return Path(found)
    return Path.home()


class FileDialogs:
    """Opens file dialogs where the person was last, and remembers where they go."""

    def __init__(self, state: dict[str, Any], *, ask: DialogBackend | None = None,
                 default: Callable[[str], Path] = default_folder,
                 home: Callable[[], Path] = Path.home) -> None:
        self._state = state
        self.ask: DialogBackend = ask if ask is not None else QtDialogBackend()
        self._default = default
        self._home = home

    # --- the dialogs ------------------------------------------------------------------

    def open_file(self, parent: QWidget | None, purpose: str, caption: str,
                  filters: str, *, folder: Path | None = None) -> Path | None:
        """One existing file, or None when cancelled. `folder` overrides the start."""
        chosen = self.ask.open_file(parent, caption, str(folder or self.folder(purpose)),
                                    filters)
        return self._chosen(purpose, chosen)

    def open_files(self, parent: QWidget | None, purpose: str, caption: str,
                   filters: str) -> list[Path]:
        chosen = self.ask.open_files(parent, caption, str(self.folder(purpose)), filters)
        paths = [Path(name) for name in chosen if name]
        if paths:
            self.remember(purpose, paths[0].parent)
        return paths

    def save_file(self, parent: QWidget | None, purpose: str, caption: str,
                  suggested_name: str, filters: str, *,
                  folder: Path | None = None) -> Path | None:
        """Where to write, or None when cancelled: the dialog starts in the folder for
        `purpose` (or `folder`) with `suggested_name` filled in."""
        start = (folder or self.folder(purpose)) / suggested_name
        return self._chosen(purpose, self.ask.save_file(parent, caption, str(start), filters))

    # --- the folders ------------------------------------------------------------------

    def folder(self, purpose: str) -> Path:
        """The folder a dialog for `purpose` starts in (one that exists)."""
        for key in (purpose, _ANY):
            found = self._usable(self._folders().get(key))
            if found is not None:
                return found
        return self._default(purpose)

    def remember(self, purpose: str, folder: Path) -> None:
        folders = self._folders()
        folders[purpose] = folders[_ANY] = str(folder)
        self._state[_KEY] = folders

    def _chosen(self, purpose: str, name: str) -> Path | None:
        if not name:
            return None
        path = Path(name)
        self.remember(purpose, path.parent)
        return path

    def _folders(self) -> dict[str, str]:
        saved = self._state.get(_KEY)
        if not isinstance(saved, dict):
            return {}
        return {k: v for k, v in saved.items() if isinstance(k, str) and isinstance(v, str)}

    def _usable(self, saved: str | None) -> Path | None:
        """The remembered folder, or its nearest existing parent inside the home folder
        (a project folder that was moved away leaves you in its parent, not in /)."""
        if not saved:
            return None
        folder = Path(saved)
        if not folder.is_absolute():
            return None
        home = self._home()
        for candidate in (folder, *folder.parents):
            if candidate.is_dir():
                if candidate == folder or (candidate != home and home in candidate.parents):
                    return candidate
                return None
        return None

