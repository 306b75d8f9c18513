"""The asyncio event loop that runs on Qt's: qasync, with one gap closed.

qasync 0.28 never installs asyncio's async-generator hooks, so when a consumer
leaves an httpx stream early the generator is finalised outside the loop and Python
prints "async generator ignored GeneratorExit" (BRIEF §6). Installing the loop's own
hooks for as long as it runs lets asyncio close such generators on the loop, as
`asyncio.run` would.
"""

from __future__ import annotations

import sys
from typing import Any

import qasync


class AppEventLoop(qasync.QEventLoop):  # type: ignore[misc]
    """qasync's loop plus asyncio's async-generator hooks while it runs."""

    _saved_hooks: Any = None

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
