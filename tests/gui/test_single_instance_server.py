"""The running window's end of the hand-off: what it accepts, and what it refuses."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtCore import QByteArray, QLockFile
from PySide6.QtNetwork import QLocalSocket
from pytestqt.qtbot import QtBot

from qwenvl_desktop.ui.single_instance import (
    LOCK_NAME,
    InstanceBusyError,
    InstanceServer,
    claim_or_hand_off,
    server_name,
)


def _send(qtbot: QtBot, name: str, payload: bytes) -> bytes:
    """Send `payload` as a later launch would; what the server answered before closing."""
    socket = QLocalSocket()
    socket.connectToServer(name)
    qtbot.waitUntil(lambda: socket.state() == QLocalSocket.LocalSocketState.ConnectedState,
                    timeout=5000)
    socket.write(QByteArray(payload))
    answer = bytearray()

    def closed() -> bool:
        answer.extend(bytes(socket.readAll().data()))
        return socket.state() == QLocalSocket.LocalSocketState.UnconnectedState

    qtbot.waitUntil(closed, timeout=5000)
    return bytes(answer)


def test_files_arrive_and_garbage_is_ignored(qtbot: QtBot, tmp_path: Path) -> None:
    name = server_name(tmp_path)
    server = InstanceServer(None, name)
    received: list[list[str]] = []
    server.files_received.connect(received.append)
    try:
        assert server.listening
        assert _send(qtbot, name, b"{not json\n") == b""
        assert _send(qtbot, name, b'{"open": "not a list"}\n') == b""
        assert received == []
        assert _send(qtbot, name, b'{"open": ["/tmp/a.qwenvl", "/tmp/b.png"]}\n') == b"ok\n"
        assert received == [["/tmp/a.qwenvl", "/tmp/b.png"]]
    finally:
        server.close()


def test_different_homes_have_different_names(tmp_path: Path) -> None:
    assert server_name(tmp_path / "a") != server_name(tmp_path / "b")
    assert server_name(tmp_path / "a") == server_name(tmp_path / "a" / ".." / "a")


def test_a_home_held_by_a_window_that_does_not_answer_is_reported(tmp_path: Path) -> None:
    held = QLockFile(str(tmp_path / LOCK_NAME))   # a live process (this one), not listening
    assert held.tryLock(0)
    try:
        with pytest.raises(InstanceBusyError, match=f"process {os.getpid()}"):
            claim_or_hand_off(tmp_path, [], timeout_s=0.3)
    finally:
        held.unlock()
    server = claim_or_hand_off(tmp_path, [], timeout_s=0.3)   # free again: ours
    assert server is not None
    server.close()
