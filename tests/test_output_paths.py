"""Bypassing the one output path is hard by construction, and this test keeps it so.

Every command writes through sys.stdout/sys.stderr, which tui/cli.py main() guards
(tui/output.py). What could go around the guard, or hand server text to a markup parser, is
checked in the source:
- no write to the original streams (sys.__stdout__/__stderr__), the tty, or file descriptors 1/2;
- no Rich traceback handler and no show_locals (a traceback's locals hold the config's secrets);
- screens and widgets take server text from tui.output (plain/text/markup), not probes.textsafe;
- every notify() call passes markup=False or text made by markup(); border titles and
  subtitles are constants or markup();
- Static/Label with a non-constant string say markup=False.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TUI = sorted((ROOT / "tui").rglob("*.py"))
ALL = sorted([*TUI, *(ROOT / "probes").rglob("*.py")])
WIDGETS = [p for p in TUI if p.parent.name in ("screens", "widgets") or p.name == "app.py"]


def _tree(path: Path) -> ast.AST:
    return ast.parse(path.read_text(), str(path))


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Attribute):
        return f"{_name(node.value)}.{node.attr}"
    if isinstance(node, ast.Name):
        return node.id
    return ""


def _is_constant_text(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.JoinedStr):  # an f-string of constants and our own numbers is fine only if
        return all(isinstance(v, ast.Constant) for v in node.values)  # it interpolates nothing
    return False


def _is_markup_call(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and _name(node.func).split(".")[-1] == "markup"


@pytest.mark.parametrize("path", ALL, ids=lambda p: str(p.relative_to(ROOT)))
def test_nothing_writes_around_the_guarded_streams(path):
    source = path.read_text()
    for forbidden in ("sys.__stdout__", "sys.__stderr__", "/dev/tty", "rich.traceback", "show_locals=True"):
        assert forbidden not in source, f"{path}: {forbidden}"
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Call) and _name(node.func) == "os.write" and node.args:
            first = node.args[0]
            assert not (isinstance(first, ast.Constant) and first.value in (1, 2)), f"{path}:{node.lineno}"


@pytest.mark.parametrize("path", WIDGETS, ids=lambda p: str(p.relative_to(ROOT)))
def test_screens_take_server_text_from_tui_output(path):
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.ImportFrom) and node.module == "probes.textsafe":
            pytest.fail(f"{path}:{node.lineno}: use tui.output (plain/text/markup), which also scrubs secrets")


@pytest.mark.parametrize("path", WIDGETS, ids=lambda p: str(p.relative_to(ROOT)))
def test_markup_parsing_apis_never_get_raw_text(path):
    problems = []
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Call) and _name(node.func).endswith(".notify") and node.args:
            no_markup = any(k.arg == "markup" and isinstance(k.value, ast.Constant) and k.value.value is False
                            for k in node.keywords)
            if not (no_markup or _is_constant_text(node.args[0]) or _is_markup_call(node.args[0])):
                problems.append(f"{path.name}:{node.lineno}: notify() with text that may hold markup")
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Attribute) and target.attr in ("border_title", "border_subtitle"):
                    if not (_is_constant_text(node.value) or _is_markup_call(node.value)):
                        problems.append(f"{path.name}:{node.lineno}: {target.attr} from text that may hold markup")
        if isinstance(node, ast.Call) and _name(node.func) in ("Static", "Label") and node.args:
            first = node.args[0]
            no_markup = any(k.arg == "markup" and isinstance(k.value, ast.Constant) and k.value.value is False
                            for k in node.keywords)
            if isinstance(first, (ast.JoinedStr, ast.BinOp)) and not no_markup:
                problems.append(f"{path.name}:{node.lineno}: {_name(node.func)}() with a built string")
    assert problems == []


def test_main_installs_the_guard_first():
    source = (ROOT / "tui" / "cli.py").read_text()
    body = source[source.index("def main("):]
    assert body.index("output.install()") < body.index("cli.main(")
