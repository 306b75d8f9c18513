"""`providers`, `key set|delete|status` and `export`: the small terminal commands.

Keys are read from stdin (with a hidden prompt on a terminal), never from the command
line, where they would land in the shell history and the process list.
"""

from __future__ import annotations

import getpass
import sys
from pathlib import Path

from ..core.catalog import Catalog, Provider
from ..core.errors import ConfigError, KeyringUnavailableError
from ..core.secrets import TERMINAL_WAIT, KeyStore, env_advice
from ..core.settings import Settings, catalog_for
from ..core.storage import load_conversation

__all__ = ["run_export", "run_key", "run_providers"]


def _catalog() -> tuple[Catalog, list[str]]:
    settings, warnings = Settings.load()
    return catalog_for(settings), warnings


def _print_warnings(warnings: list[str]) -> None:
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)


def _model_line(provider: Provider, index: int) -> str:
    model = provider.models[index]
    traits = ["vision" if model.vision else "text-only"]
    if model.thinking != "none":
        traits.append(f"thinking:{model.thinking}")
    if model.streaming_only:
        traits.append("streaming-only")
    traits.append(f"factor {model.patch_factor}")
    cap = f"cap {model.image_token_cap}"
    if model.high_res_token_cap:
        cap += f" (hi-res {model.high_res_token_cap})"
    traits.append(cap)
    if model.context_length:
        traits.append(f"context {model.context_length}")
    return f"    {model.id:<34} {'  '.join(traits)}"


def run_providers() -> int:
    """Every provider with its region, models and where its key comes from."""
    catalog, warnings = _catalog()
    _print_warnings(warnings)
    keystore = KeyStore(wait=TERMINAL_WAIT)
    keystore.prefetch(p.key_id for p in catalog.providers.values())
    for provider in catalog.providers.values():
        # DashScope names already carry the city ("… — Singapore"); say the region once.
        city = provider.region.split(" (")[0]
        region = f" — {provider.region}" if provider.region and city not in provider.name else ""
        kind = " (custom)" if provider.custom else ""
        source = keystore.source(provider)
        key = {"keyring": "key in keyring", "session": "key for this session",
               "env": f"key from {provider.key_env}",
               "none": "no key" + (" (optional)" if provider.key_optional else "")}[source]
        print(f"{provider.id}{kind}: {provider.name}{region}  [{key}]")
        print(f"    {provider.base_url}")
        for index in range(len(provider.models)):
            print(_model_line(provider, index))
    if keystore.terminal_warning:
        print(f"warning: {keystore.terminal_warning}", file=sys.stderr)
    return 0


def _read_key(provider: Provider) -> str:
    if sys.stdin is not None and sys.stdin.isatty():
        return getpass.getpass(f"API key for {provider.name} (input hidden): ")
    data = sys.stdin.read() if sys.stdin is not None else ""
    # One key, possibly followed by a newline; anything more is refused by KeyStore.
    return data.rstrip("\r\n") if data.count("\n") <= 1 else data


def run_key(action: str, provider_id: str) -> int:
    """`key set|delete|status`. Keyring trouble is exit code 8 (see `cli`)."""
    catalog, warnings = _catalog()
    _print_warnings(warnings)
    provider = catalog.get(provider_id)
    keystore = KeyStore(wait=TERMINAL_WAIT)
    if action == "status":
        print(keystore.status_line(provider))
        if keystore.terminal_warning:
            print(f"warning: {keystore.terminal_warning}", file=sys.stderr)
        return 0
    if action == "delete":
        try:
            keystore.delete(provider)
        except KeyringUnavailableError as err:
            raise KeyringUnavailableError(
                f"The key for {provider.name} was not deleted. {err.reason}",
                trouble=err.trouble, reason=err.reason) from None
        print(f"Deleted the stored key for {provider.name}.")
        if keystore.source(provider) == "env":
            print(f"{provider.key_env} is still set in this environment and will be used.")
        return 0
    # A session-only key would vanish the moment this command exits.
    keystore.require_secure(provider)
    key = _read_key(provider)
    try:
        keystore.set(provider, key)
    except KeyringUnavailableError as err:
        raise KeyringUnavailableError(
            f"The key for {provider.name} was not saved. {err.reason} {env_advice(provider)}",
            trouble=err.trouble, reason=err.reason) from None
    print(f"Saved the key for {provider.name} in the keyring ({keystore.backend_name}).")
    return 0


def run_export(source: Path, to: str, output: Path | None) -> int:
    from ..core import export

    conversation = load_conversation(source)
    suffix = ".md" if to == "md" else ".html"
    target = output or source.with_suffix(suffix)
    if target.resolve() == source.resolve():
        raise ConfigError(f"Refusing to overwrite the conversation file {source} with the export.")
    if to == "md":
        written = export.export_markdown(conversation, target)
    else:
        written = export.export_html(conversation, target)
    print(f"Exported to {written or target}")
    return 0
