"""Where image bytes come from: a file the person chose or dropped, or a link.

Both refuse early what cannot be an image (a folder, a FIFO, an empty file, an HTML
page, a download larger than the limit) so nothing large or endless is read into
memory. What the bytes are is checked later, by `image_checks`.
"""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

import httpx

from .errors import ImageError

__all__ = ["MAX_FILE_BYTES", "fetch_image_url", "read_image_file"]

MAX_FILE_BYTES: Final = 100_000_000
"""Largest file we read at all; no photo or screenshot comes near it."""


def read_image_file(path: Path) -> bytes:
    """The bytes of a dropped or chosen file, refusing what cannot be an image."""
    name = path.name or str(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ImageError(name, "the file does not exist (moved or deleted?)") from None
    except OSError as err:
        raise ImageError(name, f"the file cannot be read ({err.strerror or err})") from err
    if stat.S_ISDIR(info.st_mode):
        raise ImageError(name, "this is a folder, not an image file")
    if not stat.S_ISREG(info.st_mode):
        # A FIFO or device would block or never end.
        raise ImageError(name, "this is not a regular file")
    if info.st_size == 0:
        raise ImageError(name, "the file is empty (0 bytes)")
    if info.st_size > MAX_FILE_BYTES:
        raise ImageError(name, f"the file is {_mb(info.st_size)}; images over "
                               f"{_mb(MAX_FILE_BYTES)} are not accepted")
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as err:
        raise ImageError(name, f"the file cannot be read ({err.strerror or err})") from err
    if not data:
        raise ImageError(name, "the file is empty (0 bytes)")
    if len(data) > MAX_FILE_BYTES:
        raise ImageError(name, f"the file is larger than {_mb(MAX_FILE_BYTES)}")
    return data


async def fetch_image_url(http: httpx.AsyncClient, url: str, *,
                          max_bytes: int = 20_000_000) -> bytes:
    """Download an image, reading at most `max_bytes` (the body is streamed, not trusted)."""
    parts = urlsplit(url)
    name = f"{parts.scheme}://{parts.netloc}{parts.path}" if parts.netloc else url
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ImageError(name, "only http:// and https:// image links can be fetched")
    try:
        async with http.stream("GET", url, follow_redirects=True) as response:
            if response.status_code >= 400:
                reason = response.reason_phrase or "error"
                raise ImageError(name, f"the server answered HTTP {response.status_code} "
                                       f"{reason}".rstrip())
            ctype = response.headers.get("content-type", "").split(";")[0].strip().lower()
            # CDNs and object stores often label images as octet-stream; the bytes are
            # checked by `inspect_image` anyway. Anything else (HTML, JSON) is a web page.
            if ctype and not ctype.startswith("image/") and ctype not in (
                    "application/octet-stream", "binary/octet-stream"):
                raise ImageError(name, f"the link is not an image (the server sent {ctype})")
            if ctype == "image/svg+xml":
                raise ImageError(name, "SVG vector images are not supported; "
                                       "use a PNG or JPEG version")
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise ImageError(name, f"the image is {_mb(int(declared))}, larger than "
                                       f"{_mb(max_bytes)}, the limit for downloads")
            chunks: list[bytes] = []
            total = 0
            async for chunk in response.aiter_bytes():
                total += len(chunk)
                if total > max_bytes:
                    raise ImageError(name, f"the image is larger than {_mb(max_bytes)}, "
                                           "the limit for downloads")
                chunks.append(chunk)
    except httpx.HTTPError as err:
        raise ImageError(name, f"the image could not be downloaded ({type(err).__name__}: "
                               f"{err})") from err
    if total == 0:
        raise ImageError(name, "the server sent an empty file")
    return b"".join(chunks)


def _mb(size: int) -> str:
    """A size as people read it: 512 bytes, 340 kB, 4.2 MB, 21 MB."""
    if size < 1000:
        return f"{size} bytes"
    if size < 1_000_000:
        return f"{size // 1000} kB"
    return f"{size / 1_000_000:.1f} MB" if size < 10_000_000 else f"{size // 1_000_000} MB"
