"""Credentials people put into base URLs, split off so that only the clean URL is kept.

Gateways are often reached as `https://user:secret@gw.example/v1` or with the key in the
query (`?key=…`, `?sig=…`). Stored verbatim, such a URL went into `settings.json` and into
every answer's provenance, so into every saved and shared conversation. Here the user
info and the query parameters that carry secrets are split off when an endpoint is
saved; they are kept in the keyring next to the endpoint's key (`KeyStore`) and put back
only on the requests that go to that very base URL (`UrlCredentials.apply`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from urllib.parse import unquote, unquote_plus, urlsplit, urlunsplit

from .i18n import _, ngettext

__all__ = ["UrlCredentials", "clean_url", "has_credentials", "is_secret_parameter",
           "split_url_credentials"]

# Query parameters that carry secrets: API keys, tokens, signed-URL signatures, passwords.
# Compared after lower-casing and turning '-' into '_'.
_SECRET_NAME = re.compile(
    r"^(?:key|apikey|api_?key|x_api_key|token|access_?token|auth|auth_?token|id_token|"
    r"refresh_token|bearer|sig|signature|x_amz_signature|x_amz_security_token|"
    r"x_amz_credential|x_goog_signature|x_goog_credential|password|passwd|pwd|pass|secret|"
    r"client_secret|code|subscription_key|ocp_apim_subscription_key|session|sessionid|sid)$"
    r"|(?:_key|_token|_secret|_password|_signature|_sig)$")


def is_secret_parameter(name: str) -> bool:
    """Whether a query parameter of this name is taken to carry a secret."""
    return bool(_SECRET_NAME.search(unquote_plus(name).strip().lower().replace("-", "_")))


@dataclass(frozen=True)
class UrlCredentials:
    """What was split off a base URL, and the clean base URL it belongs to."""

    base_url: str
    userinfo: str = ""                           #: "user:password", as typed
    query: tuple[tuple[str, str], ...] = ()      #: secret parameters, as typed

    def __bool__(self) -> bool:
        return bool(self.userinfo or self.query)

    def describe(self) -> str:
        """What there was, in words (never the values): "a user name and password"."""
        parts = []
        if self.userinfo:
            parts.append(_("a user name and password") if ":" in self.userinfo
                         else _("a user name"))
        if self.query:
            names = ", ".join(f"'{unquote_plus(name)}'" for name, _value in self.query)
            parts.append(ngettext("the {names} parameter", "the {names} parameters",
                                  len(self.query)).format(names=names))
        return _(" and ").join(parts)

    def secrets(self) -> list[str]:
        """The secret values (for `errors.register_secret`), decoded and as typed."""
        values: list[str] = []
        if self.userinfo:
            password = self.userinfo.partition(":")[2]
            values += [self.userinfo, password, unquote(password)]
        for _name, value in self.query:
            values += [value, unquote_plus(value)]
        return [v for v in dict.fromkeys(values) if v]

    def applies_to(self, url: str) -> bool:
        """True for the base URL itself and anything under it (same host, same path)."""
        base = self.base_url.rstrip("/")
        return url == base or url.startswith((base + "/", base + "?"))

    def apply(self, url: str) -> str:
        """`url` with the credentials put back, if it lies under their base URL."""
        if not self or not self.applies_to(url):
            return url
        parts = urlsplit(url)
        netloc = f"{self.userinfo}@{parts.netloc}" if self.userinfo else parts.netloc
        extra = "&".join(f"{name}={value}" for name, value in self.query)
        query = "&".join(q for q in (parts.query, extra) if q)
        return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))

    def to_json(self) -> str:
        """The form kept in the keyring."""
        return json.dumps({"base_url": self.base_url, "userinfo": self.userinfo,
                           "query": [list(pair) for pair in self.query]})

    @classmethod
    def from_json(cls, text: str) -> UrlCredentials | None:
        """Read what `to_json` wrote; None for anything else."""
        try:
            data = json.loads(text)
            creds = cls(base_url=str(data["base_url"]), userinfo=str(data.get("userinfo", "")),
                        query=tuple((str(n), str(v)) for n, v in data.get("query", [])))
        except (ValueError, TypeError, KeyError, AttributeError):
            return None
        return creds or None


def split_url_credentials(url: str) -> tuple[str, UrlCredentials]:
    """(the clean URL, what was split off it); the clean URL has no trailing slash."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return url, UrlCredentials(base_url=url)
    userinfo, at, host = parts.netloc.rpartition("@")
    if not at:
        userinfo, host = "", parts.netloc
    kept: list[str] = []
    secret: list[tuple[str, str]] = []
    for pair in parts.query.split("&") if parts.query else []:
        name, _, value = pair.partition("=")
        if is_secret_parameter(name):
            secret.append((name, value))
        elif pair:
            kept.append(pair)
    clean = urlunsplit((parts.scheme, host, parts.path, "&".join(kept),
                        parts.fragment)).rstrip("/")
    return clean, UrlCredentials(base_url=clean, userinfo=userinfo, query=tuple(secret))


def has_credentials(url: str) -> bool:
    return bool(split_url_credentials(url)[1])


def clean_url(url: str) -> str:
    """`url` without user info or secret query parameters (unchanged when it has none)."""
    clean, creds = split_url_credentials(url)
    return clean if creds else url
