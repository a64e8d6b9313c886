"""Run the installed `llmwatch` console script in a pseudo-terminal and judge the raw bytes it wrote.

Why a pty: colour, tables and the dashboard only happen when stdout is a terminal, and the bytes
that reach a terminal are what an injected escape sequence would abuse. `run_pty` returns every
byte the process wrote (stdout and stderr share the terminal, as for a person), its exit code
and how long it took; `injected()` lists the hostile sequences found in them.
"""

from __future__ import annotations

import os
import re
import select
import signal
import struct
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[2]
LLMWATCH = str(Path(sys.executable).with_name("llmwatch"))


@dataclass
class PtyRun:
    code: int | None          # None: killed at the deadline
    out: bytes
    elapsed: float

    @property
    def text(self) -> str:
        return self.out.decode("utf-8", errors="replace")


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """An environment with no user config and no LLMWATCH_/LOKI_ variables of the caller's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LLMWATCH_", "LOKI_"))}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), TERM="xterm-256color", COLUMNS="160",
               LINES="48", NO_COLOR="")
    env.pop("NO_COLOR")
    env.update(extra)
    return env


def run_pty(args: list[str], env: dict[str, str], timeout: float = 60.0, size: tuple[int, int] = (160, 48),
            keys: list[tuple[float, bytes]] = (), until: Callable[[bytes], bool] | None = None,
            cwd: Path = ROOT) -> PtyRun:
    """Run `llmwatch *args` on a pty of `size`; send each (delay, bytes) of `keys` after that delay
    (seconds from start); stop reading when the process exits, `until(out)` is true (then it gets
    SIGTERM), or at `timeout` (SIGKILL, code None)."""
    import fcntl
    import pty
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
    started = time.monotonic()
    proc = subprocess.Popen([LLMWATCH, *args], stdin=slave, stdout=slave, stderr=slave, env=env, cwd=cwd,
                            start_new_session=True)
    os.close(slave)
    out = bytearray()
    pending = sorted(keys)
    stopped = False
    try:
        while True:
            now = time.monotonic() - started
            while pending and pending[0][0] <= now:
                os.write(master, pending.pop(0)[1])
            if now > timeout:
                proc.kill()
                break
            ready, _, _ = select.select([master], [], [], 0.05)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:
                    data = b""
                if not data and proc.poll() is not None:
                    break
                out += data
            elif proc.poll() is not None:
                break
            if until is not None and not stopped and until(bytes(out)):
                proc.send_signal(signal.SIGTERM)
                stopped = True
    finally:
        code = proc.wait(timeout=10) if proc.poll() is None else proc.returncode
        os.close(master)
    elapsed = time.monotonic() - started
    return PtyRun(None if elapsed > timeout else code, bytes(out), elapsed)


# -- what must never reach a terminal ------------------------------------------------------------

# Our own output uses SGR (colours) only; the dashboard adds Textual's cursor and mode sequences.
_SGR = re.compile(rb"\x1b\[[0-9;:]*m")
_ANY_ESC = re.compile(rb"\x1b.{0,12}", re.S)
_HOSTILE = {
    "OSC 0 title": rb"\x1b\]0;pwned",
    "OSC 52 clipboard": rb"\x1b\]52;",
    "OSC 8 hyperlink to the payload": rb"\x1b\]8;[^\x07\x1b]*evil\.example",
    "DSR cursor report request": rb"\x1b\[6n",
    "C1 control (UTF-8 encoded U+0080-U+009F)": rb"\xc2[\x80-\x9f]",
    "bidi override or isolate": b"|".join(re.escape(chr(c).encode()) for c in
                                          (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C)),
    "BEL": rb"\x07",
    "backspace": rb"\x08",
}


def injected(out: bytes, *, tui: bool = False) -> list[str]:
    """The hostile sequences in `out`. Without `tui`, any escape other than SGR counts too (our
    line-oriented output never moves the cursor); the dashboard's own sequences are allowed."""
    text = re.sub(rb"\x1b\]22;[a-z-]*\x07", b"", out) if tui else out  # Textual's pointer shape (OSC 22)
    found = [name for name, pattern in _HOSTILE.items() if re.search(pattern, text)]
    if not tui:
        rest = _SGR.sub(b"", text)
        for m in _ANY_ESC.finditer(rest):
            found.append(f"escape sequence {m.group()!r}")
            break
    return found
