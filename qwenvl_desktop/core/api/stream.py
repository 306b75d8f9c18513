"""Turn the bytes of a chat answer into typed events, whatever framing the provider uses.

One decoder copes with everything the providers send back:

* SSE `data:` lines ending in `[DONE]` (DashScope, OVH, AI/ML API, vLLM and friends),
  with LF, CRLF or CR line ends, `: ping` comments, `event:` and `id:` lines;
* Nebula's `chat.completion.chunk` objects without `data:` framing: one JSON object per
  line, or pretty-printed objects spread over many lines, one after another;
* a bare JSON line inside an otherwise SSE stream;
* one whole `chat.completion` object from a server that ignored `stream: true`.

Bytes arrive in arbitrary pieces: a multi-byte character or a line may be split across
reads, so decoding is incremental throughout (UTF-8 decoder → SSE line decoder → SSE
event decoder or JSON object splitter). What each JSON chunk says is read by `chunks`.
The decoder never does I/O.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NoReturn

from ..catalog import Provider
from ..errors import ProviderError
from ..i18n import _
from .chunks import (
    chunk_events,
    completion_to_events,
    is_error_object,
    malformed,
    plain_content,
)
from .error_parsing import error_from_event
from .types import ContentDelta, Finish, ReasoningDelta, StreamEvent

# httpx-sse's line and event decoders follow the SSE spec (CR/LF/CRLF, comments, field
# parsing) and are maintained; they live in a private module, hence the pin
# httpx-sse<0.5 in pyproject.toml. We drive them from our own byte loop because we
# also need the non-SSE framings above. They are imported where a decoder is made:
# httpx-sse's package imports httpx, which the window does not need to start.
if TYPE_CHECKING:
    from httpx_sse._models import ServerSentEvent

__all__ = ["StreamDecoder", "completion_to_events"]

_SSE_FIELDS = frozenset({"data", "event", "id", "retry"})
_KEEPALIVE_EVENTS = frozenset({"ping", "keep-alive", "keepalive", "heartbeat"})
_MAX_OBJECT_CHARS = 32_000_000   # a whole non-streamed answer is far smaller
_JSON = json.JSONDecoder()
_NON_WS = re.compile(r"\S")
_STRUCTURE = re.compile(r'[{}\[\]"]')
_IN_STRING = re.compile(r'["\\]')


# --- framing -------------------------------------------------------------------------

class _ObjectSplitter:
    """Finds where top-level JSON objects end in text that arrives line by line.

    Tracks brace depth outside strings (skipping with regexes, not per character), so
    each character is looked at once however the text is split. The complete object
    text is then parsed by `json`.
    """

    def __init__(self) -> None:
        self._buf = ""
        self._pos = 0
        self._start = 0
        self._depth = 0
        self._in_string = False

    @property
    def active(self) -> bool:
        """Inside an object that has not closed yet."""
        return self._depth > 0

    def feed(self, text: str) -> tuple[list[str], str]:
        """Complete objects, and any non-JSON text that followed the last one."""
        buf = self._buf + text
        pos, start, depth, in_string = self._pos, self._start, self._depth, self._in_string
        found: list[str] = []
        rest = ""
        while True:
            if in_string:
                m = _IN_STRING.search(buf, pos)
                if m is None:
                    pos = max(pos, len(buf))
                    break
                # A backslash escapes the next character, wherever that falls.
                pos = m.end() + 1 if m.group() == "\\" else m.end()
                in_string = m.group() == "\\"
                continue
            if depth == 0:
                m = _NON_WS.search(buf, pos)
                if m is None:
                    buf, pos = "", 0
                    break
                if m.group() != "{":
                    rest, buf, pos = buf[m.start():], "", 0
                    break
                start, depth, pos = m.start(), 1, m.end()
                continue
            m = _STRUCTURE.search(buf, pos)
            if m is None:
                pos = max(pos, len(buf))
                break
            pos = m.end()
            char = m.group()
            if char == '"':
                in_string = True
            elif char in "{[":
                depth += 1
            else:
                depth -= 1
                if depth == 0:
                    found.append(buf[start:pos])
        if depth > 0 and start:
            buf, pos, start = buf[start:], pos - start, 0
        self._buf, self._pos, self._start, self._depth = buf, pos, start, depth
        self._in_string = in_string
        return found, rest

    @property
    def size(self) -> int:
        return len(self._buf)


class StreamDecoder:
    """Incremental: bytes in, typed events out. One instance per response.

    `feed` and `close` raise MalformedStream for bytes that are not a chat stream and
    StreamErrorEvent for an error object inside the stream. Text decoded in the same
    call before the error is put on the exception's `partial_text`/`partial_reasoning`
    (the caller prepends what it already had). After an error, later `feed`/`close`
    calls return nothing, so a `close()` in a `finally` cannot mask it. Everything after
    `[DONE]` is ignored.
    """

    def __init__(self, provider: Provider) -> None:
        self._provider = provider
        from httpx_sse._decoders import SSEDecoder, SSELineDecoder

        self._utf8 = codecs.getincrementaldecoder("utf-8")(errors="strict")
        self._lines = SSELineDecoder()
        self._sse = SSEDecoder()
        self._objects = _ObjectSplitter()
        self._started = False
        self._done = False
        self._finished = False
        self._failed = False   # after an error every later call is a no-op
        # Every decoder above is empty: the last read ended with a whole event. Then a
        # read of whole `data:` events may take the fast path (`_whole_events`).
        self._clean = False

    @property
    def saw_done(self) -> bool:
        """`[DONE]` arrived."""
        return self._done

    @property
    def saw_finish(self) -> bool:
        """A finish_reason arrived: the answer is complete even without `[DONE]`."""
        return self._finished

    def feed(self, data: bytes) -> list[StreamEvent]:
        if self._done or self._failed or not data:
            return []
        out: list[StreamEvent] = []
        # try/except, not `_failing_keeps`: this runs once per network read (20,000
        # times in a long answer) and a generator-based context manager costs ~10 µs.
        try:
            if self._clean and self._whole_events(data, out):
                return out
            pending = self._utf8.getstate()[0]
            try:
                text = self._utf8.decode(data)
            except UnicodeDecodeError as err:
                # Positions count from the decoder's held-back bytes. What came before
                # the bad byte is still read: it may end the answer with [DONE].
                whole = pending + data
                self._text(whole[:err.start].decode("utf-8", "ignore"), out, final=False)
                if self._done:
                    return out
                malformed(self._provider, _("bytes that are not UTF-8 text"),
                          whole[max(0, err.start - 40):err.start + 20].decode(
                              "utf-8", "backslashreplace"))
            self._text(text, out, final=False)
            self._clean = data.endswith(b"\n\n") and not self._objects.active
        except ProviderError as exc:
            self._fail(exc, out)
            raise
        return out

    def close(self) -> list[StreamEvent]:
        """At EOF: flush what is buffered. A cut-off last chunk is dropped, not an error;
        the caller sees `saw_finish` is False and reports an interrupted answer."""
        if self._done or self._failed:
            return []
        out: list[StreamEvent] = []
        with self._failing_keeps(out):
            try:
                tail = self._utf8.decode(b"", final=True)
            except UnicodeDecodeError:
                tail = ""   # cut in the middle of a character
            self._text(tail, out, final=True)
            for line in self._lines.flush():
                if self._done:
                    break
                self._line(line, out, final=True)
            if not self._done and not self._objects.active:
                event = self._sse.decode("")
                if event is not None:
                    self._event(event, out, final=True)
        return out

    @contextmanager
    def _failing_keeps(self, out: list[StreamEvent]) -> Iterator[None]:
        """On a provider error: go quiet for good, and put the text decoded in this call
        (`out`) on the error; the caller prepends what it already had."""
        try:
            yield
        except ProviderError as exc:
            self._fail(exc, out)
            raise

    def _fail(self, exc: ProviderError, out: list[StreamEvent]) -> None:
        self._failed = True
        exc.partial_text = "".join(e.text for e in out if isinstance(e, ContentDelta))
        exc.partial_reasoning = "".join(e.text for e in out if isinstance(e, ReasoningDelta))

    # --- internals ---------------------------------------------------------------

    def _whole_events(self, data: bytes, out: list[StreamEvent]) -> bool:
        """The fast path for what almost every read is: whole `data: {...}` events.

        Taken only when every decoder is empty and `data` is nothing but events of one
        `data:` line each, LF-framed, with a JSON object (or `[DONE]`) as payload; then
        the result is what the line-by-line path gives, at a third of its cost (no
        per-line decoder calls, one `json.loads` per event). Anything else — a comment,
        an `event:` or `id:` field, CR line ends, a read that ends mid-event, a payload
        that is not one JSON object — returns False with nothing changed, and the read
        takes the general path.
        """
        if not data.endswith(b"\n\n") or not data.startswith(b"data:"):
            return False
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return False
        if "\r" in text:
            return False
        objects: list[Any] = []
        done = False
        for block in text[:-2].split("\n\n"):
            if not block.startswith("data:") or "\n" in block:
                return False
            payload = block[6:] if block.startswith(" ", 5) else block[5:]
            if payload == "[DONE]":
                done = True
                break
            if not payload.startswith("{"):
                return False
            try:
                obj, end = _JSON.raw_decode(payload)
            except (ValueError, RecursionError):
                return False
            if end != len(payload) and not payload[end:].isspace():
                return False
            objects.append(obj)
        for obj in objects:
            content = plain_content(obj)
            if content is None:
                self._object(obj, out)
            elif content:
                out.append(ContentDelta(content))
        self._done = done
        return True

    def _text(self, text: str, out: list[StreamEvent], *, final: bool) -> None:
        if not self._started and text:
            self._started = True
            text = text.removeprefix("\ufeff")
        if not text:
            return
        for line in self._lines.decode(text):
            self._line(line, out, final=final)
            if self._done:
                return

    def _line(self, line: str, out: list[StreamEvent], *, final: bool) -> None:
        if not self._objects.active:
            # The two lines of almost every event, first: the checks below would come
            # to the same answer for them, at a few µs a line more.
            if line.startswith("data:"):
                self._sse.decode(line)
                return
            if not line:
                event = self._sse.decode("")
                if event is not None:
                    self._event(event, out, final=final)
                return
        if self._objects.active or line.lstrip().startswith("{"):
            self._json_text(line + "\n", out)
            return
        stripped = line.strip()
        if not stripped:
            event = self._sse.decode("")
            if event is not None:
                self._event(event, out, final=final)
            return
        if line.startswith(":"):
            return   # comment / keep-alive
        if stripped == "[DONE]":
            self._done = True
            return
        name, _sep, value = line.partition(":")
        if name == "error":
            # Some llama.cpp server builds report a failure as an `error:` field line
            # (then `data: [DONE]`) instead of a `data:` event.
            self._error_line(value.strip())
        if name not in _SSE_FIELDS:
            malformed(self._provider, _("a line that is neither SSE nor JSON"), line)
        self._sse.decode(line)

    def _error_line(self, value: str) -> NoReturn:
        try:
            payload: Any = json.loads(value)
        except (ValueError, RecursionError):
            payload = None
        if not isinstance(payload, dict):
            payload = {"error": {"message": value or _("error line without details")}}
        elif not is_error_object(payload):
            payload = {"error": payload}
        raise error_from_event(payload, self._provider)

    def _json_text(self, text: str, out: list[StreamEvent]) -> None:
        # An object still open at EOF is a cut-off answer: close() just drops it.
        found, rest = self._objects.feed(text)
        for obj_text in found:
            try:
                obj = json.loads(obj_text)
            except (ValueError, RecursionError):
                malformed(self._provider, _("a chunk that is not valid JSON"), obj_text)
            self._object(obj, out)
        if rest:
            malformed(self._provider, _("text after a JSON chunk"), rest)
        if self._objects.size > _MAX_OBJECT_CHARS:
            malformed(self._provider, _("a JSON chunk that never ends"), text)

    def _event(self, event: ServerSentEvent, out: list[StreamEvent], *, final: bool) -> None:
        data = event.data
        if event.event in _KEEPALIVE_EVENTS:
            return
        if event.event == "error":
            try:
                payload = json.loads(data)
            except (ValueError, RecursionError):
                payload = None
            if not isinstance(payload, dict):
                payload = {"error": {"message": data or _("error event without details")}}
            elif not is_error_object(payload):
                payload = {"error": payload}
            raise error_from_event(payload, self._provider)
        pos = 0
        while True:
            m = _NON_WS.search(data, pos)
            if m is None:
                return
            pos = m.start()
            if data.startswith("[DONE]", pos):
                self._done = True
                return
            try:
                obj, pos = _JSON.raw_decode(data, pos)
            except (ValueError, RecursionError):
                if final:
                    return   # the last chunk was cut off: not garbage, an interruption
                malformed(self._provider, _("a chunk that is not valid JSON"), data[pos:])
            self._object(obj, out)

    def _object(self, obj: Any, out: list[StreamEvent]) -> None:
        if not isinstance(obj, dict):
            malformed(self._provider, _("a chunk that is not a JSON object"),
                      json.dumps(obj, default=str))
        events = chunk_events(obj, self._provider)
        if any(isinstance(e, Finish) for e in events):
            self._finished = True
        out.extend(events)

