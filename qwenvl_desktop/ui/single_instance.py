"""One window per home: a later launch hands its files to the window already running.

Two windows on one home would autosave the same conversations over each other, and
double-clicking a `.qwenvl` file while the app runs starts a second process. So the
first process to start on a home takes a lock file in the home's data folder
(`QLockFile`; a lock left by a crashed run names a process that no longer exists, and
Qt takes it over) and listens on a local socket (`QLocalServer`) whose name is derived
from that folder, so that different homes never meet. A later launch finds the lock
taken, connects, sends the files it was given (as absolute paths: the two processes
need not share a working folder), waits for the window's answer and exits 0. The
window raises itself and opens them.

A crashed run also leaves its socket file behind; whoever takes the lock next removes
it before listening. Only the window's start comes here: terminal commands
(`ask`, `key`, `providers`, `export`, `--self-test`) never do (`__main__`).

Where the socket lives: in `$XDG_RUNTIME_DIR` when there is one (a folder only its
user can enter); otherwise Qt's default (the temporary folder, or the named-pipe
namespace on Windows), with access limited to the user.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import logging
import os
import sys
import time
from pathlib import Path

from PySide6.QtCore import QByteArray, QLockFile, QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

__all__ = ["LOCK_NAME", "InstanceBusyError", "InstanceServer", "claim_or_hand_off",
           "server_name"]

log = logging.getLogger(__name__)

LOCK_NAME = "instance.lock"
_ACK = b"ok\n"
# A window that has just taken the lock needs a moment (its imports) before it listens.
_HAND_OFF_S = 15.0
_CONNECT_MS = 500
_MAX_MESSAGE = 1_000_000
# sun_path holds 108 bytes on Linux, 104 on macOS.
_MAX_SOCKET_PATH = 100


class InstanceBusyError(Exception):
    """The home has a running window, but it did not take the files in time."""


def server_name(data_folder: Path) -> str:
    """The local socket's name for the home whose data lives in `data_folder`."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):       # no user name (a container): the id is enough
        user = str(os.getuid()) if hasattr(os, "getuid") else ""
    digest = hashlib.sha256(f"{user}\0{data_folder.resolve()}".encode()).hexdigest()[:24]
    name = f"qwenvl-desktop-{digest}"
    runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    if sys.platform != "win32" and runtime and os.path.isdir(runtime):
        path = os.path.join(runtime, f"{name}.sock")
        if len(os.fsencode(path)) <= _MAX_SOCKET_PATH:
            return path
    return name


class InstanceServer(QObject):
    """The running window's end: files that later launches hand over."""

    #: Paths (absolute, as strings) another launch asked this window to open.
    files_received = Signal(list)

    def __init__(self, lock: QLockFile | None, name: str,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._lock = lock
        self._buffers: dict[QLocalSocket, bytearray] = {}
        self._server = QLocalServer(self)
        self._server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self._server.newConnection.connect(self._accept)
        # A socket file left by a crashed run would make listen() fail.
        QLocalServer.removeServer(name)
        if not self._server.listen(name):
            log.warning("cannot listen on %s (%s): later launches will open windows of "
                        "their own", name, self._server.errorString())

    @property
    def listening(self) -> bool:
        return self._server.isListening()

    def close(self) -> None:
        """Stop taking files and free the home for the next start."""
        self._server.close()
        if self._lock is not None:
            self._lock.unlock()
            self._lock = None

    def _accept(self) -> None:
        while self._server.hasPendingConnections():
            socket = self._server.nextPendingConnection()
            self._buffers[socket] = bytearray()
            socket.readyRead.connect(lambda s=socket: self._read(s))
            socket.disconnected.connect(lambda s=socket: self._drop(s))

    def _drop(self, socket: QLocalSocket) -> None:
        self._buffers.pop(socket, None)
        socket.deleteLater()

    def _read(self, socket: QLocalSocket) -> None:
        buffer = self._buffers.get(socket)
        if buffer is None:
            return
        buffer += bytes(socket.readAll().data())
        if b"\n" not in buffer:
            if len(buffer) > _MAX_MESSAGE:
                log.warning("a launch sent more than %d bytes; ignored", _MAX_MESSAGE)
                socket.abort()
            return
        line = bytes(buffer).split(b"\n", 1)[0]
        try:
            paths = _parse(line)
        except ValueError as err:
            log.warning("ignored a message from another launch: %s", err)
            socket.abort()
            return
        socket.write(QByteArray(_ACK))
        socket.flush()
        socket.disconnectFromServer()
        log.info("another launch handed over %d file(s)", len(paths))
        self.files_received.emit(paths)


def _parse(line: bytes) -> list[str]:
    try:
        message = json.loads(line)
    except ValueError as err:
        raise ValueError(f"not JSON ({err})") from None
    paths = message.get("open") if isinstance(message, dict) else None
    if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
        raise ValueError("no list of files to open")
    return paths


def _hand_off(name: str, paths: list[Path], deadline: float) -> bool:
    """Give `paths` to the window listening on `name`; True once it has answered."""
    socket = QLocalSocket()
    socket.connectToServer(name)
    if not socket.waitForConnected(_CONNECT_MS):
        return False
    message = json.dumps({"open": [str(p) for p in paths]}).encode() + b"\n"
    socket.write(QByteArray(message))
    answer = bytearray()
    while _ACK not in answer:
        remaining = int((deadline - time.monotonic()) * 1000)
        if remaining <= 0 or not socket.waitForReadyRead(remaining):
            break
        answer += bytes(socket.readAll().data())
    socket.abort()
    return _ACK in answer


def claim_or_hand_off(data_folder: Path, paths: list[Path], *,
                      timeout_s: float = _HAND_OFF_S) -> InstanceServer | None:
    """Become this home's window (the server to keep while it runs), or hand `paths`
    to the window already running and return None: the caller then exits.

    Raises InstanceBusyError when a running window holds the home but does not answer.
    A home whose lock cannot be written at all (a read-only folder) still starts.
    """
    name = server_name(data_folder)
    absolute = [p.resolve() for p in paths]
    lock = QLockFile(str(data_folder / LOCK_NAME))
    # The lock is held for as long as the window runs: only a dead holder makes it stale.
    lock.setStaleLockTime(0)
    deadline = time.monotonic() + timeout_s
    while True:
        if lock.tryLock(0):
            return InstanceServer(lock, name)
        if lock.error() != QLockFile.LockError.LockFailedError:
            log.warning("cannot take the lock %s (%s); starting anyway",
                        lock.fileName(), lock.error().name)
            return InstanceServer(None, name)
        if _hand_off(name, absolute, deadline):
            log.info("handed %d file(s) to the running window", len(absolute))
            return None
        if time.monotonic() > deadline:
            info = lock.getLockInfo()      # (pid, host, app name) when readable
            owner = f"process {info[0]}" if info and info[0] else "another process"
            raise InstanceBusyError(
                f"Qwen-VL Desktop is already running on this home ({owner}) but does not "
                "answer; close it, or end that process, and try again")
        # The running window is still starting (it holds the lock, not yet listening).
        time.sleep(0.1)
