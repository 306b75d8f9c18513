"""Credentials in base URLs: split off when saved, kept in the keyring, sent, never written.

A base URL like `http://user:secret@host/v1` (or `…?key=…`) was stored verbatim in
settings.json and copied into every answer's provenance, so into every saved file.
"""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from qwenvl_desktop.core import paths
from qwenvl_desktop.core.api.client import ChatClient
from qwenvl_desktop.core.api.types import ChatParams
from qwenvl_desktop.core.catalog import CustomEndpoint, load_builtin
from qwenvl_desktop.core.conversation import Conversation, Message, Provenance
from qwenvl_desktop.core.errors import ConfigError, redact
from qwenvl_desktop.core.secrets import KeyStore
from qwenvl_desktop.core.settings import Settings
from qwenvl_desktop.core.storage import dumps
from qwenvl_desktop.core.url_credentials import UrlCredentials, split_url_credentials
from qwenvl_desktop.services import Services
from qwenvl_desktop.testing.memory_keyring import MemoryKeyring

GW_PASSWORD = "gw-Pa55-never-write-me-91"
SIGNATURE = "sigQ7-never-write-me-3141"
DIRTY = f"https://alice:{GW_PASSWORD}@gw.example.com/v1?api-version=2&sig={SIGNATURE}"
CLEAN = "https://gw.example.com/v1?api-version=2"


def test_split_keeps_harmless_parameters_and_takes_the_secret_ones() -> None:
    clean, creds = split_url_credentials(DIRTY)
    assert clean == CLEAN
    assert creds.userinfo == f"alice:{GW_PASSWORD}"
    assert creds.query == (("sig", SIGNATURE),)
    assert creds.describe() == "a user name and password and the 'sig' parameter"
    for name in ("key", "api_key", "API-KEY", "apikey", "token", "access_token", "sig",
                 "signature", "password", "secret", "X-Amz-Signature", "client_secret"):
        assert split_url_credentials(f"https://h.example/v1?{name}=v")[0] == \
            "https://h.example/v1", name
    assert not split_url_credentials("https://h.example/v1?model=a&region=b")[1]


def test_credentials_go_back_only_under_their_own_base_url() -> None:
    _clean, creds = split_url_credentials(f"https://u:{GW_PASSWORD}@gw.example.com/v1?key=K1")
    assert creds.apply("https://gw.example.com/v1/chat/completions") == \
        f"https://u:{GW_PASSWORD}@gw.example.com/v1/chat/completions?key=K1"
    for other in ("https://gw.example.com/v10/chat", "https://evil.example/v1/chat",
                  "https://gw.example.com.evil.example/v1/chat"):
        assert creds.apply(other) == other
    assert UrlCredentials.from_json(creds.to_json()) == creds


def test_settings_refuse_a_url_with_credentials_and_say_how_to_enter_them() -> None:
    settings = Settings()
    with pytest.raises(ConfigError, match="Settings › Endpoints") as caught:
        settings.set_base_url_override("ovh", DIRTY)
    assert GW_PASSWORD not in str(caught.value)
    with pytest.raises(ConfigError, match="Settings › Endpoints"):
        settings.add_custom_endpoint(CustomEndpoint("gw", DIRTY, ("m",)))
    assert settings.base_url_overrides == {}
    assert settings.custom_endpoints == []


def test_old_settings_are_cleaned_on_load_and_the_credentials_moved_to_the_keyring(
        memory_keyring: MemoryKeyring) -> None:
    path = paths.settings_file()
    path.write_text(json.dumps({
        "base_url_overrides": {"ovh": DIRTY},
        "custom_endpoints": [{"name": "gw", "base_url": DIRTY.replace("/v1", "/custom"),
                              "models": ["m"]}],
    }), encoding="utf-8")
    services = Services.create(keystore=KeyStore(memory_keyring))
    try:
        text = path.read_text(encoding="utf-8")
        assert GW_PASSWORD not in text
        assert SIGNATURE not in text
        assert services.settings.base_url_overrides == {"ovh": CLEAN}
        assert services.catalog.get("gw").base_url == "https://gw.example.com/custom?api-version=2"
        notices = [w for w in services.settings_warnings if "keyring" in w]
        assert len(notices) == 2
        assert all(GW_PASSWORD not in w and SIGNATURE not in w for w in notices)
        ovh = services.catalog.get("ovh")
        creds = services.keystore.url_credentials(ovh)
        assert creds is not None
        assert creds.userinfo == f"alice:{GW_PASSWORD}"
        stored = "".join(memory_keyring.store.values())
        assert GW_PASSWORD in stored
        assert SIGNATURE in stored
    finally:
        asyncio.run(services.aclose())


def test_requests_carry_the_credentials_again(memory_keyring: MemoryKeyring) -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"data": [{"id": "m"}]})

    keystore = KeyStore(memory_keyring)
    dirty = f"https://alice:{GW_PASSWORD}@gw.example.com/v1?sig={SIGNATURE}"
    clean, creds = split_url_credentials(dirty)
    provider = load_builtin().make_custom(CustomEndpoint("gw", clean, ("m",)))
    keystore.set_url_credentials(provider, creds)

    async def run() -> list[str]:
        async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
            client = ChatClient(http, url_credentials=keystore.url_credentials)
            return await client.list_models(provider, api_key=None)

    assert asyncio.run(run()) == ["m"]
    (request,) = seen
    assert request.url.params["sig"] == SIGNATURE
    assert request.url.path == "/v1/models"
    assert request.headers["authorization"].startswith("Basic ")


def test_redact_strips_user_info_and_secret_parameters_from_any_text() -> None:
    text = redact(f"GET {DIRTY} failed")
    assert GW_PASSWORD not in text
    assert SIGNATURE not in text
    assert "gw.example.com/v1" in text


def test_saved_provenance_holds_only_the_clean_url() -> None:
    conv = Conversation()
    conv.append(Message(role="user", text="hi"))
    conv.append(Message(role="assistant", text="ok",
                        provenance=Provenance(provider="ovh", model="m", base_url=DIRTY)))
    saved = dumps(conv).decode("utf-8")
    assert GW_PASSWORD not in saved
    assert SIGNATURE not in saved
    assert json.loads(saved)["conversation"]["messages"][1]["provenance"]["base_url"] == CLEAN


def test_send_turn_records_the_clean_url(memory_keyring: MemoryKeyring) -> None:
    from qwenvl_desktop.core.turn import send_turn

    class Client:
        async def stream_chat(self, *_args: object, **_kwargs: object):  # type: ignore[no-untyped-def]
            from qwenvl_desktop.core.api.types import ContentDelta, Finish
            yield ContentDelta("ok")
            yield Finish("stop")

    provider = load_builtin().get("ovh").with_base_url(DIRTY)
    conv = Conversation()
    message = asyncio.run(send_turn(Client(), conv, provider,
                                    provider.models[0], ChatParams(), "hi", api_key="k" * 10))
    assert message.provenance is not None
    assert message.provenance.base_url == CLEAN
