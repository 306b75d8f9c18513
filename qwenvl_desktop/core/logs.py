"""The app's log file: useful for "what happened?", never a place a key can land.

Every record passes through `errors.redact` before it is written, and the HTTP
libraries are kept at WARNING because their INFO lines print full request URLs
(which may carry a key a person pasted into a base URL or image link).
"""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

from . import paths
from .errors import redact

LOG_NAME = "qwenvl-desktop.log"
_NOISY = ("httpx", "httpcore", "PIL", "asyncio", "markdown_it")
_HTTP_LIBRARIES = ("httpx", "httpcore")


class RedactingFilter(logging.Filter):
    """Rewrites each record's message (and exception text) with keys removed."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info:
            # Render the traceback now, redacted, and drop the live exception.
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


def redact_http_library_logs() -> None:
    """Redact the HTTP libraries' records where they are made, whatever handler or level
    is in use: httpx logs every request's full URL at INFO, user info and query included.
    Safe to call more than once."""
    for name in _HTTP_LIBRARIES:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(RedactingFilter())


def setup_logging(level: int = logging.INFO, folder: Path | None = None) -> Path:
    """Log to a small rotating file in the log folder; returns the file's path."""
    target = (folder or paths.log_dir()) / LOG_NAME
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_qwenvl", False):
            root.removeHandler(handler)
            handler.close()
    handler = logging.handlers.RotatingFileHandler(target, maxBytes=1_000_000, backupCount=2,
                                                   encoding="utf-8", delay=True)
    handler._qwenvl = True  # type: ignore[attr-defined]
    handler.addFilter(RedactingFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(level)
    for name in _NOISY:
        logging.getLogger(name).setLevel(logging.WARNING)
    redact_http_library_logs()
    return target
