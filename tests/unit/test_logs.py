"""The log file never holds a key, even when code logs one by mistake."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from qwenvl_desktop.core import logs
from qwenvl_desktop.core.errors import register_secret
from qwenvl_desktop.testing import SENTINEL_KEY


@pytest.fixture
def log_file(tmp_path: Path) -> Iterator[Path]:
    path = logs.setup_logging(logging.DEBUG, folder=tmp_path)
    yield path
    for handler in list(logging.getLogger().handlers):
        if getattr(handler, "_qwenvl", False):
            logging.getLogger().removeHandler(handler)
            handler.close()


def test_keys_in_messages_args_and_tracebacks_are_redacted(log_file: Path) -> None:
    register_secret(SENTINEL_KEY)
    log = logging.getLogger("qwenvl_desktop.test")
    log.info("sending with key %s", SENTINEL_KEY)
    log.warning("header Authorization: Bearer %s", "abcdefghijklmnop1234")
    try:
        raise ValueError(f"bad key {SENTINEL_KEY}")
    except ValueError:
        log.exception("request failed")
    text = log_file.read_text("utf-8")
    assert "sending with key [redacted]" in text
    assert "request failed" in text
    assert "ValueError" in text
    assert SENTINEL_KEY not in text
    assert "abcdefghijklmnop1234" not in text


def test_http_libraries_do_not_log_request_urls(log_file: Path) -> None:
    logging.getLogger("httpx").info("HTTP Request: POST https://x.test/v1?key=%s", SENTINEL_KEY)
    logging.getLogger("qwenvl_desktop.test").info("kept")
    text = log_file.read_text("utf-8")
    assert "kept" in text
    assert "HTTP Request" not in text
