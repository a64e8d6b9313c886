"""Per-URL credentials for direct scrape (issue 13, item 3): --scrape-auth specs, [[scrape]]
tables, the /metrics -> /metrics/ redirect followed with the credentials, and no credential
sent to another host after a redirect."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from probes.config import ConfigError, parse_config
from probes.scrape import ScrapeClient
from probes.scrape_targets import ScrapeAuthError, ScrapeTarget, apply_auth, as_targets


def test_auth_specs_apply_to_their_job(tmp_path):
    token = tmp_path / "key"
    token.write_text("sk-file\n")
    ts = as_targets([("litellm", "http://127.0.0.1:4000/metrics"), ("gw", "http://ops:pw@127.0.0.1:8080/metrics")])
    assert ts[1] == ScrapeTarget("gw", "http://127.0.0.1:8080/metrics", username="ops", password="pw")
    out = apply_auth(ts, [f"litellm=bearer-file:{token}", "litellm=header:X-Org=a", "gw=bearer-env:GW_KEY"],
                     env={"GW_KEY": "sk-env"})
    assert out[0].bearer_token_file == str(token) and dict(out[0].headers) == {"X-Org": "a"}
    assert out[1].bearer_token == "sk-env"
    for bad, why in (("nope=bearer:x", "no --scrape target"), ("litellm=bearer-env:UNSET", "is not set"),
                     ("litellm=basic:nouser", "basic:USER:PASSWORD"), ("litellm=magic:x", "unknown kind"),
                     ("litellm=header:Bad Name=x", "header name")):
        with pytest.raises(ScrapeAuthError, match=why):
            apply_auth(ts, [bad], env={})


def test_config_scrape_tables():
    cfg = parse_config({"scrape": [{"job": "litellm", "url": "http://127.0.0.1:4000", "bearer_token": "sk-x"}]})
    assert cfg.scrape == (ScrapeTarget("litellm", "http://127.0.0.1:4000/metrics", bearer_token="sk-x"),)
    assert "sk-x" in cfg.secrets()
    with pytest.raises(ConfigError, match=r"scrape\[0\]\.token: unknown key"):
        parse_config({"scrape": [{"url": "http://x:1", "token": "t"}]})


class _Auth(BaseHTTPRequestHandler):
    seen: list[tuple[str, str, str]] = []
    other = ""

    def do_GET(self) -> None:  # noqa: N802
        _Auth.seen.append((self.server.server_address[1], self.path, self.headers.get("Authorization", "") +
                           self.headers.get("X-Api-Key", "")))
        if self.path == "/metrics":           # LiteLLM 1.108: 307 to /metrics/
            self.send_response(307)
            self.send_header("Location", "/metrics/")
            self.end_headers()
        elif self.path == "/away":
            self.send_response(302)
            self.send_header("Location", _Auth.other + "/metrics/")
            self.end_headers()
        elif self.headers.get("Authorization") != "Bearer sk-good" and self.headers.get("X-Api-Key") != "k":
            self.send_response(401)
            self.end_headers()
        else:
            body = b"litellm_in_flight_requests 1.0\n"
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def servers():
    made = []
    for _ in range(2):
        srv = ThreadingHTTPServer(("127.0.0.1", 0), _Auth)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        made.append(srv)
    _Auth.seen = []
    _Auth.other = f"http://localhost:{made[1].server_address[1]}"
    yield [f"http://127.0.0.1:{s.server_address[1]}" for s in made]
    for s in made:
        s.shutdown()


async def test_redirect_followed_with_credentials_on_the_same_host_only(servers):
    one, _ = servers
    good = [ScrapeTarget("lite", f"{one}/metrics", bearer_token="sk-good"),
            ScrapeTarget("keyed", f"{one}/metrics", headers={"X-Api-Key": "k"}),
            ScrapeTarget("bare", f"{one}/metrics"),
            ScrapeTarget("away", f"{one}/away", bearer_token="sk-good", headers={"X-Api-Key": "k"})]
    async with ScrapeClient(good, interval=5.0) as client:
        await client.scrape_once()
        health = {t.labels["job"]: (t.health, t.last_error) for t in (await client.targets()).value}
    assert health["lite"] == ("up", "") and health["keyed"] == ("up", "")
    assert health["bare"] == ("down", "server returned HTTP status 401")
    assert health["away"][0] == "down"  # the other host got no credentials, so it refused
    other_port = int(servers[1].rsplit(":", 1)[1])
    assert [cred for port, _, cred in _Auth.seen if port == other_port] == [""]
