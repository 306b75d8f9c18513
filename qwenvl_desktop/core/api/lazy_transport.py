"""An httpx transport whose connection pool and TLS context are made on first use.

Building httpx's transport loads the system's CA certificates into a new TLS context
(~66 ms here) and sets up the connection pool; the app builds its HTTP client at
start-up, when nothing is sent yet, and a session that never sends never needs either.
This transport builds the real one when the first request goes out and forwards to it;
closing a transport that was never used costs nothing.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx

__all__ = ["LazyTransport"]


class LazyTransport(httpx.AsyncBaseTransport):
    """Forwards to the transport `build()` returns, made at the first request."""

    def __init__(self, build: Callable[[], httpx.AsyncBaseTransport]) -> None:
        self._build = build
        self._real: httpx.AsyncBaseTransport | None = None

    @property
    def built(self) -> bool:
        return self._real is not None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._real is None:
            self._real = self._build()
        return await self._real.handle_async_request(request)

    async def aclose(self) -> None:
        if self._real is not None:
            await self._real.aclose()
