"""Writes one scripted answer in a dialect's wire format, with its fault if any.

Responses are written by hand (status line, headers, chunked frames, one flush per
frame) because the faults we need — a socket closed mid-frame, a UTF-8 character split
across two writes, a stream that stalls until the test lets it go — are exactly what a
framework would hide.
"""

from __future__ import annotations

import contextlib
import json
import socket
import time
from collections.abc import Iterator
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from .dialects import (
    NGINX_PAGE,
    REASONING_FIELD,
    TEXT_IN_FINISH_CHUNK,
    error_body,
    stream_error_body,
)
from .script import RequestRecord, Script, split_pieces

if TYPE_CHECKING:
    from .handler import Handler

__all__ = ["Aborted", "AnswerWriter"]


class Aborted(Exception):
    """The client went away or the server is stopping: stop writing, quietly."""


def _cut_inside_characters(data: bytes) -> Iterator[bytes]:
    """`data` cut after the lead byte of every multi-byte UTF-8 character, so that each
    part, written and flushed on its own, leaves a character split across two writes."""
    start = 0
    for i in range(1, len(data)):
        if 0x80 <= data[i] < 0xC0 and data[i - 1] >= 0xC0:
            yield data[start:i]
            start = i
    yield data[start:]


class AnswerWriter:
    """Writes one scripted answer in a dialect's wire format, with its fault if any."""

    def __init__(self, handler: Handler, dialect: str, model: str, script: Script,
                 record: RequestRecord) -> None:
        self.h = handler
        self.dialect = dialect
        self.model = model
        self.script = script
        self.record = record
        self.id = handler.owner._new_id()
        self.created = int(time.time())
        body = record.json if isinstance(record.json, dict) else {}
        self.stream = bool(body.get("stream")) and dialect != "segmind"
        options = body.get("stream_options")
        self.include_usage = isinstance(options, dict) and bool(options.get("include_usage"))
        self.nl = "\r\n" if script.crlf else "\n"

    def run(self) -> None:
        s = self.script
        if s.html_status is not None:
            self.record.status = s.html_status
            phrase = HTTPStatus(s.html_status).phrase
            page = NGINX_PAGE.format(code=s.html_status, phrase=phrase).encode()
            self.h._whole(s.html_status, page, "text/html", close=True)
            return
        if s.status != 200:
            self.record.status = s.status
            self.h._error(self.dialect, s.status, s)
            return
        self.record.status = 200
        if self.stream:
            self._stream()
        else:
            self._blocking()

    # pieces -----------------------------------------------------------------------------
    def _pieces(self) -> list[tuple[str, str]]:
        s = self.script
        if s.think_in_content:
            return [("content", p) for p in split_pieces(self._think_text(), s.chunks)]
        return ([("reasoning", p) for p in split_pieces(s.reasoning, s.chunks)]
                + [("content", p) for p in split_pieces(s.content, s.chunks)])

    def _think_text(self) -> str:
        """A server without a reasoning parser: the reasoning inside the answer text."""
        s = self.script
        opening = "" if s.think_preopened else "<think>\n"
        return f"{opening}{s.reasoning}\n</think>\n\n{s.content}"

    def _fault_at(self) -> int | None:
        s = self.script
        if s.drop_after is not None:
            return s.drop_after
        if s.malformed or s.error_event or s.error_field_line or s.stall or s.no_finish:
            return s.fault_after
        return None

    def _usage(self, pieces: list[tuple[str, str]]) -> dict[str, Any]:
        if self.script.usage is not None:
            return dict(self.script.usage)
        reasoning = sum(1 for kind, _ in pieces if kind == "reasoning")
        completion = len(pieces)
        usage: dict[str, Any] = {"prompt_tokens": 42, "completion_tokens": completion,
                                 "total_tokens": 42 + completion}
        if reasoning:
            usage["completion_tokens_details"] = {"reasoning_tokens": reasoning}
        return usage

    # streaming ---------------------------------------------------------------------------
    def _chunk(self, delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
        return {"id": self.id, "object": "chat.completion.chunk", "created": self.created,
                "model": self.model, "system_fingerprint": None,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish,
                             "logprobs": None}],
                "usage": None}

    def _event(self, obj: Any) -> None:
        self._raw(json.dumps(obj, ensure_ascii=False, indent=2 if self._pretty() else None))

    def _pretty(self) -> bool:
        return self.dialect == "nebula" and self.script.pretty

    def _raw(self, payload: str) -> None:
        """Frame one payload in the dialect's stream format and send it."""
        nl = self.nl
        if self.dialect == "nebula":
            text = payload.replace("\n", nl) + nl
        else:
            text = f"data: {payload}{nl}{nl}"
        data = text.encode("utf-8")
        if self.script.split_multibyte:
            for part in _cut_inside_characters(data):
                self.h._frame(part)
        else:
            self.h._frame(data)

    def _ping(self) -> None:
        if self.dialect == "nebula":
            self.h._frame(self.nl.encode())
        else:
            self.h._frame(f": ping{self.nl}{self.nl}".encode())

    def _stream(self) -> None:
        s = self.script
        h = self.h
        h._head(200, {"Content-Type": "text/event-stream; charset=utf-8",
                      "Cache-Control": "no-cache", "Transfer-Encoding": "chunked",
                      "X-Request-Id": self.id})
        pieces = self._pieces()
        fault_at = self._fault_at()
        reasoning_key = REASONING_FIELD[self.dialect]
        thinking = bool(s.reasoning) and not s.think_in_content
        first: dict[str, Any] = {"role": "assistant", "content": ""}
        if thinking and self.dialect == "dashscope":
            first[reasoning_key] = ""
        self._event(self._chunk(first, None))
        if s.keepalive:
            self._ping()
        finish_with_text = (self.dialect in TEXT_IN_FINISH_CHUNK and fault_at is None
                            and pieces and pieces[-1][0] == "content")
        for index, (kind, piece) in enumerate(pieces):
            if fault_at is not None and index >= fault_at:
                break
            last = index == len(pieces) - 1
            if kind == "reasoning":
                delta: dict[str, Any] = {"content": None, reasoning_key: piece}
                self.record.sent_reasoning += piece
            else:
                delta = {"content": piece}
                if thinking and self.dialect == "dashscope":
                    delta[reasoning_key] = None
                self.record.sent_text += piece
            finish = s.finish_reason if (last and finish_with_text) else None
            self._event(self._chunk(delta, finish))
            if s.keepalive:
                self._ping()
            h._wait(s.interval)
        if fault_at is not None:
            self._fault()
            return
        if s.think_in_content:
            # What a client should show: the reasoning apart, the answer without tags.
            self.record.sent_text, self.record.sent_reasoning = s.content, s.reasoning
        if not finish_with_text:
            self._event(self._chunk({"content": ""}, s.finish_reason))
        if self.include_usage:
            usage_chunk = self._chunk({}, None)
            usage_chunk["choices"] = []
            usage_chunk["usage"] = self._usage(pieces)
            self._event(usage_chunk)
        if not s.no_done and self.dialect != "nebula":
            self._raw("[DONE]")
        h._end_frames()

    def _fault(self) -> None:
        s = self.script
        h = self.h
        if s.drop_after is not None:
            self._drop()
            return
        if s.malformed:
            broken = '{"id": "' + self.id + '", "choices": [{"delta": {"content": "unfinis'
            if self.dialect == "nebula":
                # A JSON object left open would just look cut off: send a foreign line.
                self.h._frame(f"upstream said: this is not json{self.nl}".encode())
            else:
                self.h._frame(f"data: {broken}{self.nl}{self.nl}".encode())
            h._end_frames()
            return
        if s.error_event:
            message = s.error_message or "The model stopped unexpectedly (loopback error event)."
            self._event(stream_error_body(self.dialect, message, s.error_code,
                                          numeric=s.numeric_code))
            h._end_frames()
            return
        if s.error_field_line:
            # Some llama.cpp server builds: an `error:` field line, then [DONE].
            message = s.error_message or (
                "the request exceeds the available context size. try increasing the "
                "context size or enable context shift")
            payload = stream_error_body(self.dialect, message, s.error_code or "400",
                                        numeric=True)["error"]
            payload["type"] = s.error_type or "invalid_request_error"
            nl = self.nl
            line = f"error: {json.dumps(payload, ensure_ascii=False)}{nl}{nl}data: [DONE]{nl}{nl}"
            h._frame(line.encode("utf-8"))
            h._end_frames()
            return
        if s.stall:
            self._stall()
            h._end_frames()
            return
        # no_finish: a clean end of the body after some text, without a finish reason.
        h._end_frames()

    def _drop(self) -> None:
        """Close the socket without ending the chunked body: a dropped connection."""
        self.h.close_connection = True
        with contextlib.suppress(OSError):
            self.h.connection.shutdown(socket.SHUT_RDWR)
        raise Aborted

    def _stall(self) -> None:
        owner = self.h.owner
        event = self.script.release
        owner._add_stall(event)
        owner._note(stall=1)
        # Wait until released or stopped, noticing meanwhile if the client hangs up.
        while not event.wait(0.02):
            if self.h._peer_closed():
                owner._note(close=1)
                raise Aborted
        if owner._stopping.is_set():
            raise Aborted
        self.h.close_connection = True

    # one blocking answer ------------------------------------------------------------------
    def _blocking(self) -> None:
        s = self.script
        pieces = self._pieces()
        if s.keepalive:
            self.h._head(200, {"Content-Type": "application/json",
                               "Transfer-Encoding": "chunked"})
            # Some gateways send whitespace while the model works: JSON tolerates it.
            self.h._frame(b"\n")
            self.h._frame(b" \n")
            self.h._frame(json.dumps(self._completion(pieces)).encode())
            self.h._end_frames()
            self.record.sent_text = s.content
            self.record.sent_reasoning = s.reasoning
            return
        if s.error_event:
            message = s.error_message or "The model failed to produce an answer."
            self.h._json(200, error_body(self.dialect, 500, message, s.error_code))
            return
        indent = 2 if (s.crlf or s.pretty) else None
        text = json.dumps(self._completion(pieces), ensure_ascii=False, indent=indent)
        if s.crlf:
            text = text.replace("\n", "\r\n")
        data = text.encode("utf-8")
        if s.malformed:
            data = data[: len(data) // 2]
        if s.drop_after is not None or s.stall:
            self._cut_blocking(data)
            return
        headers = {"Content-Type": "application/json", "Content-Length": str(len(data))}
        self.h._head(200, headers)
        if s.split_multibyte:
            for part in _cut_inside_characters(data):
                self.h._send(part)
        else:
            self.h._send(data)
        if not s.malformed:
            self.record.sent_text = s.content
            self.record.sent_reasoning = s.reasoning

    def _cut_blocking(self, data: bytes) -> None:
        """Announce the whole body, send half of it, then drop or stall."""
        self.h._head(200, {"Content-Type": "application/json",
                           "Content-Length": str(len(data))})
        self.h._send(data[: len(data) // 2])
        if self.script.stall:
            self._stall()
        self._drop()

    def _completion(self, pieces: list[tuple[str, str]]) -> dict[str, Any]:
        s = self.script
        message: dict[str, Any] = {"role": "assistant", "content": s.content}
        if s.think_in_content:
            message["content"] = self._think_text()
        elif s.reasoning:
            message[REASONING_FIELD[self.dialect]] = s.reasoning
        finish = None if s.no_finish else s.finish_reason
        return {"id": self.id, "object": "chat.completion", "created": self.created,
                "model": self.model,
                "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                "usage": self._usage(pieces)}
