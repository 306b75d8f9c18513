"""The chat client: one turn over the wire, as an async iterator of typed events.

Retries happen only before the first byte of an answer: once a provider has begun
answering it bills for it, so a stream that breaks later ends in an error that carries
the partial answer instead of being silently sent again. The rules, in one place:

- retried (up to `max_retries`, exponential backoff with jitter, `Retry-After` honoured
  up to `RETRY_AFTER_CAP` seconds): connect errors and timeouts, a connection that broke
  or timed out before the response headers, and statuses 408/409/429/5xx;
- never retried: anything after a 2xx response has begun, and every other status;
- the timeouts: `connect_timeout` to open the connection, `read_timeout` as the longest
  silence allowed between two bytes of the answer (not a limit on the whole answer).

One shared `httpx.AsyncClient` is injected; the client never makes its own. The key is
only ever in a request header: it is registered with `errors.redact` by `build_request`
and never logged. Credentials split off a base URL (`url_credentials`) come from the
injected `url_credentials` lookup and are put back on the request URL only.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random as _random
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Sequence
from contextlib import aclosing
from typing import cast
from urllib.parse import urlsplit

import httpx

from ..catalog import Model, Provider
from ..errors import (
    APIStatusError,
    ConfigError,
    InterruptedStream,
    MalformedStream,
    NetworkError,
    ProviderError,
    TimeoutError_,
    redact,
)
from ..i18n import _
from ..url_credentials import UrlCredentials
from .error_parsing import error_from_response, is_retryable_status, with_context
from .model_listing import MAX_LIST_BYTES, parse_model_ids
from .partial import PartialAnswer
from .request import auth_headers, build_request
from .stream import StreamDecoder, completion_to_events
from .think_tags import ThinkTagFilter
from .types import (
    ChatMessage,
    ChatParams,
    ChatResult,
    ContentDelta,
    ReasoningDelta,
    Retrying,
    StreamEvent,
)

__all__ = ["MAX_ERROR_BODY", "RETRY_AFTER_CAP", "ChatClient"]

log = logging.getLogger(__name__)

MAX_ERROR_BODY = 64 * 1024
"""Bytes of an error answer read before parsing it (gateways can send whole pages)."""

MAX_ANSWER_BODY = 32 * 1024 * 1024
"""Bytes of a non-streamed answer or model list accepted before giving up on it."""

RETRY_AFTER_CAP = 60.0
"""Longest Retry-After we wait for; a longer one ends the attempt with the error."""

# Transport failures before any response byte that are safe to send again.
_RETRYABLE_TRANSPORT = (httpx.ConnectError, httpx.TimeoutException, httpx.RemoteProtocolError,
                        httpx.ReadError, httpx.WriteError)


class ChatClient:
    """Sends chat turns to any catalog provider through one shared httpx client."""

    def __init__(self, http: httpx.AsyncClient, *, connect_timeout: float = 15.0,
                 read_timeout: float = 120.0, max_retries: int = 3, backoff_base: float = 0.5,
                 backoff_max: float = 20.0,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 random: Callable[[], float] = _random.random,
                 clock: Callable[[], float] = time.perf_counter,
                 url_credentials: Callable[[Provider], UrlCredentials | None] | None = None,
                 ) -> None:
        self._http = http
        self._url_credentials = url_credentials
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self._sleep = sleep
        self._random = random
        self._clock = clock

    # --- public -----------------------------------------------------------------------

    async def stream_chat(self, provider: Provider, model: Model,
                          messages: Sequence[ChatMessage], params: ChatParams, *,
                          api_key: str | None) -> AsyncIterator[StreamEvent]:
        """The answer as events; `Retrying` events come only before the first answer byte.

        Raises a `ProviderError` subclass, which records the provider, endpoint and model
        it is about; stream errors carry the partial answer. It is an async generator: if
        the consumer stops early (`aclose()`, task cancelled) the connection is closed at
        once.
        """
        events = self._attempts(provider, model, messages, params, api_key=api_key)
        try:
            async with aclosing(events):
                async for event in events:
                    yield event
        except ProviderError as err:
            with_context(err, provider, model.id)
            raise

    async def _attempts(self, provider: Provider, model: Model,
                        messages: Sequence[ChatMessage], params: ChatParams, *,
                        api_key: str | None) -> AsyncGenerator[StreamEvent, None]:
        spec = build_request(provider, model, messages, params, api_key=api_key)
        # The body goes out piece by piece (each image's data URI one piece) with its
        # length stated, not chunked: nothing joins megabytes into one buffer.
        headers = {**spec.headers, "Content-Length": str(spec.body_bytes)}
        url = self._wire_url(provider, spec.url)
        attempt = 0
        while True:
            try:
                request = self._http.build_request(spec.method, url, headers=headers,
                                                   content=_pieces(spec.chunks),
                                                   timeout=self._timeout())
            except (httpx.InvalidURL, ValueError) as err:
                raise _bad_url(provider, err) from None
            log.debug("%s %s (attempt %d)", spec.method, _loggable(spec.url), attempt + 1)
            try:
                response = await self._http.send(request, stream=True)
            except httpx.TransportError as err:
                failure = self._before_answer(err, provider, spec.url)
                delay = (self._retry_delay(attempt, None)
                         if isinstance(err, _RETRYABLE_TRANSPORT) else None)
                if delay is None:
                    raise failure from err
                attempt += 1
                yield Retrying(attempt=attempt, delay=delay, reason=_short(failure.message))
                await self._sleep(delay)
                continue

            error: APIStatusError | None = None
            try:
                if not response.is_success:
                    error = await self._status_error(response, provider)
                else:
                    think = ThinkTagFilter.for_request(provider, model, params)
                    reader = (self._read_stream(response, provider, think) if spec.stream
                              else self._read_whole(response, provider, think))
                    async with aclosing(reader):
                        async for event in reader:
                            yield event
                    return
            finally:
                await response.aclose()

            assert error is not None  # a 2xx answer returned above
            delay = (self._retry_delay(attempt, error.retry_after)
                     if is_retryable_status(error.status) else None)
            log.debug("HTTP %d from %s; retry in %s", error.status, provider.id, delay)
            if delay is None:
                raise error
            attempt += 1
            yield Retrying(attempt=attempt, delay=delay, reason=_status_reason(error))
            await self._sleep(delay)

    async def complete(self, provider: Provider, model: Model, messages: Sequence[ChatMessage],
                       params: ChatParams, *, api_key: str | None) -> ChatResult:
        """Run `stream_chat` to the end and gather the answer with its timings."""
        result = ChatResult(model=model.id)
        start = self._clock()
        events = self.stream_chat(provider, model, messages, params, api_key=api_key)
        async with aclosing(cast(AsyncGenerator[StreamEvent, None], events)):
            async for event in events:
                if (result.first_token_s is None
                        and isinstance(event, ContentDelta | ReasoningDelta)):
                    result.first_token_s = self._clock() - start
                result.add(event)
        result.total_s = self._clock() - start
        return result

    async def list_models(self, provider: Provider, *, api_key: str | None,
                          url_credentials: UrlCredentials | None = None) -> list[str]:
        """Model ids from GET {base_url}{models_path} (OpenAI-style `{"data": [...]}`).

        `url_credentials`: for an address not saved yet (the endpoint form); otherwise
        those kept for `provider` are used. Raises ConfigError for a provider without a
        list, the usual status errors, a TimeoutError_ when the whole answer takes longer
        than the read timeout plus the connect timeout, and ModelListError for anything
        that is not a model list.
        """
        if not provider.models_path:
            raise ConfigError(_("{provider} has no model list: each of its models has its "
                                "own address, and the catalog lists them.").format(
                                    provider=provider.name))
        url = f"{provider.base_url.rstrip('/')}{provider.models_path}"
        url = (url_credentials.apply(url) if url_credentials is not None
               else self._wire_url(provider, url))
        headers = {"Accept": "application/json", **auth_headers(provider, api_key)}
        deadline = self.connect_timeout + self.read_timeout
        try:
            async with asyncio.timeout(deadline):
                body, content_type, truncated = await self._get_body(url, headers, provider)
        except TimeoutError:
            raise with_context(TimeoutError_(
                _("{endpoint} did not finish sending its model list within {seconds} s.").format(
                    endpoint=provider.endpoint_label, seconds=f"{deadline:g}"),
                provider=provider.id), provider) from None
        except ProviderError as err:
            raise with_context(err, provider) from None
        return parse_model_ids(body, content_type, provider, truncated=truncated)

    async def check_key(self, provider: Provider, model: Model, *,
                        api_key: str | None) -> str:
        """Prove a key works with the cheapest real chat request; raises the mapped error.

        The answer is cut off at its first event, so at most a token or two is billed.
        """
        params = ChatParams(max_tokens=1) if (model.thinking == "none"
                                              and provider.accepts("max_tokens")) else ChatParams()
        start = self._clock()
        events = self.stream_chat(provider, model, [ChatMessage(role="user", text="Hi")],
                                  params, api_key=api_key)
        async with aclosing(cast(AsyncGenerator[StreamEvent, None], events)):
            async for event in events:
                if not isinstance(event, Retrying):
                    break
        elapsed = (self._clock() - start) * 1000
        return _("OK — {provider} accepted the key ({model}, {milliseconds} ms).").format(
            provider=provider.name, model=model.id, milliseconds=f"{elapsed:.0f}")

    # --- reading answers ---------------------------------------------------------------

    async def _read_stream(self, response: httpx.Response, provider: Provider,
                           think: ThinkTagFilter) -> AsyncGenerator[StreamEvent, None]:
        decoder = StreamDecoder(provider)
        partial = PartialAnswer()
        chunks = cast(AsyncGenerator[bytes, None], response.aiter_bytes())
        try:
            async with aclosing(chunks):
                async for raw in chunks:
                    for event in think.events(decoder.feed(raw)):
                        partial.add(event)
                        yield event
                    if decoder.saw_done:
                        break
            for event in think.events(decoder.close()) + think.close():
                partial.add(event)
                yield event
        except ProviderError as err:
            partial.take_split(err, think)
            partial.attach(err, provider)
            raise
        except httpx.TransportError as err:
            partial.take_split(None, think)
            raise partial.attach(self._mid_answer(err, provider), provider) from err
        # `[DONE]` without a finish reason is an explicit end too (some gateways drop the
        # reason); EOF with neither means the answer was cut off.
        if not decoder.saw_finish and not decoder.saw_done:
            raise partial.attach(InterruptedStream(
                _("{provider} ended the answer without saying it was complete.").format(
                    provider=provider.name)), provider)

    async def _read_whole(self, response: httpx.Response, provider: Provider,
                          think: ThinkTagFilter) -> AsyncGenerator[StreamEvent, None]:
        """A non-streamed answer (Segmind): one JSON body, yielded as the same events."""
        try:
            data = await _read_capped(response, MAX_ANSWER_BODY)
        except httpx.TransportError as err:
            raise self._mid_answer(err, provider) from err
        try:
            obj = json.loads(data)
        except (ValueError, UnicodeDecodeError) as err:
            raise MalformedStream(
                _("{provider} sent an answer that is not complete JSON ({size} bytes: "
                  "{excerpt}).").format(provider=provider.name, size=len(data),
                                        excerpt=_excerpt(data)),
                provider=provider.id) from err
        try:
            events = completion_to_events(obj, provider)
        except ProviderError as err:
            if not err.provider:
                err.provider = provider.id
            raise
        for event in think.events(events) + think.close():
            yield event

    async def _status_error(self, response: httpx.Response, provider: Provider) -> APIStatusError:
        try:
            body = await _read_capped(response, MAX_ERROR_BODY)
        except httpx.TransportError:
            body = b""  # the status alone still says what went wrong
        return error_from_response(response.status_code, response.headers, body, provider)

    async def _get_body(self, url: str, headers: dict[str, str],
                        provider: Provider) -> tuple[bytes, str, bool]:
        """GET a small document with the same retry rules as a chat request: its bytes
        (at most MAX_LIST_BYTES), its content type, and whether it was longer."""
        attempt = 0
        while True:
            error: ProviderError
            delay: float | None = None
            try:
                async with self._http.stream("GET", url, headers=headers,
                                             timeout=self._timeout()) as response:
                    if response.is_success:
                        try:
                            body = await _read_capped(response, MAX_LIST_BYTES + 1)
                        except httpx.TransportError as err:
                            raise self._mid_answer(err, provider) from err
                        content_type = response.headers.get("content-type", "")
                        return body[:MAX_LIST_BYTES], content_type, len(body) > MAX_LIST_BYTES
                    status_error = await self._status_error(response, provider)
                    error = status_error
                    if is_retryable_status(status_error.status):
                        delay = self._retry_delay(attempt, status_error.retry_after)
            except (httpx.InvalidURL, ValueError) as err:
                raise _bad_url(provider, err) from None
            except httpx.TransportError as err:
                error = self._before_answer(err, provider, url)
                error.__cause__ = err
                if isinstance(err, _RETRYABLE_TRANSPORT):
                    delay = self._retry_delay(attempt, None)
            if delay is None:
                raise error
            attempt += 1
            await self._sleep(delay)

    def url_credentials_for(self, provider: Provider) -> UrlCredentials | None:
        """What goes back on `provider`'s request URLs (credentials split off its base)."""
        return self._url_credentials(provider) if self._url_credentials else None

    def _wire_url(self, provider: Provider, url: str) -> str:
        creds = self.url_credentials_for(provider)
        return creds.apply(url) if creds else url

    # --- errors and retries ------------------------------------------------------------

    def _timeout(self) -> httpx.Timeout:
        return httpx.Timeout(connect=self.connect_timeout, read=self.read_timeout,
                             write=self.read_timeout, pool=self.connect_timeout)

    def _retry_delay(self, attempt: int, retry_after: float | None) -> float | None:
        """Seconds to wait before retry number `attempt + 1`, or None to give up."""
        if attempt >= self.max_retries:
            return None
        if retry_after is not None:
            # Waiting minutes inside a chat turn helps nobody: say so instead.
            return None if retry_after > RETRY_AFTER_CAP else max(0.0, retry_after)
        ceiling = min(self.backoff_max, self.backoff_base * 2.0**attempt)
        return ceiling * (0.5 + 0.5 * self._random())

    def _before_answer(self, err: httpx.TransportError, provider: Provider,
                       url: str) -> NetworkError:
        try:
            host = urlsplit(url).hostname or url
        except ValueError:
            host = _loggable(url)
        if isinstance(err, httpx.ConnectTimeout):
            return TimeoutError_(_("could not reach {host}: no connection within {seconds} s.")
                                 .format(host=host, seconds=f"{self.connect_timeout:g}"),
                                 provider=provider.id)
        if isinstance(err, httpx.ConnectError):
            return NetworkError(_("could not reach {host}: {reason}").format(
                host=host, reason=_reason(err)), provider=provider.id)
        if isinstance(err, httpx.ReadTimeout):
            return TimeoutError_(_("{provider} did not start answering within {seconds} s.")
                                 .format(provider=provider.name,
                                         seconds=f"{self.read_timeout:g}"),
                                 provider=provider.id)
        if isinstance(err, httpx.TimeoutException):
            return TimeoutError_(_("talking to {host} timed out ({error}).").format(
                host=host, error=type(err).__name__), provider=provider.id)
        return NetworkError(_("the connection to {host} failed before an answer: {reason}")
                            .format(host=host, reason=_reason(err)), provider=provider.id)

    def _mid_answer(self, err: httpx.TransportError, provider: Provider) -> ProviderError:
        if isinstance(err, httpx.TimeoutException):
            return TimeoutError_(_("{provider} sent nothing for {seconds} s; the answer was "
                                   "cut off.").format(provider=provider.name,
                                                      seconds=f"{self.read_timeout:g}"),
                                 provider=provider.id)
        if isinstance(err, httpx.RemoteProtocolError | httpx.ReadError):
            return InterruptedStream(_("The connection to {provider} broke mid-answer "
                                       "({reason}).").format(provider=provider.name,
                                                             reason=_reason(err)),
                                     provider=provider.id)
        return NetworkError(_("talking to {provider} failed mid-answer: {reason}").format(
            provider=provider.name, reason=_reason(err)), provider=provider.id)


# --- helpers ---------------------------------------------------------------------------

async def _read_capped(response: httpx.Response, limit: int) -> bytes:
    """The body, cut at `limit` bytes (a cut JSON answer then reads as malformed)."""
    buf = bytearray()
    chunks = cast(AsyncGenerator[bytes, None], response.aiter_bytes())
    async with aclosing(chunks):
        async for raw in chunks:
            buf += raw
            if len(buf) >= limit:
                return bytes(buf[:limit])
    return bytes(buf)


def _loggable(url: str) -> str:
    """The URL without user info or query: people do paste keys into base URLs."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return _("(a URL that cannot be parsed)")
    host = parts.hostname or ""
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    return redact(f"{parts.scheme}://{host}{port}{parts.path}")


def _reason(err: BaseException) -> str:
    text = str(err).strip()
    return text or type(err).__name__


def _short(text: str, limit: int = 160) -> str:
    """Shortened at a word boundary: a retry note is a glance, not the whole message."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip() + " …"


def _status_reason(err: APIStatusError) -> str:
    label = f"HTTP {err.status}" + (f" {err.code}" if err.code else "")
    return _short(f"{label}: {err.message}")


def _excerpt(data: bytes, limit: int = 80) -> str:
    text = data[:limit].decode("utf-8", errors="replace").replace("\n", " ").strip()
    return (text + "…") if len(data) > limit else (text or _("empty"))


async def _pieces(chunks: Sequence[bytes]) -> AsyncIterator[bytes]:
    """The body's pieces, in slices small enough that no single copy of one (by the
    HTTP layer) holds the interpreter lock for long."""
    for chunk in chunks:
        for start in range(0, len(chunk), _SLICE):
            yield chunk[start:start + _SLICE] if len(chunk) > _SLICE else chunk


_SLICE = 256 * 1024


def _bad_url(provider: Provider, err: Exception) -> ConfigError:
    """A base URL httpx cannot even parse: a settings problem, not a network one."""
    return ConfigError(_("The address of {provider} is not a valid URL ({error}); check the "
                         "base URL in Settings › Endpoints.").format(provider=provider.name,
                                                                     error=err))
