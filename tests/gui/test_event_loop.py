"""The app's event loop: the same one, with the same thread pool, in the app and here."""

from __future__ import annotations

import asyncio
import threading

from pytestqt.qtbot import QtBot

from qwenvl_desktop.ui.event_loop import AppEventLoop


def test_background_work_runs_on_the_app_s_own_thread_pool(
        qtbot: QtBot, qasync_loop: asyncio.AbstractEventLoop) -> None:
    assert isinstance(qasync_loop, AppEventLoop)

    async def where() -> str:
        return await asyncio.to_thread(lambda: threading.current_thread().name)

    task = asyncio.ensure_future(where())
    qtbot.waitUntil(task.done, timeout=5000)
    assert task.result().startswith("app-worker")
