"""Keep secrets out of everything we print or send: URL userinfo, tokens, secret-looking values.

Two layers. Display forms (`display_url`, `webhook_display`) never show a secret in the first
place. And a process-wide registry of every secret the configuration holds, in every form it can
take on the way back from a server (raw, URL-encoded, JSON-escaped, base64 of user:pass, the token
inside "Bearer <token>"), scrubs any text just before it leaves: the terminal writer in
tui/output.py, report files, webhook payloads and --exec environments all call `scrub()`. A
server that echoes a credential back in an error body cannot make us print it.

SECRET_HEADERS is the one list of credential-carrying headers: redaction, `llmwatch config` and
the cross-host redirect rule in probes/http.py all read it (plus `is_secret_header` for names
that look like credentials: *token*, *key*, *secret*, *auth*...).
"""

from __future__ import annotations

import base64
import json
from typing import Iterable
from urllib.parse import parse_qsl, quote, quote_plus, unquote, urlencode, urlsplit, urlunsplit

SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "x-api-key", "api-key", "cookie",
                            "x-auth-token", "x-access-token", "private-token"})
_SECRET_WORDS = ("token", "secret", "passw", "auth", "api-key", "apikey", "api_key", "session", "cookie",
                 "credential")
_SECRET_PARAMS = {"token", "access_token", "api_key", "apikey", "key", "password", "secret", "sig", "signature",
                  "auth", "code", "client_secret", "id_token", "refresh_token"}
_SCHEMES = ("bearer ", "basic ", "token ", "apikey ", "digest ")
MIN_SECRET = 4  # shorter values would scrub ordinary words out of every line

_KNOWN: set[str] = set()


def is_secret_header(name: str) -> bool:
    """Does a header of this name carry a credential? The fixed list, or a credential-like name."""
    low = name.strip().lower()
    return low in SECRET_HEADERS or any(w in low for w in _SECRET_WORDS)


def is_secret_param(name: str) -> bool:
    return name.strip().lower() in _SECRET_PARAMS


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
        query = urlencode([(k, "***" if is_secret_param(k) else v) for k, v in pairs], safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def webhook_display(url: str) -> str:
    """Webhook URLs carry their secret in the path (Slack, Discord): show scheme and host only."""
    try:
        parts = urlsplit(url)
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<unparsable URL>"
    host = parts.hostname or "?"
    return f"{parts.scheme}://{host}{port}/***"


# -- the registry --------------------------------------------------------------------------------

def forms(secret: str) -> set[str]:
    """The ways a secret can come back in text: raw, percent-encoded, JSON-escaped, base64."""
    out = {secret, quote(secret, safe=""), quote_plus(secret), json.dumps(secret)[1:-1],
           json.dumps(secret, ensure_ascii=False)[1:-1]}
    if len(secret) >= 8:  # base64 of short words would match ordinary text
        out.add(base64.b64encode(secret.encode()).decode())
    return {s for s in out if len(s) >= MIN_SECRET}


def header_secrets(name: str, value: str) -> list[str]:
    """The secret parts of a credential header: the value, and the token after its scheme word;
    a Basic value's decoded user:pass and password; each cookie's value."""
    if not is_secret_header(name) or not value:
        return []
    out = [value]
    low = value.lower()
    for scheme in _SCHEMES:
        if low.startswith(scheme):
            token = value[len(scheme):].strip()
            out.append(token)
            if scheme == "basic ":
                try:
                    pair = base64.b64decode(token, validate=True).decode()
                except (ValueError, UnicodeDecodeError):
                    pair = ""
                out += [pair, pair.partition(":")[2]] if pair else []
    if name.strip().lower() == "cookie":
        out += [part.partition("=")[2].strip() for part in value.split(";")]
    return [s for s in out if s]


def url_secrets(url: str, *, webhook: bool = False) -> list[str]:
    """Userinfo (user:pass, the password, base64 of user:pass) and secret query values of a URL;
    for a webhook also its path and every path segment of 8+ characters and the last one."""
    try:
        parts = urlsplit(url)
        password, username = parts.password, parts.username
    except ValueError:
        return [url]
    out: list[str] = []
    if password:
        user, pw = unquote(username or ""), unquote(password)
        out += [pw, password, f"{user}:{pw}", base64.b64encode(f"{user}:{pw}".encode()).decode()]
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if value and (webhook or is_secret_param(key)):
            out.append(value)
    if webhook and parts.path.strip("/"):
        segments = [s for s in parts.path.split("/") if s]
        out += [parts.path, unquote(parts.path), "/".join(segments[1:])]
        out += [s for s in segments if len(s) >= 8] + segments[-1:]
    return [s for s in out if s]


def register(values: Iterable[str | None]) -> None:
    """Remember secrets (all their forms) for every later `scrub()` in this process."""
    for value in values:
        if value and len(value) >= MIN_SECRET:
            _KNOWN.update(forms(value))


def known() -> frozenset[str]:
    return frozenset(_KNOWN)


def forget_all() -> None:
    """Tests only: start from an empty registry."""
    _KNOWN.clear()


def scrub(text: str, secrets: Iterable[str] | None = None) -> str:
    """Replace every occurrence of a secret (the registered ones, and `secrets` in all their forms)
    with ***. Longest first, so a secret that contains another is replaced whole."""
    pool = set(_KNOWN)
    for s in secrets or ():
        if s and len(s) >= MIN_SECRET:
            pool |= forms(s)
    if not pool or not text:
        return text
    for secret in sorted(pool, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, "***")
    return text
