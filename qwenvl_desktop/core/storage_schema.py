"""Checking a parsed conversation document and building the Conversation from it.

Split from `storage.py`: this is the part that trusts nothing. Every value is checked
for type and range before it is used, and every mismatch raises `SchemaError` naming
the place in the file (`messages[12].role`) and what was expected there.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import typing
from collections.abc import Callable
from typing import Any

from .api.types import ChatParams, Usage
from .conversation import Conversation, Message, MessageStatus, Provenance, StoredImage, new_id
from .errors import redact
from .i18n import _
from .media_groups import MediaGroup
from .url_credentials import clean_url

__all__ = ["SchemaError", "build_conversation", "show_value", "storable_url"]

_ROLES = frozenset(("system", "user", "assistant"))
_STATUSES: frozenset[str] = frozenset(typing.get_args(MessageStatus))


class SchemaError(Exception):
    """One thing wrong with a parsed document (storage turns it into the person's words)."""


def storable_url(url: str) -> str:
    """A base URL as files hold it: no credentials, no registered secrets. Applied when
    saving and again when loading, so a file written by hand (or by an older version)
    with `user:pass@` in a URL is cleaned on the way in and saves back the same."""
    return redact(clean_url(url))


def show_value(value: object) -> str:
    text = json.dumps(value) if isinstance(value, str | int | float | bool | None) else \
        type(value).__name__
    return text if len(text) <= 40 else text[:37] + "..."


def _kind(value: object) -> str:
    return {dict: "an object", list: "a list", str: "text", bool: "true/false",
            int: "a number", float: "a number", type(None): "null"}.get(type(value), "a value")


class _Obj:
    """Typed access to one JSON object; every mismatch names the path and the problem."""

    def __init__(self, value: Any, where: str) -> None:
        if not isinstance(value, dict):
            raise SchemaError(_("{where} should be an object, found {kind}").format(
                where=where, kind=_kind(value)))
        self.value: dict[str, Any] = value
        self.where = where

    def get(self, key: str, default: Any, required: bool) -> Any:
        if key in self.value:
            return self.value[key]
        if required:
            raise SchemaError(_("{where}.{key} is missing").format(where=self.where, key=key))
        return default

    def _wrong(self, key: str, wanted: str, value: Any) -> SchemaError:
        return SchemaError(_("{where}.{key} should be {wanted}, found {kind}").format(
            where=self.where, key=key, wanted=wanted, kind=_kind(value)))

    def text(self, key: str, default: str = "", *, required: bool = False) -> str:
        value = self.get(key, default, required)
        if not isinstance(value, str):
            raise self._wrong(key, "text", value)
        return value

    def number(self, key: str, default: float = 0.0, *, required: bool = False) -> float:
        value = self.get(key, default, required)
        if not _is_number(value):
            raise self._wrong(key, _("a number"), value)
        return float(value)

    def optional_number(self, key: str) -> float | None:
        value = self.get(key, None, False)
        return None if value is None else self.number(key)

    def integer(self, key: str, default: int = 0, *, required: bool = False) -> int:
        value = self.get(key, default, required)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise self._wrong(key, _("a whole number ≥ 0"), value)
        return value

    def array(self, key: str, *, required: bool = False) -> list[Any]:
        value = self.get(key, [], required)
        if not isinstance(value, list):
            raise self._wrong(key, _("a list"), value)
        return value

    def child(self, key: str, *, required: bool = False) -> _Obj:
        return _Obj(self.get(key, {}, required), f"{self.where}.{key}")


def _is_number(value: Any) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(value))


def build_conversation(doc: dict[str, Any]) -> Conversation:
    root = _Obj(doc, "file")
    images = _build_images(root.child("images", required=True))
    c = root.child("conversation", required=True)
    messages_raw = c.array("messages", required=True)
    nodes: list[tuple[Message, str | None]] = []
    seen_ids: set[str] = set()
    for index, raw in enumerate(messages_raw):
        m = _Obj(raw, f"messages[{index}]")
        message = _build_message(m, images)
        if message.id in seen_ids:
            raise SchemaError(_("messages[{index}].id {id!r} is used twice").format(
                index=index, id=message.id))
        seen_ids.add(message.id)
        parent = m.get("parent", None, True)
        if parent is not None and not isinstance(parent, str):
            raise SchemaError(_("messages[{index}].parent should be text "
                                "or null, found {kind}").format(
                index=index, kind=_kind(parent)))
        nodes.append((message, parent))
    _check_tree(nodes)
    chosen = _build_chosen(c.array("chosen"), nodes)
    conv = Conversation(
        id=c.text("id", required=True),
        title=c.text("title", "New conversation"),
        created=c.number("created"),
        system_prompt=c.text("system_prompt"),
        provider_id=c.text("provider_id"),
        model_id=c.text("model_id"),
        params=_build_params(c.child("params")),
        images=images,
    )
    conv._graft(nodes, chosen)
    conv.updated = c.number("updated")
    conv.credentials_removed_on_load = any(
        _recorded_url(raw) != storable_url(_recorded_url(raw)) for raw in messages_raw)
    return conv


def _recorded_url(message: Any) -> str:
    """The base URL a saved message's provenance records, as written in the file."""
    prov = message.get("provenance") if isinstance(message, dict) else None
    url = prov.get("base_url", "") if isinstance(prov, dict) else ""
    return url if isinstance(url, str) else ""


def _check_tree(nodes: list[tuple[Message, str | None]]) -> None:
    """Every parent is a message of the file, and following parents always ends at the
    first message (no loops)."""
    index_of = {message.id: i for i, (message, _parent) in enumerate(nodes)}
    parent_of = {message.id: parent for message, parent in nodes}
    for index, (_message, parent) in enumerate(nodes):
        if parent is not None and parent not in index_of:
            raise SchemaError(_("messages[{index}].parent {show_value} names a message that is "
                                "not in the file").format(
                                    index=index, show_value=show_value(parent)))
    reaches_root: set[str] = set()
    for message, _parent in nodes:
        chain: list[str] = []
        on_chain: set[str] = set()
        current: str | None = message.id
        while current is not None and current not in reaches_root:
            if current in on_chain:
                loop = [*chain[chain.index(current):], current]
                shown = " → ".join(f"messages[{index_of[i]}]" for i in loop)
                raise SchemaError(_("the messages' parents go round in a loop: {shown}").format(
                    shown=shown))
            chain.append(current)
            on_chain.add(current)
            current = parent_of[current]
        reaches_root.update(chain)


def _build_chosen(raw: list[Any], nodes: list[tuple[Message, str | None]]) -> list[str]:
    """The child shown at each fork: known ids, at most one per parent."""
    parent_of = {message.id: parent for message, parent in nodes}
    chosen: list[str] = []
    parents: dict[str | None, int] = {}
    for index, value in enumerate(raw):
        where = f"conversation.chosen[{index}]"
        if not isinstance(value, str):
            raise SchemaError(_("{where} should be text, found {kind}").format(
                where=where, kind=_kind(value)))
        if value not in parent_of:
            raise SchemaError(_("{where} names message {show_value}, "
                                "which is not in the file").format(
                where=where, show_value=show_value(value)))
        parent = parent_of[value]
        if parent in parents:
            raise SchemaError(_("{where} and conversation.chosen[{value}] choose two answers "
                                "to the same message").format(where=where, value=parents[parent]))
        parents[parent] = index
        chosen.append(value)
    return chosen


def _build_images(table: _Obj) -> dict[str, StoredImage]:
    images: dict[str, StoredImage] = {}
    for sha, raw in table.value.items():
        entry = _Obj(raw, f"images[{sha[:16]}]")
        mime = entry.text("mime", required=True)
        encoded = entry.text("data", required=True)
        source_url = entry.text("source_url")
        try:
            data = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise SchemaError(_("the data of image {value} is not valid base64").format(
                value=sha[:16])) from None
        # An image kept only as a URL has no bytes to check; all others must match.
        if (data or not source_url) and hashlib.sha256(data).hexdigest() != sha:
                raise SchemaError(_("the data of image {value} does not match its checksum").format(
                    value=sha[:16]))
        images[sha] = StoredImage(
            sha256=sha, mime=mime, data=data,
            width=entry.integer("width", required=True),
            height=entry.integer("height", required=True),
            original_name=entry.text("original_name"),
            original_width=entry.integer("original_width"),
            original_height=entry.integer("original_height"),
            original_bytes=entry.integer("original_bytes"),
            source_url=source_url,
        ).with_base64(encoded)
    return images


def _build_message(m: _Obj, images: dict[str, StoredImage]) -> Message:
    role = m.text("role", required=True)
    if role not in _ROLES:
        raise SchemaError(
            _("{where}.role is {show_value}; expected system, user or assistant").format(
                where=m.where, show_value=show_value(role)))
    status = m.text("status", "complete")
    if status not in _STATUSES:
        raise SchemaError(_("{where}.status is {show_value}; expected one of ").format(
            where=m.where, show_value=show_value(status))
                       + ", ".join(sorted(_STATUSES)))
    if status == "streaming":
        # Saved mid-answer and never finished: the app was closed or crashed meanwhile.
        status = "interrupted"
    hashes: list[str] = []
    for position, sha in enumerate(m.array("images")):
        if not isinstance(sha, str):
            raise SchemaError(_("{where}.images[{position}] should be text, found {kind}").format(
                where=m.where, position=position, kind=_kind(sha)))
        if sha not in images:
            raise SchemaError(_("{where} shows image {value}, whose data is missing").format(
                where=m.where, value=sha[:16]))
        hashes.append(sha)
    tokens_obj = m.child("image_tokens")
    # Estimates for images the file does not hold are display leftovers: dropped, as on save.
    image_tokens = {sha: tokens_obj.integer(sha) for sha in tokens_obj.value if sha in images}
    media = [_build_media(_Obj(raw, f"{m.where}.media[{i}]"), hashes)
             for i, raw in enumerate(m.array("media"))]
    prov_raw = m.get("provenance", None, False)
    provenance = (None if prov_raw is None
                  else _build_provenance(_Obj(prov_raw, f"{m.where}.provenance")))
    message_id = m.text("id")
    return Message(
        role=role,  # type: ignore[arg-type]  # checked against _ROLES above
        text=m.text("text"),
        images=hashes,
        reasoning=m.text("reasoning"),
        id=message_id or new_id(),
        created=m.number("created"),
        status=status,  # type: ignore[arg-type]  # checked against _STATUSES above
        error=m.text("error"),
        provenance=provenance,
        image_tokens=image_tokens,
        media=media,
    )


def _build_media(g: _Obj, hashes: list[str]) -> MediaGroup:
    """A document or clip of a message: its images must be the message's own, and each
    must have its page number (documents) or time (videos)."""
    kind = g.text("kind", required=True)
    if kind not in ("document", "video"):
        raise SchemaError(_("{where}.kind is {show_value}; expected document or video").format(
            where=g.where, show_value=show_value(kind)))
    images: list[str] = []
    for position, sha in enumerate(g.array("images", required=True)):
        if not isinstance(sha, str) or sha not in hashes:
            raise SchemaError(_("{where}.images[{position}] is not one of "
                                "the message's images").format(
                where=g.where, position=position))
        images.append(sha)
    if not images:
        raise SchemaError(_("{where}.images is empty").format(where=g.where))
    pages: list[int] = []
    for position, page in enumerate(g.array("pages")):
        if not isinstance(page, int) or isinstance(page, bool) or page < 1:
            raise SchemaError(_("{where}.pages[{position}] should be a page number ≥ 1, found "
                                "{show_value}").format(
                                    where=g.where, position=position, show_value=show_value(page)))
        pages.append(page)
    times: list[float] = []
    for position, when in enumerate(g.array("timestamps")):
        if not _is_number(when) or when < 0:
            raise SchemaError(_("{where}.timestamps[{position}] should be seconds ≥ 0, found "
                                "{show_value}").format(
                                    where=g.where, position=position, show_value=show_value(when)))
        times.append(float(when))
    wanted, got, what = (("pages", pages, _("page number")) if kind == "document"
                         else ("timestamps", times, "time"))
    if len(got) != len(images):
        raise SchemaError(_("{where}.{wanted} has {count} entries for {count2} images; each "
                            "image needs its {what}").format(
                                where=g.where, wanted=wanted, count=len(got), count2=len(images),
                                what=what))
    duration = g.number("duration")
    if duration < 0:
        raise SchemaError(_("{where}.duration should be ≥ 0, found {show_value}").format(
            where=g.where, show_value=show_value(duration)))
    return MediaGroup(
        kind=kind,  # type: ignore[arg-type]  # checked above
        name=g.text("name", required=True), images=images, pages=pages,
        page_count=g.integer("page_count"), timestamps=times, duration=duration,
        tokens=g.integer("tokens"))


def _build_provenance(p: _Obj) -> Provenance:
    usage_raw = p.get("usage", None, False)
    usage = None
    if usage_raw is not None:
        u = _Obj(usage_raw, f"{p.where}.usage")
        usage = Usage(prompt_tokens=u.integer("prompt_tokens"),
                      completion_tokens=u.integer("completion_tokens"),
                      total_tokens=u.integer("total_tokens"),
                      reasoning_tokens=u.integer("reasoning_tokens"))
    return Provenance(
        provider=p.text("provider"),
        model=p.text("model"),
        region=p.text("region"),
        base_url=storable_url(p.text("base_url")),
        params=dict(p.child("params").value),
        usage=usage,
        finish_reason=p.text("finish_reason"),
        first_token_s=p.optional_number("first_token_s"),
        total_s=p.optional_number("total_s"),
        retries=p.integer("retries"),
    )


# ChatParams field -> check of its saved value (None always allowed where the type is
# optional). Derived from the dataclass so that a new parameter needs no edit here.
def _param_checks() -> dict[str, tuple[str, Callable[[Any], bool]]]:
    checks: dict[str, tuple[str, Callable[[Any], bool]]] = {}
    for field_name, hint in typing.get_type_hints(ChatParams).items():
        args = set(typing.get_args(hint)) or {hint}
        optional = type(None) in args
        if float in args:
            def ok(v: Any, o: bool = optional) -> bool:
                return (o and v is None) or _is_number(v)
            checks[field_name] = (_("a number"), ok)
        elif int in args:
            def ok_int(v: Any, o: bool = optional) -> bool:
                return (o and v is None) or (isinstance(v, int) and not isinstance(v, bool))
            checks[field_name] = (_("a whole number"), ok_int)
        elif bool in args:
            def ok_bool(v: Any, o: bool = optional) -> bool:
                return (o and v is None) or isinstance(v, bool)
            checks[field_name] = ("true/false", ok_bool)
        elif typing.get_origin(hint) is tuple:
            checks[field_name] = (_("a list of text"), lambda v: isinstance(v, list) and all(
                isinstance(s, str) for s in v))
    return checks


_PARAM_CHECKS = _param_checks()


def _build_params(p: _Obj) -> ChatParams:
    for key, value in p.value.items():
        check = _PARAM_CHECKS.get(key)
        if check is not None and not check[1](value):
            raise SchemaError(_("{where}.{key} should be {value}, found {kind}").format(
                where=p.where, key=key, value=check[0], kind=_kind(value)))
    return ChatParams.from_dict(p.value)
