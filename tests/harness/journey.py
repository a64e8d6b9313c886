"""The README as steps, and a shell to run them in: what tests/test_readme_journey.py drives.

README convention (written before a fenced block, on the line right before it):
  <!-- journey: remote -->        needs a host other than loopback (or cron, systemd, Nagios...)
  <!-- journey: skip REASON -->   cannot run in a test, and why
  <!-- journey: file NAME -->     a config block: written to NAME in the journey's folder (and checked)
Every other fenced block runs: each command line of a bash block; each `$ command` of a block
that shows output, whose printed lines are compared with what the command prints (times,
ports and numbers masked). Loopback URLs use well-known ports, mapped to the demo's servers:
9090 Prometheus, 9093 Alertmanager, 3100 Loki, 8000 vLLM, 8080 the gateway, 11434 Ollama, and
`PORT` is the demo's control URL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pexpect

from tests.harness.screen_terminal import Terminal

MARK = re.compile(r"^<!--\s*journey:\s*(remote|skip|file)\s*(.*?)\s*-->\s*$")
FENCE = re.compile(r"^```(\S*)\s*$")
RC = re.compile(rb"__rc=([0-9 ]*)__")
WELL_KNOWN_PORTS = {9090: "prometheus", 9093: "alertmanager", 3100: "loki", 8000: "vllm", 8080: "api-gateway",
                    11434: "ollama"}


@dataclass
class Block:
    line: int                 # README line of the opening fence
    lang: str
    body: list[str]
    mark: str = ""            # remote | skip | file
    arg: str = ""             # the skip reason or the file name

    @property
    def shows_output(self) -> bool:
        return self.lang in ("", "console") and bool(self.body) and self.body[0].startswith("$ ")


@dataclass
class Step:
    block: Block
    line: int                 # README line of the command
    command: str
    comment: str = ""
    expected: list[str] = field(default_factory=list)   # printed lines shown under `$ command`

    @property
    def id(self) -> str:
        return f"L{self.line} {self.command[:60]}"


def read_blocks(readme: Path) -> list[Block]:
    lines = readme.read_text(encoding="utf-8").splitlines()
    out: list[Block] = []
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        start, lang = i, m.group(1)
        j = i + 1
        while j < len(lines) and not lines[j].startswith("```"):
            j += 1
        mark = MARK.match(lines[start - 1]) if start else None
        out.append(Block(start + 1, lang, lines[start + 1:j], mark.group(1) if mark else "", mark.group(2) if mark else ""))
        i = j + 1
    return out


def split_comment(line: str) -> tuple[str, str]:
    """`cmd   # comment` -> (cmd, comment); a # inside quotes is not a comment."""
    quote = ""
    for i, ch in enumerate(line):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[:i].rstrip(), line[i + 1:].strip()
    return line.rstrip(), ""


def steps_of(block: Block) -> list[Step]:
    if block.shows_output:
        steps: list[Step] = []
        for k, text in enumerate(block.body):
            if text.startswith("$ "):
                steps.append(Step(block, block.line + 1 + k, text[2:].strip()))
            elif steps:
                steps[-1].expected.append(text)
        return steps
    out = []
    for k, text in enumerate(block.body):
        cmd, comment = split_comment(text)
        if cmd.strip():
            out.append(Step(block, block.line + 1 + k, cmd.strip(), comment))
    return out


def remote_hosts(command: str) -> list[str]:
    """Hosts other than loopback that a command names (a block needing them must say so)."""
    hosts = re.findall(r"https?://(?:[^@/\s'\"]+@)?([^/:\s'\"]+)", command)
    hosts += re.findall(r"\bssh\s+(?:-\S+\s+)*(?:\S+@)?([\w.-]+)", command)
    return [h for h in hosts if h not in ("127.0.0.1", "localhost")]


def to_loopback(command: str, urls: dict[str, str]) -> str:
    """Well-known loopback ports and `PORT` -> where the journey's demo really listens."""
    def port_of(name: str) -> str:
        return urls[name].rsplit(":", 1)[1]

    def sub(m: re.Match) -> str:
        host, port = m.group(1), m.group(2)
        if port == "PORT":
            return f"{host}:{port_of('control')}"
        name = WELL_KNOWN_PORTS.get(int(port))
        return f"{host}:{port_of(name)}" if name and name in urls else m.group(0)
    return re.sub(r"\b(127\.0\.0\.1|localhost):(PORT|\d{2,5})\b", sub, command)


def normalise(line: str) -> str:
    """Times, ports and numbers masked; runs of spaces collapsed: the shape of a printed line."""
    line = re.sub(r"\d{4}-\d\d-\d\dT[\d:.]+Z", "<time>", line)
    line = re.sub(r"\b\d\d:\d\d(:\d\d(\.\d+)?)?\b", "<time>", line)
    line = re.sub(r"(127\.0\.0\.1|localhost|\[::1\]):\d+", r"\1:<port>", line)
    line = re.sub(r"\d+(\.\d+)?", "<n>", line)
    return " ".join(line.split())


class Shell:
    """An interactive bash in a pty, as a person's terminal: one per README block, so `id=$(...)`
    then `expire "$id"` share a shell. After each command the prompt prints its exit codes."""

    def __init__(self, env: dict[str, str], cwd: Path, cols: int = 160, rows: int = 48):
        env = {k: v for k, v in env.items() if k != "PROMPT_COMMAND"}
        env.update(PS1="\\n__rc=${PIPESTATUS[*]}__\\n$ ", PS2="> ")  # PIPESTATUS: each command of a pipeline
        self.term = Terminal(["bash", "--norc", "--noprofile", "--noediting", "-i"], cols=cols, rows=rows,
                             env=env, cwd=cwd)
        self._mark = 0
        self.wait_prompt(20)

    def wait_prompt(self, timeout: float) -> list[int]:
        """Wait for the prompt after the last start(); the exit code of each command of its pipeline."""
        start = self._mark
        try:
            self.term.wait_for(lambda _: RC.search(self.term.raw, start) is not None, timeout, where="raw")
        except AssertionError:
            raise AssertionError(f"no prompt within {timeout}s; the terminal shows:\n{self.term.text()}") from None
        m = RC.search(self.term.raw, start)
        self._mark = m.end()
        return [int(x) for x in m.group(1).split()]

    def start(self, command: str) -> int:
        """Type the command and Enter; returns where its output starts in the raw stream."""
        self._mark = len(self.term.raw)
        self.term.screen.reset()  # pyte has no alternate screen: drop what the last app drew
        self.term.send(command + "\n")
        return self._mark

    def output_since(self, start: int) -> str:
        """What the command printed (escapes removed, the echoed command line dropped)."""
        raw = self.term.raw[start:]
        m = RC.search(raw)
        text = (raw[:m.start()] if m else raw).decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "")
        text = re.sub(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][0-9A-B]|\x1b[=>]|\x1b\][^\x07]*\x07", "", text)
        lines = text.split("\n")
        return "\n".join(lines[1:]).strip("\n")  # the first line is the tty's echo of the command

    def close(self) -> None:
        try:
            self.term.send("exit\n")
            self.term.child.expect(pexpect.EOF, timeout=5)
        except (pexpect.ExceptionPexpect, OSError):
            pass
        self.term.kill()
