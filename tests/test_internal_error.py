"""No traceback ever reaches the user, least of all one that prints the config's secrets.

Bad configuration is one line naming the file, key and value (exit 3). A bug is one line naming
only the exception type, where to report it and LLMWATCH_DEBUG (exit 3); with LLMWATCH_DEBUG=1
the standard traceback comes first, with no local variables and secrets scrubbed. A crash inside
the Textual app (whose own handler prints a Rich traceback with show_locals=True) takes the same
path, checked in a real pty.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from tests.harness.terminal import LLMWATCH, ROOT, clean_env, run_pty

SECRET_TOKEN = "tok-Zq81vX3pL0"
SECRET_PASS = "pw-Hh27rT9mB5"
BASE = f"""
[prometheus]
url = "http://127.0.0.1:9"
bearer_token = "{SECRET_TOKEN}"
[alertmanager]
url = "http://127.0.0.1:9"
username = "ops"
password = "{SECRET_PASS}"
"""


def llmwatch(tmp_path, *args, env_extra=None):
    env = clean_env(tmp_path, **(env_extra or {}))
    return subprocess.run([LLMWATCH, *args], capture_output=True, text=True, env=env, timeout=60, cwd=ROOT)


# (section, key, TOML value, how the message shows the value: TOML reads 1e999 as inf)
BAD_VALUES = [
    ("dashboard", "refresh", "inf", "inf"), ("dashboard", "refresh", "nan", "nan"),
    ("dashboard", "refresh", "1e999", "inf"), ("dashboard", "refresh", '"inf"', "inf"),
    ("dashboard", "refresh", '"1000000000y"', "1000000000y"), ("dashboard", "range", "-inf", "-inf"),
    ("dashboard", "range", '"nan"', "nan"), ("loki", "timeout", "nan", "nan"), ("prometheus", "timeout", "1e999", "inf"),
    ("alertmanager", "timeout", '"100000h"', "100000h"), ("slo", "error_rate", "nan", "nan"),
    ("slo", "availability", "inf", "inf"), ("slo", "latency_p95", "inf", "inf"), ("slo", "window", '"0s"', "0s"),
    ("slo", "error_rate", "-0.1", "-0.1"),
]


@pytest.mark.parametrize("section, key, value, shown", BAD_VALUES)
def test_non_finite_or_unbounded_config_numbers_are_one_line_exit_3(section, key, value, shown, tmp_path):
    conf = tmp_path / "c.toml"
    body = BASE.replace(f"[{section}]\n", f"[{section}]\n{key} = {value}\n") if f"[{section}]" in BASE \
        else BASE + f"\n[{section}]\n{key} = {value}\n"
    conf.write_text(body)
    for command in (["config"], ["check"], ["doctor"]):
        p = llmwatch(tmp_path, *command, "--config", str(conf))
        assert p.returncode == 3, (command, p.stdout, p.stderr)
        assert p.stdout == "" and p.stderr.count("\n") == 1, p.stderr
        assert str(conf) in p.stderr and f"{section}.{key}" in p.stderr and shown in p.stderr
        assert "Traceback" not in p.stderr and SECRET_TOKEN not in p.stderr and SECRET_PASS not in p.stderr


@pytest.mark.parametrize("section, key, value", [("prices.\"m\"", "input", "inf"), ("prices.\"m\"", "output", "nan"),
                                                 ("prices.\"m\"", "input", "1e999")])
def test_prices_are_finite(section, key, value, tmp_path):
    conf = tmp_path / "c.toml"
    conf.write_text(BASE + f'\n[{section}]\ninput = 1\noutput = 2\n'.replace(f"{key} = ", f"{key} = {value} #"))
    p = llmwatch(tmp_path, "config", "--config", str(conf))
    assert p.returncode == 3 and "finite" in p.stderr and f'prices."m".{key}' in p.stderr, p.stderr


_CRASH = textwrap.dedent("""
    import sys
    import tui.cmd_config as target

    def boom(cfg):
        password = cfg.alertmanager.password  # a local a Rich traceback would show
        raise RuntimeError("bug while showing " + password + " and " + cfg.prometheus.bearer_token)

    target.redacted_view = boom
    from tui.cli import main
    main(sys.argv[1:])
""")


def test_a_bug_is_one_line_with_the_type_only(tmp_path):
    conf = tmp_path / "c.toml"
    conf.write_text(BASE)
    env = clean_env(tmp_path)
    p = subprocess.run([sys.executable, "-c", _CRASH, "config", "--config", str(conf)], capture_output=True,
                       text=True, env=env, timeout=60, cwd=ROOT)
    assert p.returncode == 3
    assert p.stderr.strip() == ("llmwatch: internal error: RuntimeError (please report at the llmwatch issue "
                                "tracker, with `llmwatch --version`; set LLMWATCH_DEBUG=1 for the traceback)")
    env["LLMWATCH_DEBUG"] = "1"
    p = subprocess.run([sys.executable, "-c", _CRASH, "config", "--config", str(conf)], capture_output=True,
                       text=True, env=env, timeout=60, cwd=ROOT)
    assert p.returncode == 3 and "Traceback (most recent call last)" in p.stderr
    assert "RuntimeError: bug while showing *** and ***" in p.stderr  # the message, scrubbed
    assert SECRET_PASS not in p.stderr and SECRET_TOKEN not in p.stderr
    assert "password =" not in p.stderr.split("Traceback")[1].split("RuntimeError")[-1]  # no locals block


_TUI_CRASH = textwrap.dedent("""
    import sys
    from tui.screens.dashboard import DashboardScreen

    def boom(self):
        secret = self.ctx.config.alertmanager.password
        raise ValueError("panel bug " + secret)

    DashboardScreen.render_header = boom
    from tui.cli import main
    main(sys.argv[1:])
""")


@pytest.mark.tui
@pytest.mark.timeout(90)
def test_a_crash_inside_the_textual_app_is_one_line_in_a_real_pty(tmp_path):
    """Textual's own handler would print a Rich traceback with show_locals=True (the config,
    password and all). LlmwatchApp keeps the error and main() prints the one line."""
    import os
    import pty
    import select
    import time

    conf = tmp_path / "c.toml"
    conf.write_text(BASE)
    env = clean_env(tmp_path)
    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - the child
        os.chdir(ROOT)
        os.execve(sys.executable, [sys.executable, "-c", _TUI_CRASH, "dashboard", "--config", str(conf)], env)
    out = b""
    deadline = time.monotonic() + 40
    status = None
    while time.monotonic() < deadline:
        if select.select([fd], [], [], 0.2)[0]:
            try:
                out += os.read(fd, 65536)
            except OSError:
                pass
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
    else:
        os.kill(pid, 9)
    try:
        while select.select([fd], [], [], 0.2)[0]:
            out += os.read(fd, 65536)
    except OSError:
        pass
    os.close(fd)
    assert status is not None and os.waitstatus_to_exitcode(status) == 3, out[-2000:]
    text = out.decode(errors="replace")
    assert "llmwatch: internal error: ValueError (please report at" in text
    assert "Traceback" not in text and "╭" not in text.split("internal error")[-1]
    assert SECRET_PASS not in text and SECRET_TOKEN not in text and "locals" not in text


def test_usage_errors_echo_user_text_cleanly(tmp_path):
    p = llmwatch(tmp_path, "\x1b]0;pwned\x07")
    assert p.returncode == 3 and "\x1b" not in p.stderr and "\x07" not in p.stderr and "no such command" in p.stderr


@pytest.mark.parametrize("args, expect", [
    (["check", "--url", "http://127.0.0.1:99999/x"], "port out of range 0-65535"),
    (["watch", "--every", "0.001s"], "the minimum is 1s"),
    (["watch", "--every", "nan"], "finite"),
    (["logs", "{job=\"x\"}", "--timeout", "inf"], "finite"),
    (["snapshot", "--timeout", "1e999"], "finite"),
    (["doctor", "--timeout", "-1s"], "Invalid value for '--timeout'"),
    (["check", "--timeout", "2d"], "the maximum is 1d"),
])
def test_validation_gaps_are_one_clear_line(args, expect, tmp_path):
    p = llmwatch(tmp_path, *args)
    assert p.returncode == 3, (args, p.stdout, p.stderr)
    assert expect in p.stderr and p.stderr.count("\n") == 1 and "Traceback" not in p.stderr
    assert "ExceptionGroup" not in p.stderr and "internal error" not in p.stderr


def test_loki_timeout_nan_is_a_config_error(tmp_path):
    conf = tmp_path / "c.toml"
    conf.write_text('[loki]\nurl = "http://127.0.0.1:9"\ntimeout = nan\n')
    p = llmwatch(tmp_path, "config", "--config", str(conf))
    assert p.returncode == 3 and "loki.timeout" in p.stderr and "finite" in p.stderr, p.stderr
