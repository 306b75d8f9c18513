"""Saved conversation files: one self-contained, versioned JSON document per conversation.

Layout (UTF-8 JSON, keys in any order, unknown keys ignored)::

    {"format": "qwenvl-desktop/conversation", "version": 3,
     "app_version": "0.1.0", "saved_at": 1700000000.0,
     "conversation": {"id", "title", "created", "updated", "system_prompt",
                      "provider_id", "model_id", "params": {...ChatParams.to_dict()},
                      "messages": [{"id", "parent": id | null,
                                    "role", "text", "reasoning", "status", "error",
                                    "created", "images": [sha256, ...],
                                    "image_tokens": {sha256: n},
                                    "media": [{"kind": "document" | "video", "name",
                                               "images": [sha256, ...], "pages": [n, ...],
                                               "page_count", "timestamps": [s, ...],
                                               "duration", "tokens"}, ...],
                                    "provenance": {...} | null}, ...],
                      "chosen": [id, ...]},
     "images": {sha256: {"mime", "width", "height", "original_name",
                         "original_width", "original_height", "original_bytes",
                         "source_url", "data": base64}}}

Messages form a tree (format 3): every message of every branch is saved, in the order
they were added, each naming its `parent` (null for the first); `chosen` lists the child
shown at each fork, so the branch on screen is the one that opens again. Files of
formats 1 and 2 (one straight line of messages) are upgraded on load.

Each image is stored once however many messages show it. Loading checks everything and
turns every problem into a `ConversationFileError` whose reason a person can act on;
files written by older formats are upgraded step by step through `MIGRATIONS`.
Saving is atomic, so a crash or a full disk never leaves half a file behind.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from .. import __version__
from .api.types import ChatParams
from .conversation import Conversation, Message, Provenance, StoredImage, new_id
from .errors import ConversationFileError, redact
from .i18n import N_, _
from .media_groups import MediaGroup
from .storage_schema import SchemaError, build_conversation, show_value, storable_url

__all__ = [
    "FILE_SUFFIX",
    "FORMAT_ID",
    "FORMAT_VERSION",
    "MIGRATIONS",
    "MIME_TYPE",
    "atomic_write",
    "dump_chunks",
    "dumps",
    "explained_read_errors",
    "load_conversation",
    "loads",
    "save_conversation",
]

FILE_SUFFIX = ".qwenvl"
MIME_TYPE = "application/x-qwenvl-conversation"
FORMAT_ID = "qwenvl-desktop/conversation"
FORMAT_VERSION = 3


def _v1_to_v2(doc: dict[str, Any]) -> dict[str, Any]:
    """Format 2 adds `media` (documents and video clips) to messages; a format-1 message
    has none, so every message gets an empty list."""
    for message in doc["conversation"]["messages"]:
        if isinstance(message, dict):
            message.setdefault("media", [])
    return doc


def _linear_to_tree(doc: dict[str, Any]) -> dict[str, Any]:
    """Format 2 → 3: each message's parent is the one before it; no forks yet.

    Reads unchecked data: anything malformed is left for the schema check to name.
    """
    conv = doc.get("conversation")
    if not isinstance(conv, dict) or not isinstance(conv.get("messages"), list):
        return doc
    messages: list[Any] = conv["messages"]
    previous: str | None = None
    for raw in messages:
        if not isinstance(raw, dict):
            continue
        if raw.get("id") in (None, ""):
            raw["id"] = new_id()        # older formats allowed a missing id; links need one
        raw["parent"] = previous
        previous = raw["id"] if isinstance(raw["id"], str) else None
    conv.setdefault("chosen", [])
    return doc


# MIGRATIONS[n] turns a version-n document (a parsed dict) into a version-(n+1) one.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {
    1: _v1_to_v2, 2: _linear_to_tree}

# Names that only ever hold credentials; provenance params never legitimately use them.
_CREDENTIAL_NAME = re.compile(
    r"(?i)^(authori[sz]ation|x-api-key|api[_-]?key|access[_-]?token|secret|password|key)$")


# --- writing -------------------------------------------------------------------------

def dumps(conv: Conversation) -> bytes:
    """The conversation as the bytes of a conversation file (every branch)."""
    return b"".join(dump_chunks(conv))


def dump_chunks(conv: Conversation) -> list[bytes]:
    """The bytes of the conversation file, in pieces to write one after the other.

    Give it a `Conversation.snapshot()` when the conversation may change meanwhile:
    autosave runs this on the library's writer thread. Each image's base64 goes in as
    the bytes the image already holds, never through the JSON encoder: escaping 1.3 MB
    of text is one 20 ms step that holds the interpreter lock, i.e. a 20 ms stall of the
    window even from another thread.
    """
    everything = conv.all_messages()
    images = conv.images
    messages = [_message_to_dict(m, conv.parent_of(m.id), images) for m in everything]
    params = _scrub(_params_to_dict(conv.params))
    doc = {
        "format": FORMAT_ID,
        "version": FORMAT_VERSION,
        "app_version": __version__,
        "saved_at": time.time(),
        "conversation": {
            "id": conv.id,
            "title": conv.title,
            "created": _finite(conv.created),
            "updated": _finite(conv.updated),
            "system_prompt": conv.system_prompt,
            "provider_id": conv.provider_id,
            "model_id": conv.model_id,
            "params": params,
            "messages": messages,
            "chosen": conv.chosen_children(),
        },
        "images": {},                           # written below, after the JSON
    }
    # allow_nan=False: a NaN would make a file this app refuses to read; failing the save
    # (the previous copy stays) is better than writing it.
    text = json.dumps(doc, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    chunks = [text[:-3].encode("utf-8"), b"{"]        # up to the images' "{}}"
    for n, (sha, img) in enumerate(images.items()):
        meta = json.dumps(_image_to_dict(img), ensure_ascii=False, separators=(",", ":"))
        key = json.dumps(sha, ensure_ascii=False)
        chunks.append(f'{"," if n else ""}{key}:{meta[:-1]},"data":"'.encode())
        chunks.append(img.encoded())            # base64: nothing in it needs escaping
        chunks.append(b'"}')
    chunks.append(b"}}\n")
    return chunks


def _params_to_dict(params: ChatParams) -> dict[str, Any]:
    """`ChatParams.to_dict`, plus the values it drops because they compare equal to False
    (temperature 0, seed 0, thinking off), which differ from "provider default" (None)."""
    data = params.to_dict()
    for f in dataclasses.fields(params):
        value = getattr(params, f.name)
        if f.name not in data and value is not None and value != f.default:
            data[f.name] = list(value) if isinstance(value, tuple) else value
    return data


def _message_to_dict(msg: Message, parent: str | None,
                     images: dict[str, StoredImage]) -> dict[str, Any]:
    # A reference to an image the conversation no longer holds cannot be saved (the file
    # would not load); such an image was already gone from the screen and the wire.
    hashes = [h for h in msg.images if h in images]
    return {
        "id": msg.id,
        "parent": parent,
        "role": msg.role,
        "text": msg.text,
        "reasoning": msg.reasoning,
        "status": msg.status,
        "error": redact(msg.error) if msg.error else "",
        "created": _finite(msg.created),
        "images": hashes,
        "image_tokens": {h: n for h, n in msg.image_tokens.items() if h in images},
        "media": [_media_to_dict(g) for g in msg.media
                  if g.images and all(h in images for h in g.images)],
        "provenance": _provenance_to_dict(msg.provenance) if msg.provenance else None,
    }


def _media_to_dict(group: MediaGroup) -> dict[str, Any]:
    return {"kind": group.kind, "name": group.name, "images": list(group.images),
            "pages": list(group.pages), "page_count": group.page_count,
            "timestamps": [_finite(t) for t in group.timestamps],
            "duration": _finite(group.duration), "tokens": group.tokens}


def _provenance_to_dict(prov: Provenance) -> dict[str, Any]:
    usage = prov.usage
    return {
        "provider": prov.provider,
        "model": prov.model,
        "region": prov.region,
        "base_url": storable_url(prov.base_url),
        "params": _scrub(prov.params),
        "usage": None if usage is None else {
            "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens,
            "total_tokens": usage.total_tokens,
            "reasoning_tokens": usage.reasoning_tokens,
        },
        "finish_reason": prov.finish_reason,
        "first_token_s": _finite_or_none(prov.first_token_s),
        "total_s": _finite_or_none(prov.total_s),
        "retries": prov.retries,
    }


def _finite(value: float) -> float:
    return value if math.isfinite(value) else 0.0


def _finite_or_none(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else value


def _scrub(value: Any) -> Any:
    """Request parameters made JSON-safe with anything credential-like left out.

    Provenance params are meant to be request parameters only; this is the cheap last
    line of defence that keeps a key out of a file even if a caller slips one in.
    """
    if isinstance(value, dict):
        return {str(k): _scrub(v) for k, v in value.items()
                if not _CREDENTIAL_NAME.match(str(k))}
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    if isinstance(value, str):
        return redact(value)
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return redact(str(value))


def _image_to_dict(img: StoredImage) -> dict[str, Any]:
    return {
        "mime": img.mime,
        "width": img.width,
        "height": img.height,
        "original_name": img.original_name,
        "original_width": img.original_width,
        "original_height": img.original_height,
        "original_bytes": img.original_bytes,
        "source_url": img.source_url,
    }


def atomic_write(path: Path, data: bytes | Iterable[bytes]) -> None:
    """Replace `path` with `data` (bytes, or pieces written in turn) so that, whatever
    happens, the old file or the new one is there in full and no temporary file is left
    behind.

    Temp file in the same folder (same filesystem, so the rename is atomic), flushed and
    fsynced before `os.replace`, then the folder fsynced so the rename itself is durable.
    """
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as tmp:
            for chunk in [data] if isinstance(data, bytes) else data:
                tmp.write(chunk)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    _fsync_folder(path.parent)


def _fsync_folder(folder: Path) -> None:
    if os.name != "posix":  # Windows cannot open a folder for fsync; NTFS journals renames
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


def save_conversation(conv: Conversation, path: Path) -> None:
    """Write the conversation to `path` atomically.

    Raises ConversationFileError (with the OS's reason) when the file cannot be written;
    the previous copy, if any, is then untouched.
    """
    try:
        atomic_write(path, dump_chunks(conv))
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ConversationFileError(
            path.name, _("could not be saved: {reason} (any earlier copy is unchanged)").format(
                reason=reason)
        ) from exc


# --- reading -------------------------------------------------------------------------

def load_conversation(path: Path) -> Conversation:
    """Read a conversation file; every problem becomes a ConversationFileError."""
    with explained_read_errors(path):
        data = path.read_bytes()
    return loads(data, name=path.name)


@contextlib.contextmanager
def explained_read_errors(path: Path) -> Iterator[None]:
    """Turn an OSError raised while reading `path` into a ConversationFileError."""
    try:
        yield
    except IsADirectoryError as exc:
        raise ConversationFileError(path.name, _("is a folder, not a conversation file")) from exc
    except FileNotFoundError as exc:
        raise ConversationFileError(path.name, _("does not exist (it was moved or deleted)")) \
            from exc
    except OSError as exc:
        raise ConversationFileError(path.name, _("could not be read: {reason}").format(
            reason=exc.strerror or exc)) \
            from exc


def loads(data: bytes, *, name: str) -> Conversation:
    """Parse and check the bytes of a conversation file (`name` is used in messages)."""
    doc = _parse(data, name)
    doc = _upgrade(doc, name)
    try:
        return build_conversation(doc)
    except SchemaError as exc:
        # The schema's details name the file's own fields (messages[3].role): kept as is.
        raise ConversationFileError(name, _("the file is damaged: {reason}").format(
            reason=exc)) from None


_TRUNCATED = N_("the file is incomplete: it ends in the middle of the data "
                "(it may have been cut short by a full disk or a crash)")


def _reject_constant(token: str) -> Any:
    raise ValueError(f"{token} is not allowed")


def _parse(data: bytes, name: str) -> dict[str, Any]:
    if not data or data.isspace():
        raise ConversationFileError(name, _("the file is empty"))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.reason == "unexpected end of data" and data.lstrip().startswith(b"{"):
            raise ConversationFileError(name, _(_TRUNCATED)) from None
        raise ConversationFileError(name, _(
            "is not a Qwen-VL Desktop conversation (it is not a text file)")) from None
    looks_like_object = text.lstrip().startswith("{")
    try:
        doc = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise ConversationFileError(name, _(
            "is not a Qwen-VL Desktop conversation (it is nested too deeply)")) from None
    except ValueError as exc:
        if not looks_like_object:
            raise ConversationFileError(name, _(
                "is not a Qwen-VL Desktop conversation (it is not JSON)")) from None
        if isinstance(exc, json.JSONDecodeError) and (
                exc.pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated string")):
            raise ConversationFileError(name, _(_TRUNCATED)) from None
        # The JSON parser's own words (exc.msg) are a developer's, kept as they are.
        if isinstance(exc, json.JSONDecodeError):
            raise ConversationFileError(name, _(
                "the file is damaged: not valid JSON (line {line}, column {column}: {reason})")
                .format(line=exc.lineno, column=exc.colno, reason=exc.msg)) from None
        raise ConversationFileError(name, _("the file is damaged: not valid JSON ({reason})")
                                    .format(reason=exc)) from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT_ID:
        raise ConversationFileError(
            name, _("is not a Qwen-VL Desktop conversation (it is JSON, but not in the "
                    "conversation format; it may belong to another program)"))
    return doc


def _upgrade(doc: dict[str, Any], name: str) -> dict[str, Any]:
    version = doc.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ConversationFileError(
            name, _("the file is damaged: its format version is {version}, not a number this "
                    "app knows").format(version=show_value(version)))
    if version > FORMAT_VERSION:
        raise ConversationFileError(
            name, _("was saved by a newer version of Qwen-VL Desktop (format {version}); this "
                    "version reads up to {latest} — update the app").format(
                        version=version, latest=FORMAT_VERSION))
    while version < FORMAT_VERSION:
        step = MIGRATIONS.get(version)
        if step is None:
            raise ConversationFileError(
                name, _("uses format {version}, which this version can no longer upgrade")
                .format(version=version))
        try:
            doc = step(doc)
            if not isinstance(doc, dict):
                raise TypeError(f"the upgrade produced {type(doc).__name__}, not an object")
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            # Migrations read unchecked data; a damaged old file must not crash them.
            raise ConversationFileError(
                name, _("the file is damaged: it could not be upgraded from format {version} "
                        "({error}: {reason})").format(version=version, error=type(exc).__name__,
                                                       reason=exc)) from None
        version += 1
        doc["version"] = version
    return doc
