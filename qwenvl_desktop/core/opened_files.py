"""What a conversation file may not do on its own: steer the person's next turn.

A `.qwenvl` file from someone else is untrusted input. Loading it (`storage`) checks
that it is well formed; this checks what it would *do* once opened, and says so:

* request parameters outside what the chosen provider accepts are dropped, never
  clamped (a file with `max_tokens: -5` opened as "Max tokens 1" and sent it);
* an image stored without its bytes is never sent as the URL the file gives for it (a
  beacon to whoever made the file): it is shown as missing and left out of requests
  (`Conversation.to_wire`); and an image with bytes is sent as those bytes, not as an
  address the file names for it, so the model sees what the person sees;
* a system prompt set by the file is announced;
* addresses with credentials in the answers' provenance are cleaned.

`review_opened_conversation` changes the conversation in place and returns the notices
to show; the window and the terminal command call it on every file they open.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import fields, replace
from typing import Any
from urllib.parse import urlsplit

from .catalog import Catalog, CustomEndpoint, ParamSpec, Provider
from .conversation import Conversation
from .i18n import _, ngettext
from .url_credentials import clean_url

__all__ = ["review_opened_conversation"]

# ChatParams field → the parameter name the catalog's ranges use.
_WIRE_NAMES = {"thinking": "enable_thinking", "high_resolution": "vl_high_resolution_images"}
_PROMPT_SHOWN = 120


def review_opened_conversation(conv: Conversation, catalog: Catalog,
                               provider: Provider | str | None) -> list[str]:
    """Make an opened file's conversation safe to continue; the notices to show.

    `provider` (or its id in `catalog`) is where the next turn will go; None when that is
    not known yet: parameters are then checked against every provider's ranges.
    """
    notices: list[str] = []
    if isinstance(provider, str):
        provider = catalog.providers.get(provider)
    dropped = _drop_out_of_range(conv, provider, _all_providers(catalog))
    if dropped:
        if provider is not None:
            notices.append(_("Parameters in this file outside what {provider} accepts were not "
                             "used: {parameters}.").format(provider=provider.name,
                                                           parameters="; ".join(dropped)))
        else:
            notices.append(_("Parameters in this file outside what any provider accepts were "
                             "not used: {parameters}.").format(parameters="; ".join(dropped)))
    missing = _images_without_bytes(conv)
    if missing:
        hosts = sorted({urlsplit(url).hostname or "?" for _name, url in missing if url})
        named = ", ".join(name for name, _url in missing[:5])
        if len(missing) > 5:
            named = ngettext("{names} and {count} more", "{names} and {count} more",
                             len(missing) - 5).format(names=named, count=len(missing) - 5)
        if hosts:
            notices.append(ngettext(
                "{count} image in this file holds no picture (the file only names an address "
                "on {hosts}): {names}. Shown as missing; never sent with your messages.",
                "{count} images in this file hold no picture (the file only names an address "
                "on {hosts}): {names}. Shown as missing; never sent with your messages.",
                len(missing)).format(count=len(missing), hosts=", ".join(hosts), names=named))
        else:
            notices.append(ngettext(
                "{count} image in this file holds no picture: {names}. Shown as missing; never "
                "sent with your messages.",
                "{count} images in this file hold no picture: {names}. Shown as missing; never "
                "sent with your messages.",
                len(missing)).format(count=len(missing), names=named))
    if conv.system_prompt.strip():
        prompt = " ".join(conv.system_prompt.split())
        if len(prompt) > _PROMPT_SHOWN:
            prompt = prompt[:_PROMPT_SHOWN - 1] + "…"
        notices.append(_("This file sets a system prompt for its conversation (see "
                         "Parameters; it is sent with every turn): “{prompt}”").format(
                             prompt=prompt))
    if _clean_provenance(conv) or conv.credentials_removed_on_load:
        notices.append(_("Addresses recorded in this file carried credentials (a user name "
                         "and password or a secret parameter); they were removed."))
    return notices


# --- parameters ---------------------------------------------------------------------------

def _all_providers(catalog: Catalog) -> list[Provider]:
    """Every provider the app knows, a custom endpoint's ranges included."""
    providers = list(catalog.providers.values())
    if catalog.custom_template:
        providers.append(catalog.make_custom(CustomEndpoint(
            name="(custom endpoint)", base_url="https://localhost")))
    return providers


def _drop_out_of_range(conv: Conversation, provider: Provider | None,
                       everyone: Iterable[Provider]) -> list[str]:
    """Set to "provider default" every value `provider` would refuse; what was dropped.

    A value `provider` does not take at all is checked against every provider's range
    instead: it is not sent now, but it would be after a switch of provider.
    """
    everyone = list(everyone)
    params = conv.params
    changes: dict[str, Any] = {}
    dropped: list[str] = []
    for f in fields(params):
        value = getattr(params, f.name)
        if value is None or value == () or isinstance(value, bool):
            continue
        name = _WIRE_NAMES.get(f.name, f.name)
        own = provider.params.get(name) if provider is not None else None
        specs = [own] if own is not None else [p.params[name] for p in everyone
                                               if name in p.params]
        if not specs or any(_allowed(spec, value) for spec in specs):
            continue
        changes[f.name] = () if isinstance(value, tuple) else None
        dropped.append(_describe(f.name, value, specs[0] if own is not None else None))
    if changes:
        conv.params = replace(params, **changes)
    return dropped


def _allowed(spec: ParamSpec, value: object) -> bool:
    if isinstance(value, tuple):
        return spec.max_items is None or len(value) <= spec.max_items
    if not isinstance(value, int | float) or not math.isfinite(value):
        return False
    if spec.integer and not float(value).is_integer():
        return False
    if spec.min is not None and (value < spec.min or (spec.min_exclusive and value == spec.min)):
        return False
    return not (spec.max is not None
                and (value > spec.max or (spec.max_exclusive and value == spec.max)))


def _describe(name: str, value: object, spec: ParamSpec | None) -> str:
    if isinstance(value, tuple):
        if spec and spec.max_items:
            return ngettext("{name} ({count} sequence; at most {limit})",
                            "{name} ({count} sequences; at most {limit})", len(value)).format(
                                name=name, count=len(value), limit=spec.max_items)
        return ngettext("{name} ({count} sequence)", "{name} ({count} sequences)",
                        len(value)).format(name=name, count=len(value))
    number = f"{value:g}" if isinstance(value, float) else str(value)
    if spec is not None:
        return _("{name} {value} (accepted: {range})").format(name=name, value=number,
                                                             range=spec.describe())
    return f"{name} {number}"


# --- images and provenance -------------------------------------------------------------------

def _images_without_bytes(conv: Conversation) -> list[tuple[str, str]]:
    """(name, the address the file gives) of each image held without its bytes; every
    image with bytes forgets the address the file names for it (see the module)."""
    missing: list[tuple[str, str]] = []
    for sha, image in list(conv.images.items()):
        if image.data:
            if image.source_url:
                conv.images[sha] = image.evolve(source_url="")    # images are immutable
        else:
            missing.append((image.original_name or "image", image.source_url))
    return missing


def _clean_provenance(conv: Conversation) -> bool:
    changed = False
    for message in conv.all_messages():          # every branch: all of them are saved
        prov = message.provenance
        if prov is not None and prov.base_url:
            clean = clean_url(prov.base_url)
            if clean != prov.base_url:
                prov.base_url = clean
                changed = True
    return changed
