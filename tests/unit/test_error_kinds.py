"""Every error class maps to the kind code acts on; the words are never looked at."""

from __future__ import annotations

import asyncio

import pytest

from qwenvl_desktop.core import errors
from qwenvl_desktop.core.error_kinds import ErrorKind, error_kind


@pytest.mark.parametrize(("exc", "kind"), [
    (errors.MissingKeyError("DashScope", "DASHSCOPE_API_KEY"), ErrorKind.MISSING_KEY),
    (errors.AuthenticationError("bad", status=401), ErrorKind.KEY_REJECTED),
    (errors.PermissionError_("no", status=403), ErrorKind.KEY_REJECTED),
    (errors.CreditsError("empty", status=402), ErrorKind.CREDITS),
    (errors.RateLimitError("slow", status=429), ErrorKind.RATE_LIMITED),
    (errors.BadRequestError("No API key in this sentence", status=400),
     ErrorKind.BAD_REQUEST),
    (errors.NotFoundError("gone", status=404), ErrorKind.NOT_FOUND),
    (errors.ServerError("oops", status=502), ErrorKind.SERVER),
    (errors.StreamErrorEvent("mid", status=0), ErrorKind.PROVIDER),
    (errors.TimeoutError_("slow"), ErrorKind.TIMEOUT),
    (errors.NetworkError("down"), ErrorKind.NETWORK),
    (errors.InterruptedStream("cut"), ErrorKind.INTERRUPTED),
    (errors.MalformedStream("junk"), ErrorKind.MALFORMED),
    (errors.CancelledByUser("stop"), ErrorKind.STOPPED),
    (asyncio.CancelledError(), ErrorKind.STOPPED),
    (errors.KeyStoreError("locked"), ErrorKind.KEYRING),
    (errors.ImageError("a.png", "too small"), ErrorKind.INPUT),
    (errors.ConversationFileError("c.qwenvl", "damaged"), ErrorKind.INPUT),
    (errors.ParameterError("temperature"), ErrorKind.CONFIG),
    (errors.BusyError("answering"), ErrorKind.BUSY),
    (ValueError("a bug"), ErrorKind.UNEXPECTED),
])
def test_each_error_has_its_kind(exc: BaseException, kind: ErrorKind) -> None:
    assert error_kind(exc) is kind


def test_only_key_problems_point_to_the_keys_page() -> None:
    assert {k for k in ErrorKind if k.about_keys} == {ErrorKind.MISSING_KEY,
                                                      ErrorKind.KEY_REJECTED}
