"""The terminal command, run as a real subprocess against the loopback provider server.

Each test's QWENVL_DESKTOP_HOME holds a settings file that points DashScope Singapore
(the default provider) at the loopback server, so `ask "…"` needs no `-p`. Keys reach
the subprocess through the provider's env var: a subprocess cannot see the test's
in-memory keyring, so it is pinned to keyring's fail backend (never the real keyring).
The `key` commands run in-process instead, against the test's MemoryKeyring.
"""

from __future__ import annotations

import functools
import http.server
import io
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import keyring.backends.fail
import pytest
from PIL import Image

import qwenvl_desktop
from qwenvl_desktop import cli
from qwenvl_desktop.core.conversation import Message
from qwenvl_desktop.core.settings import Settings
from qwenvl_desktop.core.storage import load_conversation, save_conversation
from qwenvl_desktop.testing.memory_keyring import MemoryKeyring
from qwenvl_desktop.testing.provider_server import DEFAULT_KEY, ProviderServer, Script

REPO = Path(qwenvl_desktop.__file__).resolve().parent.parent


@pytest.fixture
def server(fresh_server: ProviderServer) -> ProviderServer:
    """The session's loopback server (tests/e2e/conftest.py), emptied for this test."""
    return fresh_server


@pytest.fixture
def home(isolated_home: Path, server: ProviderServer) -> Path:
    """A home whose settings send DashScope Singapore's dialect to the loopback server."""
    settings = Settings(max_retries=1)
    settings.set_base_url_override("dashscope-intl", server.base_url_for("dashscope"))
    settings.save()
    return isolated_home


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.endswith(("_API_KEY", "_ACCESS_TOKEN")) and not k.startswith("QWENVL")}
    env.update({
        "QWENVL_DESKTOP_HOME": str(home),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])),
        "PYTHONIOENCODING": "utf-8",
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        "NO_PROXY": "*",
    })
    env.update(extra)
    return env


def run(home: Path, *args: str, key: str | None = DEFAULT_KEY, stdin: str = "",
        **env: str) -> subprocess.CompletedProcess[str]:
    extra = dict(env)
    if key is not None:
        extra["DASHSCOPE_API_KEY"] = key
    return subprocess.run(
        [sys.executable, "-m", "qwenvl_desktop", *args], input=stdin, capture_output=True,
        text=True, encoding="utf-8", env=_env(home, **extra), cwd=home, timeout=120,
        check=False,
    )


def _png(path: Path, size: tuple[int, int] = (64, 48)) -> Path:
    Image.new("RGB", size, (200, 30, 30)).save(path, "PNG")
    return path


# --- streaming and output ----------------------------------------------------------------

def test_ask_streams_answer_to_stdout_and_reasoning_to_stderr(
    home: Path, server: ProviderServer
) -> None:
    server.enqueue(Script(content="The answer is 42.", reasoning="Let me think.\nStep two."))
    result = run(home, "ask", "What is six times seven?")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "The answer is 42.\n"
    assert "[reasoning] Let me think.\n[reasoning] Step two.\n" in result.stderr
    assert "The answer is 42." not in result.stderr
    summary = result.stderr.strip().splitlines()[-1]
    assert "qwen3-vl-plus via dashscope-intl" in summary
    assert "42 prompt" in summary
    assert "finish: stop" in summary
    (request,) = server.requests
    assert request.headers["authorization"] == f"Bearer {DEFAULT_KEY}"
    assert request.json["model"] == "qwen3-vl-plus"
    assert request.json["messages"][-1]["content"] in (
        "What is six times seven?", [{"type": "text", "text": "What is six times seven?"}])


def test_answer_reaches_stdout_while_the_stream_is_still_open(
    home: Path, server: ProviderServer
) -> None:
    server.enqueue(Script(content="one two three four", stall=True, fault_after=2))
    proc = subprocess.Popen(
        [sys.executable, "-m", "qwenvl_desktop", "ask", "count"], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, env=_env(home, DASHSCOPE_API_KEY=DEFAULT_KEY), cwd=home)
    try:
        server.wait_for_stall(timeout=60)
        seen = _read_until(proc, b"one two")
        assert proc.poll() is None          # still streaming: the server is stalled
    finally:
        server.release_stalls()
        proc.communicate(timeout=60)
    assert seen.startswith(b"one two")
    assert proc.returncode == 6             # released stall ends without a finish reason


def _read_until(proc: subprocess.Popen[bytes], wanted: bytes) -> bytes:
    assert proc.stdout is not None
    data = b""
    deadline = time.monotonic() + 60       # a safety net against hanging, not a timing check
    while wanted not in data and time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 1.0)
        if ready:
            chunk = os.read(proc.stdout.fileno(), 4096)
            if not chunk:
                break
            data += chunk
    return data


def test_json_prints_one_object_at_the_end(home: Path, server: ProviderServer) -> None:
    server.enqueue(Script(content="Red square.", reasoning="Looking."))
    result = run(home, "ask", "--json", "What is this?")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["text"] == "Red square."
    assert data["reasoning"] == "Looking."
    assert data["finish_reason"] == "stop"
    assert data["model"] == "qwen3-vl-plus"
    assert data["provider"] == "dashscope-intl"
    assert data["usage"]["prompt_tokens"] == 42
    assert data["usage"]["completion_tokens"] > 0
    assert data["timings"]["total_s"] >= data["timings"]["first_token_s"] >= 0
    assert data["retries"] == 0
    assert "[reasoning]" not in result.stderr


def test_parameters_reach_the_request(home: Path, server: ProviderServer) -> None:
    result = run(home, "ask", "-m", "qwen3-vl-flash", "--temperature", "0.5", "--top-p",
                 "0.9", "--max-tokens", "99", "--seed", "7", "--no-thinking", "--high-res",
                 "--system", "Be terse.", "Hi")
    assert result.returncode == 0, result.stderr
    body = server.requests[0].json
    assert body["model"] == "qwen3-vl-flash"
    assert (body["temperature"], body["top_p"], body["max_completion_tokens"], body["seed"]) == (
        0.5, 0.9, 99, 7)
    assert body["enable_thinking"] is False
    assert body["vl_high_resolution_images"] is True
    assert body["messages"][0]["role"] == "system"


def test_image_file_is_sent_as_data_uri(home: Path, server: ProviderServer,
                                        tmp_path: Path) -> None:
    image = _png(tmp_path / "shot.png")
    result = run(home, "ask", "-i", str(image), "Describe it")
    assert result.returncode == 0, result.stderr
    content = server.requests[0].json["messages"][-1]["content"]
    urls = [part["image_url"]["url"] for part in content if part.get("type") == "image_url"]
    assert len(urls) == 1
    assert urls[0].startswith("data:image/")


@pytest.fixture
def image_url(tmp_path: Path) -> Iterator[str]:
    """An http URL serving a PNG from a throwaway local web server."""
    folder = tmp_path / "web"
    folder.mkdir()
    _png(folder / "pic.png", (96, 64))
    handler = functools.partial(_QuietHandler, directory=str(folder))
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as httpd:
        thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        thread.start()
        yield f"http://127.0.0.1:{httpd.server_address[1]}/pic.png"
        httpd.shutdown()
        thread.join()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        return


def test_image_url_passed_through_or_downloaded(home: Path, server: ProviderServer,
                                                image_url: str) -> None:
    # DashScope fetches image URLs itself; a custom endpoint gets the downloaded bytes.
    assert run(home, "ask", "-i", image_url, "What?").returncode == 0
    assert run(home, "ask", "--base-url", server.base_url_for("custom"), "-m", "qwen2.5-vl",
               "-i", image_url, "What?", key=None).returncode == 0
    sent = [[part["image_url"]["url"] for part in r.json["messages"][-1]["content"]
             if part.get("type") == "image_url"] for r in server.requests]
    assert sent[0] == [image_url]
    assert len(sent[1]) == 1
    assert sent[1][0].startswith("data:image/")


def test_custom_endpoint_by_base_url(home: Path, server: ProviderServer) -> None:
    url = server.base_url_for("custom")
    no_key = run(home, "ask", "--base-url", url, "-m", "my-local-vl", "Hi", key=None)
    assert no_key.returncode == 0, no_key.stderr
    with_key = run(home, "ask", "--base-url", url, "-m", "my-local-vl", "Hi", key=None,
                   QWENVL_API_KEY=DEFAULT_KEY)
    assert with_key.returncode == 0, with_key.stderr
    first, second = server.requests
    assert first.json["model"] == "my-local-vl"
    assert "authorization" not in first.headers
    assert second.headers["authorization"] == f"Bearer {DEFAULT_KEY}"


def test_provider_dialect_to_another_base_url(isolated_home: Path,
                                              server: ProviderServer) -> None:
    result = run(isolated_home, "ask", "-p", "segmind", "--base-url",
                 server.base_url_for("segmind"), "Hi", key=None, SEGMIND_API_KEY=DEFAULT_KEY)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Hello from the loopback server.\n"
    (request,) = server.requests
    assert request.headers["x-api-key"] == DEFAULT_KEY
    assert "model" not in request.json


# --- exit codes ----------------------------------------------------------------------------

@pytest.mark.parametrize(("script", "code", "words"), [
    (Script(status=401), 3, "region"),
    (Script(status=429), 4, "rate"),
    (Script(status=500), 5, "server"),
    (Script(drop_after=2), 6, "cut off"),
], ids=["401", "429", "500", "drop"])
def test_provider_failures_map_to_exit_codes(
    home: Path, server: ProviderServer, script: Script, code: int, words: str
) -> None:
    server.enqueue(script, times=2)   # settings allow one retry
    result = run(home, "ask", "Hi")
    assert result.returncode == code, result.stderr
    assert words in result.stderr.lower()
    assert "Traceback" not in result.stderr


def test_timeout_sets_the_idle_read_limit(home: Path, server: ProviderServer) -> None:
    server.enqueue(Script(content="slow answer here", stall=True, fault_after=1))
    result = run(home, "ask", "--timeout", "0.5", "Hi")
    assert result.returncode == 6
    assert "0.5 s" in result.stderr
    assert result.stdout.startswith("slow")            # what arrived is still shown


def test_missing_key_is_exit_3(home: Path, server: ProviderServer) -> None:
    result = run(home, "ask", "Hi", key=None)
    assert result.returncode == 3
    assert "DASHSCOPE_API_KEY" in result.stderr
    assert server.requests == []


def test_bad_image_is_exit_7(home: Path, server: ProviderServer, tmp_path: Path) -> None:
    fake = tmp_path / "notes.png"
    fake.write_text("this is not an image")
    result = run(home, "ask", "-i", str(fake), "Hi")
    assert result.returncode == 7
    assert "notes.png" in result.stderr
    missing = run(home, "ask", "-i", str(tmp_path / "nope.jpg"), "Hi")
    assert missing.returncode == 7
    assert server.requests == []


@pytest.mark.parametrize("args", [
    ["ask"], ["ask", "--temperature", "hot", "Hi"], ["frobnicate"],
    ["ask", "--base-url", "http://127.0.0.1:9/v1", "Hi"],       # custom endpoint needs -m
    ["ask", "--timeout", "0", "Hi"], ["ask", "--thinking", "--no-thinking", "Hi"],
    ["key", "set", "ovh", "sk-on-the-command-line"],
])
def test_usage_errors_are_exit_2(home: Path, server: ProviderServer, args: list[str]) -> None:
    result = run(home, *args)
    assert result.returncode == 2, result.stderr
    assert "usage:" in result.stderr
    assert server.requests == []


def test_out_of_range_parameter_is_exit_2(home: Path, server: ProviderServer) -> None:
    result = run(home, "ask", "--temperature", "5", "Hi")
    assert result.returncode == 2
    assert "temperature" in result.stderr
    assert server.requests == []


def test_version(home: Path) -> None:
    result = run(home, "--version")
    assert result.returncode == 0
    assert qwenvl_desktop.__version__ in result.stdout


# --- saving and continuing ------------------------------------------------------------------

def test_save_then_continue_holds_both_turns(home: Path, server: ProviderServer,
                                             tmp_path: Path) -> None:
    path = tmp_path / "chat.qwenvl"
    server.enqueue(Script(content="First answer."), Script(content="Second answer."))
    first = run(home, "ask", "-m", "qwen3-vl-flash", "--save", str(path), "First question")
    assert first.returncode == 0, first.stderr
    second = run(home, "ask", "--continue", str(path), "Second question")
    assert second.returncode == 0, second.stderr
    conv = load_conversation(path)
    assert [(m.role, m.text) for m in conv.messages] == [
        ("user", "First question"), ("assistant", "First answer."),
        ("user", "Second question"), ("assistant", "Second answer.")]
    assert all(m.status == "complete" for m in conv.messages)
    assert conv.model_id == "qwen3-vl-flash"             # kept from the file
    answer = conv.messages[-1]
    assert answer.provenance is not None
    assert answer.provenance.model == "qwen3-vl-flash"
    assert answer.provenance.finish_reason == "stop"
    assert answer.provenance.usage is not None
    # The second request resent the whole history.
    sent = server.requests[1].json
    assert sent["model"] == "qwen3-vl-flash"
    assert [m["role"] for m in sent["messages"]] == ["user", "assistant", "user"]


def test_continue_on_error_keeps_question_and_partial_answer(
    home: Path, server: ProviderServer, tmp_path: Path
) -> None:
    path = tmp_path / "chat.qwenvl"
    server.enqueue(Script(content="Fine."))
    assert run(home, "ask", "--save", str(path), "One").returncode == 0
    server.enqueue(Script(content="alpha beta gamma delta", drop_after=2))
    result = run(home, "ask", "--continue", str(path), "Two")
    assert result.returncode == 6
    sent = server.requests[-1].sent_text
    assert sent
    assert result.stdout.startswith(sent)
    conv = load_conversation(path)
    assert [m.role for m in conv.messages] == ["user", "assistant", "user", "assistant"]
    assert conv.messages[2].text == "Two"
    partial = conv.messages[3]
    assert partial.status == "interrupted"
    assert partial.text == sent
    assert partial.error
    assert "cut off" in partial.error


def test_continue_after_a_failed_turn_says_so_and_sends_both_questions(
        home: Path, server: ProviderServer, tmp_path: Path) -> None:
    """DashScope refuses two user messages in a row: the unanswered question goes with
    the new one, in one user turn (core/api/turn_order.py)."""
    path = tmp_path / "chat.qwenvl"
    server.enqueue(Script(content="One answered."), Script(status=400),
                   Script(content="Both answered."))
    assert run(home, "ask", "--save", str(path), "One").returncode == 0
    failed = run(home, "ask", "--continue", str(path), "Two")
    assert failed.returncode != 0
    assert "has no answer" not in failed.stderr
    third = run(home, "ask", "--continue", str(path), "Three")
    assert third.returncode == 0, third.stderr
    assert "note: the last question in the file has no answer" in third.stderr
    assert third.stdout == "Both answered.\n"
    sent = server.requests[-1].json["messages"]
    assert [(m["role"], m["content"]) for m in sent] == [
        ("user", "One"), ("assistant", "One answered."), ("user", "Two\n\nThree")]


def test_continue_missing_file_is_exit_7(home: Path, tmp_path: Path) -> None:
    result = run(home, "ask", "--continue", str(tmp_path / "none.qwenvl"), "Hi")
    assert result.returncode == 7


def test_continue_never_overwrites_a_change_made_meanwhile(
    home: Path, server: ProviderServer, tmp_path: Path
) -> None:
    """`ask --continue FILE` while the window saves the same conversation: the window's
    turn stays in FILE, the terminal's goes beside it, and stderr says where."""
    path = tmp_path / "chat.qwenvl"
    server.enqueue(Script(content="Fine."))
    assert run(home, "ask", "--save", str(path), "One").returncode == 0
    window = load_conversation(path)            # the window holds it, as it was
    server.enqueue(Script(content="Terminal answer", stall=True, fault_after=1))
    proc = subprocess.Popen(
        [sys.executable, "-m", "qwenvl_desktop", "ask", "--continue", str(path),
         "From the terminal"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=_env(home, DASHSCOPE_API_KEY=DEFAULT_KEY), cwd=home)
    try:
        server.wait_for_stall(timeout=60)
        # The terminal saves its first piece at once; the window saves after that.
        deadline = time.monotonic() + 60
        while "From the terminal" not in path.read_text("utf-8"):
            assert time.monotonic() < deadline, "the terminal never saved"
            time.sleep(0.05)
        window.append(Message(role="user", text="From the window"))
        save_conversation(window, path)
        server.release_stalls()
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert [m.text for m in load_conversation(path).messages] == [
        "One", "Fine.", "From the window"]
    copy = tmp_path / "chat (copy from the terminal).qwenvl"
    texts = [m.text for m in load_conversation(copy).messages]
    assert texts[:3] == ["One", "Fine.", "From the terminal"]
    assert texts[3].startswith("Terminal")
    assert "chat.qwenvl was changed by another program" in err
    assert str(copy) in err


def test_save_never_overwrites_an_existing_file(
    home: Path, server: ProviderServer, tmp_path: Path
) -> None:
    path = tmp_path / "notes.qwenvl"
    path.write_text("not ours")
    server.enqueue(Script(content="Fine."))
    result = run(home, "ask", "--json", "--save", str(path), "One")
    assert result.returncode == 0, result.stderr
    assert path.read_text() == "not ours"
    copy = tmp_path / "notes (copy from the terminal).qwenvl"
    assert json.loads(result.stdout)["saved"] == str(copy)
    assert [m.text for m in load_conversation(copy).messages] == ["One", "Fine."]


def test_ctrl_c_stops_cleanly_and_saves_the_partial_answer(
    home: Path, server: ProviderServer, tmp_path: Path
) -> None:
    path = tmp_path / "chat.qwenvl"
    server.enqueue(Script(content="one two three four", stall=True, fault_after=2))
    proc = subprocess.Popen(
        [sys.executable, "-m", "qwenvl_desktop", "ask", "--save", str(path), "count"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=_env(home, DASHSCOPE_API_KEY=DEFAULT_KEY), cwd=home)
    try:
        server.wait_for_stall(timeout=60)
        _read_until(proc, b"one two")
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert server.wait_for_client_close(timeout=10) >= 1     # the connection was closed
    conv = load_conversation(path)
    assert [m.role for m in conv.messages] == ["user", "assistant"]
    assert conv.messages[1].status == "stopped"
    assert conv.messages[1].text == "one two"
    assert b"Traceback" not in err


# --- providers, keys and export -----------------------------------------------------------

def test_providers_lists_models_and_key_source(home: Path) -> None:
    result = run(home, "providers")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for provider_id in ("dashscope-intl", "dashscope-us", "dashscope-cn", "ovh", "aimlapi",
                        "nebula", "segmind"):
        assert f"{provider_id}:" in out
    assert "qwen3-vl-plus" in out
    assert "factor 32" in out
    assert "key from DASHSCOPE_API_KEY" in out
    assert DEFAULT_KEY not in out + result.stderr


def test_key_set_status_delete_in_process(memory_keyring: MemoryKeyring,
                                          monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("  sk-typed-into-stdin-123456  \n"))
    assert cli.main(["key", "set", "dashscope-us"]) == 0
    assert memory_keyring.store == {
        ("qwenvl-desktop", "dashscope-us"): "sk-typed-into-stdin-123456"}
    assert cli.main(["key", "status", "dashscope-us"]) == 0
    assert cli.main(["key", "status", "dashscope-intl"]) == 0
    out = capsys.readouterr().out
    assert "keyring" in out
    assert "no key" in out                                  # the other region has none
    assert "sk-typed-into-stdin" not in out
    assert cli.main(["key", "delete", "dashscope-us"]) == 0
    assert memory_keyring.store == {}


@pytest.mark.parametrize("stdin", ["", "line one\nline two\n"])
def test_key_set_refuses_empty_or_multiline(memory_keyring: MemoryKeyring,
                                            monkeypatch: pytest.MonkeyPatch, stdin: str,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    assert cli.main(["key", "set", "ovh"]) == 2
    assert memory_keyring.store == {}
    assert "line one" not in capsys.readouterr().err


def test_key_set_without_secure_keyring_fails_loudly(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    keyring.set_keyring(keyring.backends.fail.Keyring())
    monkeypatch.setattr(sys, "stdin", io.StringIO("sk-abcdefghijkl\n"))
    assert cli.main(["key", "set", "ovh"]) == 8
    err = capsys.readouterr().err
    assert "not saved" in err
    assert "read -rs OVH_AI_ENDPOINTS_ACCESS_TOKEN && export" in err
    assert "sk-abcdefghijkl" not in err
    assert sys.stdin.read() == "sk-abcdefghijkl\n"       # refused before reading the key


def test_unknown_provider_for_key_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["key", "status", "nope"]) == 2
    assert "Unknown provider" in capsys.readouterr().err


def test_export_markdown_and_html(home: Path, server: ProviderServer, tmp_path: Path) -> None:
    path = tmp_path / "chat.qwenvl"
    image = _png(tmp_path / "pic.png")
    server.enqueue(Script(content="A **red** rectangle."))
    assert run(home, "ask", "-i", str(image), "--save", str(path), "What?").returncode == 0
    md = run(home, "export", str(path), "--to", "md", "-o", str(tmp_path / "out.md"))
    assert md.returncode == 0, md.stderr
    text = (tmp_path / "out.md").read_text(encoding="utf-8")
    assert "What?" in text
    assert "A **red** rectangle." in text
    html = run(home, "export", str(path), "--to", "html")
    assert html.returncode == 0, html.stderr
    page = (tmp_path / "chat.html").read_text(encoding="utf-8")
    assert "<strong>red</strong>" in page
    assert "data:image/" in page


def test_export_of_corrupt_file_is_exit_7(home: Path, tmp_path: Path) -> None:
    path = tmp_path / "broken.qwenvl"
    path.write_text("{not json")
    result = run(home, "export", str(path), "--to", "md")
    assert result.returncode == 7
    assert "broken.qwenvl" in result.stderr


# --- the window entry ----------------------------------------------------------------------

def test_no_arguments_or_files_open_the_window(monkeypatch: pytest.MonkeyPatch,
                                               tmp_path: Path) -> None:
    from qwenvl_desktop import __main__ as entry

    calls: list[list[str]] = []
    monkeypatch.setattr(entry, "_run_window", lambda argv: calls.append(list(argv)) or 0)
    existing = tmp_path / "chat.qwenvl"
    existing.write_text("{}")
    image = tmp_path / "shot.png"
    image.write_bytes(b"png")
    assert entry.main([]) == 0
    assert entry.main([str(existing)]) == 0
    assert entry.main([str(existing), str(image)]) == 0     # "Open with" on several files
    assert calls == [[], [str(existing)], [str(existing), str(image)]]
    assert entry.main([str(tmp_path / "missing.qwenvl")]) == 2   # not a file: usage error
    assert entry.main(["providers", str(existing)]) == 2         # a command, never the window
    assert calls == [[], [str(existing)], [str(existing), str(image)]]
    # The terminal front end alone never opens a window, even for --self-test.
    assert cli.main(["--self-test"]) == 2
