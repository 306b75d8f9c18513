"""Exports show what an answer located: the annotated image in HTML, a PNG beside the
original in Markdown; OCR tables are exported as tables drawn from their parsed cells."""

from __future__ import annotations

import base64
import io
import re
import urllib.parse
from pathlib import Path

from PIL import Image

from qwenvl_desktop.core.catalog import load_builtin
from qwenvl_desktop.core.conversation import Conversation, Message, Provenance
from qwenvl_desktop.core.export import export_html, export_markdown
from qwenvl_desktop.core.grounding import PALETTE
from qwenvl_desktop.core.images import prepare_image

RED = tuple(int(PALETTE[0][i:i + 2], 16) for i in (1, 3, 5))


def _conversation() -> Conversation:
    provider = load_builtin().get("dashscope-intl")
    model = provider.model("qwen3-vl-plus")
    buffer = io.BytesIO()
    Image.new("RGB", (400, 300), (255, 255, 255)).save(buffer, "PNG")
    prepared = prepare_image(buffer.getvalue(), name="shot.png", model=model, provider=provider)
    conv = Conversation(title="Locate")
    sha = conv.add_image(prepared.to_stored())
    conv.append(Message(role="user", text="Where is the box?", images=[sha]))
    conv.append(Message(role="assistant", provenance=Provenance("dashscope-intl", model.id),
                        text='```json\n[{"bbox_2d": [250, 250, 750, 750], "label": "box"}]\n```'))
    conv.append(Message(role="user", text="Read the table"))
    conv.append(Message(role="assistant", provenance=Provenance("dashscope-intl", model.id),
                        text='<html><body><table><tr><td onclick="x()">a, b</td>'
                             "<td>&lt;i&gt;</td></tr></table></body></html>"))
    return conv


def _has_outline(image: Image.Image, x: int, y: int) -> bool:
    return any(image.getpixel((x + dx, y + dy)) == RED for dx in (-1, 0, 1)
               for dy in (-1, 0, 1))


def test_html_export_embeds_the_annotated_image(tmp_path: Path) -> None:
    out = export_html(_conversation(), tmp_path / "chat.html")
    html = out.read_text(encoding="utf-8")
    figures = re.findall(r'<figure><img class="attached" alt="([^"]*)" '
                         r'src="data:image/png;base64,([^"]+)">', html)
    assert len(figures) == 1
    caption, data = figures[0]
    assert "1 box" in caption
    with Image.open(io.BytesIO(base64.b64decode(data))) as image:
        drawn = image.convert("RGB")
    assert drawn.size == (400, 300)
    assert _has_outline(drawn, 100, 150)        # left edge at 25 % of 400
    assert drawn.getpixel((200, 150)) == (255, 255, 255)
    # The OCR table: cells as text, the model's attributes gone.
    assert "onclick" not in html
    assert "<td>a, b</td>" in html
    assert "<td>&lt;i&gt;</td>" in html


def test_markdown_export_writes_the_annotated_png_next_to_the_original(tmp_path: Path) -> None:
    out = export_markdown(_conversation(), tmp_path / "chat.md")
    text = out.read_text(encoding="utf-8")
    links = [urllib.parse.unquote(link) for link in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)]
    assert len(links) == 2
    original, annotated = (tmp_path / link for link in links)
    assert original.parent == annotated.parent
    assert annotated.name.startswith(original.stem + "-annotated-")
    with Image.open(annotated) as image:
        drawn = image.convert("RGB")
    assert _has_outline(drawn, 100, 150)
    assert "*Located 1 box" in text
