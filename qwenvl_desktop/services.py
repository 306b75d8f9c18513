"""The one place the core's real objects are built and wired, for both front ends.

`Services.create()` loads the settings, builds the catalog, opens the key store and
the single shared `httpx.AsyncClient`, and hands them to the chat client and the
conversation library. The window and the terminal command both start here; tests
pass their own HTTP client or key store instead of patching.

`send_turn` is the chat turn itself, Qt-free: it appends the person's message, streams
the answer into an assistant message and records where it came from. Whatever goes
wrong, the person's turn and any partial answer stay in the conversation.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Callable, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import httpx

from .core import paths
from .core.api.client import ChatClient
from .core.api.types import ChatParams, ChatResult, ContentDelta, ReasoningDelta, StreamEvent
from .core.catalog import Catalog, Model, Provider
from .core.conversation import Conversation, Message, MessageStatus, Provenance
from .core.errors import (
    CancelledByUser,
    ConfigError,
    KeyStoreError,
    MissingKeyError,
    NetworkError,
    ProviderError,
    QwenVLError,
    StreamError,
    explain,
    redact,
)
from .core.images import PreparedImage
from .core.library import ConversationLibrary
from .core.logs import redact_http_library_logs
from .core.media import PreparedMedia
from .core.model_lists import (
    ModelListCache,
    ModelListing,
    merge_listing,
    now_iso,
    with_listings,
)
from .core.secrets import KeyStore
from .core.settings import Settings, catalog_for
from .core.url_credentials import clean_url

__all__ = ["ProgressCallback", "RefreshOutcome", "Services", "send_turn"]

EventCallback = Callable[[StreamEvent], None]
ProgressCallback = Callable[[Conversation, Message], None]


def make_http_client(settings: Settings) -> httpx.AsyncClient:
    """The app's one HTTP client: TLS always verified, HTTP/1.1, no redirects.

    Redirects are refused because following one would resend the key to wherever it
    points. The per-request timeouts are set by the chat client from the settings;
    these are the defaults for everything else (model lists, image downloads).
    """
    return httpx.AsyncClient(
        verify=True,
        http1=True,
        http2=False,
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
    http: httpx.AsyncClient
    client: ChatClient
    library: ConversationLibrary
    settings_path: Path
    model_lists: ModelListCache = field(default_factory=ModelListCache)
    _owns_http: bool = field(default=True, repr=False)

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
        owns_http = http is None
        http_client = http if http is not None else make_http_client(settings)
        keys = keystore if keystore is not None else KeyStore()
        client = ChatClient(http_client, connect_timeout=settings.connect_timeout,
                            read_timeout=settings.read_timeout,
                            max_retries=settings.max_retries,
                            url_credentials=keys.url_credentials)
        services = cls(
            settings=settings, settings_warnings=warnings, catalog=catalog,
            keystore=keys, http=http_client, client=client,
            library=ConversationLibrary(paths.conversations_dir()),
            settings_path=path, model_lists=model_lists, _owns_http=owns_http,
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
        self.client = ChatClient(self.http, connect_timeout=self.settings.connect_timeout,
                                 read_timeout=self.settings.read_timeout,
                                 max_retries=self.settings.max_retries,
                                 url_credentials=self.keystore.url_credentials)

    def api_key(self, provider: Provider) -> str | None:
        """The key for `provider`, or MissingKeyError when it needs one and has none."""
        key = self.keystore.get(provider)
        if key is None and not provider.key_optional:
            raise MissingKeyError(provider.name, provider.key_env, provider.id)
        return key

    async def aclose(self) -> None:
        if self._owns_http:
            await self.http.aclose()


# --- one chat turn ----------------------------------------------------------------------

def _status_for(exc: BaseException) -> MessageStatus:
    if isinstance(exc, CancelledByUser | asyncio.CancelledError | KeyboardInterrupt):
        return "stopped"
    if isinstance(exc, StreamError | NetworkError):
        return "interrupted"
    return "error"


@dataclass
class _Answer:
    """The assistant message being streamed, and the clock that times it."""

    message: Message
    clock: Callable[[], float]
    started: float
    result: ChatResult = field(default_factory=ChatResult)

    def add(self, event: StreamEvent) -> None:
        if (self.result.first_token_s is None
                and isinstance(event, ContentDelta | ReasoningDelta) and event.text):
            self.result.first_token_s = self.clock() - self.started
        self.result.add(event)

    def sync(self) -> None:
        """Copy what has arrived into the message (joins once, not per token)."""
        self.message.text = self.result.text
        self.message.reasoning = self.result.reasoning

    def finish(self, status: MessageStatus, error: str = "") -> None:
        self.sync()
        self.result.total_s = self.clock() - self.started
        self.message.status = status
        self.message.error = error
        prov = self.message.provenance
        if prov is not None:
            prov.usage = self.result.usage
            prov.finish_reason = self.result.finish_reason
            prov.first_token_s = self.result.first_token_s
            prov.total_s = self.result.total_s
            prov.retries = self.result.retries


def _user_message(conversation: Conversation, text: str,
                  images: Sequence[PreparedImage | PreparedMedia]) -> Message:
    message = Message(role="user", text=text)
    for item in images:
        frames = item.frames if isinstance(item, PreparedMedia) else (item,)
        for image in frames:
            digest = conversation.add_image(image.to_stored())
            if digest not in message.images:
                message.images.append(digest)
            message.image_tokens[digest] = image.tokens
        if isinstance(item, PreparedMedia):
            message.media.append(item.to_group())
    return message


async def send_turn(
    client: ChatClient,
    conversation: Conversation,
    provider: Provider,
    model: Model,
    params: ChatParams,
    text: str,
    images: Sequence[PreparedImage | PreparedMedia] = (),
    *,
    api_key: str | None,
    drop_old_images: bool = False,
    on_event: EventCallback | None = None,
    on_progress: ProgressCallback | None = None,
    progress_interval: float = 2.0,
    clock: Callable[[], float] = time.monotonic,
) -> Message:
    """Ask `model` the person's `text` (and `images`) as the next turn of `conversation`.

    Appends the user message and an assistant message that fills as the answer
    streams; calls `on_event` for every event and `on_progress` at most every
    `progress_interval` seconds while streaming (for autosave) and once when the turn
    ends, however it ends. On any error the partial answer is kept, its status set to
    stopped/interrupted/error with the explained error text, and the error re-raised.
    Returns the assistant message.
    """
    conversation.append(_user_message(conversation, text, images))
    wire = conversation.to_wire(drop_old_images=drop_old_images,
                                prefer_urls=provider.fetches_image_urls)
    answer = _Answer(
        message=Message(role="assistant", status="streaming", provenance=Provenance(
            provider=provider.id, model=model.id, region=provider.region,
            base_url=redact(clean_url(provider.base_url)), params=params.to_dict())),
        clock=clock, started=clock(),
    )
    answer.result.model = model.id
    conversation.append(answer.message)
    if not conversation.provider_id:
        conversation.provider_id, conversation.model_id = provider.id, model.id
    last_progress = answer.started
    events = client.stream_chat(provider, model, wire, params, api_key=api_key)
    try:
        # aclosing: if a callback raises, the connection is still closed at once.
        async with aclosing(cast(AsyncGenerator[StreamEvent, None], events)):
            async for event in events:
                answer.add(event)
                if on_event is not None:
                    on_event(event)
                if on_progress is not None and clock() - last_progress >= progress_interval:
                    last_progress = clock()
                    answer.sync()
                    on_progress(conversation, answer.message)
    except BaseException as exc:
        if isinstance(exc, ProviderError) and len(exc.partial_text) > len(answer.result.text):
            answer.result = _with_partial(answer.result, exc)
        status = _status_for(exc)
        answer.finish(status, "" if status == "stopped" else explain(exc))
        conversation.touch()
        if on_progress is not None:
            on_progress(conversation, answer.message)
        raise
    answer.finish("complete")
    conversation.touch()
    if on_progress is not None:
        on_progress(conversation, answer.message)
    return answer.message


def _with_partial(result: ChatResult, exc: ProviderError) -> ChatResult:
    """A result holding the partial text the error carries (longer than what we saw)."""
    fixed = ChatResult(usage=result.usage, finish_reason=result.finish_reason,
                       model=result.model, first_token_s=result.first_token_s,
                       retries=result.retries)
    fixed.add(ContentDelta(exc.partial_text))
    fixed.add(ReasoningDelta(exc.partial_reasoning or result.reasoning))
    return fixed
