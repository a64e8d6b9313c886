"""probes/ never imports textual, rich or tui; non-dashboard commands never import textual.

Checked in fresh interpreters (sys.modules of this test process is polluted by other tests).
"""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import probes

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN_IN_PROBES = ("textual", "rich", "tui")


def probe_modules() -> list[str]:
    names = ["probes"]
    for info in pkgutil.walk_packages(probes.__path__, "probes."):
        if ".synthetic.__main__" in info.name or info.name.endswith("__main__"):
            continue
        names.append(info.name)
    return names


def loaded_after(code: str) -> set[str]:
    script = code + "\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.returncode == 0, out.stderr
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def _forbidden(mods: set[str], roots: tuple[str, ...]) -> list[str]:
    return sorted(m for m in mods if m.split(".")[0] in roots)


@pytest.mark.parametrize("module", probe_modules())
def test_probes_module_imports_no_ui(module):
    mods = loaded_after(f"import importlib; importlib.import_module({module!r})")
    assert _forbidden(mods, FORBIDDEN_IN_PROBES) == []


def test_probes_sources_do_not_mention_ui_imports():
    offenders = []
    for path in (ROOT / "probes").rglob("*.py"):
        for line in path.read_text().splitlines():
            stripped = line.strip()
            if stripped.startswith(("import ", "from ")) and stripped.split()[1].split(".")[0] in FORBIDDEN_IN_PROBES:
                offenders.append(f"{path.relative_to(ROOT)}: {stripped}")
    assert offenders == []


# Commands run through the real entry point; atexit reports what was imported by then.
RUN_CLI = """
import atexit, json, sys
atexit.register(lambda: print("\\nMODULES " + json.dumps(sorted(sys.modules))))
sys.argv = ["llmwatch", *{args!r}]
from tui.cli import main
main()
"""


def cli_modules(*args: str, tmp_path: Path) -> set[str]:
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", RUN_CLI.format(args=list(args))], capture_output=True, text=True,
                         cwd=ROOT, timeout=60, env=env)
    marker = [line for line in out.stdout.splitlines() if line.startswith("MODULES ")]
    assert marker, out.stdout + out.stderr
    return set(json.loads(marker[-1][len("MODULES "):]))


@pytest.mark.parametrize("args", [("--help",), ("--version",), ("config",)])
def test_cli_paths_without_textual(args, tmp_path):
    assert _forbidden(cli_modules(*args, tmp_path=tmp_path), ("textual",)) == []


def test_check_command_does_not_import_textual(tmp_path):
    from tui.cli import COMMANDS
    if "check" not in COMMANDS:
        pytest.skip("llmwatch check is not registered yet")
    mods = cli_modules("check", "--timeout", "2", "--format", "json", tmp_path=tmp_path)
    assert _forbidden(mods, ("textual",)) == []
