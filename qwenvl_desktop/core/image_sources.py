"""Where image bytes come from: a file the person chose or dropped, or a link.

Both refuse early what cannot be an image (a folder, a FIFO, an empty file, an HTML
page, a download larger than the limit) so nothing large or endless is read into
memory. What the bytes are is checked later, by `image_checks`. A link is fetched only
when the person asks for it (the window offers "Attach image from this link"; the
terminal takes `-i URL`), and then without cookies or credentials (see below).
"""

from __future__ import annotations

import stat
from pathlib import Path
from typing import TYPE_CHECKING, Final
from urllib.parse import urljoin, urlsplit

from .errors import ImageError, redact
from .i18n import _, ngettext

if TYPE_CHECKING:
    import httpx

__all__ = ["MAX_FILE_BYTES", "fetch_image_url", "read_image_file"]

MAX_FILE_BYTES: Final = 100_000_000
"""Largest file we read at all; no photo or screenshot comes near it."""


def read_image_file(path: Path) -> bytes:
    """The bytes of a dropped or chosen file, refusing what cannot be an image."""
    name = path.name or str(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ImageError(name, _("the file does not exist (moved or deleted?)")) from None
    except OSError as err:
        raise ImageError(name, _("the file cannot be read ({reason})").format(
            reason=err.strerror or err)) from err
    if stat.S_ISDIR(info.st_mode):
        raise ImageError(name, _("this is a folder, not an image file"))
    if not stat.S_ISREG(info.st_mode):
        # A FIFO or device would block or never end.
        raise ImageError(name, _("this is not a regular file"))
    if info.st_size == 0:
        raise ImageError(name, _("the file is empty (0 bytes)"))
    if info.st_size > MAX_FILE_BYTES:
        raise ImageError(name, _("the file is {size}; images over {limit} are not accepted")
                         .format(size=_mb(info.st_size), limit=_mb(MAX_FILE_BYTES)))
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as err:
        raise ImageError(name, _("the file cannot be read ({reason})").format(
            reason=err.strerror or err)) from err
    if not data:
        raise ImageError(name, _("the file is empty (0 bytes)"))
    if len(data) > MAX_FILE_BYTES:
        raise ImageError(name, _("the file is larger than {limit}").format(
            limit=_mb(MAX_FILE_BYTES)))
    return data


_MAX_REDIRECTS: Final = 5
_HEADERS: Final = {"Accept": "image/avif,image/webp,image/png,image/jpeg,image/*;q=0.8"}
# The first bytes of every format `image_checks` reads (and of HEIC, which it names).
_MAGIC: Final = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM",
                 b"II*\x00", b"MM\x00*", b"\x00\x00\x01\x00", b"\xffO\xffQ",
                 b"\x00\x00\x00\x0cjP  ", b"qoif", b"8BPS")


def _is_image_start(head: bytes) -> bool:
    if head.startswith(_MAGIC):
        return True
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return True
    if head[4:8] == b"ftyp":                       # AVIF (and HEIC, refused later by name)
        return True
    return len(head) >= 2 and head[:1] == b"P" and head[1:2] in b"1234567"


def _shown(url: str) -> str:
    """The link as messages name it: no user info, no query (either may hold a secret)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return _("the link")
    return f"{parts.scheme}://{host}{port}{parts.path}" if host else url.split("?", 1)[0]


def _check_link(url: str, name: str, *, redirected: bool = False) -> None:
    try:
        parts = urlsplit(url)
    except ValueError:
        raise ImageError(name, _("the link is not a valid address")) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        if not redirected:
            raise ImageError(name, _("only http:// and https:// image links can be fetched"))
        if parts.scheme:
            raise ImageError(name, _("the link redirects to a {scheme}: address; only http:// "
                                     "and https:// image links are fetched").format(
                                         scheme=parts.scheme))
        raise ImageError(name, _("the link redirects to a relative address; only http:// "
                                 "and https:// image links are fetched"))
    if "@" in parts.netloc:
        raise ImageError(name, _("the link redirects to an address with a user name or "
                                 "password in it; such links are not fetched (no credentials "
                                 "are sent)") if redirected else
                         _("the link is an address with a user name or password in it; "
                           "such links are not fetched (no credentials are sent)"))


async def fetch_image_url(http: httpx.AsyncClient, url: str, *,
                          max_bytes: int = 20_000_000) -> bytes:
    """Download an image the person asked for, reading at most `max_bytes`.

    The request carries no cookie and no credential (it is built here, not by the
    client, which would add its cookies); redirects are followed by hand, at most
    `_MAX_REDIRECTS`, and only to http(s) addresses without user info. The body is
    streamed: refused as soon as its first bytes are not a picture or it passes the cap.
    """
    # Imported here, not at start-up: the window needs httpx only when a link is fetched.
    import httpx

    name = _shown(url)
    _check_link(url, name)
    current = url
    try:
        for _hop in range(_MAX_REDIRECTS + 1):
            request = httpx.Request("GET", current, headers=_HEADERS,
                                    extensions={"timeout": http.timeout.as_dict()})
            try:
                response = await http.send(request, stream=True, follow_redirects=False)
            except httpx.InvalidURL:       # httpx parses a redirect's Location on receipt
                raise ImageError(name, _("the link redirects to an address that is not a "
                                         "valid http(s) address; it is not fetched")) from None
            try:
                location = response.headers.get("location", "")
                if response.is_redirect and location:
                    current = urljoin(current, location)
                    _check_link(current, name, redirected=True)
                    continue
                return await _read_image(response, name, max_bytes)
            finally:
                await response.aclose()
    except httpx.InvalidURL:
        raise ImageError(name, _("the link is not a valid address")) from None
    except httpx.HTTPError as err:
        raise ImageError(name, _("the image could not be downloaded ({error}: {reason})").format(
            error=type(err).__name__, reason=redact(str(err)))) from err
    raise ImageError(name, _("the link redirects more than {count} times").format(
        count=_MAX_REDIRECTS))


async def _read_image(response: httpx.Response, name: str, max_bytes: int) -> bytes:
    if response.status_code >= 400:
        # The reason phrase is the server's own word, as the protocol sends it.
        reason = response.reason_phrase or _("error")
        raise ImageError(name, _("the server answered HTTP {status} {reason}").format(
            status=response.status_code, reason=reason).rstrip())
    ctype = response.headers.get("content-type", "").split(";")[0].strip().lower()
    # CDNs and object stores often label images as octet-stream; the bytes decide.
    # Anything else (HTML, JSON) is a web page.
    if ctype and not ctype.startswith("image/") and ctype not in (
            "application/octet-stream", "binary/octet-stream"):
        raise ImageError(name, _("the link is not an image (the server sent {type})").format(
            type=ctype))
    if ctype == "image/svg+xml":
        raise ImageError(name, _("SVG vector images are not supported; use a PNG or JPEG "
                                 "version"))
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise ImageError(name, _("the image is {size}, larger than {limit}, the limit for "
                                 "downloads").format(size=_mb(int(declared)),
                                                     limit=_mb(max_bytes)))
    chunks: list[bytes] = []
    total = 0
    checked = False
    async for chunk in response.aiter_bytes():
        total += len(chunk)
        if total > max_bytes:
            raise ImageError(name, _("the image is larger than {limit}, the limit for "
                                     "downloads").format(limit=_mb(max_bytes)))
        chunks.append(chunk)
        if not checked and total >= 16:
            checked = True
            if not _is_image_start(b"".join(chunks)[:16]):
                raise ImageError(name, _(
                    "the link is not an image (its first bytes are not a picture, whatever "
                    "the label {type})").format(type=ctype) if ctype else _(
                    "the link is not an image (its first bytes are not a picture, whatever "
                    "the label says)"))
    if total == 0:
        raise ImageError(name, _("the server sent an empty file"))
    data = b"".join(chunks)
    if not checked and not _is_image_start(data):
        raise ImageError(name, _("the link is not an image (too short to be a picture)"))
    return data


def _mb(size: int) -> str:
    """A size as people read it: 512 bytes, 340 kB, 4.2 MB, 21 MB."""
    if size < 1000:
        return ngettext("{size} byte", "{size} bytes", size).format(size=size)
    if size < 1_000_000:
        return f"{size // 1000} kB"
    return f"{size / 1_000_000:.1f} MB" if size < 10_000_000 else f"{size // 1_000_000} MB"
