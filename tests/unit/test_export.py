"""Exports: Markdown with an images folder, and one self-contained, script-free HTML file."""

from __future__ import annotations

import base64
import dataclasses
import re
import urllib.parse
from html.parser import HTMLParser
from pathlib import Path

import pytest
from storage_samples import FAKE_KEY, sample_conversation

from qwenvl_desktop.core.api.types import Usage
from qwenvl_desktop.core.conversation import Conversation, Message, Provenance
from qwenvl_desktop.core.export import export_html, export_markdown, status_line

EVIL = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    path = tmp_path / "exports"
    path.mkdir()
    return path


def _hostile_conversation() -> Conversation:
    conv = sample_conversation()
    conv.title = f"Title {EVIL}"
    conv.system_prompt = f"System {EVIL}"
    conv.messages[0].text = f"User says {EVIL}"
    conv.messages[1].text = (f"Model says {EVIL}\n\n[click](javascript:alert(1)) "
                             "[docs](https://example.com/docs)\n\n![pic](https://evil.example/t.png)")
    conv.messages[1].reasoning = f"Thinking {EVIL}"
    conv.messages[5].error = f"Error {EVIL} Authorization: Bearer {FAKE_KEY}"
    sha, first = next(iter(conv.images.items()))
    conv.images[sha] = dataclasses.replace(first, original_name='x" onload="alert(1).png')
    return conv


# --- Markdown ------------------------------------------------------------------------

def test_markdown_export_writes_images_once_and_links_resolve(out_dir: Path) -> None:
    conv = sample_conversation()
    out = export_markdown(conv, out_dir / "my chat.md")
    assert out == out_dir / "my chat.md"
    text = out.read_text(encoding="utf-8")
    images_dir = out_dir / "my chat_images"
    assert images_dir.is_dir()
    assert len(list(images_dir.iterdir())) == len(conv.images) == 2   # shared image: one file
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert len(links) == 4   # every appearance is linked, to the same files
    for link in links:
        target = out.parent / urllib.parse.unquote(link)
        assert target.is_file()
        assert not Path(link).is_absolute()
        assert target.read_bytes() in {img.data for img in conv.images.values()}


def test_markdown_export_content(out_dir: Path) -> None:
    conv = sample_conversation()
    text = export_markdown(conv, out_dir / "c.md").read_text(encoding="utf-8")
    assert text.startswith("# Dialog review — 日本語 ✓\n")
    assert "> **System prompt**" in text
    assert "### You · " in text
    assert "### Assistant · " in text
    assert "2023-11-1" in text   # a date from the message timestamps (any timezone)
    # Reasoning is quoted apart from the answer and comes before it.
    reasoning = text.index("> Look at the buttons first.")
    answer = text.index("The **OK** button is disabled.")
    assert text.index("> **Reasoning**") < reasoning < answer
    assert "```python\nx = 1\n```" in text
    status = ("*qwen3-vl-plus · 1,204 tokens in · 388 out (120 reasoning) · first token 0.82 s "
              "· 6.4 s total · 69.4 tokens/s · finish: stop · 1 retry*")
    assert status in text
    assert "Stopped before the end" in text
    assert "Interrupted" in text
    assert "Error: HTTP 429: rate limited" in text


def test_markdown_export_without_images_makes_no_folder(out_dir: Path) -> None:
    conv = Conversation(title="t", messages=[Message(role="user", text="hi")])
    export_markdown(conv, out_dir / "plain.md")
    assert [p.name for p in out_dir.iterdir()] == ["plain.md"]


def test_markdown_export_never_contains_a_key(out_dir: Path) -> None:
    text = export_markdown(_hostile_conversation(), out_dir / "k.md").read_text()
    assert FAKE_KEY not in text
    assert "SAMPLEKEY" not in text


# --- HTML ----------------------------------------------------------------------------

class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.urls: list[tuple[str, str, str]] = []
        self.event_attrs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "href", "action", "srcset", "poster"):
                self.urls.append((tag, name, value or ""))
            if name.startswith("on"):
                self.event_attrs.append(name)


def _parse(path: Path) -> tuple[str, _Collector]:
    text = path.read_text(encoding="utf-8")
    collector = _Collector()
    collector.feed(text)
    return text, collector


def test_html_export_is_self_contained(out_dir: Path) -> None:
    conv = sample_conversation()
    out = export_html(conv, out_dir / "c.html")
    assert [p.name for p in out_dir.iterdir()] == ["c.html"]
    text, doc = _parse(out)
    srcs = [v for tag, name, v in doc.urls if name == "src"]
    assert len(srcs) == 4   # two images in message 0, one each in messages 2 and 4
    assert all(v.startswith("data:image/png;base64,") for v in srcs)
    decoded = {base64.b64decode(v.split(",", 1)[1]) for v in srcs}
    assert decoded == {img.data for img in conv.images.values()}
    assert all(v.startswith(("http://", "https://")) for tag, name, v in doc.urls
               if name != "src")
    assert "Content-Security-Policy" in text
    assert "copy-code:" not in text
    assert "<link" not in text.lower()


def test_html_export_content(out_dir: Path) -> None:
    text, doc = _parse(export_html(sample_conversation(), out_dir / "c.html"))
    assert "<title>Dialog review — 日本語 ✓</title>" in text
    assert "<details><summary>Reasoning</summary>" in text
    details = text.index("<details>")
    assert details < text.index("Look at the buttons first.") < text.index("</details>")
    assert text.index("</details>") < text.index("button is disabled")
    assert "<strong>OK</strong>" in text            # the answer is rendered markdown
    assert re.search(r'<span style="[^"]*color: #[0-9A-Fa-f]{3,6}', text)   # highlighted code
    assert ("qwen3-vl-plus · 1,204 tokens in · 388 out (120 reasoning) · "
            "first token 0.82 s · 6.4 s total · 69.4 tokens/s · finish: stop") in text
    assert "Stopped before the end" in text
    assert "Interrupted" in text
    assert 'class="note error"' in text
    assert doc.tags.count("section") == 1 + 7   # system prompt + seven messages


def test_html_export_escapes_everything(out_dir: Path) -> None:
    text, doc = _parse(export_html(_hostile_conversation(), out_dir / "evil.html"))
    assert "script" not in doc.tags
    assert doc.event_attrs == []
    assert "<script" not in text.lower()
    assert "&lt;script&gt;" in text
    assert "javascript:" not in text.replace("[click](javascript:alert(1))", "")
    hrefs = [v for tag, name, v in doc.urls if name == "href"]
    assert "https://example.com/docs" in hrefs
    assert all(v.startswith(("http://", "https://")) for v in hrefs)
    # A markdown image in model output is a link, never a fetch.
    srcs = [v for tag, name, v in doc.urls if name == "src"]
    assert all(v.startswith("data:") for v in srcs)
    assert FAKE_KEY not in text
    assert "SAMPLEKEY" not in text


def test_status_line_with_partial_provenance() -> None:
    message = Message(role="assistant", provenance=Provenance(
        provider="ovh", model="Qwen2.5-VL-72B-Instruct",
        usage=Usage(prompt_tokens=10, completion_tokens=2)))
    assert status_line(message) == "Qwen2.5-VL-72B-Instruct · 10 tokens in · 2 out"
    assert status_line(Message(role="user")) == ""


def test_exports_show_documents_and_a_clip_as_a_filmstrip(out_dir: Path) -> None:
    import hashlib

    from qwenvl_desktop.core.conversation import Conversation, Message, StoredImage
    from qwenvl_desktop.core.export import export_html, export_markdown
    from qwenvl_desktop.core.media_groups import MediaGroup

    def image(tag: str) -> StoredImage:
        data = hashlib.sha256(tag.encode()).digest() * 4
        return StoredImage(sha256=hashlib.sha256(data).hexdigest(), mime="image/jpeg",
                           data=data, width=64, height=36, original_name=tag)

    conv = Conversation(title="Media")
    pages = [image(f"report.pdf p. {n}") for n in (2, 3)]
    frames = [image(f"clip.mp4 @ {t} s") for t in (0.5, 1.5, 2.5, 3.5)]
    message = Message(role="user", text="What happens?")
    for img in (*pages, *frames):
        message.images.append(conv.add_image(img))
    message.media = [
        MediaGroup(kind="document", name="report.pdf", images=[p.sha256 for p in pages],
                   pages=[2, 3], page_count=9, tokens=5020),
        MediaGroup(kind="video", name="clip.mp4", images=[f.sha256 for f in frames],
                   timestamps=[0.5, 1.5, 2.5, 3.5], duration=4.0, tokens=600)]
    conv.append(message)

    page = export_html(conv, out_dir / "media.html").read_text("utf-8")
    assert "<b>Document</b> report.pdf · pages 2–3 of 9" in page
    assert "<b>Video</b> clip.mp4 · 4.0 s · 4 frames" in page
    strip = page.split('<div class="filmstrip">', 1)[1].split("</div>", 1)[0]
    assert strip.count("<figure") == 4
    assert [c.split("</figcaption>")[0] for c in strip.split("<figcaption>")[1:]] == [
        "0.5 s", "1.5 s", "2.5 s", "3.5 s"]

    text = export_markdown(conv, out_dir / "media.md").read_text("utf-8")
    assert "**Document:** report.pdf · pages 2–3 of 9" in text
    assert "**Video:** clip.mp4 · 4.0 s · 4 frames" in text
    film = next(line for line in text.splitlines() if line.count("![") == 4)
    assert "clip.mp4 @ 0.5 s" in film
    assert len(list((out_dir / "media_images").iterdir())) == 6
