"""The asyncio event loop that runs on Qt's: qasync, with two gaps closed.

qasync 0.28 never installs asyncio's async-generator hooks, so when a consumer
leaves an httpx stream early the generator is finalised outside the loop and Python
prints "async generator ignored GeneratorExit". Installing the loop's own
hooks for as long as it runs lets asyncio close such generators on the loop, as
`asyncio.run` would.

Its default executor (`asyncio.to_thread`: image preparation) is a plain thread
pool, not qasync's `QThreadExecutor`: Qt aborts at exit while one of its QThreads is
still alive, and the app, the self-test and the tests all run this same loop.
"""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import qasync

__all__ = ["AppEventLoop"]

_WORKERS = 4


class AppEventLoop(qasync.QEventLoop):  # type: ignore[misc]
    """qasync's loop plus asyncio's async-generator hooks while it runs, and a plain
    thread pool as its default executor (shut down by `close` or `shutdown_executor`)."""

    _saved_hooks: Any = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pool = ThreadPoolExecutor(max_workers=_WORKERS, thread_name_prefix="app-worker")
        self.set_default_executor(self._pool)

    def shutdown_executor(self) -> None:
        """Wait for the worker threads to finish (for a loop that is never closed)."""
        self._pool.shutdown(wait=True)

    def _before_run_forever(self) -> None:
        super()._before_run_forever()
        self._saved_hooks = sys.get_asyncgen_hooks()
        sys.set_asyncgen_hooks(firstiter=self._asyncgen_firstiter_hook,
                               finalizer=self._asyncgen_finalizer_hook)

    def _after_run_forever(self) -> None:
        if self._saved_hooks is not None:
            sys.set_asyncgen_hooks(*self._saved_hooks)
            self._saved_hooks = None
        super()._after_run_forever()
