"""Documents and videos end to end: the terminal command and `send_turn` against the
loopback server, which checks the video part as DashScope would."""

from __future__ import annotations

import asyncio
import base64
import io
from pathlib import Path

import httpx
import pytest
from PIL import Image

from qwenvl_desktop.core.api.client import ChatClient
from qwenvl_desktop.core.api.types import ChatParams
from qwenvl_desktop.core.conversation import Conversation
from qwenvl_desktop.core.documents import PAGE_CAP
from qwenvl_desktop.core.media import PreparedMedia
from qwenvl_desktop.core.settings import Settings
from qwenvl_desktop.core.storage import load_conversation
from qwenvl_desktop.core.turn import send_turn
from qwenvl_desktop.core.video import prepare_video
from qwenvl_desktop.testing.media_samples import pdf_bytes, write_video
from qwenvl_desktop.testing.provider_server import ProviderServer

from .conftest import Wire
from .test_cli import run


@pytest.fixture
def server(fresh_server: ProviderServer) -> ProviderServer:
    return fresh_server


@pytest.fixture
def home(isolated_home: Path, server: ProviderServer) -> Path:
    """Settings that send DashScope Singapore's dialect to the loopback server."""
    settings = Settings(max_retries=1)
    settings.set_base_url_override("dashscope-intl", server.base_url_for("dashscope"))
    settings.save()
    return isolated_home


def _parts(server: ProviderServer) -> list[dict[str, object]]:
    content = server.requests[-1].json["messages"][-1]["content"]
    assert isinstance(content, list)
    return content


def test_pdf_with_a_range_sends_exactly_those_pages(home: Path, server: ProviderServer,
                                                    tmp_path: Path) -> None:
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(pdf_bytes(6))
    saved = tmp_path / "chat.qwenvl"
    result = run(home, "ask", "-i", f"{pdf}:2-4", "--save", str(saved), "Summarise")
    assert result.returncode == 0, result.stderr
    parts = _parts(server)
    images = [p for p in parts if p["type"] == "image_url"]
    assert len(images) == 3
    conversation = load_conversation(saved)
    group = conversation.messages[0].media[0]
    assert (group.kind, group.name, group.pages, group.page_count) == (
        "document", "report.pdf", [2, 3, 4], 6)


def test_pdf_without_a_range_stops_at_the_page_cap_and_says_so(
        home: Path, server: ProviderServer, tmp_path: Path) -> None:
    pdf = tmp_path / "long.pdf"
    # Small pages that all look alike: stored once, yet each is sent in its place.
    pdf.write_bytes(pdf_bytes(PAGE_CAP + 3, (144, 144)))
    result = run(home, "ask", "-i", str(pdf), "Summarise")
    assert result.returncode == 0, result.stderr
    assert sum(p["type"] == "image_url" for p in _parts(server)) == PAGE_CAP
    assert f"sending pages 1–{PAGE_CAP} of {PAGE_CAP + 3}" in result.stderr
    assert f"long.pdf:{PAGE_CAP + 1}-{PAGE_CAP + 3}" in result.stderr


def test_bad_range_and_encrypted_pdf_are_exit_7(home: Path, server: ProviderServer,
                                                tmp_path: Path) -> None:
    pdf = tmp_path / "short.pdf"
    pdf.write_bytes(pdf_bytes(2))
    result = run(home, "ask", "-i", f"{pdf}:3-5", "Hi")
    assert result.returncode == 7
    assert "short.pdf" in result.stderr
    assert "goes past the end" in result.stderr
    assert server.requests == []


def test_video_goes_to_dashscope_as_one_frame_list(home: Path, server: ProviderServer,
                                                   tmp_path: Path) -> None:
    clip = write_video(tmp_path / "clip.mp4", seconds=4.0)
    result = run(home, "ask", "-i", str(clip), "--fps", "1", "--max-frames", "6", "What?")
    assert result.returncode == 0, result.stderr
    parts = _parts(server)
    videos = [p for p in parts if p["type"] == "video"]
    assert len(videos) == 1
    frames = videos[0]["video"]
    assert isinstance(frames, list)
    assert len(frames) == 4                         # 4 s at 1 fps
    for frame in frames:
        assert frame.startswith("data:image/jpeg;base64,")
        with Image.open(io.BytesIO(base64.b64decode(frame.split(",", 1)[1]))) as im:
            assert im.size == (448, 320)            # 320×240 raised to 128 tokens a frame
    assert parts[-1] == {"type": "text", "text": "What?"}


def test_loopback_dashscope_refuses_a_frame_list_out_of_bounds(wire: Wire) -> None:
    # Built past the request builder (which would fall back to images): the server's
    # own check is what is tested here.
    frames = tuple("data:image/jpeg;base64,AAAA" for _ in range(3))
    provider = wire.provider("dashscope-intl")
    body = {"model": "qwen3-vl-plus", "messages": [{"role": "user", "content": [
        {"type": "video", "video": list(frames)}, {"type": "text", "text": "Hi"}]}]}
    response = httpx.post(provider.chat_url("qwen3-vl-plus"), json=body,
                          headers={"Authorization": f"Bearer {wire.key}"})
    assert response.status_code == 400
    assert "between 4 and 512" in response.text
    # OpenAI-compatible providers do not know the part at all.
    ovh = wire.provider("ovh")
    body["model"] = "Qwen2.5-VL-72B-Instruct"
    body["messages"][0]["content"][0]["video"] = list(frames) * 2  # type: ignore[index]
    refused = httpx.post(ovh.chat_url(body["model"]), json=body,
                         headers={"Authorization": f"Bearer {wire.key}"})
    assert refused.status_code == 400
    assert "unsupported content type 'video'" in refused.text


@pytest.mark.parametrize("provider_id", ["dashscope-intl", "ovh", "nebula"])
def test_send_turn_with_a_clip_is_accepted_by_every_dialect(
        wire: Wire, tmp_path: Path, provider_id: str) -> None:
    provider = wire.provider(provider_id)
    model = wire.model(provider_id)
    clip = write_video(tmp_path / "clip.mp4", seconds=2.0)
    prepared: PreparedMedia = prepare_video(clip, name="clip.mp4", fps=2.0, max_frames=8,
                                            model=model, provider=provider)
    conversation = Conversation()

    async def go() -> None:
        async with httpx.AsyncClient() as http:
            await send_turn(ChatClient(http), conversation, provider, model, ChatParams(),
                            "What happens?", [prepared], api_key=wire.key)

    asyncio.run(go())
    assert conversation.messages[-1].status == "complete"
    content = wire.server.requests[-1].json["messages"][-1]["content"]
    if provider_id.startswith("dashscope"):
        assert [p["type"] for p in content] == ["video", "text"]
        assert len(content[0]["video"]) == 4
    else:
        texts = [p["text"] for p in content if p["type"] == "text"]
        assert texts == ["<0.2 seconds>", "<0.8 seconds>", "<1.2 seconds>", "<1.8 seconds>",
                         "What happens?"]
        assert sum(p["type"] == "image_url" for p in content) == 4
