"""Downloading an image the person asked for: http(s) only, capped, checked by its bytes,
without cookies or credentials, and never redirected to another scheme."""

from __future__ import annotations

import asyncio
import io

import httpx
import pytest
from PIL import Image

from qwenvl_desktop.core.errors import ImageError
from qwenvl_desktop.core.images import fetch_image_url


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "teal").save(out, "PNG")
    return out.getvalue()


PNG = _png()


class Web:
    def __init__(self, pages: dict[str, httpx.Response]) -> None:
        self.pages = pages
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.pages.get(str(request.url), httpx.Response(404))


def _fetch(web: Web, url: str, *, cookies: dict[str, str] | None = None) -> bytes:
    async def run() -> bytes:
        async with httpx.AsyncClient(transport=httpx.MockTransport(web),
                                     cookies=cookies) as http:
            return await fetch_image_url(http, url, max_bytes=1_000_000)
    return asyncio.run(run())


def test_no_cookie_or_credential_is_sent() -> None:
    web = Web({"https://img.example/cat.png": httpx.Response(
        200, headers={"content-type": "image/png"}, content=PNG)})
    assert _fetch(web, "https://img.example/cat.png", cookies={"session": "s3cr3t"}) == PNG
    (request,) = web.requests
    assert "cookie" not in request.headers
    assert "authorization" not in request.headers
    assert request.headers["accept"].startswith("image/")


def test_a_link_with_a_user_name_and_password_is_refused() -> None:
    web = Web({})
    with pytest.raises(ImageError, match="user name") as caught:
        _fetch(web, "https://bob:hunter2@img.example/cat.png")
    assert "hunter2" not in str(caught.value)
    assert web.requests == []


@pytest.mark.parametrize("location", ["file:///etc/passwd", "ftp://img.example/cat.png",
                                      "javascript:alert(1)", "https://u:p@img.example/c.png"])
def test_a_redirect_to_another_scheme_or_with_credentials_is_refused(location: str) -> None:
    web = Web({"https://img.example/cat.png": httpx.Response(302, headers={"location": location})})
    with pytest.raises(ImageError, match="redirect"):
        _fetch(web, "https://img.example/cat.png")
    assert len(web.requests) == 1


def test_an_http_to_https_redirect_is_followed_without_cookies() -> None:
    web = Web({
        "http://img.example/cat.png": httpx.Response(
            301, headers={"location": "https://cdn.example/cat.png",
                          "set-cookie": "track=1; Path=/"}),
        "https://cdn.example/cat.png": httpx.Response(
            200, headers={"content-type": "image/png"}, content=PNG),
    })
    assert _fetch(web, "http://img.example/cat.png") == PNG
    assert [str(r.url) for r in web.requests] == ["http://img.example/cat.png",
                                                   "https://cdn.example/cat.png"]
    assert "cookie" not in web.requests[1].headers


def test_endless_redirects_end() -> None:
    web = Web({f"https://img.example/{i}": httpx.Response(
        302, headers={"location": f"https://img.example/{i + 1}"}) for i in range(20)})
    with pytest.raises(ImageError, match="redirect"):
        _fetch(web, "https://img.example/0")
    assert len(web.requests) <= 6


def test_bytes_that_are_not_an_image_are_refused_whatever_the_label() -> None:
    web = Web({"https://img.example/cat.png": httpx.Response(
        200, headers={"content-type": "image/png"},
        content=b"<!doctype html><html>login page</html>" + b" " * 5000)})
    with pytest.raises(ImageError, match="not an image"):
        _fetch(web, "https://img.example/cat.png")
