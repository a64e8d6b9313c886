"""What the connection itself tells a health probe: the peer's IP and its certificate's expiry.

probes.http.fetch() returns only status, headers and body, but Gatus' [IP] and
[CERTIFICATE_EXPIRATION] need the live connection. An httpx response hook sees every response
while its connection is still open; it records the peer into a per-task ContextVar, so one
shared client can serve many concurrent probes without them seeing each other's peers.

The certificate is read in DER form (`getpeercert(binary_form=True)`) because with
verification off (`insecure = true`) Python returns no parsed certificate at all; a few lines of
DER walking find notAfter without needing the `cryptography` package.
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass
from datetime import datetime, timezone
import httpx


@dataclass
class PeerInfo:
    """Filled in by the hook for the last response of one probe (after redirects: the final one)."""

    ip: str = ""
    port: int | None = None
    cert_not_after: datetime | None = None  # UTC
    tls: bool = False


_current: contextvars.ContextVar[PeerInfo | None] = contextvars.ContextVar("llmwatch_peer", default=None)


def start_capture() -> tuple[PeerInfo, contextvars.Token]:
    """Begin recording the peer of requests made by this task; pass the token to stop_capture()."""
    info = PeerInfo()
    return info, _current.set(info)


def stop_capture(token: contextvars.Token) -> None:
    _current.reset(token)


async def _record_peer(response: httpx.Response) -> None:
    info = _current.get()
    if info is None:
        return
    stream = response.extensions.get("network_stream")
    if stream is None:
        return
    try:
        addr = stream.get_extra_info("server_addr")
        if isinstance(addr, tuple) and addr:
            info.ip, info.port = str(addr[0]), int(addr[1]) if len(addr) > 1 else None
        ssl_object = stream.get_extra_info("ssl_object")
        info.tls = ssl_object is not None
        info.cert_not_after = None
        if ssl_object is not None:
            der = ssl_object.getpeercert(binary_form=True)
            if der:
                info.cert_not_after = cert_not_after(der)
    except Exception:  # peer details are a bonus: never let them break the request itself
        pass


def install_peer_hook(client: httpx.AsyncClient) -> None:
    """Add the recording hook to client once (idempotent; harmless for other users of it)."""
    hooks = client.event_hooks
    responses = list(hooks.get("response", []))
    if _record_peer not in responses:
        responses.append(_record_peer)
        client.event_hooks = {**hooks, "response": responses}


# ---------------------------------------------------------------------------------------------
# Minimal DER: Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0] version OPTIONAL,
# serialNumber, signature, issuer, validity SEQUENCE { notBefore, notAfter }, ... }, ... }


def _tlv(data: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, start of value, end of value) of the DER element at pos."""
    tag = data[pos]
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        n = length & 0x7F
        if n == 0 or n > 4:
            raise ValueError("unsupported DER length")
        length = int.from_bytes(data[pos:pos + n], "big")
        pos += n
    if pos + length > len(data):
        raise ValueError("truncated DER")
    return tag, pos, pos + length


def _children(data: bytes, start: int, end: int) -> list[tuple[int, int, int]]:
    out = []
    pos = start
    while pos < end:
        tag, s, e = _tlv(data, pos)
        out.append((tag, s, e))
        pos = e
    return out


def cert_not_after(der: bytes) -> datetime | None:
    """The notAfter time of a DER certificate (UTC), or None if it cannot be read."""
    try:
        _, cs, ce = _tlv(der, 0)
        tag, ts, te = _tlv(der, cs)
        if tag != 0x30:
            return None
        fields = _children(der, ts, te)
        if fields and fields[0][0] == 0xA0:  # explicit [0] version
            fields = fields[1:]
        vtag, vs, ve = fields[3]  # serial, signature algorithm, issuer, validity
        if vtag != 0x30:
            return None
        times = _children(der, vs, ve)
        return _der_time(times[1][0], der[times[1][1]:times[1][2]])
    except (ValueError, IndexError):
        return None


def _der_time(tag: int, raw: bytes) -> datetime | None:
    text = raw.decode("ascii", errors="replace")
    if tag == 0x17:  # UTCTime YYMMDDHHMMSSZ: 50-99 -> 19xx, 00-49 -> 20xx (RFC 5280)
        parsed = datetime.strptime(text, "%y%m%d%H%M%SZ")
        if parsed.year >= 2050:
            parsed = parsed.replace(year=parsed.year - 100)
    elif tag == 0x18:  # GeneralizedTime YYYYMMDDHHMMSSZ
        parsed = datetime.strptime(text, "%Y%m%d%H%M%SZ")
    else:
        return None
    return parsed.replace(tzinfo=timezone.utc)

