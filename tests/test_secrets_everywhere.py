"""A distinct secret in every place config and environment allow, every command and output format
against servers that echo the request line and headers back in their bodies and errors: no
secret may appear in any output (stdout, stderr, report files, webhook payloads), raw,
URL-encoded or base64-encoded (alone, and as Basic auth's user:pass).

And a redirect to another host (here 127.0.0.1 -> localhost, another origin) must arrive there
without any credential, as curl and browsers do.
"""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from tests.harness.hostile import HostileServer
from tests.harness.terminal import LLMWATCH, ROOT, clean_env, run_pty

pytestmark = pytest.mark.timeout(300)

SECRETS = {
    "prom_token_file": "sTokFile7Qw2",
    "prom_api_key": "sApiKey3Zr8",
    "prom_query_key": "sQueryKey5Lp1",
    "am_userinfo": "sUserInfo9Xc4",
    "loki_password": "sLokiPass2Vn6",
    "svc_bearer_header": "sSvcBearer8Ty3",
    "svc_cookie": "sCookie4Mk9",
    "svc_proxy": "sProxyAuth6Jd2",
    "svc_query_token": "sSvcToken1Hb7",
    "webhook_path": "sHookPath3Gf5",
    "webhook_query": "sHookQuery8Ws4",
}
USER_PASS = {"amuser": SECRETS["am_userinfo"], "lokiuser": SECRETS["loki_password"], "px": SECRETS["svc_proxy"]}


def forms(secret: str) -> list[str]:
    return [secret, quote(secret, safe=""), quote_plus(secret), base64.b64encode(secret.encode()).decode()]


ALL_FORMS = {name: forms(value) for name, value in SECRETS.items()}
ALL_FORMS.update({f"{user}:pass (base64)": [base64.b64encode(f"{user}:{pw}".encode()).decode(), f"{user}:{pw}"]
                  for user, pw in USER_PASS.items()})


def leaks(data: bytes | str) -> list[str]:
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    return [f"{name}: {form}" for name, fs in ALL_FORMS.items() for form in fs if form in text]


@pytest.fixture(scope="module")
def echo():
    with HostileServer(echo=True) as server:
        yield server


@pytest.fixture(scope="module")
def setup(tmp_path_factory, echo):
    home = tmp_path_factory.mktemp("home")
    token_file = home / "prom-token"
    token_file.write_text(SECRETS["prom_token_file"] + "\n")
    proxy = base64.b64encode(f"px:{SECRETS['svc_proxy']}".encode()).decode()
    host = echo.url.removeprefix("http://")
    (home / "c.toml").write_text(f"""
[prometheus]
url = "{echo.url}/?api_key={SECRETS['prom_query_key']}"
bearer_token_file = "{token_file}"
headers = {{ X-Api-Key = "{SECRETS['prom_api_key']}" }}
[alertmanager]
url = "http://amuser:{SECRETS['am_userinfo']}@{host}"
[loki]
url = "{echo.url}"
[[services]]
name = "bearer"
url = "{echo.url}/health"
headers = {{ Authorization = "Bearer {SECRETS['svc_bearer_header']}" }}
[[services]]
name = "cookie"
url = "{echo.url}/health"
headers = {{ Cookie = "session={SECRETS['svc_cookie']}", Proxy-Authorization = "Basic {proxy}" }}
[[services]]
name = "query"
url = "{echo.url}/health?token={SECRETS['svc_query_token']}"
[[rules]]
name = "echoing-rule"
promql = "hostile_error"
""")
    env = clean_env(home, LOKI_USERNAME="lokiuser", LOKI_PASSWORD=SECRETS["loki_password"])
    return home, env


def llmwatch(setup, *args, timeout=60):
    home, env = setup
    return subprocess.run([LLMWATCH, "--config", str(home / "c.toml"), *args], capture_output=True, env=env,
                          timeout=timeout, cwd=ROOT)


def test_the_echo_server_really_receives_every_secret(setup, echo):
    """Without this the test below could pass by sending nothing."""
    echo.seen.clear()
    llmwatch(setup, "check")
    llmwatch(setup, "alerts", "--silences")
    llmwatch(setup, "logs", '{job="x"}')
    sent = "\n".join(f"{path} {headers}" for _, path, headers in echo.seen)
    for name in ("prom_token_file", "prom_api_key", "prom_query_key", "svc_bearer_header", "svc_cookie",
                 "svc_query_token"):
        assert SECRETS[name] in sent, name
    for user in ("amuser", "lokiuser", "px"):
        assert base64.b64encode(f"{user}:{USER_PASS[user]}".encode()).decode() in sent, user


COMMANDS = [
    ["check"], ["check", "--format", "nagios"], ["check", "--format", "json"], ["check", "--format", "prom"],
    ["alerts", "--silences"], ["alerts", "--silences", "--format", "json"],
    ["alerts", "silence", "alertname=x", "--comment", "c"], ["alerts", "expire", "an-id"],
    ["logs", '{job="x"}'], ["logs", '{job="x"}', "-o", "raw"], ["logs", '{job="x"}', "-o", "jsonl"],
    ["doctor"], ["doctor", "--format", "json"], ["config"], ["config", "--format", "json"],
    ["snapshot", "--format", "text", "--timeout", "10s"],
    ["snapshot", "--screen", "alerts", "--format", "text", "--timeout", "10s"],
    ["snapshot", "--screen", "logs", "--format", "text", "--timeout", "10s"],
]


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a)[:40])
def test_no_secret_in_any_output(args, setup):
    p = llmwatch(setup, *args)
    assert p.returncode in (0, 1, 2, 3), p.stderr
    assert leaks(p.stdout) == [] and leaks(p.stderr) == [], (p.stdout[-2000:], p.stderr[-2000:])


@pytest.mark.parametrize("fmt", ["text", "json", "prom", "nagios"])
def test_no_secret_in_report_files(fmt, setup, tmp_path):
    out = tmp_path / "report"
    llmwatch(setup, "check", "--format", fmt, "--output", str(out))
    assert leaks(out.read_bytes()) == []


def test_no_secret_in_the_svg_snapshot(setup, tmp_path):
    out = tmp_path / "s.svg"
    llmwatch(setup, "snapshot", "--output", str(out), "--timeout", "10s")
    assert out.exists() and leaks(out.read_bytes()) == []


def test_no_secret_from_watch_its_webhook_payloads_and_exec(setup, echo):
    """The webhook URL's path and query are secrets; the echo server puts the other secrets into
    the check summaries that the payloads and LLMWATCH_* variables carry; the --exec command
    prints the environment's LOKI_PASSWORD on its stderr, which watch reports when it fails."""
    home, env = setup
    echo.bodies.clear()
    hook = f"{echo.url}/hooks/T0/{SECRETS['webhook_path']}?token={SECRETS['webhook_query']}"
    down = f"http://127.0.0.1:9/hooks/T0/{SECRETS['webhook_path']}?token={SECRETS['webhook_query']}"
    run = run_pty(["--config", str(home / "c.toml"), "watch", "--every", "1s", "--failure-threshold", "1",
                   "--webhook", hook, "--webhook", down,
                   "--exec", 'echo "$LLMWATCH_SUMMARY $LOKI_PASSWORD" >&2; exit 1'], env, timeout=40,
                  until=lambda out: out.count(b"retrying in") >= 3 and b"--exec" in out)
    assert run.code == 0, run.text[-2000:]
    assert b"--exec command exited 1" in run.out and b"delivery failed" in run.out
    assert leaks(run.out) == [], run.text[-3000:]
    payloads = [body for path, body in echo.bodies if path.startswith("/hooks/")]
    assert payloads, "the webhook got nothing"
    assert all(leaks(body) == [] for body in payloads), [leaks(b) for b in payloads][:3]


def test_the_dashboard_shows_no_secret(setup):
    home, env = setup
    run = run_pty(["--config", str(home / "c.toml"), "--refresh", "1s"], env, timeout=30,
                  keys=[(5.0, b"a"), (7.0, b"\x1b"), (7.5, b"l"), (9.5, b"q"), (10.5, b"q")])  # q: back, then quit
    assert run.code == 0, run.text[-2000:]
    assert leaks(run.out) == [], run.text[-2000:]


def test_a_cross_host_redirect_carries_no_credential(tmp_path):
    with HostileServer(echo=True) as other, HostileServer("x") as origin:
        target = other.url.replace("127.0.0.1", "localhost")  # same machine, another origin
        origin.redirect = {"/health": f"{target}/ready", "/api/v1/status/buildinfo": f"{target}/api/v1/status/buildinfo"}
        conf = tmp_path / "c.toml"
        conf.write_text(f"""
[prometheus]
url = "http://u:{SECRETS['am_userinfo']}@{origin.url.removeprefix('http://')}"
headers = {{ X-Api-Key = "{SECRETS['prom_api_key']}", Proxy-Authorization = "Basic eHg6eXk=", X-Org = "t1" }}
[[services]]
name = "svc"
url = "{origin.url}/health"
headers = {{ Authorization = "Bearer {SECRETS['svc_bearer_header']}", Cookie = "s={SECRETS['svc_cookie']}" }}
""")
        env = clean_env(tmp_path)
        p = subprocess.run([LLMWATCH, "--config", str(conf), "check", "--only", "svc"], capture_output=True,
                           text=True, env=env, timeout=30, cwd=ROOT)
        assert p.returncode == 0, p.stdout + p.stderr  # the redirect was followed
        subprocess.run([LLMWATCH, "--config", str(conf), "doctor", "--timeout", "5s"], capture_output=True, env=env,
                       timeout=30, cwd=ROOT)
        arrived = [headers for _, _, headers in other.seen]
    assert len(arrived) >= 2
    for headers in arrived:
        names = {k.lower() for k in headers}
        assert not names & {"authorization", "proxy-authorization", "x-api-key", "cookie", "x-org"}, headers
        assert leaks(str(headers)) == []
