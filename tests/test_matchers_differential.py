"""Differential test: `llmwatch alerts silence` matchers against amtool 0.25 and the real Alertmanager.

For every argument list of the table, amtool (Debian's prometheus-alertmanager 0.25) creates a
silence in the test Alertmanager, and llmwatch creates one from the same arguments; the matchers
Alertmanager stored must be identical. Where amtool refuses the input (its parser, or
Alertmanager's validation behind it), llmwatch must refuse it too, before sending anything, with
a one-line reason. Cases marked (parse_test.go) come from alertmanager v0.25.0
pkg/labels/parse_test.go; the others are the ones the issue names or a person types.

Brace lists (`{a="b", c="d"}`) are llmwatch's deliberate extension (amtool 0.25's `silence add`
refuses them); they are checked against Alertmanager's own ParseMatchers through
`amtool config routes`, which prints the route matchers it parsed with that function.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import time

import httpx
import pytest

from probes.alertmanager import AlertmanagerClient
from probes.amtool_matchers import MatcherError, parse_brace_list, parse_matchers

pytestmark = pytest.mark.integration

CASES = [
    ['instance=~"gw-\\d+"'], ["instance=~gw-\\d+"], ['a="x\\y"'], ['a=x\\"y'], ["a=x\\\\y"], ['a=x"y'],
    ["a='x'"], ["{,}"], ['{a="b", c="d"}'], ['a="b",c="d"'], ["Foo"], ["HighLatency", "severity=warning"],
    ["foo:bar=1"], ['a=~"((?i)PRO).*"'], ['a="x\\ny"'], ["a=x\\n"], ['a="x\\u00e9"'], ['a= "b" '], ['a=""'],
    ['a="'], ["a=b\\"], ["alertname=A", "b=~["], ["job=~("], ["alertname=A", "b=~(?<n>x)"], ["alertname=A", "b=~\\C"],
    ["alertname=A", "b=~x{1001}"], ['alertname="Foo Bar"', "sev!=info"], ["a!~b.*", "alertname=X"],
    ["statuscode=~\"5..\""],                                   # parse_test.go
    ["tricky=~~~"],                                            # parse_test.go
    ['trickier==\\\\=\\=\\"'],                                 # parse_test.go
    ["job="],                                                  # parse_test.go (then: matches the empty string)
    ['job="value'], ['job=value"'], ['trickier==\\\\=\\=\\""'],  # parse_test.go (errors)
    ['contains_unescaped_quote = foo"bar'],                    # parse_test.go
    ['quote="She said: \\"Hi, ladies! That\'s gender-neutral\u2026\\""'],  # parse_test.go
    ["alertname=A", "invalid-name=x"], ["alertname=A", "1abc=x"], ["alertname=A", "=x"], ["foo!bar"],
    ["alertname=A", "\u00e9=x"], ["alertname=A", "b=\u00e9t\u00e9"], ["alertname=A", "b=\ttab"],
    ["alertname=A", "b!~"], ["alertname=A", 'b="\\\\"'], ["a b=c"],
]


def amtool_add(url: str, args: list[str]) -> tuple[int, str]:
    proc = subprocess.run(["amtool", f"--alertmanager.url={url}", "silence", "add", "-c", "diff", "-a", "t", "-d",
                           "1h", "--", *args], capture_output=True, text=True, timeout=30)
    return proc.returncode, (proc.stdout.strip() if proc.returncode == 0 else proc.stderr.strip())


def stored(url: str, silence_id: str) -> list[dict]:
    doc = httpx.get(f"{url}/api/v2/silence/{silence_id}", timeout=10).json()
    return sorted(doc["matchers"], key=lambda m: (m["name"], m["value"], m["isRegex"], m["isEqual"]))


@pytest.fixture(scope="module")
def amtool() -> str:
    from tests.conftest import require_binary

    return require_binary("amtool")


def llmwatch_add(endpoint, args: list[str]) -> tuple[bool, str]:
    try:
        matchers = parse_matchers(args)
    except MatcherError as exc:
        return False, f"refused before sending: {exc}"

    async def go():
        client = AlertmanagerClient(endpoint)
        try:
            return await client.create_silence(matchers, time.time(), time.time() + 3600, "t", "diff")
        finally:
            await client.aclose()

    res = asyncio.new_event_loop().run_until_complete(go())
    return (True, res.value) if res.ok else (False, res.error.message)


@pytest.mark.parametrize("args", CASES, ids=[" ".join(c) for c in CASES])
def test_llmwatch_stores_what_amtool_stores(amtool, alertmanager, args):
    rc, out = amtool_add(alertmanager.url, args)
    ok, got = llmwatch_add(alertmanager.endpoint, args)
    if args[0].strip().startswith("{") and args[0].strip().endswith("}"):
        # the deliberate extension: amtool 0.25 refuses '{a="b", c="d"}' and stores `{,}` as an alert name
        assert (rc != 0) == (args[0] == '{a="b", c="d"}') and ok == (args[0] != "{,}"), (out, got)
        return
    if rc != 0:
        assert not ok, f"amtool refused ({out}) but llmwatch created {got}"
        assert "\n" not in got and got
        return
    assert ok, f"amtool stored {stored(alertmanager.url, out)} but llmwatch refused: {got}"
    assert stored(alertmanager.url, got) == stored(alertmanager.url, out)


def routes_matchers(tmp_path, line: str) -> tuple[int, str]:
    """Alertmanager's ParseMatchers on one line, via `amtool config routes` (prints what it parsed)."""
    cfg = {"route": {"receiver": "null", "routes": [{"receiver": "null", "matchers": [line]}]},
           "receivers": [{"name": "null"}]}
    path = tmp_path / "am.yml"
    path.write_text(json.dumps(cfg))  # JSON is YAML: no escaping surprises
    proc = subprocess.run(["amtool", "config", "routes", f"--config.file={path}"], capture_output=True, text=True,
                          timeout=30)
    if proc.returncode != 0:
        return proc.returncode, proc.stderr
    leaf = proc.stdout.strip().splitlines()[-1]
    return 0, leaf.split("\u2500\u2500 ", 1)[1].rsplit("  receiver:", 1)[0]


@pytest.mark.parametrize("line", ['{a="b\\d", c=~"x,y"}', '{foo = "bar", dings != "bums", }', "{,}", "{}",
                                  '{quote="She said: \\"Hi\\""}', '{a="x\\ny", b=~"((?i)PRO).*"}', '{a=b,,c=d}',
                                  '{contains_quote != "\\"" , contains_comma !~ "foo,bar" , }', '{a="b"', "{a=x\"y}"])
def test_brace_lists_read_as_alertmanagers_parse_matchers(amtool, tmp_path, line):
    rc, out = routes_matchers(tmp_path, line)
    try:
        mine = parse_brace_list(line)
    except MatcherError as exc:
        assert rc != 0, f"Alertmanager read {out!r}, llmwatch refused: {exc}"
        return
    assert rc == 0, f"Alertmanager refused ({out.strip()}), llmwatch read {mine}"
    if not mine:
        assert out == "default-route"
        return
    assert out == "{" + ",".join(sorted(str(m) for m in mine)) + "}"


def test_refusals_through_the_console_script_are_one_line_exit_3(alertmanager, tmp_path):
    for args in (['a=x"y'], ["{,}"], ["alertname=A", "b=~["], ["alertname=A", "1abc=x"]):
        proc = subprocess.run(["llmwatch", "alerts", "silence", *args, "-c", "why", "--alertmanager-url",
                               alertmanager.url], capture_output=True, text=True, timeout=60,
                              env={"PATH": _venv_path(), "HOME": str(tmp_path)})
        assert proc.returncode == 3 and proc.stdout == "", (args, proc)
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and "bad matcher" in lines[0], (args, proc.stderr)


def _venv_path() -> str:
    import os
    import sys
    from pathlib import Path

    return f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
