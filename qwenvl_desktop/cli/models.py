"""`qwenvl-desktop models PROVIDER [--base-url URL] [--refresh] [--json]`.

Lists what a provider serves: the catalog's models, with the figures that are assumed
rather than documented, merged with the provider's own list as last fetched (and when).
`--refresh` fetches that list now; when the provider answers with something that is not
a model list (a web page, nothing, a refusal, far too much, or too slowly), the
previous list is shown and kept, the reason goes to stderr and the exit code says what
kind of failure it was. Models the catalog does not know show what was guessed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from dataclasses import replace
from typing import Any

from ..core.catalog import CustomEndpoint, Model, Provider
from ..core.errors import exit_code_for, explain, register_secret
from ..core.model_lists import ModelListing, merge_listing
from ..core.url_credentials import split_url_credentials
from ..services import RefreshOutcome, Services
from .ask import CUSTOM_KEY_ENV

__all__ = ["describe_model", "run_models"]

_FIELD_WORDS = {
    "vision": "vision", "thinking": "thinking", "thinking_default": "thinking default",
    "streaming_only": "streaming only", "accepts_system": "system prompt",
    "patch_factor": "patch size", "image_token_cap": "image cap",
    "high_res_token_cap": "hi-res cap", "min_image_tokens": "min image tokens",
    "context_length": "context", "grounding": "box coordinates",
}
_GROUNDING = {"absolute": "boxes in pixels", "relative-1000": "boxes 0–1000"}


def run_models(args: argparse.Namespace) -> int:
    return asyncio.run(_models(args))


async def _models(args: argparse.Namespace) -> int:
    services = Services.create()
    try:
        return await _models_with(args, services)
    finally:
        await services.aclose()


def _provider(args: argparse.Namespace, services: Services) -> Provider:
    catalog = services.catalog
    name = args.provider
    base_url, credentials = split_url_credentials(args.base_url or "")
    if args.base_url and (name == "custom" or name not in catalog.providers):
        # As `ask --base-url` without -p: an endpoint not saved anywhere, named by the
        # URL as typed (without any credentials in it).
        provider = replace(catalog.make_custom(CustomEndpoint(
            name=name, base_url=base_url, key_env=CUSTOM_KEY_ENV)), name=base_url)
        key = os.environ.get(CUSTOM_KEY_ENV, "").strip()
        if key:
            register_secret(key)
    else:
        provider = catalog.get(name)
        if args.base_url:
            provider = provider.with_base_url(base_url)
    if credentials:
        # Sent with this run's requests only, never saved (as `ask --base-url`).
        services.keystore.set_url_credentials(provider, credentials, session_only=True)
        print(f"note: --base-url carries {credentials.describe()}; they are sent with this "
              "request only and never saved.", file=sys.stderr)
    return provider


async def _models_with(args: argparse.Namespace, services: Services) -> int:
    for warning in services.settings_warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if args.timeout is not None:
        services.settings.read_timeout = args.timeout
        services.reconfigure_client()
    provider = _provider(args, services)
    outcome: RefreshOutcome | None = None
    if args.refresh and not provider.models_path:
        print(f"qwenvl-desktop: {provider.name} has no model list (each of its models has its "
              "own address); these are the catalog's.", file=sys.stderr)
        listing = None
    elif args.refresh:
        outcome = await services.refresh_models(provider)
        listing = outcome.listing
    else:
        listing = services.model_lists.get(provider)
    merged = merge_listing(provider, listing)
    error = outcome.error if outcome else None
    if args.json:
        print(json.dumps(_as_json(merged, listing, outcome), ensure_ascii=False, indent=1))
    else:
        _print_text(merged, listing)
    if error is not None:
        print(f"qwenvl-desktop: {explain(error)}", file=sys.stderr)
        if listing is not None:
            print(f"qwenvl-desktop: the list shown is the previous one, {listing.age_text()}.",
                  file=sys.stderr)
        return exit_code_for(error)
    return 0


def describe_model(model: Model) -> str:
    """One line of what a model can do, as the terminal shows it."""
    traits = ["vision" if model.vision else "text only"]
    if model.thinking == "always":
        traits.append("always thinks")
    elif model.thinking == "optional":
        traits.append("thinks by default" if model.thinking_default else "thinking optional")
    traits.append(f"{model.patch_factor}-px patches")
    cap = f"{model.image_token_cap} tokens/image"
    if model.high_res_token_cap:
        cap += f" ({model.high_res_token_cap} hi-res)"
    traits.append(cap)
    if model.context_length:
        traits.append(f"context {model.context_length}")
    if model.grounding:
        traits.append(_GROUNDING[model.grounding])
    return " · ".join(traits)


def _notes(model: Model, provider: Provider) -> list[str]:
    notes = []
    if model.guessed:
        rules = ", ".join(model.guessed_from) or "no rule matched"
        notes.append(f"not in the catalog: guessed from its name ({rules})")
    elif provider.listed and model.id not in provider.listed:
        notes.append("in the catalog, not in the provider's list")
    if model.assumed:
        notes.append("assumed: " + ", ".join(_FIELD_WORDS.get(f, f) for f in model.assumed))
    if model.overridden:
        notes.append("set by you: " + ", ".join(_FIELD_WORDS.get(f, f)
                                                for f in model.overridden))
    return notes


def _print_text(provider: Provider, listing: ModelListing | None) -> None:
    print(f"{provider.id}: {provider.endpoint_label}")
    print(f"    {provider.base_url}")
    if listing is None:
        hint = (" (--refresh fetches it)" if provider.models_path
                else " (this provider has none: the catalog is all it offers)")
        print(f"    model list: never fetched{hint}")
    else:
        guessed = sum(1 for m in provider.models if m.guessed)
        print(f"    model list: {listing.age_text()}; {len(listing.ids)} listed, "
              f"{guessed} not in the catalog")
    width = max((len(m.id) for m in provider.models), default=10)
    for model in provider.models:
        print(f"  {model.id:<{width}}  {describe_model(model)}")
        for note in _notes(model, provider):
            print(f"  {'':<{width}}    {note}")


def _as_json(provider: Provider, listing: ModelListing | None,
             outcome: RefreshOutcome | None) -> dict[str, Any]:
    return {
        "provider": provider.id,
        "name": provider.name,
        "base_url": provider.base_url,
        "listed_at": listing.fetched_at if listing else None,
        "refreshed": bool(outcome and outcome.error is None),
        "error": explain(outcome.error) if outcome and outcome.error else None,
        "models": [{
            "id": m.id, "label": m.label, "vision": m.vision, "thinking": m.thinking,
            "thinking_default": m.thinking_default, "streaming_only": m.streaming_only,
            "patch_factor": m.patch_factor, "image_token_cap": m.image_token_cap,
            "high_res_token_cap": m.high_res_token_cap, "context_length": m.context_length,
            "grounding": m.grounding, "in_catalog": not m.guessed,
            "listed": m.id in provider.listed, "guessed": list(m.guessed),
            "guessed_from": list(m.guessed_from), "assumed": list(m.assumed),
            "overridden": list(m.overridden),
        } for m in provider.models],
    }
