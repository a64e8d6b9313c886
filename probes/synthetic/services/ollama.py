"""Ollama (reference section 4): no /metrics at all (404), `GET /` says "Ollama is running".

Why it has no traffic: Ollama exports nothing to count; the gateway and LiteLLM call it.
unhealthy=True (component "server") makes every endpoint answer 500, as a wedged runner would.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from probes.synthetic.service import Reply, Request, Service, json_reply, text_reply

MODELS = (
    ("tinyllama:latest", 637_700_138, "llama", "1B", "Q4_0", "2644915ede35"),
    ("phi:latest", 1_602_463_378, "phi2", "3B", "Q4_0", "e2fd6321a5fe"),
    ("llama3.1:8b", 4_920_753_328, "llama", "8.0B", "Q4_K_M", "46e0c10c039e"),
)
LOADED = {"tinyllama:latest": (1_120_000_000, 2048), "phi:latest": (2_900_000_000, 2048)}


def _details(family: str, params: str, quant: str) -> dict:
    return {"parent_model": "", "format": "gguf", "family": family, "families": [family],
            "parameter_size": params, "quantization_level": quant}


class Ollama(Service):
    name = "ollama"
    has_metrics = False
    health_path = "/"
    components = ("server",)

    def _broken(self) -> Reply | None:
        return None if self.healthy else json_reply({"error": "llama runner process has terminated"}, 500)

    def health(self) -> Reply:
        return self._broken() or text_reply("Ollama is running")

    def version(self, req: Request) -> Reply:
        return self._broken() or json_reply({"version": "0.5.7"})

    def tags(self, req: Request) -> Reply:
        models = [{"name": n, "model": n, "modified_at": "2025-01-10T09:12:44.123456789Z", "size": size,
                   "digest": digest + "0" * 52, "details": _details(fam, params, quant)}
                  for n, size, fam, params, quant, digest in MODELS]
        return self._broken() or json_reply({"models": models})

    def ps(self, req: Request) -> Reply:
        expires = (datetime.now().astimezone() + timedelta(minutes=4)).isoformat()
        models = [{"name": n, "model": n, "size": LOADED[n][0], "digest": digest + "0" * 52,
                   "details": _details(fam, params, quant), "expires_at": expires,
                   "size_vram": LOADED[n][0], "context_length": LOADED[n][1]}
                  for n, size, fam, params, quant, digest in MODELS if n in LOADED]
        return self._broken() or json_reply({"models": models})

    def endpoints(self) -> dict:
        return {("GET", "/api/version"): self.version, ("GET", "/api/tags"): self.tags,
                ("GET", "/api/ps"): self.ps}

    def not_found(self, req: Request) -> Reply:
        return text_reply("404 page not found", 404)


