"""Settings: round trip, corrupt and wrong-typed files, URL checks, and no keys ever."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from qwenvl_desktop.core import paths
from qwenvl_desktop.core.api.types import ChatParams
from qwenvl_desktop.core.catalog import CustomEndpoint
from qwenvl_desktop.core.errors import ConfigError, register_secret
from qwenvl_desktop.core.settings import Settings, catalog_for
from qwenvl_desktop.testing import SENTINEL_KEY


def _write(data: object) -> Path:
    path = paths.settings_file()
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_missing_file_gives_defaults_without_warnings() -> None:
    settings, warnings = Settings.load()
    assert settings == Settings()
    assert warnings == []
    assert settings.connect_timeout == 15
    assert settings.read_timeout == 120
    assert settings.max_retries == 3
    assert settings.theme == "system"
    assert settings.drop_old_images is False


def test_round_trip_keeps_every_field() -> None:
    settings = Settings(
        custom_endpoints=[CustomEndpoint("local-vllm", "http://127.0.0.1:8000/v1",
                                         ("Qwen/Qwen2.5-VL-7B-Instruct",), "VLLM_KEY")],
        base_url_overrides={"ovh": "https://gateway.example.com/ovh/v1"},
        last_provider="ovh", last_model="Qwen2.5-VL-72B-Instruct",
        system_prompt="Be brief.", connect_timeout=5.5, read_timeout=300,
        max_retries=0, drop_old_images=True, theme="dark",
        ui={"geometry": "AdnQywADAAAAAAAA", "splitter": [300, 700]},
    )
    settings.set_params("ovh", ChatParams(temperature=0.3, stop=("END",), max_tokens=512))
    settings.save()
    loaded, warnings = Settings.load()
    assert warnings == []
    assert loaded == settings
    assert loaded.params_for("ovh") == ChatParams(temperature=0.3, stop=("END",),
                                                  max_tokens=512)
    assert loaded.params_for("nebula") == ChatParams()


def test_corrupt_file_is_copied_aside_and_defaults_used() -> None:
    path = paths.settings_file()
    path.write_bytes(b'{"theme": "dark", ')
    settings, warnings = Settings.load()
    assert settings == Settings()
    assert len(warnings) == 1
    assert "corrupt" in warnings[0]
    aside = list(path.parent.glob("settings.json.bad-*"))
    assert len(aside) == 1
    assert aside[0].read_bytes() == b'{"theme": "dark", '
    assert aside[0].name in warnings[0]
    # A second corrupt load on the same second does not overwrite the first copy.
    path.write_bytes(b"\xff\xfe not utf-8")
    Settings.load()
    assert len(list(path.parent.glob("settings.json.bad-*"))) == 2


def test_non_object_json_is_treated_as_corrupt() -> None:
    _write([1, 2, 3])
    settings, warnings = Settings.load()
    assert settings == Settings()
    assert "corrupt" in warnings[0]


def test_wrong_types_fall_back_per_field_with_named_warnings() -> None:
    _write({
        "theme": 42, "connect_timeout": "fast", "read_timeout": -1, "max_retries": True,
        "drop_old_images": "yes", "ui": [], "last_provider": "nebula",
        "system_prompt": None, "future_field": {"x": 1},
    })
    settings, warnings = Settings.load()
    assert settings.last_provider == "nebula"          # good fields survive
    assert settings.theme == "system"
    assert settings.connect_timeout == 15
    assert settings.read_timeout == 120
    assert settings.max_retries == 3
    assert settings.drop_old_images is False
    assert settings.ui == {}
    assert settings.system_prompt == ""
    text = "\n".join(warnings)
    for name in ("theme", "connect_timeout", "read_timeout", "max_retries",
                 "drop_old_images", "ui", "system_prompt"):
        assert f"'{name}'" in text
    assert "future_field" not in text                   # newer versions' fields: ignored
    assert "must be more than 0" in text


def test_bad_base_url_override_is_rejected() -> None:
    settings = Settings()
    with pytest.raises(ConfigError, match="plain http"):
        settings.set_base_url_override("ovh", "http://gateway.example.com/v1")
    with pytest.raises(ConfigError):
        settings.set_base_url_override("ovh", "ftp://example.com")
    settings.set_base_url_override("ovh", "http://192.168.1.20:8080/v1/")
    assert settings.base_url_overrides == {"ovh": "http://192.168.1.20:8080/v1"}
    settings.set_base_url_override("ovh", None)
    assert settings.base_url_overrides == {}


def test_bad_urls_in_file_are_dropped_with_warning() -> None:
    _write({
        "base_url_overrides": {"ovh": "http://evil.example.com/v1",
                               "nebula": "https://proxy.example.com/v1", "aimlapi": 3},
        "custom_endpoints": [
            {"name": "lan", "base_url": "http://10.0.0.5:11434/v1", "models": ["qwen2.5vl"]},
            {"name": "public-http", "base_url": "http://example.com/v1"},
            {"name": "ovh", "base_url": "https://x.example.com/v1"},
            "not an object",
        ],
    })
    settings, warnings = Settings.load()
    assert settings.base_url_overrides == {"nebula": "https://proxy.example.com/v1"}
    assert [e.name for e in settings.custom_endpoints] == ["lan"]
    assert len(warnings) == 5
    catalog = catalog_for(settings)
    assert catalog.get("nebula").base_url == "https://proxy.example.com/v1"
    assert catalog.get("lan").custom
    assert catalog.get("lan").chat_url("qwen2.5vl") == "http://10.0.0.5:11434/v1/chat/completions"


def test_catalog_for_applies_override_keeping_the_dialect() -> None:
    settings = Settings(base_url_overrides={"segmind": "https://gw.example.com/segmind"})
    provider = catalog_for(settings).get("segmind")
    assert provider.dialect == "segmind"
    assert provider.chat_url(provider.models[0].id).startswith("https://gw.example.com/segmind/")
    # The built-in catalog itself is untouched.
    assert catalog_for(Settings()).get("segmind").base_url == "https://api.segmind.com/v1"


def test_custom_endpoint_may_not_shadow_builtin() -> None:
    with pytest.raises(ConfigError, match="built-in"):
        Settings().add_custom_endpoint(CustomEndpoint("dashscope-intl", "https://x.example.com"))


def test_key_pasted_into_env_name_field_is_refused() -> None:
    with pytest.raises(ConfigError, match="not an environment variable name"):
        Settings().add_custom_endpoint(
            CustomEndpoint("mine", "https://x.example.com/v1", key_env=SENTINEL_KEY))


@pytest.mark.parametrize("where", ["system_prompt", "ui", "last_model"])
def test_save_refuses_anything_that_looks_like_a_key(where: str) -> None:
    register_secret(SENTINEL_KEY)
    settings = Settings()
    if where == "ui":
        settings.ui = {"nested": {"api_key": "something-secret"}}
    else:
        setattr(settings, where, f"prefix {SENTINEL_KEY}")
    with pytest.raises(ConfigError, match="looks like an API key"):
        settings.save()
    assert not paths.settings_file().exists()


def test_save_refuses_unregistered_bearer_and_sk_keys() -> None:
    with pytest.raises(ConfigError):
        Settings(system_prompt="Authorization: Bearer abcdefghijklmnop").save()
    with pytest.raises(ConfigError):
        Settings(ui={"x": "sk-abcdefghijklmnop"}).save()


def test_key_in_file_is_dropped_on_load() -> None:
    _write({"system_prompt": "use sk-abcdefghijklmnopqrst", "ui": {"token": "abc"},
            "theme": "light"})
    settings, warnings = Settings.load()
    assert settings.system_prompt == ""
    assert settings.ui == {}
    assert settings.theme == "light"
    assert len(warnings) == 2
    assert all("API key" in w for w in warnings)
    assert not any("sk-abcdefghijklmnopqrst" in w for w in warnings)


def test_failed_save_keeps_the_old_file(monkeypatch: pytest.MonkeyPatch) -> None:
    Settings(theme="dark").save()
    path = paths.settings_file()
    before = path.read_bytes()

    def boom(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="No space"):
        Settings(theme="light").save()
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir()] == ["settings.json"]   # no temp file left


def test_saved_file_is_private_json() -> None:
    Settings(theme="dark").save()
    path = paths.settings_file()
    assert json.loads(path.read_text())["theme"] == "dark"
    if os.name == "posix":
        assert path.stat().st_mode & 0o077 == 0
