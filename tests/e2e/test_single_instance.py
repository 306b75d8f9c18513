"""One window per home: later launches hand their files to the running window.

Every launch here is the real app in its own process (offscreen), the way a file
manager starts it. A window is "ready" once its log says so; the tests then watch its
conversation library, where every file the window opens is saved.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import qwenvl_desktop
from qwenvl_desktop.core.conversation import Conversation, Message
from qwenvl_desktop.core.errors import ConversationFileError
from qwenvl_desktop.core.storage import load_conversation, save_conversation

REPO = Path(qwenvl_desktop.__file__).resolve().parent.parent
# Safety nets only: each wait ends as soon as its condition holds.
_START_S = 90
_HAND_OFF_S = 60


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QWENVL")}
    env.update({
        "QWENVL_DESKTOP_HOME": str(home),
        "QT_QPA_PLATFORM": "offscreen",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    })
    return env


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "qwenvl_desktop", *args]


def _wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


class Window:
    """A running window process on one home."""

    def __init__(self, home: Path, *args: str) -> None:
        self.home = home
        self.log = home / "logs" / "qwenvl-desktop.log"
        self.proc = subprocess.Popen(_command(*args), env=_env(home), cwd=home,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _wait_until(self._ready, _START_S, "the window to start")

    def _ready(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"the window exited with {self.proc.returncode}: "
                                 f"{self.proc.stderr.read().decode() if self.proc.stderr else ''}")
        return (self.log.is_file()
                and f"window ready (pid {self.proc.pid})" in self.log.read_text("utf-8"))

    def titles(self) -> list[str]:
        folder = self.home / "data" / "conversations"
        found = []
        for path in folder.glob("*.qwenvl"):
            try:
                found.append(load_conversation(path).title)
            except ConversationFileError:    # not ours to judge here: look again later
                continue
        return found

    def wait_opened(self, title: str) -> None:
        _wait_until(lambda: title in self.titles(), _HAND_OFF_S,
                    f"the window to open “{title}”")

    def crash(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)
        if self.proc.stderr is not None:
            self.proc.stderr.close()


@pytest.fixture
def windows() -> Iterator[list[Window]]:
    """Every window a test starts is stopped at its end, whatever happened."""
    started: list[Window] = []
    yield started
    for window in started:
        window.stop()


def _conversation_file(folder: Path, title: str) -> Path:
    conv = Conversation(title=title)
    conv.append(Message(role="user", text=f"A question in {title}"))
    conv.append(Message(role="assistant", text="An answer"))
    path = folder / f"{title.replace(' ', '-')}.qwenvl"
    save_conversation(conv, path)
    return path


def _launch(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """A launch expected to end by itself: the hand-off, or a terminal command."""
    return subprocess.run(_command(*args), env=_env(home), cwd=home, capture_output=True,
                          text=True, timeout=_HAND_OFF_S, check=False)


def test_a_second_launch_hands_its_file_to_the_running_window(
        isolated_home: Path, tmp_path: Path, windows: list[Window]) -> None:
    first = Window(isolated_home)
    windows.append(first)
    chat = _conversation_file(tmp_path, "Handed over")

    second = _launch(isolated_home, str(chat))

    assert second.returncode == 0, second.stderr
    first.wait_opened("Handed over")
    assert first.proc.poll() is None
    # Terminal commands never go to the window: they run on their own.
    providers = _launch(isolated_home, "providers")
    assert providers.returncode == 0, providers.stderr
    assert "dashscope-intl" in providers.stdout


def test_a_crashed_window_does_not_block_the_next_start(
        isolated_home: Path, tmp_path: Path, windows: list[Window]) -> None:
    crashed = Window(isolated_home)
    windows.append(crashed)
    crashed.crash()                      # its lock file and socket stay behind

    again = Window(isolated_home, str(_conversation_file(tmp_path, "After the crash")))
    windows.append(again)
    again.wait_opened("After the crash")
    # ...and it is this home's window now: the next launch hands over to it.
    later = _launch(isolated_home, str(_conversation_file(tmp_path, "Later on")))
    assert later.returncode == 0, later.stderr
    again.wait_opened("Later on")


def test_another_home_gets_a_window_of_its_own(
        isolated_home: Path, tmp_path: Path, windows: list[Window]) -> None:
    windows.append(Window(isolated_home))
    other_home = tmp_path / "other-home"
    other_home.mkdir()
    other = Window(other_home, str(_conversation_file(tmp_path, "Other home")))
    windows.append(other)
    other.wait_opened("Other home")
    assert "Other home" not in windows[0].titles()
