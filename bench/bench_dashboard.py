"""Benchmark: the dashboard's start-up, idle CPU, memory over time and terminal traffic.

Starts the synthetic stack (`Stack(seed=1234)`: the five seed gateways and the default services)
and a real Prometheus scraping it every 5 s (as a real deployment would; `--scrape-interval 1s`
fills data faster) with the seed alert rules, waits until every target is up and a few scrapes
are stored, then measures the real `llmwatch` CLI:

1. start-up: process start to a fully loaded first frame (target < 1.5 s), two ways:
   - pty (authoritative): `llmwatch --config C --refresh 5s` in a pseudo-terminal, 160x48,
     TERM=xterm-256color. Everything it writes is fed to a small terminal emulator; "fully
     loaded" is the first moment (after a burst of output ends) when the emulated screen shows
     the header with "updated", no panel still says "loading…" and the header no longer says
     "detecting systems…". That is what the user sees, through the real driver and CLI.
   - in-process (cross-check with a breakdown): a fresh interpreter imports the app, runs
     `LlmwatchApp.run_test(size=(160, 48))` and `DashboardScreen.wait_loaded()`; timestamps of
     imports done / app running / every source answered / next frame composed, from the spawn.
2. idle CPU with a 5 s refresh (target < 3 % of one core): utime+stime of the app process from
   /proc/<pid>/stat over --idle-seconds (default 60), after --settle seconds of quiet.
3. resident memory (target < 150 MB and flat): VmRSS every 30 s over --minutes (default 10).
4. terminal bytes per minute at idle: what the app writes to the pty over the idle window (the
   data changes every refresh, so this is realistic idle traffic), split by screen row and third
   of the width (the grid is three panels wide) to show what redraws, and the app's Prometheus
   API requests per minute over the same window (Prometheus' own counters) to show what it asks.

The app's config (written to a temp dir, HOME there too): the Prometheus URL, the refresh, the
prices the synthetic gateways charge and one [[services]] health check per service, like the
config `llmwatch demo` prints. The chart range is the app's default (1h) unless --range is given.

The pty is drained continuously by a reader thread, so the app never blocks on a full buffer.
Every process started here (the apps, Prometheus, the stack) is stopped on exit, Ctrl-C included.

    .venv/bin/python bench/bench_dashboard.py [--minutes 10] [--idle-seconds 60] [--runs 3]
    .venv/bin/python bench/bench_dashboard.py --minutes 2      # quick run (about 3.5 minutes)
    .venv/bin/python bench/bench_dashboard.py --range 5m       # RSS once the chart range is full
"""

from __future__ import annotations

import argparse
import codecs
import fcntl
import json
import os
import re
import select
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rich.cells import get_character_cell_size  # noqa: E402

from probes.synthetic import Stack  # noqa: E402
from probes.synthetic.servers import SEED_RULES, PrometheusServer, ServerError  # noqa: E402
from probes.demo import stack_prices  # noqa: E402

COLS, ROWS = 160, 48
CLK_TCK = os.sysconf("SC_CLK_TCK")
RSS_EVERY_S = 30.0
LOAD_TIMEOUT_S = 30.0
TARGET_FIRST_FRAME_S, TARGET_IDLE_CPU_PCT, TARGET_RSS_MB = 1.5, 3.0, 150.0


# ---- a minimal terminal: enough of VT100/xterm for what Textual writes ----------------------------

_ESCAPE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"             # CSI
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"  # OSC ... BEL | ST
    r"|\x1b[P^_][^\x1b]*\x1b\\"            # DCS / PM / APC ... ST
    r"|\x1b[^\[\]P^_]"                     # two-character escapes
)
_TOKEN = re.compile(_ESCAPE.pattern + r"|[\x00-\x1a\x1c-\x1f\x7f]|[^\x00-\x1f\x7f]+")  # + controls, text


class Screen:
    """A grid of cells fed with the app's output: cursor moves, erases and text; styles ignored."""

    def __init__(self, cols: int = COLS, rows: int = ROWS) -> None:
        self.cols, self.rows = cols, rows
        self.grid = [[" "] * cols for _ in range(rows)]
        self.x = self.y = 0
        self._pending = ""
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self.count_rows = False
        self.row_bytes: Counter[tuple[int, int]] = Counter()  # while count_rows: bytes (text + escapes)
        # written per (row, third of the width): the dashboard grid is three panels wide

    def feed(self, data: bytes) -> None:
        text = self._pending + self._decoder.decode(data)
        self._pending = ""
        cut = text.rfind("\x1b")
        if cut >= 0 and _ESCAPE.match(text, cut) is None and len(text) - cut < 4096:
            text, self._pending = text[:cut], text[cut:]  # an escape sequence split by the read
        count = self.count_rows
        for m in _TOKEN.finditer(text):
            tok = m.group()
            y, x = self.y, self.x
            self._token(tok)
            if count:  # text counts where it starts, a cursor move where it goes
                if tok.startswith("\x1b[") and tok[-1] in "HfABCDGd":
                    y, x = self.y, self.x
                self.row_bytes[y, min(x, self.cols - 1) * 3 // self.cols] += len(tok.encode())

    def _token(self, tok: str) -> None:
        c = tok[0]
        if c == "\x1b":
            if len(tok) > 2 and tok[1] == "[":
                self._csi(tok[2:-1], tok[-1])
            return
        if c < " " or c == "\x7f":
            if c == "\r":
                self.x = 0
            elif c == "\n":
                self.y = min(self.y + 1, self.rows - 1)
            elif c == "\b":
                self.x = max(self.x - 1, 0)
            return
        self._text(tok)

    def _csi(self, params: str, final: str) -> None:
        if params.startswith(("?", ">", "<", "=")):
            return  # private modes (alternate screen, mouse, sync, ...): no effect on the grid
        nums = [int(p) if p.isdigit() else 0 for p in params.split(";")] if params else []

        def n(i: int, default: int = 1) -> int:
            return nums[i] if len(nums) > i and nums[i] else default

        if final in "Hf":
            self.y, self.x = min(n(0), self.rows) - 1, min(n(1), self.cols) - 1
        elif final == "A":
            self.y = max(self.y - n(0), 0)
        elif final == "B":
            self.y = min(self.y + n(0), self.rows - 1)
        elif final == "C":
            self.x = min(self.x + n(0), self.cols - 1)
        elif final == "D":
            self.x = max(self.x - n(0), 0)
        elif final == "G":
            self.x = min(n(0), self.cols) - 1
        elif final == "d":
            self.y = min(n(0), self.rows) - 1
        elif final == "J":
            mode = n(0, 0)
            if mode in (2, 3):
                self.grid = [[" "] * self.cols for _ in range(self.rows)]
            elif mode == 0:
                self.grid[self.y][self.x:] = [" "] * (self.cols - self.x)
                for r in range(self.y + 1, self.rows):
                    self.grid[r] = [" "] * self.cols
        elif final == "K":
            mode = n(0, 0)
            row = self.grid[self.y]
            if mode == 0:
                row[self.x:] = [" "] * (self.cols - self.x)
            elif mode == 1:
                row[: self.x + 1] = [" "] * (self.x + 1)
            else:
                self.grid[self.y] = [" "] * self.cols

    def _text(self, text: str) -> None:
        row = self.grid[self.y]
        for ch in text:
            w = get_character_cell_size(ch)
            if w == 0:
                continue
            if self.x + w <= self.cols:
                row[self.x] = ch
                if w == 2:
                    row[self.x + 1] = ""
            self.x = min(self.x + w, self.cols)  # Textual never relies on wrapping: clip

    def line(self, y: int) -> str:
        return "".join(self.grid[y]).rstrip()

    def text(self) -> str:
        return "\n".join(self.line(y) for y in range(self.rows))


def loaded_state(screen_text: str) -> tuple[bool, str]:
    """(fully loaded?, why not): the rule the pty measurement uses."""
    lines = screen_text.splitlines()
    if not lines or "llmwatch" not in lines[0]:
        return False, "no header yet"
    if "updated" not in lines[0]:
        return False, "header has no 'updated' yet"
    if "detecting systems" in screen_text:
        return False, "header still 'detecting systems'"
    if "loading…" in screen_text or "loading..." in screen_text:
        return False, "a panel still says 'loading'"
    return True, ""


# ---- the app in a pseudo-terminal -----------------------------------------------------------------

def app_env(home: Path) -> dict[str, str]:
    drop = ("COLUMNS", "LINES", "NO_COLOR", "COLORTERM", "LLMWATCH_CONFIG", "FORCE_COLOR")
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("TEXTUAL")}
    env.update(TERM="xterm-256color", HOME=str(home), PYTHONUNBUFFERED="1")
    return env


def _controlling_tty() -> None:  # runs in the child after setsid(): make the pty its terminal
    try:
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)
    except OSError:
        pass


class PtyApp:
    """`llmwatch ...` in a pty of COLS x ROWS; a thread drains and emulates its output."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.argv, self.env = argv, env
        self.screen = Screen()
        self.lock = threading.Lock()
        self.bytes_total = 0
        self.chunks: list[tuple[float, int]] = []  # (monotonic time, bytes) of every read
        self.first_byte_at: float | None = None
        self.first_paint_at: float | None = None
        self.loaded_at: float | None = None
        self.not_loaded_why = "nothing written yet"
        self.loaded_event = threading.Event()
        self.proc: subprocess.Popen | None = None
        self.master = -1
        self.thread: threading.Thread | None = None

    def start(self) -> "PtyApp":
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
        self.master = master
        self.spawned_at = time.monotonic()
        self.proc = subprocess.Popen(self.argv, stdin=slave, stdout=slave, stderr=slave, cwd=ROOT, env=self.env,
                                     close_fds=True, start_new_session=True, preexec_fn=_controlling_tty)
        os.close(slave)
        self.thread = threading.Thread(target=self._drain, name="pty-reader", daemon=True)
        self.thread.start()
        return self

    def _drain(self) -> None:
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:  # EIO: the child closed the terminal (exited)
                return
            if not data:
                return
            now = time.monotonic()
            with self.lock:
                self.bytes_total += len(data)
                self.chunks.append((now, len(data)))
                if self.first_byte_at is None:
                    self.first_byte_at = now
                self.screen.feed(data)
                if self.loaded_at is None and not _more_pending(self.master):
                    self._check_loaded(now)

    def _check_loaded(self, now: float) -> None:
        text = self.screen.text()
        if self.first_paint_at is None and "llmwatch" in self.screen.line(0):
            self.first_paint_at = now
        ok, why = loaded_state(text)
        self.not_loaded_why = why
        if ok:
            self.loaded_at = now
            self.loaded_event.set()

    def wait_loaded(self, timeout: float) -> bool:
        return self.loaded_event.wait(timeout)

    def since_spawn(self, t: float | None) -> float | None:
        return None if t is None else t - self.spawned_at

    def cpu_ticks(self) -> int:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)

    def rss_kb(self) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        """`q` as a user would; SIGTERM after 5 s, SIGKILL after 5 more. Only this app's own pid."""
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.write(self.master, b"q")
                self.proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.terminate()
                try:
                    self.proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(timeout=5)
        if self.thread is not None:
            self.thread.join(timeout=5)
        if self.master >= 0:
            os.close(self.master)
            self.master = -1


def _more_pending(fd: int) -> bool:
    try:
        return bool(select.select([fd], [], [], 0)[0])
    except (OSError, ValueError):
        return False


def dashboard_argv(config: Path, refresh: str, range_: str | None = None) -> list[str]:
    """The installed `llmwatch` script (what a user runs), else `python -m tui.cli`."""
    script = ROOT / ".venv" / "bin" / "llmwatch"
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "tui.cli"]
    return [*cmd, "--config", str(config), "--refresh", refresh, *(["--range", range_] if range_ else [])]


# ---- the in-process measurement (a fresh interpreter) ---------------------------------------------

CHILD = r"""
import time
t_start = time.time()
import asyncio, json, sys
sys.path.insert(0, sys.argv[1])
from probes.config import load_config
from tui.app import LlmwatchApp
from tui.cmd_dashboard import make_context
from tui.cmd_snapshot import screen_text
t_imported = time.time()

async def main():
    overrides = {("dashboard", "refresh"): sys.argv[3]}
    if sys.argv[4]:
        overrides[("dashboard", "range")] = sys.argv[4]
    config = load_config(sys.argv[2], overrides=overrides)
    app = LlmwatchApp(make_context(config))
    async with app.run_test(size=(160, 48)) as pilot:
        t_running = time.time()
        ok = await app.get_screen("dashboard").wait_loaded(30)
        t_loaded = time.time()
        await pilot.pause()
        t_composed = time.time()
        text = screen_text(app)
    return dict(start=t_start, imported=t_imported, running=t_running, loaded=t_loaded, composed=t_composed,
                ok=ok, loading_left=("loading" in text), header=text.splitlines()[0] if text else "")

print("BENCH " + json.dumps(asyncio.run(main())))
"""


def in_process_run(config: Path, refresh: str, range_: str | None, env: dict[str, str]) -> dict[str, float]:
    spawned = time.time()
    out = subprocess.run([sys.executable, "-c", CHILD, str(ROOT), str(config), refresh, range_ or ""], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=90)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("BENCH ")), None)
    if line is None:
        raise RuntimeError(f"in-process run failed (exit {out.returncode}): {out.stderr[-2000:]}")
    r = json.loads(line[6:])
    res = {k: r[k] - spawned for k in ("start", "imported", "running", "loaded", "composed")}
    res.update(ok=r["ok"] and not r["loading_left"], header=r["header"])
    return res


# ---- setup ----------------------------------------------------------------------------------------

def write_config(stack: Stack, prom_url: str, path: Path, refresh: str) -> None:
    q = json.dumps
    lines = ["[prometheus]", f"url = {q(prom_url)}", "", "[dashboard]", f"refresh = {q(refresh)}", ""]
    prices = stack_prices(stack)
    cloud = sorted(m for m, p in prices.items() if p != (0.0, 0.0))
    if cloud:
        lines += ["[routing]", f"cloud_reference = {q('claude-sonnet' if 'claude-sonnet' in cloud else cloud[0])}", ""]
    for model, (pin, pout) in sorted(prices.items()):
        lines += [f"[prices.{q(model)}]", f"input = {pin!r}", f"output = {pout!r}", ""]
    for name in stack.services:
        health = stack.health_url(name)
        if health:
            lines += ["[[services]]", f"name = {q(name)}", f"url = {q(health)}", f"job = {q(name)}", ""]
    path.write_text("\n".join(lines))


def prom_requests(url: str) -> dict[str, float]:
    """Prometheus' own count of API requests served, by handler (its /metrics, not a query)."""
    import httpx

    text = httpx.get(url + "/metrics", timeout=10).text
    out: dict[str, float] = {}
    for m in re.finditer(r'^prometheus_http_requests_total\{[^}]*handler="([^"]+)"[^}]*\} (\S+)$', text, re.M):
        if m.group(1) != "/metrics":
            out[m.group(1)] = out.get(m.group(1), 0.0) + float(m.group(2))
    return out


def _stop_on_signal(signum, frame):  # SIGTERM/SIGHUP: unwind like Ctrl-C so every finally runs
    raise KeyboardInterrupt


def fmt_s(v: float | None) -> str:
    return "-" if v is None else f"{v:.2f} s"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=10.0, help="length of the RSS series (default 10)")
    ap.add_argument("--idle-seconds", type=float, default=60.0, help="idle CPU / bytes window (default 60)")
    ap.add_argument("--settle", type=float, default=10.0, help="quiet seconds after load before the idle window")
    ap.add_argument("--runs", type=int, default=3, help="start-up runs of each kind (default 3)")
    ap.add_argument("--refresh", default="5s", help="the dashboard's --refresh (default 5s)")
    ap.add_argument("--range", dest="range_", default=None,
                    help="the dashboard's --range (default: the app's, 1h; a fresh Prometheus fills a 5m range "
                         "in 5 minutes, which separates a filling chart from a leak in the RSS series)")
    ap.add_argument("--scrape-interval", default="5s", help="Prometheus scrape/eval interval (default 5s)")
    ap.add_argument("--warmup", type=float, default=None,
                    help="seconds of scraping before measuring (default 3 scrape intervals, at least 10)")
    ap.add_argument("--show-screen", action="store_true", help="print the emulated screen at load and at the end")
    args = ap.parse_args()
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started with SIGINT ignored (`cmd &`)
    for s in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, _stop_on_signal)

    from probes.durations import parse_duration
    scrape_s = parse_duration(args.scrape_interval)
    warmup = args.warmup if args.warmup is not None else max(10.0, 3 * scrape_s)
    tmp = Path(tempfile.mkdtemp(prefix="llmwatch-bench-dash-"))
    env = app_env(tmp)
    stack = prom = None
    apps: list[PtyApp] = []
    try:
        t0 = time.monotonic()
        stack = Stack(seed=1234).start()
        prom = PrometheusServer(stack.targets(), scrape_interval=args.scrape_interval,
                                evaluation_interval=args.scrape_interval, rule_files=[SEED_RULES])
        prom.start()
        try:
            prom.wait_for_targets(timeout=60)
        except ServerError as exc:
            print(f"{exc}\n--- prometheus log ---\n{prom.log_tail()}", file=sys.stderr)
            return 3
        print(f"stack: {len(stack.services)} services ({', '.join(stack.services)}); Prometheus {prom.url} "
              f"scraping {len(stack.targets())} targets every {args.scrape_interval}; all up after "
              f"{time.monotonic() - t0:.1f} s; warming up {warmup:.0f} s", flush=True)
        time.sleep(warmup)
        config = tmp / "llmwatch.toml"
        write_config(stack, prom.url, config, args.refresh)
        argv = dashboard_argv(config, args.refresh, args.range_)

        # 1. start-up, alternating the two kinds of run
        pty_runs: list[PtyApp] = []
        inproc_runs: list[dict] = []
        for i in range(args.runs):
            app = PtyApp(argv, env).start()
            apps.append(app)
            app.wait_loaded(LOAD_TIMEOUT_S)
            pty_runs.append(app)
            if args.show_screen and i == 0:
                with app.lock:
                    print("--- pty screen at 'fully loaded' ---\n" + app.screen.text() + "\n---", flush=True)
            app.stop()
            inproc_runs.append(in_process_run(config, args.refresh, args.range_, env))
            print(f"start-up run {i + 1}: pty loaded {fmt_s(app.since_spawn(app.loaded_at))} "
                  f"(first byte {fmt_s(app.since_spawn(app.first_byte_at))}, header {fmt_s(app.since_spawn(app.first_paint_at))})"
                  f"{'' if app.loaded_at else ' NOT LOADED: ' + app.not_loaded_why}; in-process loaded "
                  f"{inproc_runs[-1]['loaded']:.2f} s (imports {inproc_runs[-1]['imported']:.2f} s)"
                  f"{'' if inproc_runs[-1]['ok'] else ' NOT LOADED'}", flush=True)

        # 2-4. one long run: idle window for CPU and bytes, RSS every 30 s
        app = PtyApp(argv, env).start()
        apps.append(app)
        if not app.wait_loaded(LOAD_TIMEOUT_S):
            print(f"long run: not loaded within {LOAD_TIMEOUT_S:.0f} s ({app.not_loaded_why})", file=sys.stderr)
            return 1
        long_load = app.since_spawn(app.loaded_at)
        header_down = "DOWN:" in app.screen.line(1)
        print(f"long run: loaded {long_load:.2f} s after spawn; RSS every {RSS_EVERY_S:.0f} s for "
              f"{args.minutes:g} min; idle window {args.settle:.0f}..{args.settle + args.idle_seconds:.0f} s", flush=True)
        t_load = app.loaded_at
        total = max(args.minutes * 60, args.settle + args.idle_seconds)
        rss: list[tuple[float, int]] = [(0.0, app.rss_kb())]
        print(f"  t=   0 s  RSS {rss[-1][1] / 1024:6.1f} MiB", flush=True)
        idle = None
        next_rss = RSS_EVERY_S
        cpu_all0, bytes_all0 = app.cpu_ticks(), app.bytes_total
        idle_start = idle_end = None
        while True:
            now = time.monotonic() - t_load
            if idle_start is None and now >= args.settle:
                with app.lock:
                    app.screen.count_rows = True
                    idle_start = (time.monotonic(), app.cpu_ticks(), app.bytes_total, len(app.chunks))
                q0 = prom_requests(prom.url)
            if idle_start is not None and idle is None and now >= args.settle + args.idle_seconds:
                with app.lock:
                    app.screen.count_rows = False
                    idle_end = (time.monotonic(), app.cpu_ticks(), app.bytes_total, len(app.chunks))
                    rows = Counter(app.screen.row_bytes)
                    lines = {y: app.screen.line(y) for y in range(ROWS)}
                    chunk_times = [t for t, _ in app.chunks[idle_start[3]:idle_end[3]]]
                q1 = prom_requests(prom.url)
                secs = idle_end[0] - idle_start[0]
                idle = dict(secs=secs, cpu_pct=(idle_end[1] - idle_start[1]) / CLK_TCK / secs * 100,
                            bytes_min=(idle_end[2] - idle_start[2]) / secs * 60, rows=rows, lines=lines,
                            bursts_min=_bursts(chunk_times) / secs * 60,
                            queries={h: (n - q0.get(h, 0.0)) / secs * 60 for h, n in q1.items() if n > q0.get(h, 0.0)})
                print(f"  idle window done: CPU {idle['cpu_pct']:.2f} %, {idle['bytes_min'] / 1024:.1f} KiB/min", flush=True)
            if now >= next_rss:
                rss.append((now, app.rss_kb()))
                print(f"  t={now:4.0f} s  RSS {rss[-1][1] / 1024:6.1f} MiB", flush=True)
                next_rss += RSS_EVERY_S
            if now >= total and idle is not None and len(rss) > args.minutes * 60 // RSS_EVERY_S:
                break
            if not app.alive():
                print(f"the app exited early (code {app.proc.returncode})\n{app.screen.text()}", file=sys.stderr)
                return 1
            time.sleep(0.25)
        run_s = time.monotonic() - t_load
        cpu_all = (app.cpu_ticks() - cpu_all0) / CLK_TCK / run_s * 100
        bytes_all = (app.bytes_total - bytes_all0) / run_s * 60
        if args.show_screen:
            with app.lock:
                print("--- pty screen at the end ---\n" + app.screen.text() + "\n---")
        app.stop()

        report(args, pty_runs, inproc_runs, long_load, header_down, idle, rss, cpu_all, bytes_all, run_s)
        return 0
    except KeyboardInterrupt:
        print("\ninterrupted: stopping the app, Prometheus and the stack", file=sys.stderr)
        return 130
    finally:
        for a in apps:
            try:
                a.stop()
            except Exception as exc:  # noqa: BLE001 - keep cleaning up
                print(f"stopping the app: {exc}", file=sys.stderr)
        if prom is not None:
            prom.stop()
        if stack is not None:
            stack.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def _bursts(times: list[float], gap: float = 0.05) -> int:
    """Output bursts (about one per frame): reads separated by more than `gap` seconds."""
    return sum(1 for a, b in zip([None, *times], times) if a is None or b - a > gap)


def report(args, pty_runs, inproc_runs, long_load, header_down, idle, rss, cpu_all, bytes_all, run_s) -> None:
    pty_loaded = [a.since_spawn(a.loaded_at) for a in pty_runs if a.loaded_at is not None]
    pty_loaded.append(long_load)
    pty_first = [a.since_spawn(a.first_paint_at) for a in pty_runs if a.first_paint_at is not None]
    inp = [r for r in inproc_runs if r["ok"]]
    med = statistics.median

    print("\n== start-up (process start -> fully loaded first frame), seconds ==")
    print(f"pty, real CLI ({len(pty_loaded)} runs): " + ", ".join(f"{v:.2f}" for v in pty_loaded)
          + "; first header painted: " + ", ".join(f"{v:.2f}" for v in pty_first))
    if len(pty_loaded) <= len(pty_runs):
        print(f"  {len(pty_runs) + 1 - len(pty_loaded)} pty run(s) never fully loaded")
    if inp:
        print(f"in-process ({len(inp)} runs), medians: interpreter up {med(r['start'] for r in inp):.2f}, "
              f"imports done {med(r['imported'] for r in inp):.2f}, app running {med(r['running'] for r in inp):.2f}, "
              f"all sources answered {med(r['loaded'] for r in inp):.2f}, frame composed {med(r['composed'] for r in inp):.2f}")
    if header_down:
        print("WARNING: the header showed a source DOWN at load")

    mb = [(t, kb / 1024) for t, kb in rss]
    print(f"\n== resident memory (VmRSS every {RSS_EVERY_S:.0f} s over {run_s / 60:.1f} min), MiB ==")
    print("  " + " ".join(f"{t / 60:.1f}m:{v:.1f}" for t, v in mb))
    base1 = next((v for t, v in mb if t >= 60), mb[0][1])
    warm = [(t, v) for t, v in mb if t >= 60]
    slope = _slope(warm) * 3600 if len(warm) >= 3 else float("nan")
    drift = mb[-1][1] - mb[0][1]
    print(f"  first {mb[0][1]:.1f}, at 1 min {base1:.1f}, end {mb[-1][1]:.1f}, max {max(v for _, v in mb):.1f}; "
          f"drift first->end {drift:+.1f}, after the first minute {mb[-1][1] - base1:+.1f} "
          f"(slope {slope:+.2f} MiB/h from minute 1)")

    print(f"\n== idle ({idle['secs']:.0f} s window, refresh {args.refresh}, scrape {args.scrape_interval}) ==")
    print(f"  CPU {idle['cpu_pct']:.2f} % of one core (whole run after load: {cpu_all:.2f} %)")
    print(f"  terminal {idle['bytes_min'] / 1024:.1f} KiB/min (whole run after load: {bytes_all / 1024:.1f} KiB/min), "
          f"about {idle['bursts_min']:.0f} output bursts (frames) per minute")
    per_min = 60 / idle["secs"]
    print("  KiB per minute written to each screen row, by third of the width (left | middle | right):")
    for y in range(ROWS):
        third = [idle["rows"][y, i] * per_min / 1024 for i in range(3)]
        if any(third):
            print(f"    row {y:2d}: {third[0]:5.1f} |{third[1]:5.1f} |{third[2]:5.1f}   {idle['lines'][y][:92]}")
    if idle.get("queries"):
        print("  Prometheus API requests per minute from the app: "
              + ", ".join(f"{h} {n:.0f}" for h, n in sorted(idle["queries"].items(), key=lambda kv: -kv[1])))

    print("\n== summary ==")
    rows = [
        ("first frame, fully loaded (pty, median)", f"{med(pty_loaded):.2f} s" if pty_loaded else "-",
         f"< {TARGET_FIRST_FRAME_S} s", bool(pty_loaded) and med(pty_loaded) < TARGET_FIRST_FRAME_S),
        ("first frame, fully loaded (pty, worst)", f"{max(pty_loaded):.2f} s" if pty_loaded else "-",
         f"< {TARGET_FIRST_FRAME_S} s", bool(pty_loaded) and max(pty_loaded) < TARGET_FIRST_FRAME_S),
        ("first frame, in-process run_test (median)", f"{med(r['composed'] for r in inp):.2f} s" if inp else "-",
         f"< {TARGET_FIRST_FRAME_S} s", bool(inp) and med(r["composed"] for r in inp) < TARGET_FIRST_FRAME_S),
        (f"idle CPU over {idle['secs']:.0f} s", f"{idle['cpu_pct']:.2f} %", f"< {TARGET_IDLE_CPU_PCT} % of a core",
         idle["cpu_pct"] < TARGET_IDLE_CPU_PCT),
        (f"RSS after {run_s / 60:.1f} min", f"{mb[-1][1]:.1f} MiB", f"< {TARGET_RSS_MB:.0f} MB",
         mb[-1][1] * 1.048576 < TARGET_RSS_MB),
        ("RSS drift after the first minute", f"{mb[-1][1] - base1:+.1f} MiB", "flat (within 5 MiB)", abs(mb[-1][1] - base1) < 5),
        ("terminal bytes per minute, idle", f"{idle['bytes_min'] / 1024:.1f} KiB", "(report)", None),
    ]
    w = max(len(r[0]) for r in rows)
    for name, value, target, ok in rows:
        mark = "" if ok is None else ("ok" if ok else "MISSED")
        print(f"  {name:<{w}}  {value:>10}  {target:<20} {mark}")


def _slope(points: list[tuple[float, float]]) -> float:
    n = len(points)
    mx = sum(t for t, _ in points) / n
    my = sum(v for _, v in points) / n
    den = sum((t - mx) ** 2 for t, _ in points)
    return sum((t - mx) * (v - my) for t, v in points) / den if den else 0.0


if __name__ == "__main__":
    sys.exit(main())
