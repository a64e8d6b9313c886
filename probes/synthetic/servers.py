"""Real Prometheus and Alertmanager processes on free loopback ports.

The tests and `llmwatch demo` both need the *real* servers (Debian packages `prometheus` and
`prometheus-alertmanager`), never fakes: the point of llmwatch is to read what those servers
really answer. This module starts them with throw-away config and storage in a temp dir, waits
until they say ready, and tears them down (SIGTERM, then SIGKILL) so no stray process outlives a
test run. Stdlib only, so the demo can use it without extra dependencies; never imports tui.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any, Iterable, Mapping, Sequence
from urllib.parse import urlsplit

__all__ = ["AlertmanagerServer", "BinaryNotFound", "PrometheusServer", "ServerError", "SEED_RULES",
           "find_binary", "free_port"]

#: The seed stacks' alert rules, adapted to the synthetic stack (see the file's header).
SEED_RULES = Path(__file__).with_name("rules") / "seed_alerts.yml"

#: Binary name -> (Debian path, Debian package), so a missing binary names what to install.
_BINARIES: dict[str, tuple[str, str]] = {
    "prometheus": ("/usr/bin/prometheus", "prometheus"),
    "promtool": ("/usr/bin/promtool", "prometheus"),
    "amtool": ("/usr/bin/amtool", "prometheus-alertmanager"),
    "prometheus-alertmanager": ("/usr/bin/prometheus-alertmanager", "prometheus-alertmanager"),
    "alertmanager": ("/usr/bin/prometheus-alertmanager", "prometheus-alertmanager"),
}

_PR_SET_PDEATHSIG = 1


class ServerError(RuntimeError):
    """A server did not start or did not become ready; the message carries its log tail."""


class BinaryNotFound(ServerError):
    """A required server binary is not installed; the message names the Debian package."""


def free_port() -> int:
    """A port the kernel just handed out on 127.0.0.1 (tiny race until the server binds it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def find_binary(name: str, *, required: bool = False) -> str | None:
    """Locate a server binary: the Debian path first, then PATH.

    Returns None when absent, or raises BinaryNotFound naming the Debian package to install
    when ``required`` — a bare "file not found" from Popen tells nobody what to do.
    """
    debian_path, package = _BINARIES.get(name, (f"/usr/bin/{name}", name))
    for candidate in (debian_path, shutil.which(name)):
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    if required:
        raise BinaryNotFound(
            f"{name} is not installed: install the Debian package '{package}' "
            f"(apt-get install --no-install-recommends {package}), or run scripts/test.sh which does"
        )
    return None


def _die_with_parent() -> None:
    """preexec_fn: ask Linux to SIGTERM the child when the parent dies (best effort).

    A crashed or killed pytest must not leave Prometheus holding ports and temp dirs.
    Note PR_SET_PDEATHSIG fires when the *thread* that forked exits, so start servers from a
    long-lived thread (pytest's main thread is).
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except Exception:  # noqa: BLE001 - best effort only
        pass


def _http_get(url: str, timeout: float = 2.0) -> tuple[int, bytes]:
    """GET with urllib; returns (status, body) and (0, b"") when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 - loopback only
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except (urllib.error.URLError, OSError):
        return 0, b""


class _ManagedServer:
    """Shared lifecycle: temp workdir, Popen with log file, readiness poll, clean stop."""

    name = "server"
    binary_name = ""

    def __init__(self, *, port: int | None, workdir: str | os.PathLike[str] | None, binary: str | None) -> None:
        self._fixed_port = port
        self.port: int = port or 0
        self._given_workdir = Path(workdir) if workdir else None
        self.workdir: Path | None = self._given_workdir
        self._binary = binary
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_file: Any = None

    # -- to be provided by subclasses -------------------------------------------------------
    def _write_config(self) -> None:
        raise NotImplementedError

    def _command(self, binary: str) -> list[str]:
        raise NotImplementedError

    # -- public API ---------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def endpoint(self) -> Any:
        """A probes.config.Endpoint for this server: what llmwatch's probes take."""
        from probes.config import Endpoint  # lazy: keeps this module usable on its own

        return Endpoint(url=self.url)

    @property
    def log_path(self) -> Path:
        if self.workdir is None:
            raise ServerError(f"{self.name} has no workdir yet: call start() first")
        return self.workdir / f"{self.name}.log"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of the server's log, for failure messages."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except (OSError, ServerError):
            return "(no log)"

    def start(self, timeout: float = 30.0) -> "_ManagedServer":
        """Write config, launch, wait for /-/ready; retries once on a lost port race."""
        if self.running:
            return self
        binary = self._binary or find_binary(self.binary_name, required=True)
        assert binary is not None
        self.prepare()
        attempts = 1 if self._fixed_port else 3
        for attempt in range(attempts):
            if not self._fixed_port:
                self.port = free_port()
            self._write_config()
            self._launch(binary)
            try:
                self._wait_ready(timeout)
                return self
            except ServerError:
                lost_race = "address already in use" in self.log_tail(200)
                self._terminate()
                if not lost_race or attempt == attempts - 1:
                    self._cleanup_dir()
                    raise
        raise AssertionError("unreachable")

    def prepare(self) -> Path:
        """Create the workdir now (start() uses it), e.g. to put TSDB blocks in it before start."""
        if self.workdir is None:
            self.workdir = Path(tempfile.mkdtemp(prefix=f"llmwatch-{self.name}-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        return self.workdir

    def stop(self) -> None:
        """SIGTERM, SIGKILL after 5 s, then remove the temp dir we created."""
        self._terminate()
        self._cleanup_dir()

    def __enter__(self) -> "_ManagedServer":
        return self.start()

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    # -- internals ----------------------------------------------------------------------------
    def _launch(self, binary: str) -> None:
        self._log_file = open(self.log_path, "ab")  # noqa: SIM115 - closed in _terminate
        self._proc = subprocess.Popen(  # noqa: S603 - fixed binary, our own arguments
            self._command(binary),
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            cwd=self.workdir,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,  # noqa: PLW1509
            start_new_session=True,  # Ctrl-C in pytest must not kill it before we stop it cleanly
        )

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc is None or self._proc.poll() is not None:
                code = self._proc.returncode if self._proc else None
                raise ServerError(f"{self.name} exited with code {code} before ready:\n{self.log_tail()}")
            status, _ = _http_get(f"{self.url}/-/ready", timeout=1.0)
            if status == 200:
                return
            time.sleep(0.05)
        raise ServerError(f"{self.name} not ready at {self.url} after {timeout:.0f}s:\n{self.log_tail()}")

    def _terminate(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def _cleanup_dir(self) -> None:
        if self._given_workdir is None and self.workdir is not None:
            if not os.environ.get("LLMWATCH_KEEP_SERVER_DIRS"):
                shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None


def _normalise_targets(targets: Mapping[str, str | Sequence[str]]) -> list[dict[str, Any]]:
    """{job: "host:port" | [..] | "http://host:port/path"} -> Prometheus scrape_configs."""
    configs = []
    for job, value in targets.items():
        items = [value] if isinstance(value, str) else list(value)
        path = "/metrics"
        scheme = "http"
        addresses = []
        for item in items:
            if "://" in item:
                parts = urlsplit(item)
                scheme, path = parts.scheme, parts.path or "/metrics"
                addresses.append(parts.netloc)
            else:
                addresses.append(item)
        configs.append(
            {
                "job_name": job,
                "scheme": scheme,
                "metrics_path": path,
                "static_configs": [{"targets": addresses}],
            }
        )
    return configs


class PrometheusServer(_ManagedServer):
    """/usr/bin/prometheus scraping the given targets, with optional rules and Alertmanager."""

    name = "prometheus"
    binary_name = "prometheus"

    def __init__(
        self,
        targets: Mapping[str, str | Sequence[str]],
        *,
        scrape_interval: str = "1s",
        evaluation_interval: str = "1s",
        rule_files: Iterable[str | os.PathLike[str]] | None = None,
        alertmanager_url: str | None = None,
        port: int | None = None,
        workdir: str | os.PathLike[str] | None = None,
        binary: str | None = None,
        alert_resend_delay: str = "1s",
        scrape_options: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        super().__init__(port=port, workdir=workdir, binary=binary)
        # per job, extra scrape_config keys (e.g. {"authorization": {"credentials": "..."}})
        self.scrape_options = {job: dict(opts) for job, opts in (scrape_options or {}).items()}
        self.alert_resend_delay = alert_resend_delay
        self.targets: dict[str, str | Sequence[str]] = dict(targets)
        self.scrape_interval = scrape_interval
        self.evaluation_interval = evaluation_interval
        self.rule_files = [Path(p).resolve() for p in (rule_files or [])]
        self.alertmanager_url = alertmanager_url

    @property
    def config_path(self) -> Path:
        assert self.workdir is not None
        return self.workdir / "prometheus.yml"

    def config(self) -> dict[str, Any]:
        """The prometheus.yml content as data (JSON is valid YAML, so no YAML library needed)."""
        cfg: dict[str, Any] = {
            "global": {
                "scrape_interval": self.scrape_interval,
                # Prometheus refuses scrape_timeout > scrape_interval.
                "scrape_timeout": self.scrape_interval,
                "evaluation_interval": self.evaluation_interval,
            },
            "rule_files": [str(p) for p in self.rule_files],
            "scrape_configs": [{**c, **self.scrape_options.get(c["job_name"], {})}
                               for c in _normalise_targets(self.targets)],
        }
        if self.alertmanager_url:
            parts = urlsplit(self.alertmanager_url)
            cfg["alerting"] = {
                "alertmanagers": [
                    {
                        "scheme": parts.scheme or "http",
                        "path_prefix": parts.path or "/",
                        "timeout": "2s",
                        "static_configs": [{"targets": [parts.netloc]}],
                    }
                ]
            }
        return cfg

    @property
    def data_dir(self) -> Path:
        """The TSDB directory: blocks put here before start() (promtool backfill) are loaded."""
        return self.prepare() / "data"

    def _write_config(self) -> None:
        self.config_path.write_text(json.dumps(self.config(), indent=2) + "\n")

    def _command(self, binary: str) -> list[str]:
        assert self.workdir is not None
        return [
            binary,
            f"--config.file={self.config_path}",
            f"--storage.tsdb.path={self.data_dir}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            "--web.enable-lifecycle",
            "--storage.tsdb.retention.time=1d",
            # Default 1m: an alert that fired before the 5 s Alertmanager discovery tick is
            # dropped and not re-sent for a minute. Short windows need short resends.
            f"--rules.alert.resend-delay={self.alert_resend_delay}",
            "--log.level=info",
        ]

    def reload(self, targets: Mapping[str, str | Sequence[str]] | None = None, timeout: float = 10.0) -> None:
        """Rewrite prometheus.yml (optionally with new targets) and POST /-/reload."""
        if targets is not None:
            self.targets = dict(targets)
        self._write_config()
        req = urllib.request.Request(f"{self.url}/-/reload", method="POST")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - loopback
                if resp.status != 200:
                    raise ServerError(f"reload answered {resp.status}")
        except urllib.error.HTTPError as exc:
            raise ServerError(f"reload failed: {exc.code} {exc.read().decode(errors='replace')}") from None

    def api(self, path: str, timeout: float = 5.0) -> Any:
        """GET an /api/v1 path and return its `data` (small helper for waits and tests)."""
        status, body = _http_get(f"{self.url}{path}", timeout=timeout)
        if status != 200:
            raise ServerError(f"GET {path} -> {status}: {body[:300]!r}")
        return json.loads(body)["data"]

    def wait_for_targets(self, jobs: Iterable[str] | None = None, timeout: float = 30.0) -> None:
        """Block until every target of ``jobs`` (default: all configured) has health "up"."""
        wanted = set(jobs) if jobs is not None else set(self.targets)
        deadline = time.monotonic() + timeout
        last: dict[str, str] = {}
        pending: list[str] = sorted(wanted)
        while time.monotonic() < deadline:
            try:
                active = self.api("/api/v1/targets?state=active")["activeTargets"]
            except (ServerError, ValueError, KeyError):
                active = []
            health: dict[str, list[str]] = {}
            last = {}
            for target in active:
                job = target["labels"].get("job", "")
                health.setdefault(job, []).append(target["health"])
                if target["health"] != "up":
                    last[target["scrapeUrl"]] = target.get("lastError") or target["health"]
            pending = sorted(j for j in wanted if not health.get(j) or any(h != "up" for h in health[j]))
            if not pending:
                return
            time.sleep(0.2)
        raise ServerError(f"targets not all up after {timeout:.0f}s (jobs {pending}); errors: {last}")


ALERTMANAGER_CONFIG = {
    # One receiver with no integrations: alerts are kept and served by the API, sent nowhere.
    "route": {
        "receiver": "null",
        "group_by": ["alertname"],
        "group_wait": "1s",
        "group_interval": "1s",
        "repeat_interval": "1h",
    },
    "receivers": [{"name": "null"}],
}


class AlertmanagerServer(_ManagedServer):
    """/usr/bin/prometheus-alertmanager on loopback, clustering off, storage in a temp dir."""

    name = "alertmanager"
    binary_name = "prometheus-alertmanager"

    def __init__(
        self,
        port: int | None = None,
        workdir: str | os.PathLike[str] | None = None,
        binary: str | None = None,
    ) -> None:
        super().__init__(port=port, workdir=workdir, binary=binary)

    @property
    def config_path(self) -> Path:
        assert self.workdir is not None
        return self.workdir / "alertmanager.yml"

    def _write_config(self) -> None:
        self.config_path.write_text(json.dumps(ALERTMANAGER_CONFIG, indent=2) + "\n")

    def _command(self, binary: str) -> list[str]:
        assert self.workdir is not None
        return [
            binary,
            f"--config.file={self.config_path}",
            f"--storage.path={self.workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            "--cluster.listen-address=",  # empty disables clustering: no bind on :9094
            "--log.level=info",
        ]
