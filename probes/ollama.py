"""Ollama's loaded models and their VRAM, from its own API (`GET /api/ps`).

Why: Ollama exports no Prometheus metrics, so "which models are in GPU memory right now" is
only in /api/ps. A service counts as Ollama when its name says so or it listens on 11434.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit, urlunsplit

import httpx

from probes.config import Service
from probes.http import ClientOptions, FetchError, fetch, make_client

MAX_BYTES = 1 << 20


def is_ollama(service: Service) -> bool:
    parts = urlsplit(service.url)
    return "ollama" in service.name.lower() or parts.port == 11434


def ps_url(service: Service) -> str:
    p = urlsplit(service.url)
    return urlunsplit((p.scheme, p.netloc, "/api/ps", "", ""))


async def loaded_models(service: Service, timeout: float = 5.0,
                        client: httpx.AsyncClient | None = None) -> tuple[tuple[str, float | None], ...]:
    """(model name, bytes in VRAM) per loaded model. Raises FetchError or ValueError (one line).
    client: a shared one (e.g. from the health ClientPool); without it one is made and closed."""
    if client is not None:
        resp = await fetch(client, "GET", ps_url(service), timeout=timeout, max_bytes=MAX_BYTES)
    else:
        opts = ClientOptions(timeout=timeout, ca_file=service.ca_file, insecure=service.insecure,
                             headers=dict(service.headers))
        async with make_client(opts) as own:
            resp = await fetch(own, "GET", ps_url(service), timeout=timeout, max_bytes=MAX_BYTES)
    if resp.status != 200:
        raise ValueError(f"Ollama /api/ps answered HTTP {resp.status}")
    try:
        doc = json.loads(resp.body)
        models = doc["models"]
        return tuple((str(m.get("name") or m.get("model") or "?"),
                      float(m["size_vram"]) if isinstance(m.get("size_vram"), (int, float)) else None)
                     for m in models)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"Ollama /api/ps: unexpected body ({type(exc).__name__})") from None


__all__ = ["FetchError", "is_ollama", "loaded_models"]
