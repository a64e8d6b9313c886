"""The real-exporter apps as processes: start one on a free loopback port, steer its health, stop it.

Why subprocesses with their own interpreter: the exporter libraries (LiteLLM pins half of PyPI)
live in .venv-exporters, never in llmwatch's .venv, so their pins cannot change what llmwatch is
tested with. Node apps run on the machine's node with tests/exporters/node/node_modules.
scripts/test.sh installs both; without them the tier skips on a developer machine and fails in CI.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from probes.synthetic.servers import free_port

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
VENV = Path(os.environ.get("LLMWATCH_EXPORTERS_VENV", REPO / ".venv-exporters"))
PYTHON = VENV / "bin" / "python"
NODE_DIR = HERE / "node"
APPS = HERE / "apps"


def missing() -> str:
    """Why the tier cannot run here ("" when it can)."""
    if not PYTHON.exists():
        return f"{VENV} is missing (scripts/test.sh makes it)"
    if not (NODE_DIR / "node_modules" / "prom-client").is_dir():
        return f"{NODE_DIR}/node_modules is missing (scripts/test.sh runs npm ci)"
    if shutil.which("node") is None:
        return "node is not installed (scripts/test.sh installs Debian's nodejs)"
    return ""


@dataclass
class App:
    """One exporter app: how to start it and where it answers."""

    name: str                      # our name for it, also its Prometheus job
    argv: list[str]                # {port} is replaced by the port
    health_path: str = "/health"
    metrics_path: str = "/metrics"
    bearer: str = ""               # a token /metrics needs (LiteLLM)
    env: dict[str, str] = field(default_factory=dict)
    start_timeout: float = 30.0
    port: int = 0
    proc: subprocess.Popen | None = None
    workdir: Path | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def metrics_url(self) -> str:
        return self.base + self.metrics_path

    @property
    def state_file(self) -> Path:
        assert self.workdir is not None
        return self.workdir / "state.json"

    def start(self) -> "App":
        self.port = free_port()
        self.workdir = Path(tempfile.mkdtemp(prefix=f"llmwatch-{self.name}-"))
        self.set_state({})
        env = {**os.environ, **self.env, "LLMWATCH_APP_STATE": str(self.state_file), "PYTHONUNBUFFERED": "1"}
        env.pop("PYTHONPATH", None)
        log = open(self.workdir / "app.log", "wb")  # noqa: SIM115 - closed with the process
        argv = [a.replace("{port}", str(self.port)) for a in self.argv]
        self.proc = subprocess.Popen(argv, cwd=str(APPS), env=env, stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                if httpx.get(self.base + self.health_path, timeout=1.0).status_code < 500:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer {self.health_path} within {self.start_timeout:.0f}s")

    def set_state(self, state: dict) -> None:
        """What the app's health endpoint should say from now on (read on every call)."""
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state))
        tmp.replace(self.state_file)

    def log_tail(self, n: int = 30) -> str:
        if self.workdir is None or not (self.workdir / "app.log").exists():
            return ""
        return "\n".join((self.workdir / "app.log").read_text(errors="replace").splitlines()[-n:])

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None
        if self.workdir is not None and not os.environ.get("LLMWATCH_KEEP_SERVER_DIRS"):
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None


def code_llm_api() -> App:
    return App("code-llm-api", [str(PYTHON), "code_llm_api.py", "{port}"])


def dev_pynode() -> App:
    return App("dev-pynode", [shutil.which("node") or "node", str(NODE_DIR / "dev_pynode.js"), "{port}"])


def hybrid_gateway() -> App:
    return App("api-gateway", [str(PYTHON), "hybrid_gateway.py", "{port}"])


def otel_genai(variant: str = "provider_name") -> App:
    return App("genai-chat" if variant == "provider_name" else "genai-legacy",
               [str(PYTHON), "otel_genai.py", "{port}", variant])


def litellm() -> App:
    key = "sk-llmwatch-" + secrets.token_hex(16)  # LiteLLM refuses weak master keys
    return App("litellm", [str(VENV / "bin" / "litellm"), "--config", "litellm_config.yaml", "--host", "127.0.0.1",
                           "--port", "{port}", "--num_workers", "1"],
               health_path="/health/readiness", bearer=key, start_timeout=90.0,
               env={"LITELLM_MASTER_KEY": key, "LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_LOG": "ERROR",
                    "DISABLE_SCHEMA_UPDATE": "True", "NO_DOCS": "True", "LITELLM_TELEMETRY": "False"})


ALL = (code_llm_api, dev_pynode, hybrid_gateway, otel_genai, litellm)
