"""`qwenvl-desktop models`, and the terminal's own advice, as a real subprocess against
the loopback server (same set-up as test_cli.py: DashScope Singapore points at it)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qwenvl_desktop.core.model_lists import CACHE_NAME
from qwenvl_desktop.core.settings import Settings
from qwenvl_desktop.testing.provider_server import ProviderServer, Script

from .test_cli import run

LISTED = ["qwen3-vl-plus", "qwen3-vl-plus-2025-12-19", "qwen3.9-plus", "qwen3.5-plus",
          "text-embedding-v4", "wan2.5-t2i-preview", "qwen-max"]


@pytest.fixture
def server(fresh_server: ProviderServer) -> ProviderServer:
    return fresh_server


@pytest.fixture
def home(isolated_home: Path, server: ProviderServer) -> Path:
    settings = Settings(max_retries=1, read_timeout=2.0, connect_timeout=2.0)
    settings.set_base_url_override("dashscope-intl", server.base_url_for("dashscope"))
    settings.save()
    return isolated_home


def cache_of(home: Path) -> dict[str, object]:
    return json.loads((home / "cache" / CACHE_NAME).read_text("utf-8"))


def refresh_json(home: Path) -> dict[str, object]:
    result = run(home, "models", "dashscope-intl", "--refresh", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_refresh_merges_the_providers_list_with_the_catalog(home: Path,
                                                           server: ProviderServer) -> None:
    server.listing["dashscope"] = LISTED
    result = run(home, "models", "dashscope-intl", "--refresh")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "model list: fetched " in out
    assert "(today)" in out
    assert "7 listed, 2 not in the catalog" in out
    # A model the catalog does not know: guessed from its name, and says so.
    line = next(row for row in out.splitlines() if row.strip().startswith("qwen3.9-plus"))
    assert "vision · thinks by default · 32-px patches" in line
    assert "guessed from its name (" in out
    assert "*qwen3.[5-9]*" in out
    # Not chat models are left out; a dated snapshot is not a new model.
    assert "text-embedding-v4" not in out
    assert "wan2.5-t2i" not in out
    assert "qwen3-vl-plus-2025-12-19" not in out
    assert "qwen-max " in out
    assert "text only" in out
    # Documented catalog models the provider no longer lists are still shown, marked.
    assert "in the catalog, not in the provider's list" in out
    [request] = [r for r in server.requests if r.method == "GET"]
    assert request.path.endswith("/compatible-mode/v1/models")
    assert request.headers["authorization"].startswith("Bearer ")
    stored = cache_of(home)["lists"]
    assert stored[0]["ids"] == LISTED
    assert stored[0]["fetched_at"]


def test_the_cached_list_is_shown_with_its_date_without_asking_again(
        home: Path, server: ProviderServer) -> None:
    server.listing["dashscope"] = LISTED
    refresh_json(home)
    server.reset()
    result = run(home, "models", "dashscope-intl")
    assert result.returncode == 0, result.stderr
    assert "qwen3.9-plus" in result.stdout
    assert "fetched " in result.stdout
    assert server.requests == []


def test_json_says_what_was_guessed_and_what_is_assumed(home: Path,
                                                        server: ProviderServer) -> None:
    server.listing["dashscope"] = LISTED
    data = refresh_json(home)
    models = {m["id"]: m for m in data["models"]}  # type: ignore[union-attr]
    new = models["qwen3.9-plus"]
    assert (new["in_catalog"], new["listed"], new["vision"], new["grounding"]) == (
        False, True, True, "relative-1000")
    assert "vision" in new["guessed"]
    assert new["guessed_from"]
    known = models["qwen3.5-plus"]
    assert known["in_catalog"]
    assert known["listed"]
    assert not known["guessed"]
    assert "image_token_cap" in known["assumed"]
    assert models["qvq-max"]["listed"] is False
    assert data["refreshed"] is True
    assert data["error"] is None


def test_a_new_model_is_usable_once_listed(home: Path, server: ProviderServer) -> None:
    before = run(home, "ask", "-m", "qwen3.9-plus", "Hi")
    assert before.returncode == 2
    assert "does not serve the model 'qwen3.9-plus'" in before.stderr
    server.listing["dashscope"] = LISTED
    refresh_json(home)
    server.enqueue(Script(content="Hello from 3.9.", reasoning="Thinking first."))
    after = run(home, "ask", "-m", "qwen3.9-plus", "Hi")
    assert after.returncode == 0, after.stderr
    assert after.stdout.strip() == "Hello from 3.9."
    body = [r for r in server.requests if r.method == "POST"][-1].json
    assert body["model"] == "qwen3.9-plus"
    assert body["stream"] is True


@pytest.mark.parametrize(("fault", "code", "words"), [
    ("html", 5, "answered with a web page"),
    ("empty", 5, "listed no models"),
    ("unauthorized", 3, "HTTP 401"),
    ("huge", 5, "more than 8 MB"),
    ("not_json", 5, "not JSON"),
    ("wrong_shape", 5, "unknown shape"),
])
def test_a_bad_listing_is_explained_and_the_previous_list_stays(
        home: Path, server: ProviderServer, fault: str, code: int, words: str) -> None:
    server.listing["dashscope"] = LISTED
    refresh_json(home)
    before = cache_of(home)
    server.models_fault = fault
    result = run(home, "models", "dashscope-intl", "--refresh")
    assert result.returncode == code, result.stderr
    assert words in result.stderr
    assert "Alibaba Model Studio — Singapore" in result.stderr
    assert "the list shown is the previous one" in result.stderr
    assert "qwen3.9-plus" in result.stdout                   # the previous list, still shown
    assert cache_of(home) == before
    if fault == "unauthorized":
        assert "qwenvl-desktop key set dashscope-intl" in result.stderr
        assert "Settings ›" not in result.stderr


def test_a_listing_that_stalls_ends_within_the_timeout(home: Path,
                                                       server: ProviderServer) -> None:
    server.models_fault = "stall"
    result = run(home, "models", "dashscope-intl", "--refresh", "--timeout", "0.5")
    server.release_stalls()
    assert result.returncode == 6, result.stderr
    assert "0.5 s" in result.stderr
    assert "--timeout SECONDS" in result.stderr
    assert "Alibaba Model Studio — Singapore" in result.stderr
    assert "never fetched" in result.stdout                   # nothing cached before


def test_custom_base_url_and_providers_without_a_list(home: Path, server: ProviderServer) -> None:
    server.listing["custom"] = ["Qwen/Qwen3-VL-8B-Instruct", "llama3.1:8b"]
    result = run(home, "models", "custom", "--base-url", server.base_url_for("custom"),
                 "--refresh", "--json", key=None)
    assert result.returncode == 0, result.stderr
    models = {m["id"]: m for m in json.loads(result.stdout)["models"]}
    assert models["Qwen/Qwen3-VL-8B-Instruct"]["vision"] is True
    assert models["Qwen/Qwen3-VL-8B-Instruct"]["patch_factor"] == 32
    assert models["llama3.1:8b"]["vision"] is False
    segmind = run(home, "models", "segmind", "--refresh")
    assert segmind.returncode == 0
    assert "no model list" in segmind.stderr
    assert "qwen2p5-vl-32b-instruct" in segmind.stdout


def test_the_terminal_advises_in_its_own_terms(home: Path, server: ProviderServer) -> None:
    bad_key = run(home, "ask", "Hi", key="sk-wrong-key-0000000000000000")
    assert bad_key.returncode == 3
    assert "qwenvl-desktop key set dashscope-intl" in bad_key.stderr
    assert "DASHSCOPE_API_KEY" in bad_key.stderr
    assert "Settings ›" not in bad_key.stderr
    server.enqueue(Script(status=400, error_message="top_p must be in (0, 1]"))
    refused = run(home, "ask", "Hi")
    assert refused.returncode == 5
    assert "--top-p" in refused.stderr
    assert "panel" not in refused.stderr
    server.enqueue(Script(content="slow answer here", stall=True, fault_after=1))
    slow = run(home, "ask", "--timeout", "0.5", "Hi")
    server.release_stalls()
    assert slow.returncode == 6
    assert "--timeout SECONDS" in slow.stderr
    assert "Settings" not in slow.stderr
    missing = run(home, "ask", "Hi", key=None)
    assert "qwenvl-desktop key set dashscope-intl" in missing.stderr
    assert "Settings ›" not in missing.stderr


def test_an_ad_hoc_endpoint_is_named_by_the_url_typed(home: Path, server: ProviderServer) -> None:
    url = server.base_url_for("custom")
    server.enqueue(Script(html_status=502), times=3)
    result = run(home, "ask", "--base-url", url, "-m", "qwen3-vl:8b", "Hi", key=None)
    assert result.returncode == 5
    assert f"{url} returned an HTML error page" in result.stderr
    # Its key comes from QWENVL_API_KEY; `key set` cannot store one for it.
    assert "qwenvl-desktop key set custom" not in result.stderr


def test_credentials_in_a_base_url_never_reach_output_or_the_cache(
        home: Path, server: ProviderServer) -> None:
    secret = "pw-7c1e9a0b55d34f2e"
    root = server.base_url_for("custom").replace("http://", f"http://me:{secret}@")
    result = run(home, "models", "custom", "--base-url", root, "--refresh", key=None)
    assert secret not in result.stdout
    assert secret not in result.stderr
    cache = home / "cache" / CACHE_NAME
    assert not cache.exists() or secret not in cache.read_text("utf-8")
    assert "never saved" in result.stderr
