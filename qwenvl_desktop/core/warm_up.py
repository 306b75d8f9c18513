"""The libraries a person's first actions need, imported on a background thread ahead of
those actions.

httpx (the first send), Pillow (the first attachment or screenshot) and markdown-it with
Pygments (the first answer drawn) are imported at their first use, so that a launch does
not wait for them. Left at that, the first send froze the window while httpx loaded:
≈ 180-200 ms of the GUI thread on this 2-core machine, at the moment the person pressed
Send. Once the window is ready and idle, `start_warm_up` imports them on a thread of
their own, so the first use finds them loaded.

Only libraries outside this package are imported here. They never import the product's
modules, so this thread never waits for a module the GUI thread is in the middle of
importing (two threads importing modules that import each other can deadlock). A
library that fails to import is logged and left for its first use to report.
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = ["WARM_MODULES", "WarmUp", "start_warm_up"]

log = logging.getLogger(__name__)

WARM_MODULES: tuple[str, ...] = (
    # The first send: the HTTP client and its event-stream reader.
    "httpx", "httpx_sse",
    # The first attachment, screenshot or paste of an image.
    "PIL.Image", "PIL.ImageOps",
    # The first answer drawn: markdown, its table rule, and code highlighting.
    "markdown_it", "markdown_it.rules_block.table",
    "pygments", "pygments.formatters", "pygments.lexers", "pygments.styles",
)


@dataclass
class WarmUp:
    """A warm-up under way: `done` is set when every module was tried."""

    thread: threading.Thread
    done: threading.Event = field(default_factory=threading.Event)
    #: Modules that failed to import (their first use reports the error to the person).
    failed: list[str] = field(default_factory=list)


def start_warm_up(modules: Sequence[str] = WARM_MODULES) -> WarmUp:
    """Import `modules` in turn on a daemon thread (a closing app does not wait for it)."""
    names = tuple(modules)

    def run() -> None:
        try:
            for name in names:
                try:
                    importlib.import_module(name)
                except Exception as err:    # whatever it is, its first use reports it
                    log.warning("warm-up: could not import %s (%s)", name, err)
                    warm.failed.append(name)
        finally:
            warm.done.set()

    warm = WarmUp(thread=threading.Thread(target=run, name="warm-up", daemon=True))
    warm.thread.start()
    return warm
