"""The provider catalog: typed views of `providers.toml` plus custom endpoints.

The data lives in a TOML file so that adding a model or fixing a range is an edit to
data, not code. This module only reads it, checks it, and answers questions such as
"which parameters does this provider take" or "what patch factor does this model use".
"""

from __future__ import annotations

import ipaddress
import re
import tomllib
from dataclasses import dataclass, field, fields, replace
from functools import cache
from importlib import resources
from typing import Any, Literal
from urllib.parse import urlsplit

from .errors import ConfigError
from .families import GUESSABLE, FamilyRule, guess, parse_rules
from .i18n import N_, _

Dialect = Literal["openai", "dashscope", "segmind"]
Thinking = Literal["none", "optional", "always"]
# How a model's boxes and points are written. "absolute": pixels of the image as the
# model received it, after the server's resize (Qwen2.5-VL, QVQ); "relative-1000": a
# 0-1000 grid over the image (Qwen2-VL, Qwen3-VL and later).
Grounding = Literal["absolute", "relative-1000"]
GROUNDING_CONVENTIONS: tuple[Grounding, ...] = ("absolute", "relative-1000")
PixelLimits = Literal["", "image_url", "part"]
OUTPUT_CAP_FIELDS = ("max_tokens", "max_completion_tokens")

DASHSCOPE_REGIONS = ("dashscope-intl", "dashscope-us", "dashscope-cn")
# The regions named in providers.toml, which the window shows: listed here so that they
# are extracted for translation (the window shows them through _()).
_REGION_NAMES = (N_("Singapore (international)"), N_("Virginia (US)"),
                 N_("Beijing (mainland China)"))

# Request parameters the app knows. Everything a provider is sent comes from this list.
KNOWN_PARAMS = (
    "temperature", "top_p", "top_k", "max_tokens", "presence_penalty", "frequency_penalty",
    "repetition_penalty", "seed", "stop", "enable_thinking", "thinking_budget",
    "vl_high_resolution_images",
)


@dataclass(frozen=True)
class ParamSpec:
    """The range a provider accepts for one request parameter."""

    name: str
    min: float | None = None
    max: float | None = None
    min_exclusive: bool = False
    max_exclusive: bool = False
    integer: bool = False
    max_items: int | None = None

    def describe(self) -> str:
        """The range in the form a person reads it, e.g. `[0, 2)`."""
        if self.max_items is not None:
            return f"at most {self.max_items} items"
        if self.min is None and self.max is None:
            return "on/off"
        lo = "(" if self.min_exclusive else "["
        hi = ")" if self.max_exclusive else "]"
        return f"{lo}{_num(self.min)}, {_num(self.max)}{hi}"


def _num(value: float | None) -> str:
    if value is None:
        return "∞"
    if float(value).is_integer():
        return str(int(value))   # seeds: 2147483647, not 2.14748e+09
    return f"{value:g}"


@dataclass(frozen=True)
class Model:
    """What one model can do, as far as the client needs to know."""

    id: str
    label: str
    vision: bool = True
    thinking: Thinking = "none"
    streaming_only: bool = False
    accepts_system: bool = True
    patch_factor: int = 32
    image_token_cap: int = 16384
    high_res_token_cap: int = 0
    min_image_tokens: int = 4
    context_length: int = 0
    snapshots: tuple[str, ...] = ()
    grounding: Grounding | None = None
    """Coordinate convention of its boxes and points; None: by the family rule."""
    video: bool = True
    """Reads a frame-list video part where the provider takes one (else: frames as images)."""

    def __post_init__(self) -> None:
        if self.grounding is None:
            object.__setattr__(self, "grounding", grounding_rule(self.id))
        elif self.grounding not in GROUNDING_CONVENTIONS:
            raise ConfigError(f"providers.toml: {self.id} has grounding '{self.grounding}'; "
                              f"expected one of {', '.join(GROUNDING_CONVENTIONS)}.")
    thinking_default: bool = False
    """An "optional" thinking model that thinks unless asked not to (Qwen3.5 and later)."""
    assumed: tuple[str, ...] = ()
    """Fields whose figures are our reading, not the provider's documentation."""
    guessed: tuple[str, ...] = ()
    """Fields guessed from the id by family rules (a model the catalog has no entry for)."""
    guessed_from: tuple[str, ...] = ()
    """The family-rule patterns the guess came from."""
    overridden: tuple[str, ...] = ()
    """Fields the person set themselves (vision on/off), overriding catalog or guess."""

    @property
    def thinks_by_default(self) -> bool:
        """Whether a request that says nothing about thinking gets a reasoning phase."""
        return self.thinking == "always" or (self.thinking == "optional"
                                             and self.thinking_default)

    def with_vision(self, vision: bool) -> Model:
        """The same model with the person's own choice of whether it sees images."""
        overridden = tuple(sorted({*self.overridden, "vision"}))
        return replace(self, vision=vision, overridden=overridden)

    def token_cap(self, high_resolution: bool = False) -> int:
        """Most tokens one image may become on this model."""
        if high_resolution and self.high_res_token_cap:
            return self.high_res_token_cap
        return self.image_token_cap

    def max_pixels(self, high_resolution: bool = False) -> int:
        return self.token_cap(high_resolution) * self.patch_factor**2

    def min_pixels(self) -> int:
        return self.min_image_tokens * self.patch_factor**2


@dataclass(frozen=True)
class Provider:
    """One place models are served from, and the dialect it speaks."""

    id: str
    name: str
    base_url: str
    chat_path: str
    dialect: Dialect
    model_in: Literal["body", "path"]
    auth_header: str
    auth_scheme: str
    key_env: str | None
    key_id: str
    streaming: bool
    stream_usage: bool
    system_messages: Literal["keep", "merge"]
    fetches_image_urls: bool
    max_body_bytes: int
    max_image_bytes: int
    params: dict[str, ParamSpec]
    models: tuple[Model, ...]
    family: str = ""
    region: str = ""
    console_url: str = ""
    custom: bool = False
    key_optional: bool = False
    video_input: Literal["frame_list", "images"] = "images"
    """How a video goes on the wire: one `{"type": "video", "video": [frames]}` part, or
    its frames as images, each after its timestamp as text (what every model reads)."""
    video_min_frames: int = 4
    video_max_frames: int = 512
    consecutive_user_turns: Literal["keep", "merge"] = "merge"
    """Two user messages in a row (a question left unanswered, then the next one): sent
    as they are ("keep"), or joined into one user turn ("merge"; see api/turn_order)."""

    def takes_video(self, model: Model, frames: int) -> bool:
        """Whether `frames` frames go to `model` as one frame-list video part."""
        return (self.video_input == "frame_list" and model.video
                and self.video_min_frames <= frames <= self.video_max_frames)
    output_cap_field: str = "max_tokens"
    """The body field the output cap goes in (DashScope: max_completion_tokens)."""
    image_pixel_limits: PixelLimits = ""
    """Where each image's min_pixels/max_pixels go, so the server does not resize again."""
    models_path: str = "/models"
    """GET {base_url}{models_path} lists today's models; "" = the provider has no list."""
    reasoning_in_content: bool = False
    """The server may put <think>…</think> in the answer text (no reasoning parser)."""
    bills_refused_requests: bool = True
    default_base_url: str = ""
    """The catalog's own base URL, to tell when the person sent the dialect elsewhere."""
    families: tuple[FamilyRule, ...] = field(default=(), repr=False, compare=False)
    vision_overrides: tuple[tuple[str, bool], ...] = ()
    """(model id, sees images) pairs the person chose, applied to every lookup."""
    listed: tuple[str, ...] = ()
    """The ids the provider listed when its model list was last fetched (none: never)."""
    listed_at: str = ""
    """When that list was fetched (ISO 8601, UTC)."""

    @property
    def endpoint_label(self) -> str:
        """The endpoint as the person named it: the provider, and the URL they gave."""
        if self.custom or not self.default_base_url or (
                self.base_url.rstrip("/") == self.default_base_url.rstrip("/")):
            return self.name
        return f"{self.name} at {self.base_url}"

    def chat_url(self, model_id: str) -> str:
        base = self.base_url.rstrip("/")
        if self.model_in == "path":
            return f"{base}/{model_id}{self.chat_path}"
        return f"{base}{self.chat_path}"

    def model(self, model_id: str) -> Model:
        """The model by id or dated snapshot; unknown ids on custom endpoints are guessed
        from family rules. The person's vision choice, if any, is applied."""
        found: Model | None = None
        for model in self.models:
            if model.id == model_id or model_id in model.snapshots:
                found = model if model.id == model_id else replace(model, id=model_id)
                break
        if found is None and self.custom:
            found = guess_model(model_id, self.family, self.families)
        if found is None:
            known = ", ".join(m.id for m in self.models)
            raise ConfigError(
                _("{name} does not serve the model '{model_id}'. Known: {known}.").format(
                    name=self.name, model_id=model_id, known=known))
        return self._overridden(found)

    def _overridden(self, model: Model) -> Model:
        for model_id, vision in self.vision_overrides:
            if model_id == model.id:
                return model.with_vision(vision)
        return model

    def with_vision_overrides(self, overrides: dict[str, bool]) -> Provider:
        """The person's per-model vision choices applied to every model of this provider."""
        pairs = tuple(sorted(overrides.items()))
        with_pairs = replace(self, vision_overrides=pairs)
        return replace(with_pairs, models=tuple(with_pairs._overridden(m) for m in self.models))

    def with_models(self, models: tuple[Model, ...]) -> Provider:
        return replace(self, models=tuple(self._overridden(m) for m in models))

    def accepts(self, param: str) -> bool:
        return param in self.params

    def with_base_url(self, base_url: str) -> Provider:
        """The same dialect sent elsewhere (a proxy or company gateway)."""
        check_base_url(base_url, allow_http=True)
        return replace(self, base_url=base_url.rstrip("/"))


_ABSOLUTE_FAMILIES = re.compile(r"qwen2(\.|p|_)5[-_ ]?vl|qvq")


def grounding_rule(model_id: str) -> Grounding:
    """The coordinate convention of a model's family, from its name: the last resort when
    neither the catalog nor a family rule in providers.toml gives one.

    Qwen2.5-VL (`qwen2.5-vl-*`, `Qwen2.5-VL-72B-Instruct`, Segmind's `qwen2p5-vl-*`)
    and QVQ write absolute pixels of the resized image (a maintainer's answer in
    QwenLM/Qwen3-VL#676); Qwen2-VL, Qwen3-VL, Qwen3.5 and later, and today's
    qwen-vl-max/plus/ocr (Qwen3-VL based) use the 0-1000 grid.
    """
    return "absolute" if _ABSOLUTE_FAMILIES.search(model_id.lower()) else "relative-1000"


def guess_model(model_id: str, provider_family: str,
                rules: tuple[FamilyRule, ...]) -> Model:
    """A model the catalog has no entry for, its capabilities guessed by family rules.

    Every capability is marked as guessed, whether a rule gave it or the default did:
    the person sees what to check and can override vision.
    """
    result = guess(model_id, provider_family, rules)
    values: dict[str, Any] = {**_GUESS_DEFAULTS, **result.fields}
    return Model(id=model_id, label=model_id, guessed=GUESSABLE,
                 guessed_from=result.patterns, **values)


# What a model no rule says anything about is taken to be: a text model. (Open weights
# served by vLLM and friends take 16384 tokens per image, the Model default.)
_GUESS_DEFAULTS: dict[str, Any] = {"vision": False}


def is_listed(model_id: str, provider_family: str, rules: tuple[FamilyRule, ...]) -> bool:
    """False for ids the rules mark as not chat models (embeddings, speech, images)."""
    return guess(model_id, provider_family, rules).listed


def infer_model(model_id: str) -> Model:
    """A custom endpoint's model, guessed from its name by the shipped family rules."""
    return guess_model(model_id, "custom", load_builtin().families)


def check_base_url(url: str, *, allow_http: bool) -> None:
    """Refuse base URLs that would leak a key in clear text to the internet.

    `http://` is accepted only for loopback and private-network hosts (a local vLLM,
    Ollama or LM Studio), and only when the person adds the endpoint themselves.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(_("'{url}' is not an http(s) URL with a host name.").format(url=url))
    try:
        parts.port  # noqa: B018 - urlsplit checks the port only when it is read
    except ValueError:
        raise ConfigError(_("'{url}' has a port that is not a number from 0 to 65535.").format(
            url=url)) from None
    if any(ch.isspace() for ch in url):
        raise ConfigError(_("'{url}' contains spaces or line breaks.").format(url=url))
    if parts.scheme == "http" and (not allow_http or not is_local_host(parts.hostname)):
        raise ConfigError(
            _("'{url}' uses plain http to a public host; keys would travel unencrypted. Use "
              "https, or plain http only for a server on this machine or your LAN.").format(url=url)
        )


def is_local_host(host: str) -> bool:
    if host in ("localhost",) or host.endswith(".local") or host.endswith(".lan"):
        return True
    try:
        addr = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return addr.is_loopback or addr.is_private or addr.is_link_local


# --- loading ------------------------------------------------------------------------

def _param_specs(table: dict[str, Any]) -> dict[str, ParamSpec]:
    specs: dict[str, ParamSpec] = {}
    for name, spec in table.items():
        if name not in KNOWN_PARAMS:
            raise ConfigError(f"providers.toml: unknown parameter '{name}'")
        specs[name] = ParamSpec(name=name, **spec)
    return specs


def _model(model_id: str, table: dict[str, Any]) -> Model:
    data = dict(table)
    data["snapshots"] = tuple(data.get("snapshots", ()))
    data["assumed"] = tuple(data.get("assumed", ()))
    unknown = [name for name in data["assumed"] if name not in _MODEL_FIELDS]
    if unknown:
        raise ConfigError(f"providers.toml: {model_id} assumes unknown fields {unknown}")
    try:
        return Model(id=model_id, **data)
    except TypeError as err:
        raise ConfigError(f"providers.toml: model {model_id}: {err}") from err


_MODEL_FIELDS = frozenset(f.name for f in fields(Model))


def _check_provider(pid: str, provider: Provider) -> None:
    if provider.output_cap_field not in OUTPUT_CAP_FIELDS:
        raise ConfigError(f"providers.toml: {pid}.output_cap_field must be one of "
                          f"{OUTPUT_CAP_FIELDS}")
    if provider.image_pixel_limits not in ("", "image_url", "part"):
        raise ConfigError(f"providers.toml: {pid}.image_pixel_limits must be "
                          "'', 'image_url' or 'part'")
    if provider.consecutive_user_turns not in ("keep", "merge"):
        raise ConfigError(f"providers.toml: {pid}.consecutive_user_turns must be "
                          "'keep' or 'merge'")


@dataclass
class Catalog:
    """All providers the app knows: the built-in ones and the person's custom endpoints."""

    providers: dict[str, Provider]
    custom_template: dict[str, Any] = field(default_factory=dict)
    families: tuple[FamilyRule, ...] = ()

    def get(self, provider_id: str) -> Provider:
        try:
            return self.providers[provider_id]
        except KeyError:
            known = ", ".join(self.providers)
            raise ConfigError(_("Unknown provider '{provider_id}'. Known: {known}.").format(
                provider_id=provider_id, known=known)) from None

    def builtin(self) -> list[Provider]:
        return [p for p in self.providers.values() if not p.custom]

    def custom(self) -> list[Provider]:
        return [p for p in self.providers.values() if p.custom]

    def with_custom(self, endpoints: list[CustomEndpoint]) -> Catalog:
        """A copy that also holds the person's custom endpoints."""
        providers = {k: v for k, v in self.providers.items() if not v.custom}
        for endpoint in endpoints:
            if endpoint.name in providers:
                raise ConfigError(
                    _("A custom endpoint may not be called '{name}': that is a built-in "
                      "provider.").format(name=endpoint.name)
                )
            providers[endpoint.name] = self.make_custom(endpoint)
        return Catalog(providers=providers, custom_template=self.custom_template,
                       families=self.families)

    def make_custom(self, endpoint: CustomEndpoint) -> Provider:
        check_base_url(endpoint.base_url, allow_http=True)
        tpl = self.custom_template
        models = tuple(guess_model(m, "custom", self.families) for m in endpoint.models)
        cap_field = endpoint.output_cap_field or tpl.get("output_cap_field", "max_tokens")
        if cap_field not in OUTPUT_CAP_FIELDS:
            raise ConfigError(f"'{cap_field}' is not an output-cap field; use one of "
                              f"{', '.join(OUTPUT_CAP_FIELDS)}.")
        return Provider(
            id=endpoint.name, name=endpoint.name, base_url=endpoint.base_url.rstrip("/"),
            chat_path=tpl["chat_path"], dialect=tpl["dialect"], model_in=tpl["model_in"],
            auth_header=tpl["auth_header"], auth_scheme=tpl["auth_scheme"],
            key_env=endpoint.key_env or None, key_id=f"custom:{endpoint.name}",
            streaming=tpl["streaming"], stream_usage=tpl["stream_usage"],
            system_messages=tpl["system_messages"],
            fetches_image_urls=tpl["fetches_image_urls"],
            max_body_bytes=tpl["max_body_bytes"], max_image_bytes=tpl["max_image_bytes"],
            params=_param_specs(tpl.get("params", {})), models=models,
            family="custom", custom=True, key_optional=True,
            output_cap_field=cap_field, models_path=tpl.get("models_path", "/models"),
            reasoning_in_content=tpl.get("reasoning_in_content", False),
            consecutive_user_turns=tpl.get("consecutive_user_turns", "merge"),
            families=self.families,
        )


@dataclass(frozen=True)
class CustomEndpoint:
    """A custom OpenAI-compatible endpoint as saved in settings (never with its key)."""

    name: str
    base_url: str
    models: tuple[str, ...] = ()
    key_env: str = ""
    output_cap_field: str = ""
    """"" = the template's (max_tokens); "max_completion_tokens" for servers that want it."""


def parse_catalog(text: str) -> Catalog:
    """Build a catalog from TOML text (the shipped file or a test's own)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"providers.toml is not valid TOML: {err}") from err
    families = parse_rules(data.get("families"))
    model_tables: dict[str, Any] = data.get("models", {})
    models = {mid: _model(mid, table) for mid, table in model_tables.items()}
    provider_tables: dict[str, Any] = data.get("providers", {})
    providers: dict[str, Provider] = {}
    for pid, table in provider_tables.items():
        table = dict(table)
        source = table.pop("params_from", None)
        params_table = provider_tables[source]["params"] if source else table.get("params", {})
        table.pop("params", None)
        model_ids = table.pop("models", [])
        try:
            provider_models = tuple(models[m] for m in model_ids)
        except KeyError as err:
            raise ConfigError(f"providers.toml: {pid} lists unknown model {err}") from err
        try:
            provider = Provider(id=pid, params=_param_specs(params_table),
                                models=provider_models, families=families,
                                default_base_url=table.get("base_url", ""), **table)
        except TypeError as err:
            raise ConfigError(f"providers.toml: provider {pid}: {err}") from err
        _check_provider(pid, provider)
        providers[pid] = provider
    return Catalog(providers=providers, custom_template=data.get("custom_template", {}),
                   families=families)


@cache
def load_builtin() -> Catalog:
    """The catalog shipped with the app."""
    text = resources.files(__package__).joinpath("providers.toml").read_text("utf-8")
    return parse_catalog(text)
