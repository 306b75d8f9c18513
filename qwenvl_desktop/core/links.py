"""Links in model-written text: where they really go, and whether their text says so.

A model can write `[https://example.com/safe](https://evil.example/login)`; a prompt
injected through a screenshot makes that a phishing path. These answers are what the
window needs to show the real target and to ask before opening it: which schemes may
ever be opened, the host as it will be contacted (punycode, so look-alike letters
show), and whether the visible text shows the target or something else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import unquote, urlsplit

__all__ = ["OPENABLE_SCHEMES", "LinkTarget", "TextShows", "is_openable", "link_target",
           "text_shows"]

OPENABLE_SCHEMES = ("http", "https", "mailto")
"""The only kinds of link ever handed to the system to open (browser, mail program)."""

TextShows = Literal["target", "other", "words"]
"""What a link's text shows: its own target, another address (deceptive), or words."""

# Text that reads as an address: a scheme, or a dotted host name, maybe with a path.
_ADDRESS = re.compile(r"^(?:[a-z][a-z0-9+.\-]*:\S+|(?:www\.)?[\w\-]+(?:\.[\w\-]+)+"
                      r"(?::\d+)?(?:[/?#]\S*)?)$", re.IGNORECASE)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class LinkTarget:
    """A link's destination, parsed for showing it to a person."""

    url: str
    scheme: str
    host: str           #: as it will be contacted: lower case, punycode ("" for mailto)
    host_shown: str     #: as written (Unicode), when it differs from `host`
    before_host: str    #: e.g. "https://" (with any user info: "https://user@")
    after_host: str     #: port, path, query and fragment

    @property
    def openable(self) -> bool:
        return self.scheme in OPENABLE_SCHEMES


def is_openable(href: str) -> bool:
    """Whether `href` is of a kind the app would ever open (http, https, mailto)."""
    return _scheme(href) in OPENABLE_SCHEMES


def link_target(href: str) -> LinkTarget:
    """`href` split around its host, the host in the form it will be contacted."""
    href = href.strip()
    scheme = _scheme(href)
    if scheme == "mailto" or not scheme:
        return LinkTarget(href, scheme, "", "", "", href)
    try:
        parts = urlsplit(href)
        hostname = parts.hostname or ""
    except ValueError:
        return LinkTarget(href, scheme, "", "", "", href)
    netloc = parts.netloc
    at = netloc.rfind("@") + 1
    start = href.find(netloc) + at if netloc else len(scheme) + 1
    written = href[start:start + len(netloc) - at]
    host_written = written.rsplit(":", 1)[0] if written.count(":") == 1 else written
    host = _ascii_host(hostname)
    end = start + len(host_written)
    return LinkTarget(url=href, scheme=scheme, host=host,
                      host_shown=hostname if hostname != host else "",
                      before_host=href[:start], after_host=href[end:])


def text_shows(text: str, href: str) -> TextShows:
    """Whether a link's visible text shows where it goes.

    "target": the text is the address (or its host, or the e-mail address) it opens;
    "other": the text reads as an address, but not this one — the deceptive case;
    "words": the text is not an address at all ("the docs", "[image: chart]").
    """
    shown = " ".join(text.split()).strip("<>")
    if not shown:
        return "words"
    target = link_target(href)
    if target.scheme == "mailto":
        address = unquote(href.split(":", 1)[1].split("?", 1)[0]).lower()
        plain = shown.lower().removeprefix("mailto:")
        if plain == address:
            return "target"
        return "other" if _EMAIL.match(plain) or _ADDRESS.match(shown) else "words"
    if _EMAIL.match(shown):
        return "other"
    if not _ADDRESS.match(shown):
        return "words"
    written = shown if re.match(r"^[a-z][a-z0-9+.\-]*://", shown, re.IGNORECASE) \
        else f"{target.scheme or 'https'}://{shown}"
    try:
        parts, goes = urlsplit(written), urlsplit(target.url)
        same_host = _same_host(parts.hostname or "", goes.hostname or "")
        same_port = parts.port == goes.port or parts.port is None
    except ValueError:
        return "other"
    if not same_host or not same_port:
        return "other"
    text_scheme = parts.scheme.lower()
    if text_scheme != target.scheme and not (text_scheme == "http" and target.scheme == "https"):
        return "other"
    # The text may stop at the host; whatever path or query it shows must be the target's.
    shown_rest = _rest(parts.path, parts.query, parts.fragment)
    if shown_rest and shown_rest != _rest(goes.path, goes.query, goes.fragment):
        return "other"
    return "target"


def _scheme(href: str) -> str:
    match = re.match(r"^\s*([a-zA-Z][a-zA-Z0-9+.\-]*):", href)
    return match.group(1).lower() if match else ""


def _ascii_host(host: str) -> str:
    host = host.lower().rstrip(".")
    if host.isascii():
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


def _same_host(a: str, b: str) -> bool:
    a, b = _ascii_host(a), _ascii_host(b)
    return a.removeprefix("www.") == b.removeprefix("www.")


def _rest(path: str, query: str, fragment: str) -> str:
    rest = unquote(path).rstrip("/")
    if query:
        rest += "?" + unquote(query)
    if fragment:
        rest += "#" + unquote(fragment)
    return rest
