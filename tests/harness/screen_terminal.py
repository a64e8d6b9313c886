"""A command in a real pseudo-terminal, read through a VT100 screen: what a person would see.

Why: the dashboard, the demo and `logs --follow` are met in a terminal. pexpect gives the child a
pty of a chosen size (so Textual sizes itself, reads keys and restores the terminal as it would
over SSH); pyte replays the bytes it writes into a screen, so a test reads lines of text instead
of cursor-movement escapes. Used by the README journey test and the CLI tests.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Callable, Mapping, Sequence

import pexpect
import pyte

from tests.harness.terminal import LLMWATCH
from tests.harness.terminal import ROOT as REPO
from tests.harness.terminal import clean_env as base_env

def console_script() -> str:
    """The installed console script (scripts/test.sh installs the package into .venv)."""
    if not Path(LLMWATCH).exists():  # pragma: no cover - only when run outside scripts/test.sh
        raise FileNotFoundError(f"{LLMWATCH} is missing: run bash scripts/test.sh (it installs the package)")
    return LLMWATCH


def clean_env(extra: Mapping[str, str] | None = None, home: str | os.PathLike | None = None) -> dict[str, str]:
    """A new user's shell: tests.harness.terminal's clean environment (no llmwatch/Loki settings,
    a terminal type), sized by the pty rather than COLUMNS/LINES, with the console script on PATH."""
    env = base_env(Path(home) if home is not None else Path(os.environ.get("HOME", "/root")), **(extra or {}))
    env = {k: v for k, v in env.items() if k not in ("COLUMNS", "LINES") and not k.startswith(("PYTEST_", "TEXTUAL"))}
    env.update(PYTHONUNBUFFERED="1", PATH=f"{Path(LLMWATCH).parent}{os.pathsep}{env.get('PATH', '')}")
    return env


class Terminal:
    """`Terminal(["llmwatch", "--config", f])`: the child runs in a cols x rows pty."""

    def __init__(self, argv: Sequence[str], *, cols: int = 120, rows: int = 40,
                 env: Mapping[str, str] | None = None, cwd: str | os.PathLike | None = None):
        self.argv = list(argv)
        self.screen = pyte.Screen(cols, rows)
        self.stream = pyte.ByteStream(self.screen)
        self.raw = b""
        self.child = pexpect.spawn(self.argv[0], self.argv[1:], dimensions=(rows, cols),
                                   env=dict(env) if env is not None else clean_env(), cwd=str(cwd or REPO))
        self.exit_code: int | None = None

    # ---- reading ------------------------------------------------------------------------------
    def pump(self, wait: float = 0.1) -> bool:
        """Read what the child wrote within `wait` seconds; False once it has exited."""
        try:
            data = self.child.read_nonblocking(65536, timeout=wait)
        except pexpect.TIMEOUT:
            return True
        except pexpect.EOF:
            return False
        self.raw += data
        self.stream.feed(data)
        return True

    def text(self) -> str:
        """The screen now, one line per row, right-trimmed."""
        return "\n".join(line.rstrip() for line in self.screen.display)

    def output(self) -> str:
        """Everything written so far as text (for line-oriented commands), escapes removed."""
        import re

        text = self.raw.decode("utf-8", "replace").replace("\r\n", "\n")
        return re.sub(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][0-9A-B]|\x1b[=>]", "", text)

    def _view(self, where: str) -> str:
        return self.text() if where == "screen" else self.output() if where == "output" else ""

    def wait_for(self, want: str | Callable[[str], bool], timeout: float = 20.0, *, where: str = "screen") -> str:
        """Pump until the screen (or the whole output) contains `want` / satisfies it.
        where="raw": the predicate reads self.raw itself (cheap on long TUI sessions)."""
        test = want if callable(want) else (lambda text: want in text)
        deadline = time.monotonic() + timeout
        alive = True
        while time.monotonic() < deadline:
            text = self._view(where)
            if test(text):
                return text
            if not alive:
                break
            alive = self.pump(0.1)
        text = self._view(where)
        if test(text):
            return text
        raise AssertionError(f"{self.argv}: {want!r} not on the {where} within {timeout}s "
                             f"(exited={not alive}); it shows:\n{(text or self.text())[-3000:]}")

    # ---- input and stopping -------------------------------------------------------------------
    def send(self, keys: str) -> None:
        self.child.send(keys)

    def wait_exit(self, timeout: float = 20.0) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.pump(0.1):
                break
        else:
            raise AssertionError(f"{self.argv} still running {timeout}s after being asked to stop")
        self.child.close()
        self.exit_code = self.child.exitstatus if self.child.exitstatus is not None else \
            128 + (self.child.signalstatus or 0)
        return self.exit_code

    def stop(self, how: str = "q", timeout: float = 20.0) -> int:
        """Stop it as a person would: "q", "ctrl-c" (the terminal's interrupt) or "sigterm"."""
        if how == "q":
            self.send("q")
        elif how == "ctrl-c":
            self.send("\x03")
        elif how == "sigterm":
            self.child.kill(signal.SIGTERM)
        else:
            raise ValueError(how)
        return self.wait_exit(timeout)

    def kill(self) -> None:
        if self.child.isalive():
            self.child.terminate(force=True)
        self.child.close(force=True)

    def __enter__(self) -> "Terminal":
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill()

    @property
    def left_alternate_screen(self) -> bool:
        """True when the app restored the terminal (left the alternate screen) on its way out."""
        return b"\x1b[?1049l" in self.raw
