"""Who answers: the model bar, the parameter panel and the keys, kept in step.

`ModelChoice` knows the chosen provider and model, the parameters and the system prompt
(what a turn is sent with: `turn_target()`), what earlier images cost on that model,
and which providers can answer at all (a key, or none needed) — and it switches to one
that just became usable after a key or endpoint was added.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from qwenvl_desktop.core.api.types import ChatParams
from qwenvl_desktop.core.catalog import Catalog, Model, Provider
from qwenvl_desktop.core.conversation import Conversation
from qwenvl_desktop.core.errors import QwenVLError
from qwenvl_desktop.core.secrets import KeyStore
from qwenvl_desktop.core.session import TurnTarget
from qwenvl_desktop.core.settings import Settings

from ...core.i18n import _
from ..composer import Composer
from ..model_bar import ModelBar
from ..param_panel import ParamPanel
from ..transcript_panels import Banner

__all__ = ["ModelChoice", "ModelChoiceParts"]


@dataclass(frozen=True)
class ModelChoiceParts:
    """What `ModelChoice` works with (and nothing else of the window)."""

    settings: Settings
    catalog: Callable[[], Catalog]              # rebuilt when endpoints change
    keystore: KeyStore
    save_settings: Callable[[], None]
    model_bar: ModelBar
    param_panel: ParamPanel
    composer: Composer
    banner: Banner
    status: Callable[[str, int], None]
    current: Callable[[], Conversation | None]   # the conversation shown
    show_welcome: Callable[[bool], None]         # the add-a-key panel instead of the chat


class ModelChoice:
    def __init__(self, parts: ModelChoiceParts) -> None:
        self.p = parts
        # Providers that could answer at the last key/endpoint change (see
        # _choose_usable_provider: the newly usable one is chosen first).
        self._usable_before: set[str] = set(self.usable_provider_ids())

    def start(self) -> None:
        settings = self.p.settings
        if settings.last_provider:
            self.p.model_bar.set_selection(settings.last_provider, settings.last_model)
        self.update_target()

    # --- the target -------------------------------------------------------------------

    def target(self) -> tuple[Provider, Model]:
        """The chosen provider and model (QwenVLError when there is none)."""
        return self.p.model_bar.provider(), self.p.model_bar.model()

    def turn_target(self) -> TurnTarget:
        provider, model = self.target()
        panel = self.p.param_panel
        return TurnTarget(provider=provider, model=model, params=panel.params(),
                          system_prompt=panel.system_prompt(),
                          high_resolution=panel.high_resolution())

    def new_conversation_defaults(self) -> dict[str, Any]:
        """What a new conversation starts with: the chosen model, its saved parameters."""
        settings = self.p.settings
        defaults: dict[str, Any] = {"system_prompt": settings.system_prompt}
        try:
            provider, model = self.target()
        except QwenVLError:
            return defaults
        defaults.update(provider_id=provider.id, model_id=model.id,
                        params=settings.params_for(provider.id))
        return defaults

    def next_provider_id(self, conv: Conversation) -> str:
        """The provider a conversation's next turn goes to once it is shown (its own
        when that one can answer, else the one chosen now)."""
        if conv.provider_id in self.usable_provider_ids():
            return conv.provider_id
        try:
            return self.p.model_bar.provider().id
        except QwenVLError:
            return conv.provider_id

    def show_conversation(self, conv: Conversation) -> None:
        """The model bar and the panel show what the conversation was last sent with."""
        if conv.provider_id:
            self.p.model_bar.set_selection(conv.provider_id, conv.model_id)
        self.p.param_panel.set_params(conv.params)
        self.p.param_panel.set_system_prompt(conv.system_prompt)
        self.update_target()

    def update_target(self) -> None:
        try:
            provider, model = self.target()
        except QwenVLError:
            return
        self.p.param_panel.set_target(provider, model)
        self.p.composer.set_target(provider, model, self.p.param_panel.high_resolution())
        self.update_history_estimate()

    def update_history_estimate(self) -> None:
        """Tell the tray what earlier turns' images, pages and clips cost on the chosen
        model (the visible branch: what would be sent again)."""
        from qwenvl_desktop.core.resend import resend_costs

        from ..history_images import HistoryImages

        try:
            provider, model = self.target()
        except QwenVLError:
            return
        high_res = self.p.param_panel.high_resolution()
        current = self.p.current()
        costs = (resend_costs(current.images, current.messages, model, provider, high_res)
                 if current else [])
        turns = [tokens for _count, tokens in costs]
        counts = [count for count, _tokens in costs]
        self.p.composer.history.set_history(HistoryImages(
            count=sum(counts), tokens=sum(turns),
            last_turn_count=counts[-1] if counts else 0,
            last_turn_tokens=turns[-1] if turns else 0,
            drop_old=self.p.settings.drop_old_images))

    # --- the panes' signals -------------------------------------------------------------

    def on_resend_toggled(self, resend: bool) -> None:
        """The tray's "Resend images from earlier turns" box: a saved preference."""
        self.p.settings.drop_old_images = not resend
        try:
            self.p.save_settings()
        except QwenVLError as err:
            self.p.status(_("Could not save the setting: {err}").format(err=err), 8000)

    def on_selection_changed(self, provider_id: str, model_id: str) -> None:
        self.update_target()
        self._drop_stale_key_notice()
        conv = self.p.current()
        if conv is not None and model_id:
            conv.provider_id, conv.model_id = provider_id, model_id

    def on_params_changed(self) -> None:
        conv = self.p.current()
        panel = self.p.param_panel
        params: ChatParams = panel.params()
        before = conv.params if conv is not None else ChatParams()
        if conv is not None:
            conv.params = params
            conv.system_prompt = panel.system_prompt()
        try:
            provider, model = self.target()
        except QwenVLError:
            return
        # Only what the person changed: a file's own values stay with its conversation.
        self.p.settings.note_param_changes(provider.id, before, params)
        self.p.composer.set_target(provider, model, panel.high_resolution())
        self.update_history_estimate()

    def remember_selection(self) -> None:
        try:
            provider, model = self.target()
        except QwenVLError:
            return
        self.p.settings.last_provider, self.p.settings.last_model = provider.id, model.id

    def on_catalog_changed(self) -> None:
        self.p.model_bar.refresh_catalog(self.p.catalog())
        self.update_target()
        self._choose_usable_provider()
        self.update_welcome()

    def on_keys_changed(self) -> None:
        self.p.model_bar.refresh_key_status()
        self._choose_usable_provider()
        self.update_welcome()

    # --- a provider that can answer -----------------------------------------------------

    def _usable(self, provider: Provider) -> bool:
        """Has models, and a key (or needs none): a send can go out."""
        return bool(provider.models) and (
            provider.key_optional or self.p.keystore.source(provider) != "none")

    def usable_provider_ids(self) -> list[str]:
        catalog = self.p.catalog()
        return [p.id for p in catalog.builtin() + catalog.custom() if self._usable(p)]

    def _choose_usable_provider(self) -> None:
        """After a key or endpoint was added: if the chosen provider still cannot answer,
        choose the one that just became usable (first start: Singapore without a key
        stays selected while the person added a custom endpoint — the first send was
        refused for a missing key)."""
        before, now = self._usable_before, self.usable_provider_ids()
        self._usable_before = set(now)
        try:
            current = self.p.model_bar.provider()
        except QwenVLError:
            return
        if not self._usable(current):
            fresh = [pid for pid in now if pid not in before] or now
            if not fresh:
                return
            self.p.model_bar.set_selection(fresh[0], "")
            chosen = self.p.catalog().get(fresh[0])
            self.p.status(_("Now using {name}: {name2} has no key.").format(
                name=chosen.name, name2=current.name), 8000)
        self._drop_stale_key_notice()

    def _drop_stale_key_notice(self) -> None:
        """Hide the "No API key …" notice once the chosen provider can answer."""
        banner = self.p.banner
        if banner.isHidden() or banner.action() != "keys":
            return
        try:
            provider = self.p.model_bar.provider()
        except QwenVLError:
            return
        if self._usable(provider):
            banner.hide()

    def has_any_key(self) -> bool:
        catalog, keystore = self.p.catalog(), self.p.keystore
        if catalog.custom():
            return True
        return any(keystore.source(p) != "none" for p in catalog.builtin())

    def update_welcome(self) -> None:
        """The add-a-key panel replaces an empty transcript until some key exists."""
        current = self.p.current()
        empty = current is None or not current.messages
        self.p.show_welcome(empty and not self.has_any_key())
