"""How `llmwatch ARGS` picks its command, as a new user types it (issue 11, defect 1).

Only shared options (--config and the URLs) and/or dashboard options mean the dashboard; -h is
--help everywhere; an unknown command is a usage error (exit 3). The dashboard cases run the
installed console script in a pseudo-terminal and read its first frame.
"""

from __future__ import annotations

import subprocess

import click
import pytest

from tests.harness.screen_terminal import Terminal, clean_env, console_script
from tui.cli import COMMANDS, DEFAULT_COMMAND, cli, with_default_command


@pytest.mark.parametrize("args, want", [
    ([], ["dashboard"]),
    (["--config", "d.toml"], ["--config", "d.toml", "dashboard"]),
    (["--config=d.toml"], ["--config=d.toml", "dashboard"]),
    (["--prometheus-url", "http://p:9090", "--range", "6h"], ["--prometheus-url", "http://p:9090", "dashboard", "--range", "6h"]),
    (["--range", "6h", "--config", "d.toml"], ["dashboard", "--range", "6h", "--config", "d.toml"]),
    (["--loki-url", "u", "--alertmanager-url", "a"], ["--loki-url", "u", "--alertmanager-url", "a", "dashboard"]),
    (["--config", "d.toml", "check", "-q"], ["--config", "d.toml", "check", "-q"]),
    (["-h"], ["-h"]), (["--config", "d", "--help"], ["--config", "d", "--help"]), (["-V"], ["-V"]),
    (["nope"], ["nope"]),
])
def test_default_command_goes_where_the_shared_options_end(args, want):
    assert with_default_command(args) == want


def _subcommands() -> list[list[str]]:
    out = []
    for name in COMMANDS:
        out.append([name])
        cmd = cli.get_command(click.Context(cli), name)
        if isinstance(cmd, click.Group):
            out += [[name, sub] for sub in cmd.commands]
    return out


def _run(*args: str, tmp_path) -> subprocess.CompletedProcess:
    return subprocess.run([console_script(), *args], capture_output=True, text=True, timeout=60,
                          env=clean_env(home=tmp_path), stdin=subprocess.DEVNULL)


def test_dash_h_is_help_on_the_group_and_every_command(tmp_path):
    assert _run("-h", tmp_path=tmp_path).stdout == _run("--help", tmp_path=tmp_path).stdout
    for path in _subcommands():
        short, long = _run(*path, "-h", tmp_path=tmp_path), _run(*path, "--help", tmp_path=tmp_path)
        assert short.returncode == 0 and short.stdout == long.stdout, (path, short.stderr)
        assert "-h, --help" in long.stdout, path
        assert f"Usage: llmwatch {' '.join(path)}" in long.stdout


def test_unknown_command_is_a_usage_error(tmp_path):
    out = _run("statuz", tmp_path=tmp_path)
    assert out.returncode == 3 and out.stderr.strip() == "llmwatch: no such command 'statuz' (see llmwatch --help)"
    out = _run("--bogus", tmp_path=tmp_path)
    assert out.returncode == 3 and "--bogus" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.tui
@pytest.mark.parametrize("argv, header", [
    (["--config", "{config}"], "range 15m"),
    (["--prometheus-url", "http://127.0.0.1:9", "--range", "6h"], "range 6h"),
    (["--config", "{config}", "--range", "1h"], "range 1h"),
])
def test_shared_options_alone_open_the_dashboard(tmp_path, argv, header):
    config = tmp_path / "demo.toml"
    config.write_text('[prometheus]\nurl = "http://127.0.0.1:9"\n[dashboard]\nrange = "15m"\n')
    args = [a.replace("{config}", str(config)) for a in argv]
    with Terminal([console_script(), *args], cols=120, rows=30, env=clean_env(home=tmp_path)) as term:
        screen = term.wait_for(lambda s: header in s and "Latency" in s, timeout=30)
        assert "Missing command" not in screen
        assert term.stop("q") == 0
    assert DEFAULT_COMMAND == "dashboard"


DURATION_NAMES = {"timeout", "every", "interval", "since", "scrape_wait", "duration", "refresh", "range_",
                  "history", "window"}


def test_every_duration_option_shows_metavar_duration(tmp_path):
    import re

    looks_like = re.compile(r"^\d+(ms|s|m|h|d|w)$")
    wrong = []
    for path in _subcommands():
        cmd = cli
        ctx = click.Context(cli)
        for part in path:
            cmd = cmd.get_command(ctx, part)
            ctx = click.Context(cmd, parent=ctx)
        for p in cmd.params:
            if not isinstance(p, click.Option) or p.is_flag:
                continue
            if p.name in DURATION_NAMES or (isinstance(p.default, str) and looks_like.match(p.default)):
                if p.make_metavar(ctx) != "DURATION":
                    wrong.append(f"llmwatch {' '.join(path)} {p.opts[0]}: {p.make_metavar(ctx)}")
    assert not wrong, wrong
    assert "--timeout DURATION" in _run("check", "--help", tmp_path=tmp_path).stdout
