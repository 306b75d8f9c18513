"""Build the HTTP request for one chat turn, in the dialect of the chosen provider.

Everything provider-specific about *sending* lives here: where the model name goes
(Segmind puts it in the URL path), which header carries the key, whether the body asks
for a stream, which parameters are sent and within which ranges, how system messages
reach models and providers that do not take them, and the request-size limit. Nothing
here touches the network: the client sends exactly `spec.body`, i.e.
`serialize_body(spec.json)`.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from ... import __version__
from ..catalog import Model, ParamSpec, Provider
from ..errors import ConfigError, InputError, MissingKeyError, ParameterError, register_secret
from ..i18n import _
from .image_parts import image_content
from .turn_order import merge_user_runs
from .types import ChatMessage, ChatParams
from .video_parts import video_content

__all__ = ["SYSTEM_SEPARATOR", "HttpRequestSpec", "auth_headers", "body_chunks",
           "build_request", "serialize_body", "validate_params"]

USER_AGENT = f"qwenvl-desktop/{__version__}"

# Between folded system instructions and the person's first message (see _fold_system).
SYSTEM_SEPARATOR = "\n\n---\n\n"

# Sampling parameters: sent when set and the provider lists them, else left out.
_SAMPLING = ("temperature", "top_p", "top_k", "max_tokens", "presence_penalty",
             "frequency_penalty", "repetition_penalty", "seed")


@dataclass(frozen=True)
class HttpRequestSpec:
    """One request, ready to send."""

    method: str
    url: str
    headers: dict[str, str]
    json: dict[str, Any]
    stream: bool
    """Whether the body asks for a streamed answer (SSE or chunked JSON)."""
    body_bytes: int
    """Size of `serialize_body(json)`, checked against the provider's limit."""
    chunks: tuple[bytes, ...] = ()
    """The body as it is sent, made once: `serialize_body(json)` in pieces — each image's
    data URI one piece, never copied into one big buffer (27 MB of images: a 20-70 ms
    copy that holds the interpreter lock)."""

    @property
    def body(self) -> bytes:
        return b"".join(self.chunks)


def serialize_body(body: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON: the exact bytes the client sends (and the size we check)."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def body_chunks(body: dict[str, Any], verbatim: Sequence[str] = ()) -> tuple[bytes, ...]:
    """`serialize_body(body)` in pieces, the strings in `verbatim` (the very objects in
    `body`, known to need no escaping) spliced in as they are instead of through the
    JSON encoder."""
    if not verbatim:
        return (serialize_body(body),)
    known = {id(text) for text in verbatim}
    marker = f"\u0000{uuid.uuid4().hex}"
    spliced: list[str] = []

    def swap(node: Any) -> Any:
        if isinstance(node, dict):
            return {key: swap(value) for key, value in node.items()}
        if isinstance(node, list):
            return [swap(value) for value in node]
        if isinstance(node, str) and id(node) in known:
            spliced.append(node)
            return f"{marker}{len(spliced) - 1}"
        return node

    text = json.dumps(swap(body), ensure_ascii=False, separators=(",", ":"))
    pieces = text.split(f'"{json.dumps(marker)[1:-1]}')
    chunks = [pieces[0].encode("utf-8")]
    for piece in pieces[1:]:
        index, _sep, rest = piece.partition('"')
        chunks += [b'"', spliced[int(index)].encode("ascii"), b'"', rest.encode("utf-8")]
    return tuple(chunks)


# --- parameters ----------------------------------------------------------------------

def _fmt(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _out_of_range(provider: Provider, spec: ParamSpec, value: object, why: str = "") -> NoReturn:
    shown = _fmt(value) if isinstance(value, int | float) else repr(value)
    if why:
        raise ParameterError(
            _("{parameter} = {value} is not accepted by {provider} ({reason}): the accepted "
              "range is {range}.").format(parameter=spec.name, value=shown,
                                          provider=provider.name, reason=why,
                                          range=spec.describe()))
    raise ParameterError(
        _("{parameter} = {value} is not accepted by {provider}: the accepted range is "
          "{range}.").format(parameter=spec.name, value=shown, provider=provider.name,
                             range=spec.describe()))


def _check_number(provider: Provider, spec: ParamSpec, value: object) -> int | float:
    """The value as it goes on the wire, or ParameterError if the provider refuses it."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        _out_of_range(provider, spec, value, _("not a number"))
    if not math.isfinite(value):
        _out_of_range(provider, spec, value)
    number: int | float = value
    if spec.integer:
        if isinstance(value, float) and not value.is_integer():
            _out_of_range(provider, spec, value, _("a whole number is required"))
        number = int(value)
    if spec.min is not None and (number < spec.min or (spec.min_exclusive and number == spec.min)):
        _out_of_range(provider, spec, value)
    if spec.max is not None and (number > spec.max or (spec.max_exclusive and number == spec.max)):
        _out_of_range(provider, spec, value)
    return number


def _check_stop(provider: Provider, spec: ParamSpec, stop: Sequence[str]) -> list[str]:
    if spec.max_items is not None and len(stop) > spec.max_items:
        raise ParameterError(
            _("stop has {count} sequences; {provider} accepts at most {limit}.").format(
                count=len(stop), provider=provider.name, limit=spec.max_items))
    if any(not isinstance(s, str) or not s for s in stop):
        raise ParameterError(_("stop sequences must be non-empty text."))
    return list(stop)


def _thinking_fields(provider: Provider, model: Model, params: ChatParams) -> dict[str, Any]:
    """enable_thinking / thinking_budget as this provider and model take them."""
    if model.thinking == "none":
        if params.thinking:
            raise ParameterError(
                _("{model} ({model_id}) has no thinking mode on {provider}; turn thinking off "
                  "or pick a thinking model.").format(model=model.label, model_id=model.id,
                                                      provider=provider.name))
        return {}
    out: dict[str, Any] = {}
    if model.thinking == "optional" and params.thinking is not None:
        if provider.accepts("enable_thinking"):
            out["enable_thinking"] = bool(params.thinking)
        elif params.thinking:
            raise ParameterError(
                _("{provider} does not let clients turn on thinking for {model}.").format(
                    provider=provider.name, model=model.id))
    # "always" models think whatever we say; enable_thinking is not sent to them.
    thinking_on = bool(params.thinking) or (params.thinking is None
                                            and model.thinks_by_default)
    if thinking_on and params.thinking_budget is not None and provider.accepts("thinking_budget"):
        out["thinking_budget"] = _check_number(
            provider, provider.params["thinking_budget"], params.thinking_budget)
    return out


def _param_fields(provider: Provider, model: Model, params: ChatParams) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in _SAMPLING:
        value = getattr(params, name)
        spec = provider.params.get(name)
        if value is None or spec is None:
            continue
        out[name] = _check_number(provider, spec, value)
    if "max_tokens" in out:
        # The output cap's field name differs (DashScope: max_completion_tokens).
        out[provider.output_cap_field] = out.pop("max_tokens")
    if params.stop and "stop" in provider.params:
        out["stop"] = _check_stop(provider, provider.params["stop"], params.stop)
    out.update(_thinking_fields(provider, model, params))
    if params.high_resolution:
        if not provider.accepts("vl_high_resolution_images") or model.high_res_token_cap <= 0:
            raise ParameterError(
                _("High-resolution images are not offered for {model} on {provider}; turn "
                  "the option off.").format(model=model.id, provider=provider.name))
        out["vl_high_resolution_images"] = True
    return out


def validate_params(provider: Provider, model: Model, params: ChatParams) -> None:
    """Raise ParameterError for anything `build_request` would refuse to send."""
    _param_fields(provider, model, params)


# --- messages ------------------------------------------------------------------------

def _fold_system(messages: Sequence[ChatMessage]) -> list[ChatMessage]:
    """Move system text into the first user message instead of dropping it.

    Segmind documents only user/assistant roles and QVQ ignores system messages; the
    person's instructions should still reach the model, so they lead the first user turn.
    """
    systems = [m for m in messages if m.role == "system"]
    rest = [m for m in messages if m.role != "system"]
    text = "\n\n".join(m.text.strip() for m in systems if m.text.strip())
    images = tuple(image for m in systems for image in m.images)
    if not text and not images:
        return rest
    for i, msg in enumerate(rest):
        if msg.role == "user":
            joined = f"{text}{SYSTEM_SEPARATOR}{msg.text}" if text and msg.text else (
                text or msg.text)
            rest[i] = ChatMessage(role="user", text=joined, images=images + msg.images,
                                  videos=msg.videos)
            return rest
    return [ChatMessage(role="user", text=text, images=images), *rest]


def _wire_message(msg: ChatMessage, provider: Provider, model: Model,
                  params: ChatParams) -> dict[str, Any]:
    if not msg.images and not msg.videos:
        return {"role": msg.role, "content": msg.text}
    content: list[dict[str, Any]] = [
        image_content(image, provider, model, high_resolution=params.high_resolution)
        for image in msg.images
    ]
    for video in msg.videos:
        content.extend(video_content(video, provider, model))
    if msg.text:
        content.append({"type": "text", "text": msg.text})
    return {"role": msg.role, "content": content}


# --- the request ---------------------------------------------------------------------

def auth_headers(provider: Provider, api_key: str | None) -> dict[str, str]:
    """The key header for `provider` (none for a keyless custom endpoint).

    Raises MissingKeyError for a named provider without a key, ConfigError for a key
    that cannot go in a header (never quoting it).
    """
    key = (api_key or "").strip()
    if not key:
        if provider.custom or provider.key_optional:
            return {}
        raise MissingKeyError(provider.name, provider.key_env, provider.id)
    register_secret(key)
    if not key.isascii() or not key.isprintable() or " " in key:
        # httpx would refuse the header and might echo it; never show the key itself.
        raise ConfigError(
            _("The API key for {provider} contains spaces, line breaks or non-ASCII "
              "characters; paste it again in Settings › Keys.").format(provider=provider.name))
    value = f"{provider.auth_scheme} {key}" if provider.auth_scheme else key
    return {provider.auth_header: value}


def _mb(size: int) -> str:
    return f"{size / 1_000_000:.1f}"


def build_request(provider: Provider, model: Model, messages: Sequence[ChatMessage],
                  params: ChatParams, *, api_key: str | None) -> HttpRequestSpec:
    """The request for one turn; raises before anything is sent if it cannot work.

    Raises ParameterError (a value the provider refuses), MissingKeyError (a named
    provider without a key) or InputError (the body is over the provider's size limit).
    """
    fields = _param_fields(provider, model, params)
    auth = auth_headers(provider, api_key)

    fold = provider.system_messages == "merge" or not model.accepts_system
    wire = _fold_system(messages) if fold else list(messages)
    body: dict[str, Any] = {}
    if provider.model_in == "body":
        body["model"] = model.id
    body["messages"] = [_wire_message(m, provider, model, params) for m in wire]
    if provider.consecutive_user_turns == "merge":
        body["messages"] = merge_user_runs(body["messages"])

    # Thinking models and QVQ reject non-streaming calls; Segmind cannot stream at all.
    stream = (provider.streaming or model.streaming_only or model.thinking == "always"
              or bool(fields.get("enable_thinking"))
              or (model.thinks_by_default and params.thinking is None))
    if stream:
        body["stream"] = True
        if provider.stream_usage:
            body["stream_options"] = {"include_usage": True}
    # DashScope takes its extras (enable_thinking, top_k, ...) at the top level.
    body.update(fields)

    verbatim = [image.url for m in wire for image in m.images if image.verbatim]
    verbatim += [frame for m in wire for video in m.videos if video.verbatim
                 for frame in video.frames]
    chunks = body_chunks(body, verbatim)
    size = sum(len(chunk) for chunk in chunks)
    limit = provider.max_body_bytes
    if limit and size > limit:
        shown = _mb(size)
        if shown == _mb(limit):
            shown = f"{size / 1_000_000:.3f}"
        raise InputError(
            _("request"),
            _("{size} MB is over {provider}'s limit of {limit} MB; remove images or turn on "
              "'drop images from older turns'").format(size=shown, provider=provider.name,
                                                       limit=f"{limit / 1_000_000:g}"),
        )

    headers = {
        "Content-Type": "application/json",
        "Accept": "text/event-stream" if stream else "application/json",
        "User-Agent": USER_AGENT,
        **auth,
    }
    return HttpRequestSpec(method="POST", url=provider.chat_url(model.id), headers=headers,
                           json=body, stream=stream, body_bytes=size, chunks=chunks)
