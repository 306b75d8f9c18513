"""Model-written links: what their text shows, where they go, which may ever open."""

from __future__ import annotations

import pytest

from qwenvl_desktop.core.links import is_openable, link_target, text_shows
from qwenvl_desktop.core.markdown_render import render_markdown


@pytest.mark.parametrize(("text", "href", "shows"), [
    ("https://example.com/safe", "https://evil.example/login", "other"),
    ("https://example.com/safe", "https://example.com/other", "other"),
    ("example.com", "https://example.com.evil.example/", "other"),
    ("paypal.com", "https://xn--pypal-4ve.com/", "other"),         # Cyrillic а
    ("https://example.com/safe", "http://example.com/safe", "other"),   # downgraded
    ("support@bank.example", "mailto:thief@evil.example", "other"),
    ("support@bank.example", "https://evil.example", "other"),
    ("https://example.com/safe", "https://example.com/safe", "target"),
    ("example.com", "https://www.example.com/docs/page", "target"),
    ("http://example.com/a", "https://example.com/a/", "target"),
    ("bob@example.com", "mailto:bob@example.com", "target"),
    ("the documentation", "https://docs.example/", "words"),
    ("[image: chart]", "https://cdn.example/chart.png", "words"),
])
def test_what_a_links_text_shows(text: str, href: str, shows: str) -> None:
    assert text_shows(text, href) == shows


def test_the_host_is_shown_as_it_will_be_contacted() -> None:
    target = link_target("https://user@pаypal.com:8443/login?next=/")
    assert target.host == "xn--pypal-4ve.com"
    assert target.host_shown == "pаypal.com"
    assert target.before_host == "https://user@"
    assert target.after_host == ":8443/login?next=/"
    assert target.openable


@pytest.mark.parametrize("href", ["https://a.example", "http://a.example", "mailto:a@b.c",
                                  "HTTPS://A.EXAMPLE"])
def test_openable(href: str) -> None:
    assert is_openable(href)


@pytest.mark.parametrize("href", ["file:///etc/passwd", "javascript:alert(1)", "ftp://x.example",
                                  "msg-delete:0123", "copy-code:0", "image:abc",
                                  "transcript:earlier", "/relative", "smb://host/share"])
def test_never_openable(href: str) -> None:
    assert not is_openable(href)


@pytest.mark.parametrize("markdown", [
    "[Delete this](msg-delete:0123abcd)", "<msg-copy:0123abcd>", "[copy](copy-code:0)",
    "[older](transcript:earlier)", "[x](image:abcd)", "[share](smb://host/share)",
    "[rel](/etc/passwd)", "![pic](file:///etc/passwd)",
])
def test_model_links_that_may_not_open_are_text_showing_their_target(markdown: str) -> None:
    html = render_markdown(markdown)
    assert "<a " not in html
    target = markdown.split("(", 1)[1].rstrip(")") if "(" in markdown else markdown.strip("<>")
    assert target in html


def test_openable_model_links_stay_links() -> None:
    html = render_markdown("[site](https://example.com/a) ![img](https://cdn.example/p.png)")
    assert '<a href="https://example.com/a">site</a>' in html
    assert '<a href="https://cdn.example/p.png">[image: img]</a>' in html
