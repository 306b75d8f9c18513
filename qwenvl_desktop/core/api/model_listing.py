"""Reading a provider's model list (`GET {base}/models`), and refusing what is not one.

OpenAI-style servers answer `{"object": "list", "data": [{"id": …}, …]}`; some send
`{"models": [...]}` or a bare list, of objects or of names. What is refused, with a
sentence naming the endpoint: a web page (a gateway's login or portal page, status
200), text that is not JSON, JSON of another shape, a body over `MAX_LIST_BYTES`, and an
empty list. The caller keeps the previous list in every one of those cases.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any

from ..catalog import Provider
from ..errors import ModelListError
from ..i18n import _

__all__ = ["MAX_LIST_BYTES", "MAX_LIST_ITEMS", "parse_model_ids"]

MAX_LIST_BYTES = 8 * 1024 * 1024
"""Far above any real list (DashScope's, the longest seen, is well under 1 MB)."""

MAX_LIST_ITEMS = 5000

_TITLE = re.compile(r"(?is)<title[^>]*>(.*?)</title>|<h1[^>]*>(.*?)</h1>")


def _fail(provider: Provider, sentence: str, **values: object) -> ModelListError:
    """`sentence` (already translated) names the endpoint as {endpoint}."""
    return ModelListError(sentence.format(endpoint=provider.endpoint_label, **values),
                          provider=provider.id)


def parse_model_ids(body: bytes, content_type: str, provider: Provider,
                    *, truncated: bool = False) -> list[str]:
    """The model ids in a listing answer, in the server's order, without duplicates."""
    if truncated:
        raise _fail(provider, _("{endpoint} sent more than {megabytes} MB for its model "
                                "list; that is not a model list."),
                    megabytes=MAX_LIST_BYTES // (1024 * 1024))
    text = body.decode("utf-8", errors="replace").lstrip("\ufeff").strip()
    if "html" in content_type.lower() or text[:1] == "<":
        match = _TITLE.search(text)
        title = html.unescape(next((g for g in match.groups() if g), "")).strip() if match else ""
        if title:
            raise _fail(provider, _("{endpoint} answered with a web page (“{title}”), not a "
                                    "model list; check the base URL."), title=title)
        raise _fail(provider, _("{endpoint} answered with a web page, not a model list; "
                                "check the base URL."))
    try:
        data: Any = json.loads(text)
    except (ValueError, RecursionError):
        raise _fail(provider, _("{endpoint} sent a model list that is not JSON.")) from None
    items: Any = data.get("data", data.get("models")) if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise _fail(provider, _("{endpoint} sent a model list in an unknown shape."))
    ids: list[str] = []
    seen: set[str] = set()
    for item in items:
        name = (item.get("id") or item.get("name")) if isinstance(item, dict) else item
        if isinstance(name, str) and name.strip() and name not in seen:
            seen.add(name)
            ids.append(name.strip())
    if not ids:
        raise _fail(provider, _("{endpoint} listed no models."))
    if len(ids) > MAX_LIST_ITEMS:
        raise _fail(provider, _("{endpoint} listed {count} models; that is not a model list."),
                    count=len(ids))
    return ids
