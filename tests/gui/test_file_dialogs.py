"""File dialogs start in the folder used last — every one of them, across a restart —
and fall back to a sensible folder when that one is gone. Qt's dialogs are replaced by
`ScriptedDialogs` (the `FileDialogs.ask` seam): nothing modal opens."""

from __future__ import annotations

import asyncio
import io
import shutil
from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtCore import QUrl
from pytestqt.qtbot import QtBot
from scripted_dialogs import ScriptedDialogs
from window_harness import (  # noqa: F401 - fixtures are found by name
    close_window,
    make_services,
    open_window,
    provider_server_fixture,
    send,
    server_fixture,
    wait_answer,
)

from qwenvl_desktop.testing.provider_server import ProviderServer, Script
from qwenvl_desktop.ui.file_dialogs import FileDialogs
from qwenvl_desktop.ui.image_viewer import GroundingViewer

BOX = 'Here:\n```json\n[{"bbox_2d": [250, 250, 750, 750], "label": "box"}]\n```'
TABLE = "| a | b |\n|---|---|\n| 1 | 2 |\n"


@pytest.fixture
def user_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home folder of the test's own, with Documents and Pictures (the defaults)."""
    home = tmp_path / "home"
    for name in ("Documents", "Pictures"):
        (home / name).mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    for name in ("XDG_DOCUMENTS_DIR", "XDG_PICTURES_DIR"):
        monkeypatch.delenv(name, raising=False)
    return home


def png(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    Image.new("RGB", (320, 200), "white").save(buffer, "PNG")
    path.write_bytes(buffer.getvalue())
    return path


def started_in(dialogs: ScriptedDialogs) -> Path:
    """The folder the last dialog opened in."""
    call = dialogs.calls[-1]
    start = Path(call.start)
    return start if call.kind != "save_file" else start.parent


# --- the helper on its own ---------------------------------------------------------------

def test_a_folder_per_purpose_then_the_last_one_then_the_default(user_home: Path) -> None:
    state: dict[str, object] = {}
    dialogs = FileDialogs(state, ask=ScriptedDialogs())
    assert dialogs.folder("conversations") == user_home / "Documents"
    assert dialogs.folder("attachments") == user_home / "Pictures"
    shots = user_home / "shots"
    shots.mkdir()
    dialogs.remember("attachments", shots)
    assert dialogs.folder("attachments") == shots
    assert dialogs.folder("tables") == shots            # nothing for tables yet: the last
    work = user_home / "work"
    work.mkdir()
    dialogs.remember("tables", work)
    assert dialogs.folder("tables") == work
    assert dialogs.folder("attachments") == shots       # each purpose keeps its own
    assert state["folders"] == {"attachments": str(shots), "tables": str(work),
                                "last": str(work)}


def test_a_folder_that_is_gone_gives_way(user_home: Path, tmp_path: Path) -> None:
    project = user_home / "projects" / "report"
    project.mkdir(parents=True)
    dialogs = FileDialogs({}, ask=ScriptedDialogs())
    dialogs.remember("exports", project)
    shutil.rmtree(project)
    # Its nearest parent inside the home folder.
    assert dialogs.folder("exports") == user_home / "projects"
    shutil.rmtree(user_home / "projects")
    # Nothing of it left below home: the default (not the home folder, not /).
    assert dialogs.folder("exports") == user_home / "Documents"
    # Outside the home folder only the folder itself counts.
    outside = tmp_path / "mnt" / "usb"
    outside.mkdir(parents=True)
    dialogs.remember("exports", outside)
    shutil.rmtree(outside)
    assert dialogs.folder("exports") == user_home / "Documents"
    shutil.rmtree(user_home / "Documents")
    assert dialogs.folder("exports") == user_home


@pytest.mark.parametrize("saved", [None, "text", ["a"], {"exports": 3},
                                   {"exports": "relative/folder"}, {"exports": ""}])
def test_anything_unreadable_in_the_state_is_ignored(user_home: Path, saved: object) -> None:
    dialogs = FileDialogs({"folders": saved}, ask=ScriptedDialogs())
    assert dialogs.folder("exports") == user_home / "Documents"
    dialogs.remember("exports", user_home)
    assert dialogs.folder("exports") == user_home


def test_cancel_remembers_nothing(user_home: Path) -> None:
    state: dict[str, object] = {}
    dialogs = FileDialogs(state, ask=ScriptedDialogs(["", [], ""]))
    assert dialogs.open_file(None, "conversations", "Open", "*") is None
    assert dialogs.open_files(None, "attachments", "Attach", "*") == []
    assert dialogs.save_file(None, "tables", "Save", "t.csv", "*") is None
    assert state == {}


# --- every dialog of the window ------------------------------------------------------------

def test_every_dialog_starts_where_the_last_one_left_off_and_after_a_restart(
        qtbot: QtBot, qasync_loop: asyncio.AbstractEventLoop, server: ProviderServer,
        user_home: Path) -> None:
    pictures, reports, chats = user_home / "pics", user_home / "reports", user_home / "chats"
    window = open_window(qtbot, make_services(server))
    try:
        dialogs = ScriptedDialogs()
        window.file_dialogs.ask = dialogs

        # Attach: starts in Pictures (the first time), the chosen folder is remembered.
        dialogs.answers.append([str(png(pictures / "scene.png"))])
        window.action("attach").trigger()
        assert started_in(dialogs) == user_home / "Pictures"
        qtbot.waitUntil(lambda: len(window.composer.tray.attachments()) == 1, timeout=5000)
        server.enqueue(Script(content=BOX))
        send(qtbot, window, "Where is the box?")
        answer = wait_answer(qtbot, window)

        # Save the annotated image: no folder for images yet, so the last one used.
        window.transcript.anchorClicked.emit(QUrl(f"grounding:{answer.id}"))
        qtbot.waitUntil(lambda: window.findChild(GroundingViewer) is not None, timeout=5000)
        viewer = window.findChild(GroundingViewer)
        assert viewer is not None
        reports.mkdir()
        dialogs.answers.append(str(reports / "scene-annotated.png"))
        viewer.choose_save_path()
        assert Path(dialogs.calls[-1].start) == pictures / "scene-annotated.png"
        assert (reports / "scene-annotated.png").is_file()
        viewer.close()

        # Save As: the last folder again (reports), with the title as the name.
        chats.mkdir()
        dialogs.answers.append(str(chats / "box.qwenvl"))
        window.action("save_as").trigger()
        assert started_in(dialogs) == reports
        assert (chats / "box.qwenvl").is_file()

        # Export: no folder for exports yet → the last one (chats); then its own.
        dialogs.answers.append(str(reports / "box.md"))
        window.action("export_md").trigger()
        assert started_in(dialogs) == chats
        dialogs.answers.append("")                               # cancelled
        window.action("export_html").trigger()
        assert started_in(dialogs) == reports

        # Open: the conversations folder (chats), not the last one used (reports).
        dialogs.answers.append("")
        window.action("open").trigger()
        assert started_in(dialogs) == chats

        # Save a table as CSV.
        server.enqueue(Script(content=TABLE))
        send(qtbot, window, "A table, please")
        table_answer = wait_answer(qtbot, window)
        dialogs.answers.append(str(reports / "numbers.csv"))
        window.transcript.anchorClicked.emit(QUrl(f"save-table:{table_answer.id}:0"))
        assert started_in(dialogs) == reports
        assert (reports / "numbers.csv").is_file()

        # Attach again: its own folder.
        dialogs.answers.append([])
        window.action("attach").trigger()
        assert started_in(dialogs) == pictures
        assert [call.kind for call in dialogs.calls] == [
            "open_files", "save_file", "save_file", "save_file", "save_file", "open_file",
            "save_file", "open_files"]
    finally:
        close_window(qtbot, window)

    # After a restart the folders are still known; a removed one gives way.
    shutil.rmtree(pictures)
    again = open_window(qtbot, make_services(server))
    try:
        dialogs = ScriptedDialogs(["", [], ""])
        again.file_dialogs.ask = dialogs
        again.action("open").trigger()
        assert started_in(dialogs) == chats
        again.action("attach").trigger()                         # pics is gone
        assert started_in(dialogs) == reports                    # the last folder used
        again.action("export_md").trigger()
        assert started_in(dialogs) == reports
    finally:
        close_window(qtbot, again)
