"""End-to-end fixtures: the loopback provider server and every provider pointed at it.

One server serves the whole session (it speaks all dialects under path prefixes);
each test gets it with an empty queue, no records and no stalled streams. Async code
runs under `asyncio.run` inside ordinary sync tests (no pytest-asyncio: its loops clash
with qasync's).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest

from qwenvl_desktop.core.api.client import ChatClient
from qwenvl_desktop.core.api.types import ChatMessage, ChatParams, Retrying, StreamEvent
from qwenvl_desktop.core.catalog import CustomEndpoint, Model, Provider, load_builtin
from qwenvl_desktop.core.errors import ProviderError
from qwenvl_desktop.testing.provider_server import ProviderServer, dialect_for

CUSTOM_ID = "local-vllm"
CUSTOM_MODEL = "Qwen/Qwen3-VL-8B-Instruct"

# Every built-in provider, plus one custom OpenAI-compatible endpoint.
PROVIDER_IDS = ("dashscope-intl", "dashscope-us", "dashscope-cn", "ovh", "aimlapi", "nebula",
                "segmind", CUSTOM_ID)

# The model each provider is exercised with: thinking models where the provider has them.
TEST_MODELS = {
    "dashscope-intl": "qwen3-vl-8b-thinking",
    "dashscope-us": "qwen3-vl-flash-us",
    "dashscope-cn": "qvq-max",
    "ovh": "Qwen2.5-VL-72B-Instruct",
    "aimlapi": "alibaba/qwen3-vl-32b-thinking",
    "nebula": "Qwen/Qwen2.5-VL-7B-Instruct",
    "segmind": "qwen2p5-vl-32b-instruct",
    CUSTOM_ID: CUSTOM_MODEL,
}


@pytest.fixture(scope="session")
def provider_server() -> Iterator[ProviderServer]:
    with ProviderServer() as server:
        yield server


@pytest.fixture(autouse=True)
def fresh_server(provider_server: ProviderServer) -> Iterator[ProviderServer]:
    """Each test starts with an empty queue and leaves no stream stalled behind it."""
    provider_server.reset()
    yield provider_server
    provider_server.release_stalls()
    assert provider_server.errors == [], "the loopback server itself failed"


def point_at(server: ProviderServer, provider_id: str) -> Provider:
    """A catalog provider (or the custom endpoint) with its base URL on the server."""
    catalog = load_builtin()
    if provider_id == CUSTOM_ID:
        return catalog.make_custom(CustomEndpoint(
            name=CUSTOM_ID, base_url=server.base_url_for("custom"), models=(CUSTOM_MODEL,)))
    return catalog.get(provider_id).with_base_url(server.base_url_for(dialect_for(provider_id)))


class RecordingSleep:
    """Stands in for asyncio.sleep in backoff: records the delay, waits for nothing."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        await asyncio.sleep(0)


@dataclass
class Outcome:
    """What one chat turn produced: its events, or the error it ended in."""

    events: list[StreamEvent] = field(default_factory=list)
    error: ProviderError | None = None
    sleeps: list[float] = field(default_factory=list)

    @property
    def retries(self) -> list[Retrying]:
        return [e for e in self.events if isinstance(e, Retrying)]


@dataclass
class Wire:
    """A test's handle on the server and the providers pointed at it."""

    server: ProviderServer

    @property
    def key(self) -> str:
        return self.server.api_key

    def provider(self, provider_id: str) -> Provider:
        return point_at(self.server, provider_id)

    def model(self, provider_id: str) -> Model:
        return self.provider(provider_id).model(TEST_MODELS[provider_id])

    def turn(self, provider_id: str, *, api_key: str | None = None,
             messages: list[ChatMessage] | None = None, params: ChatParams | None = None,
             **client_options: float) -> Outcome:
        """Run one chat turn to its end with a fresh httpx client; never raises."""
        return asyncio.run(self._turn(provider_id, api_key, messages, params, client_options))

    async def _turn(self, provider_id: str, api_key: str | None,
                    messages: list[ChatMessage] | None, params: ChatParams | None,
                    client_options: dict[str, float]) -> Outcome:
        sleep = RecordingSleep()
        options: dict[str, float] = {"connect_timeout": 5.0, "read_timeout": 5.0}
        options.update(client_options)
        outcome = Outcome(sleeps=sleep.delays)
        provider = self.provider(provider_id)
        async with httpx.AsyncClient() as http:
            client = ChatClient(http, sleep=sleep, random=lambda: 0.5, **options)  # type: ignore[arg-type]
            try:
                async for event in client.stream_chat(
                        provider, self.model(provider_id),
                        messages or [ChatMessage(role="user", text="What is in the picture?")],
                        params or ChatParams(), api_key=self.key if api_key is None else api_key):
                    outcome.events.append(event)
            except ProviderError as err:
                outcome.error = err
        return outcome


@pytest.fixture
def wire(provider_server: ProviderServer) -> Wire:
    return Wire(provider_server)


# --- the wire-fault tally, printed once at the end of the run -----------------------------

@dataclass
class Tally:
    tried: int = 0
    handled: int = 0


TALLY_KEY = pytest.StashKey[Tally]()


@pytest.fixture
def matrix_tally(request: pytest.FixtureRequest) -> Tally:
    stash = request.config.stash
    if TALLY_KEY not in stash:
        stash[TALLY_KEY] = Tally()
    return stash[TALLY_KEY]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter,
                            config: pytest.Config) -> None:
    tally = config.stash.get(TALLY_KEY, None)
    if tally is not None and tally.tried:
        terminalreporter.write_line(
            f"wire-fault matrix: {tally.tried} cases tried, {tally.handled} handled")
