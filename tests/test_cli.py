"""The command line as a user meets it: help, version, exit codes, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str, env: dict | None = None, home: Path | None = None) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("LLMWATCH_", "LOKI_"))}
    if home is not None:
        base["HOME"] = str(home)
        base.pop("XDG_CONFIG_HOME", None)
    base.update(env or {})
    return subprocess.run([sys.executable, "-m", "tui.cli", *args], capture_output=True, text=True,
                          env=base, cwd=ROOT, timeout=60)


def test_version(tmp_path):
    from probes import __version__
    out = run("--version", home=tmp_path)
    assert out.returncode == 0
    assert out.stdout.strip() == f"llmwatch {__version__}"


def test_help_lists_every_command_with_description_and_example(tmp_path):
    from tui.cli import COMMANDS
    out = run("--help", home=tmp_path)
    assert out.returncode == 0
    flat = " ".join(out.stdout.split())
    for name, (_, desc, example) in COMMANDS.items():
        assert name in out.stdout
        assert " ".join(example.split()) in flat, example
    assert "0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN" in flat


@pytest.mark.parametrize("toml, needle", [
    ('[prometheus]\nfoo = 1\n', "prometheus.foo: unknown key"),
    ('[dashboard]\nrefresh = "fast"\n', "dashboard.refresh: bad duration 'fast'"),
])
def test_config_errors_exit_3_with_one_line(tmp_path, toml, needle):
    path = tmp_path / "c.toml"
    path.write_text(toml)
    out = run("config", "--config", str(path), home=tmp_path)
    assert out.returncode == 3
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert str(path) in lines[0] and needle in lines[0]
    assert "Traceback" not in out.stderr


def test_missing_config_file_exit_3(tmp_path):
    out = run("config", "--config", str(tmp_path / "missing.toml"), home=tmp_path)
    assert out.returncode == 3
    assert out.stderr.strip() == f"llmwatch: config error: {tmp_path / 'missing.toml'}: config file not found"


def test_config_option_before_or_after_subcommand(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[dashboard]\nrange = "6h"\n')
    for args in (("--config", str(path), "config", "--format", "json"), ("config", "--config", str(path), "--format", "json")):
        out = run(*args, home=tmp_path)
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout)["dashboard"]["range"] == 6 * 3600


def test_usage_errors_exit_3(tmp_path):
    out = run("no-such-command", home=tmp_path)
    assert out.returncode == 3 and "no such command 'no-such-command'" in out.stderr
    out = run("config", "--bogus", home=tmp_path)
    assert out.returncode == 3 and "--bogus" in out.stderr and "Traceback" not in out.stderr


def test_config_show_hides_secrets(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[prometheus]\nurl = "https://ops:urlsecret1@prom:9090"\nbearer_token = "tok-secret-2"\n'
                    '[[services]]\nname = "gw"\nurl = "http://127.0.0.1:8080/health"\nheaders = { "X-Api-Key" = "hdr-secret-3" }\n'
                    '[[scrape]]\njob = "litellm"\nurl = "http://u:scr-pass-4@127.0.0.1:4000/metrics"\n'
                    'bearer_token = "scr-tok-5"\nheaders = { "X-Api-Key" = "scr-hdr-6" }\n')
    for fmt in ("text", "json"):
        out = run("config", "--config", str(path), "--format", fmt, home=tmp_path)
        assert out.returncode == 0, out.stderr
        for secret in ("urlsecret1", "tok-secret-2", "hdr-secret-3", "scr-pass-4", "scr-tok-5", "scr-hdr-6"):
            assert secret not in out.stdout + out.stderr
