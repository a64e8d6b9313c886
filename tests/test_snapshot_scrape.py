"""`llmwatch snapshot --scrape URL` (issue 11, defect 5): rates need two scrapes, so the snapshot
waits for the second one (as `check --scrape` does) before it renders; before, every rate said
"no data". Through the installed console script, against the synthetic stack."""

from __future__ import annotations

import re
import subprocess
import time

import pytest

from tests.harness.screen import panel_lines
from tests.harness.screen_terminal import clean_env, console_script

pytestmark = pytest.mark.integration


def test_snapshot_of_a_direct_scrape_shows_rates(stack, tmp_path):
    url = f"vllm={stack.url('vllm')}/metrics"
    began = time.monotonic()
    out = subprocess.run([console_script(), "snapshot", "--scrape", url, "--refresh", "2s", "--format", "text",
                          "--size", "160x48", "--timeout", "20s"], capture_output=True, text=True, timeout=60,
                         env=clean_env(home=tmp_path), stdin=subprocess.DEVNULL)
    took = time.monotonic() - began
    assert out.returncode == 0, out.stderr
    now_row = "\n".join(panel_lines(out.stdout, "Now"))
    assert re.search(r"\b\d+(\.\d+)? req/s\b", now_row), now_row
    assert re.search(r"\b\d+(\.\d+)? tok/s\b", now_row), now_row
    assert took >= 2.0  # it waited for the second scrape, one refresh after the first


def test_snapshot_of_a_direct_scrape_gives_up_at_its_timeout(tmp_path):
    out = subprocess.run([console_script(), "snapshot", "--scrape", "http://127.0.0.1:9/metrics", "--refresh", "5s",
                          "--format", "text", "--timeout", "3s"], capture_output=True, text=True, timeout=60,
                         env=clean_env(home=tmp_path), stdin=subprocess.DEVNULL)
    assert out.returncode == 1 and "not every source answered within 3s" in out.stderr, out.stderr
