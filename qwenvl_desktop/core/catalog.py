"""The provider catalog: typed views of `providers.toml` plus custom endpoints.

The data lives in a TOML file so that adding a model or fixing a range is an edit to
data, not code. This module only reads it, checks it, and answers questions such as
"which parameters does this provider take" or "what patch factor does this model use".
"""

from __future__ import annotations

import ipaddress
import re
import tomllib
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from typing import Any, Literal
from urllib.parse import urlsplit

from .errors import ConfigError

Dialect = Literal["openai", "dashscope", "segmind"]
Thinking = Literal["none", "optional", "always"]
# How a model's boxes and points are written. "absolute": pixels of the image as the
# model received it, after the server's resize (Qwen2.5-VL, QVQ); "relative-1000": a
# 0-1000 grid over the image (Qwen2-VL, Qwen3-VL and later).
Grounding = Literal["absolute", "relative-1000"]
GROUNDING_CONVENTIONS: tuple[Grounding, ...] = ("absolute", "relative-1000")

DASHSCOPE_REGIONS = ("dashscope-intl", "dashscope-us", "dashscope-cn")

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

    def takes_video(self, model: Model, frames: int) -> bool:
        """Whether `frames` frames go to `model` as one frame-list video part."""
        return (self.video_input == "frame_list" and model.video
                and self.video_min_frames <= frames <= self.video_max_frames)

    def chat_url(self, model_id: str) -> str:
        base = self.base_url.rstrip("/")
        if self.model_in == "path":
            return f"{base}/{model_id}{self.chat_path}"
        return f"{base}{self.chat_path}"

    def model(self, model_id: str) -> Model:
        """The model by id or dated snapshot; unknown ids on custom endpoints are inferred."""
        for model in self.models:
            if model.id == model_id or model_id in model.snapshots:
                return model if model.id == model_id else replace(model, id=model_id)
        if self.custom:
            return infer_model(model_id)
        known = ", ".join(m.id for m in self.models)
        raise ConfigError(f"{self.name} does not serve the model '{model_id}'. Known: {known}.")

    def accepts(self, param: str) -> bool:
        return param in self.params

    def with_base_url(self, base_url: str) -> Provider:
        """The same dialect sent elsewhere (a proxy or company gateway)."""
        check_base_url(base_url, allow_http=True)
        return replace(self, base_url=base_url.rstrip("/"))


_ABSOLUTE_FAMILIES = re.compile(r"qwen2(\.|p|_)5[-_ ]?vl|qvq")


def grounding_rule(model_id: str) -> Grounding:
    """The coordinate convention of a model's family, from its name.

    Qwen2.5-VL (`qwen2.5-vl-*`, `Qwen2.5-VL-72B-Instruct`, Segmind's `qwen2p5-vl-*`)
    and QVQ write absolute pixels of the resized image (a maintainer's answer in
    QwenLM/Qwen3-VL#676); Qwen2-VL, Qwen3-VL, Qwen3.5 and later, and today's
    qwen-vl-max/plus/ocr (Qwen3-VL based) use the 0-1000 grid.
    """
    return "absolute" if _ABSOLUTE_FAMILIES.search(model_id.lower()) else "relative-1000"


def infer_model(model_id: str) -> Model:
    """Capabilities of a model we have no entry for, guessed from its name.

    Custom endpoints serve whatever the person runs (vLLM, Ollama, LM Studio); the
    name is the only hint. Qwen2/2.5-VL and QVQ use 28-pixel patches, Qwen3-VL 32.
    """
    low = model_id.lower()
    factor = 28 if re.search(r"qwen2(\.5)?[-_]?vl|qvq|qwen2\.5vl|qwen2vl", low) else 32
    thinking: Thinking = "always" if ("thinking" in low or "qvq" in low) else "none"
    vision = bool(re.search(r"vl|qvq|vision|llava|pixtral|gemma-?3|minicpm-v|ocr", low))
    return Model(
        id=model_id, label=model_id, vision=vision, thinking=thinking,
        streaming_only=thinking == "always", accepts_system="qvq" not in low,
        patch_factor=factor, image_token_cap=16384,
    )


def check_base_url(url: str, *, allow_http: bool) -> None:
    """Refuse base URLs that would leak a key in clear text to the internet.

    `http://` is accepted only for loopback and private-network hosts (a local vLLM,
    Ollama or LM Studio), and only when the person adds the endpoint themselves.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"'{url}' is not an http(s) URL with a host name.")
    try:
        parts.port  # noqa: B018 - urlsplit checks the port only when it is read
    except ValueError:
        raise ConfigError(f"'{url}' has a port that is not a number from 0 to 65535.") from None
    if any(ch.isspace() for ch in url):
        raise ConfigError(f"'{url}' contains spaces or line breaks.")
    if parts.scheme == "http" and (not allow_http or not is_local_host(parts.hostname)):
        raise ConfigError(
            f"'{url}' uses plain http to a public host; keys would travel unencrypted. "
            "Use https, or plain http only for a server on this machine or your LAN."
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
    return Model(id=model_id, **data)


@dataclass
class Catalog:
    """All providers the app knows: the built-in ones and the person's custom endpoints."""

    providers: dict[str, Provider]
    custom_template: dict[str, Any] = field(default_factory=dict)

    def get(self, provider_id: str) -> Provider:
        try:
            return self.providers[provider_id]
        except KeyError:
            known = ", ".join(self.providers)
            raise ConfigError(f"Unknown provider '{provider_id}'. Known: {known}.") from None

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
                    f"A custom endpoint may not be called '{endpoint.name}': "
                    "that is a built-in provider."
                )
            providers[endpoint.name] = self.make_custom(endpoint)
        return Catalog(providers=providers, custom_template=self.custom_template)

    def make_custom(self, endpoint: CustomEndpoint) -> Provider:
        check_base_url(endpoint.base_url, allow_http=True)
        tpl = self.custom_template
        models = tuple(infer_model(m) for m in endpoint.models)
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
        )


@dataclass(frozen=True)
class CustomEndpoint:
    """A custom OpenAI-compatible endpoint as saved in settings (never with its key)."""

    name: str
    base_url: str
    models: tuple[str, ...] = ()
    key_env: str = ""


def parse_catalog(text: str) -> Catalog:
    """Build a catalog from TOML text (the shipped file or a test's own)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"providers.toml is not valid TOML: {err}") from err
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
        providers[pid] = Provider(id=pid, params=_param_specs(params_table),
                                  models=provider_models, **table)
    return Catalog(providers=providers, custom_template=data.get("custom_template", {}))


@cache
def load_builtin() -> Catalog:
    """The catalog shipped with the app."""
    text = resources.files(__package__).joinpath("providers.toml").read_text("utf-8")
    return parse_catalog(text)
