"""`python -m probes.synthetic`: run the synthetic stack until SIGINT/SIGTERM.

Prints one line per service, optionally writes a JSON port file
{name: {url, job, metrics, health}, "_control": url} (atomically: temp file + rename) and serves
the control API (probes/synthetic/control.py) on --control-port (0 = any free port).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from typing import Sequence

from probes.synthetic.control import ControlServer
from probes.synthetic.services import REQUIRED_NAMES, SERVICES
from probes.synthetic.stack import Stack


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m probes.synthetic", description=__doc__.splitlines()[0])
    p.add_argument("--services", default="required",
                   help=f"required | all | comma list of {','.join(SERVICES)}")
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--port-file", help="write the JSON port file here")
    p.add_argument("--control-port", type=int, default=0)
    p.add_argument("--vary", action="store_true", help="gentle deterministic gauge variation (demo)")
    p.add_argument("--legacy-vllm", action="store_true",
                   help="vLLM exposes gpu_cache_usage_perc/time_per_output_token_seconds (old names)")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    if args.services == "required":
        names: list[str] | str = list(REQUIRED_NAMES)
    elif args.services == "all":
        names = "all"
    else:
        names = [n.strip() for n in args.services.split(",") if n.strip()]
    try:
        stack = Stack(names, seed=args.seed, vary=args.vary,
                      options={"vllm": {"legacy_names": args.legacy_vllm}})
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    stack.start()
    control = ControlServer(stack, args.control_port)
    try:
        control_url = control.start()
        desc: dict[str, object] = dict(stack.describe())
        desc["_control"] = control_url
        for name, d in stack.describe().items():
            print(f"{name:14} {d['url']:28} metrics={'yes' if d['metrics'] else 'no ':3} health={d['health']}")
        print(f"{'_control':14} {control_url}", flush=True)
        if args.port_file:
            tmp = f"{args.port_file}.tmp{os.getpid()}"
            with open(tmp, "w") as fh:
                json.dump(desc, fh, indent=2)
            os.replace(tmp, args.port_file)
        while not done.wait(0.5):
            pass
    finally:
        control.stop()
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
