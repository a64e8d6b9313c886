"""Benchmark: `llmwatch check` against the seeds' uptime script, and check's cold start.

Case (issue 4): the synthetic stack with 8 health endpoints, each made slow (200 ms) through the
stack's controls. The seed-style script checks them one after another with curl + jq; llmwatch
checks them concurrently. Targets: at least 4x faster; cold start (no checks) under 0.3 s.

    .venv/bin/python bench/bench_check.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from probes.synthetic import Stack  # noqa: E402

SERVICES = ["tinycode", "dev-pynode", "api-gateway", "ai-forge", "code-llm-api", "vllm", "litellm", "ollama"]
LLMWATCH = [sys.executable, "-m", "tui.cli"]


def seed_script(urls: list[str]) -> str:
    """The seeds' style: sequential curl with a 5 s timeout, jq for the status field."""
    lines = ["#!/bin/bash", "fail=0"]
    for url in urls:
        lines.append(f'status=$(curl -s --max-time 5 "{url}" | jq -r ".status // empty" 2>/dev/null)')
        lines.append('[ -n "$status" ] && [ "$status" != "healthy" ] && [ "$status" != "ok" ] && fail=1')
    lines.append("exit $fail")
    return "\n".join(lines) + "\n"


def timed(cmd: list[str], env=None) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=ROOT, check=False)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    if not (shutil.which("curl") and shutil.which("jq")):
        sys.exit("needs curl and jq (apt-get install curl jq) for the seed-style script")
    tmp = Path(tempfile.mkdtemp(prefix="llmwatch-bench-"))
    env = {**os.environ, "HOME": str(tmp), "NO_COLOR": "1"}
    with Stack(services=SERVICES, seed=1) as stack:
        urls = [stack.health_url(n) or stack.url(n) + "/" for n in SERVICES]
        for name in SERVICES:
            stack.control(name, health_delay=0.2)
        script = tmp / "uptime.sh"
        script.write_text(seed_script(urls))
        cfg = tmp / "bench.toml"
        cfg.write_text("".join(f'[[services]]\nname = "{n}"\nurl = "{u}"\n' for n, u in zip(SERVICES, urls)))
        empty = tmp / "empty.toml"
        empty.write_text("")
        timed(LLMWATCH + ["check", "--config", str(empty)], env)  # warm the page cache
        seq = [timed(["bash", str(script)]) for _ in range(args.runs)]
        ours = [timed(LLMWATCH + ["check", "--config", str(cfg), "--format", "json"], env) for _ in range(args.runs)]
        cold = [timed(LLMWATCH + ["check", "--config", str(empty)], env) for _ in range(args.runs)]
    shutil.rmtree(tmp, ignore_errors=True)
    s, o, c = statistics.median(seq), statistics.median(ours), statistics.median(cold)
    print(f"endpoints: {len(SERVICES)} health URLs, each delayed 200 ms; {args.runs} runs, medians")
    print(f"seed-style sequential curl+jq : {s:.3f} s")
    print(f"llmwatch check (concurrent)   : {o:.3f} s  (includes interpreter start)")
    print(f"speed-up                      : {s / o:.2f}x   (target >= 4x)")
    print(f"llmwatch check cold start     : {c:.3f} s  (no checks configured; target < 0.3 s)")


if __name__ == "__main__":
    main()
