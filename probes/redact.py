"""Keep secrets out of everything we print: URL userinfo, tokens, secret-looking query values."""

from __future__ import annotations

from typing import Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_SECRET_PARAMS = {"token", "access_token", "api_key", "apikey", "key", "password", "secret", "sig", "signature"}


def display_url(url: str) -> str:
    """The URL without userinfo, and with secret-looking query values masked."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparsable URL>"
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "***@" + netloc.rsplit("@", 1)[1]
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, "***" if k.lower() in _SECRET_PARAMS else v) for k, v in pairs], safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def webhook_display(url: str) -> str:
    """Webhook URLs carry their secret in the path (Slack, Discord): show scheme and host only."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparsable URL>"
    host = parts.hostname or "?"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}/***"


def scrub(text: str, secrets: Iterable[str]) -> str:
    """Replace every occurrence of a known secret (at least 4 characters) with ***."""
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text
