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
from probes.shape import ShapeError, arr, obj, text

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
    except (ValueError, UnicodeDecodeError):
        raise ValueError("unexpected answer from Ollama /api/ps: not JSON") from None
    try:
        out = []
        for i, m in enumerate(arr(obj(doc, "answer").get("models"), "models")):
            m = obj(m, f"models[{i}]")
            vram = m.get("size_vram")
            size = float(vram) if isinstance(vram, (int, float)) and not isinstance(vram, bool) else None
            out.append((text(m.get("name") or m.get("model"), f"models[{i}].name", "?"), size))
        return tuple(out)
    except ShapeError as exc:
        raise ValueError(f"unexpected answer from Ollama /api/ps: {exc}") from None


__all__ = ["FetchError", "is_ollama", "loaded_models"]
