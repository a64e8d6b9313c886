"""The README journey: every command in README.md's fenced blocks, run as a new user runs it.

Each command is typed into an interactive bash in a pseudo-terminal (tests/harness/journey.py),
with the installed console script first on PATH, in a folder holding the journey demo's config
as demo.toml and ~/.config/llmwatch/config.toml. The journey demo is `llmwatch demo`'s stack
(real Prometheus and Alertmanager when installed), started once; loopback URLs with well-known
ports point at it. Long-running commands (the dashboard, the demo, watch, logs --follow) are
checked on screen for their first frame or line, then stopped as a person would (q, Ctrl-C)
and their exit code checked. `$ command` blocks are compared with what the command prints
(times, ports and numbers masked). Blocks marked remote or skip, and the steps this run cannot
repeat, are reported as skipped tests with their reasons (pytest -ra lists them).
"""

from __future__ import annotations

import json
import re
import shutil
import time
import tomllib
from pathlib import Path

import pytest

from tests.harness.journey import Shell, Step, normalise, read_blocks, remote_hosts, steps_of, to_loopback
from tests.harness.screen import chart_coverage
from tests.harness.screen_terminal import REPO, clean_env

pytestmark = [pytest.mark.integration, pytest.mark.tui]
README = REPO / "README.md"
CHARTS = ("Latency P50/P95/P99", "Requests/s by label", "Error rate")
# Steps this run cannot repeat, and why (visible as skips).
NOT_HERE = {
    "python3 -m venv .venv": "scripts/test.sh made .venv for this run; tests/test_fresh_clone.py makes one in a clean clone",
    ".venv/bin/pip install .": "scripts/test.sh installed the package; tests/test_fresh_clone.py runs `pip install .` in a clean clone",
    "bash scripts/test.sh": "the suite itself: this test runs inside it",
}


def _all_steps() -> list[Step]:
    out = []
    for block in read_blocks(README):
        if block.mark in ("remote", "skip"):  # one visible skip per block
            first = next((line for line in block.body if line.strip()), "")
            out.append(Step(block, block.line, f"[{block.mark}] {first.strip()}"))
            continue
        if block.lang == "toml":
            out.append(Step(block, block.line, f"[config block] {block.arg or 'llmwatch config'}"))
            continue
        for step in steps_of(block):
            parts = [p.strip() for p in step.command.split("&&")] if "&&" in step.command else [step.command]
            for part in parts:
                out.append(Step(block, step.line, part, step.comment, step.expected))
    return out


STEPS = _all_steps()


@pytest.fixture(scope="module")
def journey(tmp_path_factory):
    """The journey's world: the demo, a home and a folder with its config, one shell per block."""
    from probes.demo import Demo

    demo = Demo("default", seed=1234).start()
    home = tmp_path_factory.mktemp("home")
    cwd = tmp_path_factory.mktemp("journey")
    (cwd / ".venv").symlink_to(REPO / ".venv")
    world = {"demo": demo, "home": home, "bare_home": tmp_path_factory.mktemp("bare-home"), "cwd": cwd,
             "shells": {}, "urls": demo.urls()}
    _restore(world)
    try:
        yield world
    finally:
        for shell in world["shells"].values():
            shell.close()
        demo.stop()


def _restore(world) -> None:
    """Before each step: the files a person would have (a command may have overwritten them)."""
    text = world["demo"].config_toml() + "\n"
    (world["cwd"] / "demo.toml").write_text(text)
    config = world["home"] / ".config" / "llmwatch"
    config.mkdir(parents=True, exist_ok=True)
    (config / "config.toml").write_text(text)


def _shell(world, step: Step) -> Shell:
    """The block's shell. `$ command` examples get a home without a config file: what they print
    must follow from the command line alone. Other commands find the demo's config there."""
    key = step.block.line
    shell = world["shells"].get(key)
    if shell is None:
        home = world["bare_home"] if step.block.shows_output else world["home"]
        shell = world["shells"][key] = Shell(clean_env(home=home), world["cwd"])
    return shell


# ---- what each kind of command must show ----------------------------------------------------------

def _sub(command: str) -> list[str]:
    """The words after `llmwatch` (env prefixes and .venv/bin/ dropped), or [] if not llmwatch."""
    words = command.replace("$(", " ").replace(")", " ").split()
    for i, w in enumerate(words):
        if w.endswith("llmwatch"):
            return words[i + 1:]
    return []


def _is_llmwatch(command: str) -> bool:
    return any(w.endswith("llmwatch") for w in command.replace("$(", " ").split())


VALUE_OPTIONS = {"--config", "--prometheus-url", "--alertmanager-url", "--loki-url", "--range", "--refresh",
                 "--theme", "--scrape"}


def _command_of(words: list[str]) -> str:
    """The subcommand: the first word that is neither an option nor an option's value ("" = none)."""
    i = 0
    while i < len(words):
        if words[i] in VALUE_OPTIONS:
            i += 2
        elif words[i].startswith("-"):
            i += 1
        else:
            return words[i]
    return ""


def _kind(command: str) -> str:
    """tui (the dashboard, the demo), follow (runs until Ctrl-C), once, or shell (not llmwatch)."""
    if not _is_llmwatch(command):
        return "shell"
    words = _sub(command)
    cmd, opts = _command_of(words), set(words)
    if cmd == "demo":
        return "follow" if "--no-ui" in opts else "tui"
    if cmd in ("", "dashboard"):
        return "once" if {"-h", "--help", "-V", "--version"} & opts else "tui"
    if cmd == "watch" or (cmd == "logs" and ({"--follow", "-f"} & opts)):
        return "follow"
    return "once"


def _expected_codes(step: Step) -> set[int]:
    m = re.search(r"\bexit (\d)\b", step.comment)
    if m:
        return {int(m.group(1))}
    words = _sub(step.command)
    if step.expected and step.expected[0].startswith("LLMWATCH OK"):
        return {0}
    if words[:1] in (["check"], ["alerts"]) and words[1:2] not in (["silence"], ["expire"]):
        return {0, 1, 2}
    return {0}


def _check_tui(shell: Shell, step: Step) -> None:
    term = shell.term
    term.wait_for(lambda s: "? help" in s and "llmwatch" in s, timeout=60)
    if "demo" in _sub(step.command):
        term.wait_for(lambda s: all(_full(s, t) for t in CHARTS), timeout=60)
    screen = term.wait_for(lambda s: "loading…" not in s and "loading..." not in s, timeout=30)
    if "--ascii" in step.command:
        assert all(ord(c) < 128 for c in screen), [c for c in screen if ord(c) >= 128][:20]
    if step.command.startswith("NO_COLOR="):  # monochrome: greys only (Textual's NO_COLOR filter)
        colours = {c for row in term.screen.buffer.values() for ch in row.values() for c in (ch.fg, ch.bg)}
        hues = {c for c in colours if c != "default" and not (len(c) == 6 and c[0:2] == c[2:4] == c[4:6])}
        assert not hues, hues
    if "--scrape" in step.command:
        assert "direct scrape" in screen


def _full(screen: str, title: str) -> bool:
    try:
        covered, first_fifth = chart_coverage(screen, title)
    except AssertionError:
        return False
    return covered > 0.9 and first_fifth > 0.9


def _check_follow(shell: Shell, step: Step) -> None:
    words = _sub(step.command)
    if "demo" in words:
        shell.term.wait_for("llmwatch demo: ready", timeout=60, where="output")
    elif "watch" in words:
        shell.term.wait_for(re.compile(r"watching \d+ checks").search, timeout=30, where="output")
    else:
        time.sleep(3)  # logs --follow: the first lines, then new ones every 2 s


def _check_output(step: Step, out: str, world) -> None:
    words = _sub(step.command)
    assert "Traceback" not in out and "internal error" not in out, out
    if step.expected:
        got = [normalise(line) for line in out.splitlines() if line.strip()]
        want = [normalise(line) for line in step.expected if line.strip()]
        assert got == want, "README example differs from what the command prints:\n" + out
        return
    cmd = words[0] if words else ""
    if cmd == "check" and "--format" not in words and "--quiet" not in words:
        assert re.match(r"^LLMWATCH (OK|WARNING|CRITICAL|UNKNOWN) - ", out), out
        for status in ("CRITICAL", "WARNING"):
            if status in step.comment:
                assert f"LLMWATCH {status}" in out, out
    elif cmd == "alerts" and words[1:2] == ["expire"]:
        assert out.startswith("expired "), out
    elif cmd == "alerts" and words[1:2] == ["silence"]:
        assert re.fullmatch(r"[0-9a-f-]{36}", out.strip()) or not out.strip(), out
    elif cmd == "alerts" and "json" in words:
        assert json.loads(out)["status"] in ("OK", "WARNING", "CRITICAL")
    elif cmd == "alerts":
        assert out.startswith("ALERTS "), out
    elif cmd == "snapshot" and ("-o" in words or "--output" in words):
        target = words[(words.index("-o") if "-o" in words else words.index("--output")) + 1]
        body = (world["cwd"] / target).read_text()
        assert body.startswith("<svg") if target.endswith(".svg") else "llmwatch" in body
    elif cmd == "snapshot" and ">" in step.command:
        assert "llmwatch" in (world["cwd"] / step.command.split(">")[-1].strip()).read_text()
    elif cmd == "doctor":
        assert "Prometheus" in out
    elif words and words[0] in ("-h", "--help"):
        assert out.startswith("Usage: llmwatch"), out
    elif step.command.startswith("curl -X POST"):
        assert json.loads(out)["action"] in ("break", "down", "heal"), out


def _config_block(step: Step, world) -> None:
    body = "\n".join(step.block.body) + "\n"
    tomllib.loads(body)
    name = step.block.arg or "readme-config.toml"
    (world["cwd"] / name).write_text(body)
    shell = _shell(world, step)
    start = shell.start(f"llmwatch config --config {name} > /dev/null")
    codes = shell.wait_prompt(30)
    assert codes == [0], shell.output_since(start)


@pytest.mark.parametrize("step", STEPS, ids=[s.id for s in STEPS])
def test_readme_step(journey, step: Step):
    block = step.block
    if block.mark == "remote":
        pytest.skip(f"README.md:{block.line}: needs a host other than loopback (marked remote)")
    if block.mark == "skip":
        pytest.skip(f"README.md:{block.line}: {block.arg}")
    reason = NOT_HERE.get(step.command)
    if reason:
        pytest.skip(f"README.md:{step.line}: {reason}")
    if block.lang == "toml":
        return _config_block(step, journey)
    assert block.lang in ("bash", "sh", "", "console"), (
        f"README.md:{block.line}: a ```{block.lang} block must be marked <!-- journey: remote --> or skip")
    hosts = remote_hosts(step.command)
    assert not hosts, f"README.md:{step.line}: {step.command!r} needs {hosts}: mark its block <!-- journey: remote -->"
    assert _is_llmwatch(step.command) or step.command.startswith(("curl ", "id=")), (
        f"README.md:{step.line}: not an llmwatch command: {step.command!r} (mark the block skip or remote)")
    _restore(journey)
    shell = _shell(journey, step)
    command = to_loopback(step.command, journey["urls"])
    kind = _kind(command)
    start = shell.start(command)
    if kind == "tui":
        _check_tui(shell, step)
        shell.term.send("q")
    elif kind == "follow":
        _check_follow(shell, step)
        shell.term.send("\x03")
    codes = shell.wait_prompt(90)
    out = shell.output_since(start)
    assert codes and codes[0] in _expected_codes(step), f"exit {codes} (want {_expected_codes(step)}):\n{out}"
    if kind == "tui":
        assert b"\x1b[?1049l" in shell.term.raw[start:], "the terminal was not restored"
    if kind == "once":
        _check_output(step, out, journey)
    if kind == "follow" and "demo" in _sub(command) and ">" in command:
        tomllib.loads((journey["cwd"] / command.split(">")[-1].strip()).read_text())  # the config alone


def test_the_journey_covers_the_readme():
    """Every fenced block is either run or marked, and the set-up block's dashboard is among the steps."""
    commands = [s.command for s in STEPS]
    assert ".venv/bin/llmwatch demo --incident" in commands
    assert any(s.expected for s in STEPS), "no `$ command` example to compare"
    assert shutil.which("bash")
    assert Path(README).exists()
