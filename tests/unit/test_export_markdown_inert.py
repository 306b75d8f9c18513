"""The Markdown export fetches nothing when opened in a viewer that renders raw HTML.

Model- or user-written `<img>`, `<script>`, `<iframe>` and remote `![](http…)` images were
copied verbatim into the `.md`; an HTML-enabled viewer then made requests on opening
it. Here the export is rendered the way such a viewer does (markdown-it with HTML on)
and every element and attribute that could fetch is looked for.
"""

from __future__ import annotations

import urllib.parse
from html.parser import HTMLParser
from pathlib import Path

from markdown_it import MarkdownIt
from storage_samples import image

from qwenvl_desktop.core.conversation import Conversation, Message, Provenance, StoredImage
from qwenvl_desktop.core.export import export_markdown

HOSTILE = [
    '<img src="http://evil.example/1.png">',
    "<script src=http://evil.example/2.js></script>",
    '<iframe src="https://evil.example/3"></iframe>',
    '<video poster="http://evil.example/4.jpg"></video>',
    '<link rel="stylesheet" href="http://evil.example/5.css">',
    "<style>@import url(http://evil.example/6.css);</style>",
    '<svg><image href="http://evil.example/7.svg"/></svg>',
    '<object data="http://evil.example/8"></object>',
    '<div style="background:url(http://evil.example/9.png)">x</div>',
    '<p>para <img src=http://evil.example/10.png> inline</p>',
    "![remote](http://evil.example/11.png)",
    "![ref][r]\n\n[r]: http://evil.example/12.png",
    "Text with an inline <img src=http://evil.example/13.png> tag.",
    "<!-- <img src=http://evil.example/14.png> -->",
    "> quoted <img src=http://evil.example/15.png>",
    "- item <iframe src=http://evil.example/16></iframe>",
    "| a | b |\n|---|---|\n| <img src=http://evil.example/17.png> | c |",
    "`a\n# <img src=http://evil.example/18.png>`",
    "<audio src=http://evil.example/19.mp3 autoplay></audio>",
    '<input type="image" src="http://evil.example/20.png">',
    '<table background="http://evil.example/21.png"><tr><td>x</td></tr></table>',
]

# What a rendered Markdown file may contain and still fetch nothing.
_TAGS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "em", "strong", "code", "pre", "blockquote",
         "ul", "ol", "li", "a", "hr", "br", "table", "thead", "tbody", "tr", "th", "td", "s",
         "img"}
_ATTRIBUTES = {"href", "src", "alt", "title", "start", "class", "style"}


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, attrs))

    handle_startendtag = handle_starttag


def _rendered(path: Path) -> str:
    viewer = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    return viewer.render(path.read_text(encoding="utf-8"))


def _fetching(html: str, images_folder: str) -> list[str]:
    """Everything in `html` that a viewer would fetch or run."""
    parser = _Elements()
    parser.feed(html)
    problems: list[str] = []
    for tag, attrs in parser.found:
        if tag not in _TAGS:
            problems.append(f"<{tag}>")
        for name, value in attrs:
            value = value or ""
            if name not in _ATTRIBUTES:
                problems.append(f"<{tag} {name}=…>")
            elif name == "style" and not value.startswith("text-align:"):
                problems.append(f"<{tag} style={value!r}>")
            elif name == "src" and (tag != "img" or not urllib.parse.unquote(value)
                                    .startswith(f"{images_folder}/")):
                problems.append(f"<{tag} src={value!r}>")
    return problems


def _conversation(texts: list[str]) -> Conversation:
    own = image(3)
    conv = Conversation(title='Title <img src="http://evil.example/t.png">',
                        system_prompt="Be <img src=http://evil.example/s.png> terse",
                        provider_id="x<img src=http://evil.example/p.png>")
    conv.add_image(own)
    conv.append(Message(role="user", text="Look <img src=http://evil.example/u.png>",
                        images=[own.sha256]))
    for text in texts:
        conv.append(Message(role="assistant", text=text,
                            reasoning="Think <img src=http://evil.example/r.png>",
                            error="<img src=http://evil.example/e.png>", status="error",
                            provenance=Provenance(provider="p",
                                                  model="m<img src=http://evil.example/m>")))
    return conv


def test_rendered_export_has_nothing_that_fetches(tmp_path: Path) -> None:
    out = export_markdown(_conversation(HOSTILE), tmp_path / "chat.md")
    html = _rendered(out)
    assert _fetching(html, "chat_images") == []
    assert "evil.example" in html        # still there, to be read


def test_each_hostile_snippet_alone(tmp_path: Path) -> None:
    for index, snippet in enumerate(HOSTILE):
        out = export_markdown(_conversation([snippet]), tmp_path / f"c{index}.md")
        assert _fetching(_rendered(out), f"c{index}_images") == [], snippet


def test_raw_html_reads_as_text_and_code_stays_code(tmp_path: Path) -> None:
    text = ("Use <b>bold</b> here.\n\n```html\n<img src=\"x.png\">\n```\n\n"
            "Inline `<div>` code and a ![cat](https://cats.example/c.png).")
    out = export_markdown(_conversation([text]), tmp_path / "c.md")
    md = out.read_text(encoding="utf-8")
    assert '```html\n<img src="x.png">\n```' in md          # code kept byte for byte
    assert "`<div>`" in md
    html = _rendered(out)
    assert "&lt;b&gt;bold&lt;/b&gt;" in html                # the tag is shown, as text
    assert '<a href="https://cats.example/c.png">cat</a>' in html   # a link, not an image
    assert "<code>&lt;div&gt;</code>" in html


def test_own_images_stay_images_and_images_without_bytes_become_links(tmp_path: Path) -> None:
    conv = _conversation(["fine"])
    remote = StoredImage(sha256="f" * 64, mime="image/png", data=b"", width=20, height=20,
                         original_name="beacon.png",
                         source_url="https://tracker.example/pixel.png?id=42")
    conv.add_image(remote)
    conv.append(Message(role="user", text="and this", images=[remote.sha256]))
    out = export_markdown(conv, tmp_path / "c.md")
    html = _rendered(out)
    assert _fetching(html, "c_images") == []
    assert html.count("<img ") == 1                        # the embedded one only
    assert 'href="https://tracker.example/pixel.png?id=42"' in html
