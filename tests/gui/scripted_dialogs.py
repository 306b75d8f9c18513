"""A stand-in for Qt's file dialogs (`ui.file_dialogs.DialogBackend`): each call is
recorded with the folder or path it started at, and answered from a script — nothing
modal opens in a test."""

from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtWidgets import QWidget

__all__ = ["DialogCall", "ScriptedDialogs"]


@dataclass(frozen=True)
class DialogCall:
    kind: str          # "open_file" | "open_files" | "save_file"
    caption: str
    start: str         # the folder it opened in (with the suggested name, for saves)
    filters: str


@dataclass
class ScriptedDialogs:
    answers: list[str | list[str]] = field(default_factory=list)
    """What the person "chooses" in each dialog, in order ("" or []: Cancel)."""
    calls: list[DialogCall] = field(default_factory=list)

    def _answer(self, kind: str, caption: str, start: str, filters: str) -> str | list[str]:
        self.calls.append(DialogCall(kind, caption, start, filters))
        assert self.answers, f"no answer scripted for the dialog {caption!r}"
        return self.answers.pop(0)

    def open_file(self, _parent: QWidget | None, caption: str, folder: str,
                  filters: str) -> str:
        answer = self._answer("open_file", caption, folder, filters)
        assert isinstance(answer, str)
        return answer

    def open_files(self, _parent: QWidget | None, caption: str, folder: str,
                   filters: str) -> list[str]:
        answer = self._answer("open_files", caption, folder, filters)
        return [answer] if isinstance(answer, str) and answer else list(answer)

    def save_file(self, _parent: QWidget | None, caption: str, path: str,
                  filters: str) -> str:
        answer = self._answer("save_file", caption, path, filters)
        assert isinstance(answer, str)
        return answer
