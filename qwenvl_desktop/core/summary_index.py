"""What the library list shows, cached in `index.json` beside the conversation files.

The index is only a cache: each entry carries its file's size and modification time,
so a file that changed is re-read, and an index that is missing, unreadable or
malformed is rebuilt from the files (`ConversationLibrary._scan`).
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .conversation import Conversation

__all__ = ["INDEX_NAME", "Entry", "entry_for", "index_doc", "preview", "read_index",
           "search_text"]

log = logging.getLogger(__name__)

INDEX_NAME = "index.json"
_INDEX_FORMAT = "qwenvl-desktop/library-index"
_INDEX_VERSION = 1
_PREVIEW_CHARS = 120


@dataclass
class Entry:
    """One cached index line: a summary, or the reason the file could not be read."""

    title: str
    updated: float
    message_count: int
    preview: str
    mtime_ns: int
    size: int
    error: str = ""


def read_index(path: Path) -> dict[str, Entry]:
    """The cached entries, or none when the index is missing, unreadable or malformed."""
    try:
        doc = json.loads(path.read_bytes())
        if doc.get("format") != _INDEX_FORMAT or doc.get("version") != _INDEX_VERSION:
            return {}
        entries = {str(cid): Entry(**raw) for cid, raw in doc["entries"].items()}
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
        log.info("library index unreadable (%s); rebuilding it from the files", exc)
        return {}
    if not all(_entry_ok(e) for e in entries.values()):
        log.info("library index has malformed entries; rebuilding it from the files")
        return {}
    return entries


def index_doc(entries: dict[str, Entry]) -> bytes:
    doc = {"format": _INDEX_FORMAT, "version": _INDEX_VERSION,
           "entries": {cid: asdict(e) for cid, e in entries.items()}}
    return json.dumps(doc, ensure_ascii=False).encode()


def entry_for(conv: Conversation, stat: os.stat_result) -> Entry:
    return Entry(title=conv.title, updated=conv.updated, message_count=len(conv.messages),
                  preview=preview(conv), mtime_ns=stat.st_mtime_ns, size=stat.st_size)


def _entry_ok(e: Entry) -> bool:
    def is_int(v: Any) -> bool:
        return isinstance(v, int) and not isinstance(v, bool)
    return (isinstance(e.title, str) and isinstance(e.preview, str) and isinstance(e.error, str)
            and (is_int(e.updated) or isinstance(e.updated, float)) and is_int(e.message_count)
            and is_int(e.mtime_ns) and is_int(e.size))


def preview(conv: Conversation) -> str:
    for message in reversed(conv.messages):
        line = " ".join(message.text.split())
        if line:
            return line[:_PREVIEW_CHARS] + ("…" if len(line) > _PREVIEW_CHARS else "")
    return ""


def search_text(conv: Conversation) -> str:
    # "\0" between parts so a match never spans two messages.
    return "\0".join([conv.title, *(m.text for m in conv.messages)]).casefold()

