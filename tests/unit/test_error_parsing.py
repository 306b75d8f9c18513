"""Error bodies of every shape, the class chosen for every status, and the words shown."""

from __future__ import annotations

import email.utils
import json

import pytest

from qwenvl_desktop.core.api.error_parsing import (
    error_from_event,
    error_from_response,
    is_retryable_status,
    parse_retry_after,
)
from qwenvl_desktop.core.catalog import load_builtin
from qwenvl_desktop.core.errors import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    CreditsError,
    NotFoundError,
    PermissionError_,
    RateLimitError,
    ServerError,
    StreamErrorEvent,
    explain,
)

CATALOG = load_builtin()
OVH = CATALOG.get("ovh")
NOW = 1_760_000_000.0

# Each shape with a neutral message (no words about credits), and the text we expect out.
SHAPES: dict[str, tuple[bytes, str]] = {
    "openai": (json.dumps({"error": {"message": "Model is overloaded right now",
                                     "type": "server_error", "code": "overloaded"}}).encode(),
               "Model is overloaded right now"),
    "dashscope-top-level": (json.dumps({"code": "InternalError", "message": "Oops happened",
                                        "request_id": "req-42"}).encode(),
                            "Oops happened (request id req-42)"),
    "segmind": (b'{"error": "Something went wrong upstream"}', "Something went wrong upstream"),
    "aimlapi-string-status": (b'{"message": "Nope, not today", "statusCode": "403", '
                              b'"error": "Forbidden"}', "Nope, not today"),
    "aimlapi-int-status": (b'{"message": "Nope, not today", "statusCode": 403}',
                           "Nope, not today"),
    "fastapi-detail": (b'{"detail": "Model Qwen/X does not exist."}',
                       "Model Qwen/X does not exist."),
    "fastapi-validation": (b'{"detail": [{"loc": ["body", "temperature"], '
                           b'"msg": "Input should be less than 2", "type": "less_than"}]}',
                           "body.temperature: Input should be less than 2"),
    "plain-text": (b"upstream connect error or disconnect/reset before headers\n",
                   "upstream connect error or disconnect/reset before headers"),
    "html": (b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
             b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
             b"</body>\r\n</html>\r\n", "returned an HTML error page: 502 Bad Gateway"),
    "empty": (b"", "(no details from OVHcloud AI Endpoints)"),
    "invalid-utf8": (b"\xff\xfeerror \xc3\x28 in gateway", "error"),
}

STATUS_CLASS: dict[int, type[APIStatusError]] = {
    400: BadRequestError, 413: BadRequestError, 422: BadRequestError,
    401: AuthenticationError, 402: CreditsError, 406: CreditsError,
    403: PermissionError_, 404: NotFoundError, 429: RateLimitError,
    408: ServerError, 409: ServerError, 500: ServerError, 502: ServerError,
    503: ServerError, 504: ServerError, 418: ServerError, 599: ServerError,
}


@pytest.mark.parametrize("status", sorted(STATUS_CLASS))
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_every_shape_and_status(shape: str, status: int) -> None:
    body, expected = SHAPES[shape]
    err = error_from_response(status, {"Content-Type": "application/json"}, body, OVH, now=NOW)
    assert type(err) is STATUS_CLASS[status]
    assert err.status == status
    assert err.provider == "ovh"
    assert expected in err.message
    assert err.retry_after is None
    assert len(err.message) < 400


def test_codes_and_types_are_kept() -> None:
    err = error_from_response(500, {}, SHAPES["openai"][0], OVH)
    assert (err.code, err.error_type) == ("overloaded", "server_error")
    top = error_from_response(500, {}, SHAPES["dashscope-top-level"][0], OVH)
    assert top.code == "InternalError"
    nest = error_from_response(403, {}, SHAPES["aimlapi-string-status"][0], OVH)
    assert nest.code == ""
    assert nest.error_type == "Forbidden"


def test_empty_body_names_the_status() -> None:
    err = error_from_response(502, {}, b"", OVH)
    assert err.message == "Bad Gateway (no details from OVHcloud AI Endpoints)"
    assert explain(err).startswith("HTTP 502: Bad Gateway")


def test_html_is_reduced_to_its_title_or_heading() -> None:
    page = (b"<!DOCTYPE html><html><head><style>body{color:red}</style></head><body>"
            b"<h2>  Service \n Temporarily   Unavailable &amp; more </h2><p>x</p></body></html>")
    err = error_from_response(503, {"content-type": "text/html"}, page, OVH)
    assert err.message == ("OVHcloud AI Endpoints returned an HTML error page: "
                           "Service Temporarily Unavailable & more")
    long_page = b"<html><body><p>" + b"word " * 400 + b"</p></body></html>"
    long_err = error_from_response(502, {"content-type": "text/html"}, long_page, OVH)
    assert "<" not in long_err.message
    assert len(long_err.message) < 400


def test_credits_cases() -> None:
    aiml = CATALOG.get("aimlapi")
    body = b'{"message": "Forbidden", "statusCode": "403"}'
    assert type(error_from_response(403, {}, body, aiml)) is CreditsError
    quota = b'{"error": {"message": "Free tier quota exhausted", "code": "AllocationQuota"}}'
    assert type(error_from_response(403, {}, quota, OVH)) is CreditsError
    balance = b'{"error": "Your balance is too low"}'
    assert type(error_from_response(403, {}, balance, OVH)) is CreditsError
    insufficient = b'{"error": {"message": "You exceeded your plan", "code": "insufficient_quota"}}'
    assert type(error_from_response(429, {}, insufficient, OVH)) is CreditsError
    arrears = b'{"code": "Arrearage", "message": "Access denied, account in arrears."}'
    assert type(error_from_response(429, {}, arrears, OVH)) is CreditsError
    assert type(error_from_response(400, {}, arrears, OVH)) is CreditsError
    # Rate-limit words alone do not make a 429 a credits problem.
    rate = b'{"error": {"message": "Requests rate limit exceeded", "code": "limit_requests"}}'
    assert type(error_from_response(429, {}, rate, OVH)) is RateLimitError
    segmind = CATALOG.get("segmind")
    assert type(error_from_response(406, {}, b'{"error": "Not enough credits"}',
                                    segmind)) is CreditsError


# --- Retry-After ---------------------------------------------------------------------

@pytest.mark.parametrize(("value", "expected"), [
    ("5", 5.0), (" 12 ", 12.0), ("1.5", 1.5), ("0", 0.0), ("-3", 0.0),
    (None, None), ("", None), ("soon", None), ("5 seconds", None), ("nan", None),
    ("inf", None), ("Mon, 99 Foo 2025 99:99:99 GMT", None),
])
def test_parse_retry_after_seconds_and_garbage(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, now=NOW) == expected


def test_parse_retry_after_http_date() -> None:
    future = email.utils.formatdate(NOW + 30, usegmt=True)
    assert parse_retry_after(future, now=NOW) == pytest.approx(30.0)
    past = email.utils.formatdate(NOW - 300, usegmt=True)
    assert parse_retry_after(past, now=NOW) == 0.0
    naive = email.utils.formatdate(NOW + 60).replace("+0000", "-0000")
    assert parse_retry_after(naive, now=NOW) == pytest.approx(60.0)


def test_retry_after_header_reaches_the_error_whatever_its_case() -> None:
    err = error_from_response(429, {"retry-after": "7"}, b"", OVH)
    assert isinstance(err, RateLimitError)
    assert err.retry_after == 7.0
    upper = error_from_response(503, {"Retry-After": "2"}, b"", OVH)
    assert upper.retry_after == 2.0
    date = email.utils.formatdate(NOW + 10, usegmt=True)
    dated = error_from_response(429, {"RETRY-AFTER": date}, b"", OVH, now=NOW)
    assert dated.retry_after == pytest.approx(10.0)
    millis = error_from_response(429, {"retry-after-ms": "1500", "retry-after": "9"}, b"", OVH)
    assert millis.retry_after == 1.5


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504, 599])
def test_retryable(status: int) -> None:
    assert is_retryable_status(status)


@pytest.mark.parametrize("status", [200, 400, 401, 402, 403, 404, 406, 413, 422, 600])
def test_not_retryable(status: int) -> None:
    assert not is_retryable_status(status)


# --- secrets -------------------------------------------------------------------------

def test_echoed_keys_never_reach_the_message() -> None:
    key = "sk-ECHOED0123456789abcdef"
    bodies = [
        json.dumps({"error": {"message": f"Incorrect API key provided: {key}"}}).encode(),
        f"<html><head><title>Bad key Bearer {key}</title></head></html>".encode(),
        f"authorization: Bearer {key}".encode(),
    ]
    for body in bodies:
        err = error_from_response(401, {}, body, OVH)
        assert key not in err.message
        assert key not in explain(err)


# --- error events inside a 200 stream ------------------------------------------------

def test_error_event_shapes() -> None:
    nested = error_from_event({"error": {"message": "Input data may contain inappropriate "
                                                    "content.",
                                         "code": "data_inspection_failed",
                                         "type": "invalid_request_error"}}, OVH)
    assert isinstance(nested, StreamErrorEvent)
    assert nested.code == "data_inspection_failed"
    assert nested.provider == "ovh"
    assert "inappropriate content" in nested.message
    top = error_from_event({"code": "Throttling", "message": "Too many requests"}, OVH)
    assert top.code == "Throttling"
    assert top.message == "Too many requests"
    text = error_from_event({"error": "model crashed"}, OVH)
    assert text.message == "model crashed"
    vllm = error_from_event({"error": {"message": "max_tokens too large", "code": 400,
                                       "type": "BadRequestError"}}, OVH)
    # Inside an HTTP 200 stream a numeric code is the server's code, not an HTTP status.
    assert vllm.status == 0
    assert vllm.code == "400"
    bare = error_from_event({"error": {"type": "weird"}}, OVH)
    assert "reported an error mid-answer" in bare.message
    assert "weird" in bare.message


# --- what a person reads -------------------------------------------------------------

@pytest.mark.parametrize(("pid", "status", "body", "message", "hint"), [
    ("dashscope-intl", 401,
     b'{"error": {"message": "Incorrect API key provided. ", "type": "invalid_request_error",'
     b' "param": null, "code": "invalid_api_key"}}',
     "Incorrect API key provided.", "region"),
    ("aimlapi", 403, b'{"message": "You have run out of credits", "statusCode": "403"}',
     "You have run out of credits", "top it up"),
    ("segmind", 406, b'{"error": "Insufficient credits"}', "Insufficient credits", "top it up"),
    ("ovh", 429, b'{"error": {"message": "Rate limit reached", "code": "rate_limit"}}',
     "Rate limit reached", "wait a moment"),
    ("nebula", 404, b'{"detail": "The model `Qwen/Nope` does not exist."}',
     "does not exist", "check the model name"),
    ("ovh", 502, SHAPES["html"][0], "502 Bad Gateway", "server problem"),
    ("dashscope-cn", 400,
     b'{"error": {"message": "The image length and width do not meet the model '
     b'restrictions.", "code": "invalid_parameter_error"}}',
     "image length and width", "smaller or different image"),
])
def test_explain_reads_well(pid: str, status: int, body: bytes, message: str,
                            hint: str) -> None:
    err = error_from_response(status, {}, body, CATALOG.get(pid))
    sentence = explain(err)
    assert message in sentence
    assert hint in sentence
    assert sentence.startswith(f"HTTP {status}")


def test_explain_of_rate_limit_names_the_wait() -> None:
    err = error_from_response(429, {"Retry-After": "20"}, b"", OVH)
    assert "wait 20 s" in explain(err)


def test_explain_of_stream_event() -> None:
    err = error_from_event({"error": {"message": "Internal failure", "code": "InternalError"}},
                           OVH)
    sentence = explain(err)
    assert "Internal failure" in sentence
    assert "mid-answer" in sentence
