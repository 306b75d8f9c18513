"""Unit-test fixtures shared by the tests that drive a turn end to end in-process: one
loopback provider server per module, reset for each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from qwenvl_desktop.testing.provider_server import ProviderServer


@pytest.fixture(scope="module")
def provider_server() -> Iterator[ProviderServer]:
    with ProviderServer() as srv:
        yield srv


@pytest.fixture
def server(provider_server: ProviderServer) -> Iterator[ProviderServer]:
    provider_server.reset()
    yield provider_server
    provider_server.release_stalls()
    assert provider_server.errors == [], "the loopback server itself failed"
