"""Live model lists: what each provider serves today, kept on disk with its date.

A provider adds models between releases of the app. Refreshing asks the provider for
its list (`ChatClient.list_models`); the ids are cached in the cache folder, each list
under its provider and base URL with the time it was fetched, and merged into the
catalog: the catalog's entries keep their documented figures, ids it does not know get
capabilities from the family rules and are marked as guessed. A refresh that fails
leaves the cached list as it was.

The cache is a plain JSON file that may be deleted at any time. A file that cannot be
read is set aside with a warning, never a crash.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import paths
from .catalog import Catalog, Model, Provider, guess_model, is_listed
from .i18n import _, ngettext
from .storage import atomic_write

__all__ = ["CACHE_NAME", "ModelListCache", "ModelListing", "merge_listing", "now_iso",
           "with_listings"]

CACHE_NAME = "model-lists.json"
_VERSION = 1


@dataclass(frozen=True)
class ModelListing:
    """The model ids one provider listed at one base URL, and when."""

    provider_id: str
    base_url: str
    fetched_at: str
    """ISO 8601, UTC."""
    ids: tuple[str, ...]

    @property
    def when(self) -> datetime | None:
        try:
            moment = datetime.fromisoformat(self.fetched_at)
        except ValueError:
            return None
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

    def age_text(self, now: datetime | None = None) -> str:
        """"fetched 2026-09-12 14:03 UTC (3 days ago)", for people."""
        when = self.when
        if when is None:
            return _("fetched at an unknown time")
        now = now or datetime.now(UTC)
        days = (now - when).days
        if days < 1:
            ago = _("today")
        elif days == 1:
            ago = _("yesterday")
        else:
            ago = ngettext("{count} day ago", "{count} days ago", days).format(count=days)
        return _("fetched {time} UTC ({ago})").format(time=when.strftime("%Y-%m-%d %H:%M"),
                                                      ago=ago)


def _key(provider_id: str, base_url: str) -> str:
    return f"{provider_id} {base_url.rstrip('/')}"


class ModelListCache:
    """The last good model list per provider and base URL, in one JSON file."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or paths.cache_dir() / CACHE_NAME
        self._lists: dict[str, ModelListing] = {}
        self.warnings: list[str] = []
        self._load()

    def get(self, provider: Provider) -> ModelListing | None:
        return self._lists.get(_key(provider.id, provider.base_url))

    def put(self, listing: ModelListing) -> None:
        """Remember a new list and write the file (atomically)."""
        self._lists[_key(listing.provider_id, listing.base_url)] = listing
        data = {"version": _VERSION, "lists": [
            {"provider": item.provider_id, "base_url": item.base_url,
             "fetched_at": item.fetched_at, "ids": list(item.ids)}
            for item in self._lists.values()]}
        text = json.dumps(data, indent=1, ensure_ascii=False) + "\n"
        atomic_write(self.path, text.encode("utf-8"))

    def listings(self) -> list[ModelListing]:
        return list(self._lists.values())

    def _load(self) -> None:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return
        except OSError as err:
            self.warnings.append(_("Model lists: could not read {path} ({reason}).").format(
                path=self.path, reason=err.strerror))
            return
        try:
            data = json.loads(raw.decode("utf-8"))
            self._lists = {_key(x.provider_id, x.base_url): x for x in _parse(data)}
        except (ValueError, UnicodeDecodeError, TypeError, KeyError) as err:
            self._set_aside(f"{type(err).__name__}: {err}"[:120])

    def _set_aside(self, reason: str) -> None:
        aside = self.path.with_name(self.path.name + ".bad")
        try:
            self.path.replace(aside)
            self.warnings.append(_("Model lists: {file} is unreadable ({reason}); it was moved "
                                   "to {aside}. Refresh the model lists to fetch them again.")
                                 .format(file=self.path.name, reason=reason, aside=aside.name))
        except OSError:
            self.warnings.append(_("Model lists: {file} is unreadable ({reason}). Refresh the "
                                   "model lists to fetch them again.").format(
                                       file=self.path.name, reason=reason))


def _parse(data: Any) -> list[ModelListing]:
    if not isinstance(data, dict) or data.get("version") != _VERSION:
        raise ValueError("not a model-list cache of this version")
    out: list[ModelListing] = []
    for item in data["lists"]:
        ids = item["ids"]
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise TypeError("ids must be a list of names")
        out.append(ModelListing(provider_id=str(item["provider"]),
                                base_url=str(item["base_url"]),
                                fetched_at=str(item["fetched_at"]), ids=tuple(ids)))
    return out


def now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def merge_listing(provider: Provider, listing: ModelListing | None) -> Provider:
    """The provider with today's list merged in: catalog models first (their documented
    figures), then each listed id the catalog does not know, guessed by family rules.
    Ids the rules mark as not chat models are left out."""
    if listing is None:
        return provider
    known: list[Model] = list(provider.models)
    for model_id in listing.ids:
        if _known(provider, model_id) or not is_listed(model_id, provider.family,
                                                      provider.families):
            continue
        known.append(guess_model(model_id, provider.family, provider.families))
    merged = provider.with_models(tuple(known))
    return replace(merged, listed=listing.ids, listed_at=listing.fetched_at)


def _known(provider: Provider, model_id: str) -> bool:
    return any(m.id == model_id or model_id in m.snapshots for m in provider.models)


def with_listings(catalog: Catalog, cache: ModelListCache) -> Catalog:
    """The catalog with every cached list merged into its provider."""
    providers = {pid: merge_listing(p, cache.get(p)) for pid, p in catalog.providers.items()}
    return replace(catalog, providers=providers)
