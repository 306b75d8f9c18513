"""The person's settings, saved as one JSON file — never with an API key in it.

Loading never crashes the app: a field with the wrong type or a bad value falls back
to its default with a warning naming the field and the reason, and a file that is not
JSON at all is copied aside (`settings.json.bad-<timestamp>`) before defaults are used,
so nothing the person wrote is destroyed. Saving is atomic (temp file, fsync, rename):
a crash mid-save leaves the previous file intact.

Keys live in the OS keyring (see `secrets.py`). As a second line of defence, saving
refuses any value that looks like a key, and loading drops one with a warning.
Base URLs are kept without credentials: setting one that carries a user name and
password or a secret query parameter is refused (the endpoints page splits them off
first, `url_credentials`), and a file written before that is cleaned on load, what
was split off waiting in `url_credentials_found` for the key store.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from . import paths
from .api.types import ChatParams
from .catalog import OUTPUT_CAP_FIELDS, Catalog, CustomEndpoint, check_base_url, load_builtin
from .errors import ConfigError, redact
from .i18n import LANGUAGES, _
from .i18n import SYSTEM as SYSTEM_LANGUAGE
from .url_credentials import UrlCredentials, split_url_credentials

__all__ = ["SETTINGS_VERSION", "THEMES", "Settings", "catalog_for"]

SETTINGS_VERSION = 1
THEMES = ("system", "light", "dark")

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Field names under which nobody should ever store a string in settings.
_KEYISH_NAME = re.compile(r"(?i)(^|_)(api_?key|secret|password|passwd|token|bearer)$")


@dataclass
class Settings:
    """Everything the app remembers between runs, apart from keys and conversations."""

    custom_endpoints: list[CustomEndpoint] = field(default_factory=list)
    #: provider id → base URL: the provider's own dialect sent to a proxy or gateway.
    base_url_overrides: dict[str, str] = field(default_factory=dict)
    last_provider: str = ""
    last_model: str = ""
    #: provider id → `ChatParams.to_dict()` last used with it.
    default_params: dict[str, dict[str, Any]] = field(default_factory=dict)
    system_prompt: str = ""
    connect_timeout: float = 15.0
    #: Idle-read timeout: the longest silence allowed between two pieces of an answer.
    read_timeout: float = 120.0
    max_retries: int = 3
    drop_old_images: bool = False
    #: provider id → model id → whether it sees images: the person's override of the
    #: catalog or of a guess from the model's name.
    vision_overrides: dict[str, dict[str, bool]] = field(default_factory=dict)
    theme: str = "system"
    #: A key of `i18n.LANGUAGES`, or "system" to follow the system's locale (on restart).
    language: str = "system"
    #: Free-form state of the window (geometry, splitter sizes, ...), owned by the UI.
    ui: dict[str, Any] = field(default_factory=dict)
    #: provider id → credentials found in a base URL of a loaded file (never saved):
    #: `Services` moves them to the key store and saves the cleaned file.
    url_credentials_found: dict[str, UrlCredentials] = field(
        default_factory=dict, repr=False, compare=False)

    # --- editing with validation -----------------------------------------------------

    def set_base_url_override(self, provider_id: str, url: str | None) -> None:
        """Send `provider_id`'s dialect to `url` (None or "" removes the override)."""
        if not url:
            self.base_url_overrides.pop(provider_id, None)
            return
        check_base_url(url, allow_http=True)
        _refuse_credentials(url)
        self.base_url_overrides[provider_id] = url.rstrip("/")

    def add_custom_endpoint(self, endpoint: CustomEndpoint) -> None:
        """Add or replace (by name) a custom endpoint, after checking it."""
        _check_endpoint(endpoint)
        if endpoint.name in load_builtin().providers:
            raise ConfigError(
                _("A custom endpoint may not be called '{name}': that is "
                  "a built-in provider.").format(
                    name=endpoint.name)
            )
        self.custom_endpoints = [e for e in self.custom_endpoints if e.name != endpoint.name]
        self.custom_endpoints.append(endpoint)

    def remove_custom_endpoint(self, name: str) -> None:
        self.custom_endpoints = [e for e in self.custom_endpoints if e.name != name]

    def set_vision_override(self, provider_id: str, model_id: str, vision: bool | None) -> None:
        """Say whether a model sees images (None: back to the catalog or the guess)."""
        models = self.vision_overrides.setdefault(provider_id, {})
        if vision is None:
            models.pop(model_id, None)
        else:
            models[model_id] = bool(vision)
        if not models:
            self.vision_overrides.pop(provider_id, None)

    def params_for(self, provider_id: str) -> ChatParams:
        """The parameters last used with a provider (defaults when none were saved)."""
        data = self.default_params.get(provider_id)
        if not data:
            return ChatParams()
        try:
            return ChatParams.from_dict(data)
        except (TypeError, ValueError):
            return ChatParams()

    def set_params(self, provider_id: str, params: ChatParams) -> None:
        self.default_params[provider_id] = params.to_dict()

    def note_param_changes(self, provider_id: str, before: ChatParams,
                           after: ChatParams) -> None:
        """Remember as defaults only the values the person changed (`before` → `after`),
        not everything shown: a conversation opened from a file shows the file's values,
        and those apply to that conversation only."""
        defaults = self.params_for(provider_id)
        changes = {f.name: getattr(after, f.name) for f in fields(ChatParams)
                   if getattr(after, f.name) != getattr(before, f.name)}
        if changes:
            self.set_params(provider_id, replace(defaults, **changes))

    # --- (de)serialising ---------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": SETTINGS_VERSION,
            "custom_endpoints": [_endpoint_dict(e) for e in self.custom_endpoints],
            "base_url_overrides": dict(self.base_url_overrides),
            "last_provider": self.last_provider,
            "last_model": self.last_model,
            "default_params": {k: dict(v) for k, v in self.default_params.items()},
            "system_prompt": self.system_prompt,
            "connect_timeout": self.connect_timeout,
            "read_timeout": self.read_timeout,
            "max_retries": self.max_retries,
            "drop_old_images": self.drop_old_images,
            "vision_overrides": {k: dict(v) for k, v in self.vision_overrides.items()},
            "theme": self.theme,
            "language": self.language,
            "ui": self.ui,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> tuple[Settings, list[str]]:
        """Settings from parsed JSON; each unusable field becomes its default + a warning."""
        settings = cls()
        warnings: list[str] = []
        data = _without_url_credentials(data, settings.url_credentials_found)
        for name, parse in _FIELDS.items():
            if name not in data:
                continue
            try:
                value = parse(data[name], warnings)
                leak = _find_secret(value, name)
                if leak:
                    raise _Bad(_("'{leak}' looks like an API key; keys "
                                 "belong in the keyring").format(
                        leak=leak))
            except _Bad as bad:
                warnings.append(
                    _("Settings: '{name}' ignored ({bad}); using the default {show}.").format(
                        name=name, bad=bad, show=_show(getattr(settings, name)))
                )
                continue
            setattr(settings, name, value)
        return settings, warnings

    @classmethod
    def load(cls, path: Path | None = None) -> tuple[Settings, list[str]]:
        """Read settings; never raises for a missing, corrupt or wrong-typed file."""
        path = path or paths.settings_file()
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return cls(), []
        except OSError as err:
            return cls(), [_("Settings: could not read {path} "
                             "({strerror}); using defaults.").format(
                path=path, strerror=err.strerror)]
        try:
            data = json.loads(raw.decode("utf-8"))
            if not isinstance(data, dict):
                raise ValueError(_("expected a JSON object, found {type_name}").format(
                    type_name=_type_name(data)))
        except (UnicodeDecodeError, ValueError) as err:
            aside = _copy_aside(path)
            where = _("; the file was copied to {name}").format(name=aside.name) if aside else ""
            return cls(), [_("Settings: {name} is corrupt "
                             "({short}){where}. Using defaults.").format(
                name=path.name, short=_short(err), where=where)]
        return cls.from_dict(data)

    def save(self, path: Path | None = None) -> None:
        """Write the settings atomically; refuses anything that looks like an API key."""
        data = self.to_dict()
        leak = _find_secret(data, "")
        if leak:
            raise ConfigError(
                _("Refusing to save settings: '{leak}' looks like an API key. Keys are kept in "
                  "the OS keyring, never in the settings file.").format(leak=leak)
            )
        text = json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False) + "\n"
        # Imported here: the window loads its settings before its first frame, and the
        # storage module brings the conversation model and its file schema with it.
        from .storage import atomic_write

        atomic_write(path or paths.settings_file(), text.encode("utf-8"))


def catalog_for(settings: Settings) -> Catalog:
    """The built-in catalog plus the person's custom endpoints and base-URL overrides.

    Loaded settings are already validated, so this only raises `ConfigError` for
    settings a program built by hand with a bad endpoint or URL.
    """
    catalog = load_builtin().with_custom(list(settings.custom_endpoints))
    providers = dict(catalog.providers)
    for provider_id, url in settings.base_url_overrides.items():
        if provider_id in providers:
            providers[provider_id] = providers[provider_id].with_base_url(url)
    for provider_id, choices in settings.vision_overrides.items():
        if provider_id in providers and choices:
            providers[provider_id] = providers[provider_id].with_vision_overrides(choices)
    return replace(catalog, providers=providers)


def _endpoint_dict(endpoint: CustomEndpoint) -> dict[str, Any]:
    data: dict[str, Any] = {"name": endpoint.name, "base_url": endpoint.base_url,
                            "models": list(endpoint.models), "key_env": endpoint.key_env}
    if endpoint.output_cap_field:
        data["output_cap_field"] = endpoint.output_cap_field
    return data


# --- field parsers: each returns a checked value or raises _Bad(reason) ----------------

class _Bad(Exception):
    """Why a settings field was not usable (becomes part of a warning)."""


def _type_name(value: object) -> str:
    return {dict: "an object", list: "a list", str: "text", bool: "true/false",
            int: "a number", float: "a number", type(None): "null"}.get(type(value), "?")


def _show(value: object) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, list) else "[]"
    return text if len(text) <= 40 else text[:37] + "..."


def _short(err: Exception) -> str:
    return redact(str(err))[:120]


def _string(value: object, _w: list[str]) -> str:
    if not isinstance(value, str):
        raise _Bad(_("expected text, found {type_name}").format(type_name=_type_name(value)))
    return value


def _positive_number(value: object, _w: list[str]) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Bad(_("expected a number of seconds, found {type_name}").format(
            type_name=_type_name(value)))
    if not math.isfinite(value) or value <= 0:
        raise _Bad(_("must be more than 0 seconds, found {value}").format(value=value))
    return float(value)


def _retries(value: object, _w: list[str]) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Bad(_("expected a whole number, found {type_name}").format(
            type_name=_type_name(value)))
    if not 0 <= value <= 10:
        raise _Bad(_("must be between 0 and 10, found {value}").format(value=value))
    return value


def _boolean(value: object, _w: list[str]) -> bool:
    if not isinstance(value, bool):
        raise _Bad(_("expected true or false, found {type_name}").format(
            type_name=_type_name(value)))
    return value


def _theme(value: object, w: list[str]) -> str:
    text = _string(value, w)
    if text not in THEMES:
        raise _Bad(_("must be one of {join}, found '{text}'").format(
            join=', '.join(THEMES), text=text))
    return text


def _language(value: object, w: list[str]) -> str:
    text = _string(value, w)
    choices = [SYSTEM_LANGUAGE, *LANGUAGES]
    if text not in choices:
        raise _Bad(_("must be one of {join}, found '{text}'").format(
            join=', '.join(choices), text=text))
    return text


def _object(value: object, _w: list[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Bad(_("expected an object, found {type_name}").format(type_name=_type_name(value)))
    return dict(value)


def _overrides(value: object, w: list[str]) -> dict[str, str]:
    result: dict[str, str] = {}
    for provider_id, url in _object(value, w).items():
        if not isinstance(url, str):
            w.append(_("Settings: base URL override for '{provider_id}' ignored (expected "
                       "text, found {type_name}).").format(
                           provider_id=provider_id, type_name=_type_name(url)))
            continue
        try:
            check_base_url(url, allow_http=True)
        except ConfigError as err:
            w.append(_("Settings: base URL override for '{provider_id}' ignored ({err})").format(
                provider_id=provider_id, err=err))
            continue
        result[provider_id] = url.rstrip("/")
    return result


def _refuse_credentials(url: str) -> None:
    _clean, creds = split_url_credentials(url)
    if creds:
        raise ConfigError(
            _("The address carries {describe}; settings keep only the address itself. Enter it "
              "in Settings › Endpoints, which keeps those in the OS keyring and sends them "
              "with each request.").format(describe=creds.describe()))


def _without_url_credentials(data: dict[str, Any],
                             found: dict[str, UrlCredentials]) -> dict[str, Any]:
    """`data` with credentials taken out of every base URL (into `found`, by provider id).

    Files written before base URLs were split on saving may hold them; they are never
    kept in the settings, but they are not thrown away either.
    """
    data = dict(data)
    overrides = data.get("base_url_overrides")
    if isinstance(overrides, dict):
        cleaned: dict[str, Any] = {}
        for provider_id, url in overrides.items():
            if isinstance(url, str):
                url, creds = split_url_credentials(url)
                if creds:
                    found[str(provider_id)] = creds
            cleaned[provider_id] = url
        data["base_url_overrides"] = cleaned
    endpoints = data.get("custom_endpoints")
    if isinstance(endpoints, list):
        items: list[Any] = []
        for item in endpoints:
            if isinstance(item, dict) and isinstance(item.get("base_url"), str):
                url, creds = split_url_credentials(item["base_url"])
                if creds and isinstance(item.get("name"), str):
                    found[item["name"]] = creds
                item = {**item, "base_url": url}
            items.append(item)
        data["custom_endpoints"] = items
    return data


def _check_endpoint(endpoint: CustomEndpoint) -> None:
    if not endpoint.name.strip():
        raise ConfigError(_("A custom endpoint needs a name."))
    check_base_url(endpoint.base_url, allow_http=True)
    _refuse_credentials(endpoint.base_url)
    if endpoint.key_env and not _ENV_NAME.match(endpoint.key_env):
        # A pasted key in this field would otherwise be saved in clear text.
        raise ConfigError(
            _("'{value}' is not an environment variable name. Enter the key itself in Settings "
              "› Keys; it is kept in the OS keyring.").format(value=redact(endpoint.key_env)[:40])
        )


def _endpoints(value: object, w: list[str]) -> list[CustomEndpoint]:
    if not isinstance(value, list):
        raise _Bad(_("expected a list, found {type_name}").format(type_name=_type_name(value)))
    builtin = load_builtin().providers
    result: list[CustomEndpoint] = []
    for index, item in enumerate(value):
        try:
            if not isinstance(item, dict):
                raise ConfigError(_("expected an object, found {type_name}").format(
                    type_name=_type_name(item)))
            name, base_url = item.get("name"), item.get("base_url")
            models, key_env = item.get("models", []), item.get("key_env", "")
            cap_field = item.get("output_cap_field", "")
            if cap_field not in ("", *OUTPUT_CAP_FIELDS):
                raise ConfigError(_("'output_cap_field' must be one of {join}").format(
                    join=', '.join(OUTPUT_CAP_FIELDS)))
            if not isinstance(name, str) or not isinstance(base_url, str):
                raise ConfigError(_("'name' and 'base_url' must be text"))
            if not isinstance(models, list) or not all(isinstance(m, str) for m in models):
                raise ConfigError(_("'models' must be a list of names"))
            if not isinstance(key_env, str):
                raise ConfigError(_("'key_env' must be text"))
            endpoint = CustomEndpoint(name=name, base_url=base_url.rstrip("/"),
                                      models=tuple(models), key_env=key_env,
                                      output_cap_field=cap_field)
            _check_endpoint(endpoint)
            if name in builtin or any(e.name == name for e in result):
                raise ConfigError(_("the name '{name}' is already taken").format(name=name))
        except ConfigError as err:
            w.append(_("Settings: custom endpoint #{value} ignored ({err})").format(
                value=index + 1, err=err))
            continue
        result.append(endpoint)
    return result


def _vision_overrides(value: object, w: list[str]) -> dict[str, dict[str, bool]]:
    result: dict[str, dict[str, bool]] = {}
    for provider_id, models in _object(value, w).items():
        if not isinstance(models, dict) or not all(
                isinstance(k, str) and isinstance(v, bool) for k, v in models.items()):
            w.append(_("Settings: vision choices for '{provider_id}' ignored (expected model "
                       "names with true or false).").format(provider_id=provider_id))
            continue
        if models:
            result[provider_id] = dict(models)
    return result


def _params(value: object, w: list[str]) -> dict[str, dict[str, Any]]:
    result: dict[str, dict[str, Any]] = {}
    for provider_id, params in _object(value, w).items():
        try:
            if not isinstance(params, dict):
                raise TypeError(_("expected an object, found {type_name}").format(
                    type_name=_type_name(params)))
            ChatParams.from_dict(params)
        except (TypeError, ValueError) as err:
            w.append(_("Settings: saved parameters for '{provider_id}' ignored ({err}).").format(
                provider_id=provider_id, err=err))
            continue
        result[provider_id] = dict(params)
    return result


_FIELDS: dict[str, Callable[[object, list[str]], Any]] = {
    "custom_endpoints": _endpoints,
    "base_url_overrides": _overrides,
    "last_provider": _string,
    "last_model": _string,
    "default_params": _params,
    "system_prompt": _string,
    "connect_timeout": _positive_number,
    "read_timeout": _positive_number,
    "max_retries": _retries,
    "drop_old_images": _boolean,
    "vision_overrides": _vision_overrides,
    "theme": _theme,
    "language": _language,
    "ui": _object,
}


# --- the defensive key check -------------------------------------------------------------

def _find_secret(value: object, where: str) -> str:
    """The path of the first value that looks like an API key, or "" when there is none.

    "Looks like a key": text that `redact` would change (a registered key, `sk-…`,
    `Bearer …`, `api_key=…`), or any text stored under a key-ish name (api_key, token…).
    """
    if isinstance(value, str):
        if value and redact(value) != value:
            return where or "value"
        return ""
    if isinstance(value, CustomEndpoint):
        return _find_secret(_endpoint_dict(value), where)
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{where}.{key}" if where else str(key)
            if isinstance(item, str) and item and _KEYISH_NAME.search(str(key)):
                return path
            found = _find_secret(str(key), path) or _find_secret(item, path)
            if found:
                return found
        return ""
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found = _find_secret(item, f"{where}[{index}]")
            if found:
                return found
    return ""


def _copy_aside(path: Path) -> Path | None:
    """Keep a corrupt file as `<name>.bad-<timestamp>` so no hand edit is lost."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.bad-{stamp}")
    counter = 1
    while target.exists():
        counter += 1
        target = path.with_name(f"{path.name}.bad-{stamp}-{counter}")
    try:
        shutil.copyfile(path, target)
    except OSError:
        return None
    return target
