"""The shared HTTP client and the chat client are made at their first use (the window
starts without importing httpx), with the settings in force then; closing closes what
was made and refuses to make another."""

from __future__ import annotations

import asyncio

import pytest

from qwenvl_desktop.core.secrets import KeyStore
from qwenvl_desktop.services import Services
from qwenvl_desktop.testing.memory_keyring import MemoryKeyring


def test_the_clients_are_made_once_at_first_use(memory_keyring: MemoryKeyring) -> None:
    services = Services.create(keystore=KeyStore(memory_keyring))
    try:
        assert services._http is None
        assert services._client is None
        assert not services.http_is_closed
        client = services.client
        assert services.http is services.http          # one shared HTTP client
        assert client is services.client
        assert client._http is services.http
        assert services.http.follow_redirects is False  # made as make_http_client makes it
    finally:
        asyncio.run(services.aclose())
    assert services.http_is_closed
    assert services.http.is_closed


def test_reconfigure_client_takes_the_new_timeouts_and_keeps_the_http_client(
        memory_keyring: MemoryKeyring) -> None:
    services = Services.create(keystore=KeyStore(memory_keyring))
    try:
        before = services.client
        http = services.http
        services.settings.read_timeout = 42.0
        services.settings.max_retries = 1
        services.reconfigure_client()
        after = services.client
        assert after is not before
        assert (after.read_timeout, after.max_retries) == (42.0, 1)
        assert after._http is http
    finally:
        asyncio.run(services.aclose())


def test_closed_services_never_open_a_client(memory_keyring: MemoryKeyring) -> None:
    services = Services.create(keystore=KeyStore(memory_keyring))
    asyncio.run(services.aclose())
    assert services.http_is_closed
    with pytest.raises(RuntimeError):
        _ = services.http
