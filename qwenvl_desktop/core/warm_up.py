"""The libraries a person's first actions need, imported on a background thread ahead of
those actions.

httpx (the first send), Pillow (the first attachment or screenshot) and markdown-it with
Pygments (the first answer drawn) are imported at their first use, so that a launch does
not wait for them. Left at that, the first send froze the window while httpx loaded:
≈ 180-200 ms of the GUI thread on this 2-core machine, at the moment the person pressed
Send. Once the window is ready and idle, `start_warm_up` imports them on a thread of
their own, so the first use finds them loaded, and makes the code highlighters of the
commonest languages (a highlighter compiles its patterns when first made: ≈ 80 ms for
Python's, which stalled the first answer with a code block).

Only libraries outside this package are imported on that thread. They never import the
product's modules, so the thread never waits for a module the GUI thread is in the
middle of importing (two threads importing modules that import each other can
deadlock). The product's own modules the same first actions need (`OWN_MODULES`, ≈ 25 ms
in all) are imported afterwards by the GUI thread, one per event-loop turn
(`import_next`). Anything that fails is logged and left for its first use to report.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

__all__ = ["OWN_MODULES", "WARM_LEXERS", "WARM_MODULES", "WarmUp", "import_next",
           "start_warm_up"]

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

#: Highlighters made ahead (Pygments names): answers' code is most often one of these.
WARM_LEXERS: tuple[str, ...] = ("python", "bash", "javascript")

#: The product's modules behind the first send and the first attachment, for the GUI
#: thread to import once the libraries above are loaded.
OWN_MODULES: tuple[str, ...] = ("qwenvl_desktop.core.api.client", "qwenvl_desktop.core.media")


@dataclass
class WarmUp:
    """A warm-up under way: `done` is set when every module was tried."""

    thread: threading.Thread
    done: threading.Event = field(default_factory=threading.Event)
    #: Modules that failed to import (their first use reports the error to the person).
    failed: list[str] = field(default_factory=list)


def start_warm_up(modules: Sequence[str] = WARM_MODULES,
                  lexers: Sequence[str] = WARM_LEXERS,
                  on_done: Callable[[], None] | None = None) -> WarmUp:
    """Import `modules` and make the highlighters `lexers` in turn on a daemon thread (a
    closing app does not wait for it); `on_done` is then called on that thread."""
    names, languages = tuple(modules), tuple(lexers)

    def run() -> None:
        started = time.perf_counter()
        try:
            for name in names:
                try:
                    importlib.import_module(name)
                except Exception as err:    # whatever it is, its first use reports it
                    log.warning("warm-up: could not import %s (%s)", name, err)
                    warm.failed.append(name)
            for language in languages:
                try:
                    from pygments.lexers import get_lexer_by_name

                    get_lexer_by_name(language)
                except Exception as err:    # the answer's code is shown plain then
                    log.warning("warm-up: no highlighter for %s (%s)", language, err)
                    warm.failed.append(f"lexer:{language}")
        finally:
            log.info("warm-up: %d libraries and %d highlighters ready in %.0f ms (%d failed)",
                     len(names), len(languages), (time.perf_counter() - started) * 1000,
                     len(warm.failed))
            warm.done.set()
            if on_done is not None:
                try:
                    on_done()
                except Exception as err:    # e.g. the app's loop closed: it is quitting
                    log.info("warm-up: not handed back (%s)", err)

    warm = WarmUp(thread=threading.Thread(target=run, name="warm-up", daemon=True))
    warm.thread.start()
    return warm


def import_next(names: list[str]) -> bool:
    """Import the first of `names` (removing it) in the calling thread; True while more
    remain. A failure is logged, not raised: the module's first real use reports it."""
    if not names:
        return False
    name = names.pop(0)
    try:
        importlib.import_module(name)
    except Exception as err:
        log.warning("warm-up: could not import %s (%s)", name, err)
    return bool(names)
