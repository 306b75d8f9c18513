"""The one place the core's real objects are built and wired, for both front ends.

`Services.create()` loads the settings, builds the catalog, opens the key store and
the conversation library. The single shared `httpx.AsyncClient` and the chat client on
it are made at their first use (`http`, `client`): httpx is not imported to start the
window (≈ 150 ms of a launch, more where `rich` and `click` are installed, which httpx
then loads too). The window and the terminal command both start here; tests
pass their own HTTP client or key store instead of patching.

The chat turn itself is `core.turn.send_turn`; the window runs it through its session
(`core.session`), the terminal command directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .core import paths
from .core.catalog import Catalog, Provider
from .core.errors import ConfigError, KeyStoreError, MissingKeyError, QwenVLError, explain
from .core.library import ConversationLibrary
from .core.logs import redact_http_library_logs
from .core.model_lists import (
    ModelListCache,
    ModelListing,
    merge_listing,
    now_iso,
    with_listings,
)
from .core.secrets import KeyStore
from .core.settings import Settings, catalog_for

if TYPE_CHECKING:
    import httpx

    from .core.api.client import ChatClient

__all__ = ["RefreshOutcome", "Services", "make_http_client"]


def make_http_client(settings: Settings) -> httpx.AsyncClient:
    """The app's one HTTP client: TLS always verified, HTTP/1.1, no redirects.

    Redirects are refused because following one would resend the key to wherever it
    points. The per-request timeouts are set by the chat client from the settings;
    these are the defaults for everything else (model lists, image downloads).
    """
    import httpx

    from .core.api.lazy_transport import LazyTransport

    # The pool and its TLS context (always verified, HTTP/1.1) are made at the first
    # request, not at start-up (`LazyTransport`).
    return httpx.AsyncClient(
        transport=LazyTransport(lambda: httpx.AsyncHTTPTransport(
            verify=True, http1=True, http2=False)),
        follow_redirects=False,
        timeout=httpx.Timeout(settings.read_timeout, connect=settings.connect_timeout),
    )


@dataclass(frozen=True)
class RefreshOutcome:
    """What refreshing one provider's model list did."""

    provider_id: str
    listing: ModelListing | None
    """The list now in use: the new one, or (after an error) the previous one, if any."""
    new_ids: tuple[str, ...] = ()
    """Listed models the catalog has no entry for (their capabilities are guessed)."""
    error: BaseException | None = None


@dataclass
class Services:
    """The real objects of one app run; close with `await services.aclose()`."""

    settings: Settings
    settings_warnings: list[str]
    catalog: Catalog
    keystore: KeyStore
    library: ConversationLibrary
    settings_path: Path
    model_lists: ModelListCache = field(default_factory=ModelListCache)
    _http: httpx.AsyncClient | None = field(default=None, repr=False)
    _owns_http: bool = field(default=True, repr=False)
    _client: ChatClient | None = field(default=None, repr=False)
    _closed: bool = field(default=False, repr=False)

    @property
    def http(self) -> httpx.AsyncClient:
        """The app's one HTTP client, made (and httpx imported) at its first use."""
        if self._http is None:
            if self._closed:
                raise RuntimeError("the services are closed")
            self._http = make_http_client(self.settings)
        return self._http

    @property
    def http_is_closed(self) -> bool:
        """True when the HTTP client was closed, or never made and can no longer be."""
        return self._http.is_closed if self._http is not None else self._closed

    @property
    def client(self) -> ChatClient:
        """The chat client on `http`, with the settings' timeouts and retries (made at its
        first use, and again after `reconfigure_client`)."""
        if self._client is None:
            from .core.api.client import ChatClient

            self._client = ChatClient(self.http, connect_timeout=self.settings.connect_timeout,
                                      read_timeout=self.settings.read_timeout,
                                      max_retries=self.settings.max_retries,
                                      url_credentials=self.keystore.url_credentials)
        return self._client

    @classmethod
    def create(cls, *, http: httpx.AsyncClient | None = None,
               keystore: KeyStore | None = None,
               settings_path: Path | None = None) -> Services:
        """Build everything from the settings on disk (defaults when it is unusable)."""
        redact_http_library_logs()
        path = settings_path or paths.settings_file()
        settings, warnings = Settings.load(path)
        model_lists = ModelListCache()
        warnings += model_lists.warnings
        catalog = with_listings(catalog_for(settings), model_lists)
        keys = keystore if keystore is not None else KeyStore()
        # Every key is read once, off this thread; sends then read them from memory.
        keys.prefetch(keys.entries_for(catalog.providers.values()))
        services = cls(
            settings=settings, settings_warnings=warnings, catalog=catalog,
            keystore=keys, library=ConversationLibrary(paths.conversations_dir()),
            settings_path=path, model_lists=model_lists, _http=http, _owns_http=http is None,
        )
        if settings.url_credentials_found:
            services._move_url_credentials()
        return services

    def _move_url_credentials(self) -> None:
        """Credentials found in base URLs of an older settings file go to the key store,
        and the file is saved again without them."""
        found = self.settings.url_credentials_found
        for provider_id, creds in list(found.items()):
            try:
                provider = self.catalog.get(provider_id)
            except ConfigError:
                continue        # the entry itself was refused on load (warned there)
            where = "They are now kept in the OS keyring and sent with each request"
            try:
                self.keystore.set_url_credentials(provider, creds)
                if not self.keystore.secure:
                    where = ("No secure keyring is available: they are kept for this "
                             "session only; enter them again in Settings › Endpoints")
            except KeyStoreError as err:
                where = explain(err)
            self.settings_warnings.append(
                f"Settings: the address of {provider.name} held {creds.describe()}. "
                f"The settings file now holds only {provider.base_url}. {where}.")
        found.clear()
        try:
            self.settings.save(self.settings_path)
        except (ConfigError, OSError) as err:
            self.settings_warnings.append(
                f"Settings: could not save the cleaned settings ({explain(err)}).")

    def save_settings(self) -> None:
        """Save the settings and rebuild the catalog (custom endpoints may have changed)."""
        self.settings.save(self.settings_path)
        self.rebuild_catalog()

    def rebuild_catalog(self) -> None:
        """The catalog from the settings and the cached model lists, as they are now."""
        self.catalog = with_listings(catalog_for(self.settings), self.model_lists)
        # Keys of endpoints added meanwhile are read in the background.
        self.keystore.prefetch(self.keystore.entries_for(self.catalog.providers.values()))

    async def refresh_models(self, provider: Provider) -> RefreshOutcome:
        """Fetch `provider`'s model list, cache it with its date and rebuild the catalog.

        Never raises for a bad listing: the error is in the outcome and the previous
        list stays (in the cache and in the catalog).
        """
        previous = self.model_lists.get(provider)
        try:
            key = self.keystore.get(provider)
            if key is None and not provider.key_optional and provider.models_path:
                raise MissingKeyError(provider.name, provider.key_env, provider.id)
            ids = await self.client.list_models(provider, api_key=key)
        except (QwenVLError, OSError) as err:
            return RefreshOutcome(provider.id, previous, error=err)
        listing = ModelListing(provider_id=provider.id, base_url=provider.base_url,
                               fetched_at=now_iso(), ids=tuple(ids))
        try:
            self.model_lists.put(listing)
        except OSError as err:
            return RefreshOutcome(provider.id, previous, error=err)
        if provider.id in self.catalog.providers:
            self.rebuild_catalog()
        merged = merge_listing(provider, listing)
        new = tuple(m.id for m in merged.models if m.guessed and m.id in listing.ids)
        return RefreshOutcome(provider.id, listing, new_ids=new)

    def set_vision(self, provider_id: str, model_id: str, vision: bool | None) -> None:
        """The person's choice of whether a model sees images (None: as catalogued or
        guessed), saved in the settings."""
        before = {k: dict(v) for k, v in self.settings.vision_overrides.items()}
        self.settings.set_vision_override(provider_id, model_id, vision)
        try:
            self.save_settings()
        except (QwenVLError, OSError):
            self.settings.vision_overrides = before
            raise

    def reconfigure_client(self) -> None:
        """Apply changed timeouts and retry count to new requests."""
        self._client = None         # made again from the settings at its next use

    def api_key(self, provider: Provider) -> str | None:
        """The key for `provider`, or MissingKeyError when it needs one and has none."""
        # Served from memory; KeyringUnavailableError when the keyring could not be asked.
        return self.keystore.key_for_request(provider)

    async def aclose(self) -> None:
        self._closed = True
        if self._owns_http and self._http is not None:
            await self._http.aclose()
