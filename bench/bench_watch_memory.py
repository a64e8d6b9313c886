"""Benchmark: `llmwatch watch` resident memory over a long run stays flat.

Runs the real CLI with --every 0.2s against the synthetic stack (7 health endpoints), flipping a
component every few seconds so state changes and webhook-free announcements happen, and samples
VmRSS from /proc every 5 s. Prints the samples and the growth from the first minute to the end.

    .venv/bin/python bench/bench_watch_memory.py [--minutes 3]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from probes.synthetic import Stack  # noqa: E402

SERVICES = ["tinycode", "dev-pynode", "api-gateway", "ai-forge", "code-llm-api", "vllm", "litellm"]


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=3.0)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="llmwatch-watch-"))
    with Stack(services=SERVICES, seed=3) as stack:
        cfg = tmp / "c.toml"
        cfg.write_text("".join(f'[[services]]\nname = "{n}"\nurl = "{stack.health_url(n)}"\n' for n in SERVICES))
        proc = subprocess.Popen([sys.executable, "-m", "tui.cli", "watch", "--config", str(cfg), "--every", "0.2s",
                                 "--failure-threshold", "1", "--success-threshold", "1"],
                                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                env={**os.environ, "HOME": str(tmp)})
        samples: list[tuple[float, int]] = []
        t0 = time.monotonic()
        flip = False
        try:
            while time.monotonic() - t0 < args.minutes * 60:
                time.sleep(5)
                flip = not flip
                stack.control("tinycode", unhealthy=["redis"] if flip else False)
                samples.append((time.monotonic() - t0, rss_kb(proc.pid)))
                print(f"t={samples[-1][0]:6.0f}s rss={samples[-1][1] / 1024:.1f} MiB", flush=True)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    polls = int(args.minutes * 60 / 0.2)
    after_1m = [kb for t, kb in samples if t >= 60]
    base = after_1m[0] if after_1m else samples[0][1]
    print(f"~{polls} polls of {len(SERVICES)} endpoints; RSS first={samples[0][1] / 1024:.1f} MiB, "
          f"at 1 min={base / 1024:.1f} MiB, end={samples[-1][1] / 1024:.1f} MiB, "
          f"growth after the first minute={(samples[-1][1] - base) / 1024:+.1f} MiB")


if __name__ == "__main__":
    main()
