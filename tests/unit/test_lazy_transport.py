"""The app's HTTP client makes its pool and TLS context at the first request only."""

from __future__ import annotations

import asyncio

import httpx

from qwenvl_desktop.core.api.lazy_transport import LazyTransport
from qwenvl_desktop.core.settings import Settings
from qwenvl_desktop.services import make_http_client


def test_nothing_is_built_until_the_first_request() -> None:
    built: list[httpx.MockTransport] = []

    def build() -> httpx.MockTransport:
        built.append(httpx.MockTransport(lambda request: httpx.Response(200, text="ok")))
        return built[-1]

    async def scenario() -> None:
        transport = LazyTransport(build)
        async with httpx.AsyncClient(transport=transport) as client:
            assert built == []
            assert not transport.built
            assert (await client.get("https://example.invalid/a")).text == "ok"
            assert (await client.get("https://example.invalid/b")).text == "ok"
            assert len(built) == 1                     # one real transport, reused
            assert transport.built

    asyncio.run(scenario())


def test_closing_an_unused_client_builds_nothing() -> None:
    async def scenario() -> LazyTransport:
        client = make_http_client(Settings())
        transport = client._transport
        assert isinstance(transport, LazyTransport)
        await client.aclose()
        return transport

    assert not asyncio.run(scenario()).built
