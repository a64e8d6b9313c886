"""Regenerate every README screenshot from the real app on the synthetic demo stack.

    .venv/bin/python scripts/screenshots.py [--warmup 60] [--out screenshots]

Starts `llmwatch demo --incident` in-process (real Prometheus and Alertmanager when installed),
lets the incident run for --warmup seconds so every panel has data and an alert fires, then
renders each screen headless with the same code as `llmwatch snapshot`. Nothing is hand-made.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from probes.demo import Demo  # noqa: E402
from tui.cmd_demo import build_context  # noqa: E402
from tui.cmd_snapshot import render  # noqa: E402

SHOTS = [
    # file, screen, size, theme, ascii, log query
    ("dashboard.svg", "dashboard", (160, 48), "dark", False, None),
    ("dashboard-80x24.svg", "dashboard", (80, 24), "dark", False, None),
    ("dashboard-light.svg", "dashboard", (160, 48), "light", False, None),
    ("alerts.svg", "alerts", (160, 40), "dark", False, None),
    ("logs.svg", "logs", (160, 40), "dark", False, '{job="api-gateway"}'),
]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--warmup", type=float, default=60.0, help="seconds of incident before the first shot")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent.parent / "screenshots"))
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    demo = Demo("default", incident=True).start()
    try:
        print(demo.banner(), flush=True)
        time.sleep(args.warmup)
        for name, screen, size, theme, ascii_, query in SHOTS:
            ctx = build_context(demo, theme, ascii_)
            svg, loaded = asyncio.run(render(ctx, screen, size, "svg", 30.0, query, settle=1.0))
            (out / name).write_text(svg)
            print(f"wrote {out / name} ({size[0]}x{size[1]}, {screen}{'' if loaded else ', NOT fully loaded'})",
                  flush=True)
    finally:
        demo.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
