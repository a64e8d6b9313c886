"""Config: precedence, strict validation with messages naming file/key/value, secrets hidden."""

from __future__ import annotations

from pathlib import Path

import pytest

from probes.config import Config, ConfigError, default_config_path, load_config

CONTRACT = '''
[prometheus]
url = "http://127.0.0.1:9090"
[alertmanager]
url = "http://127.0.0.1:9093"
[loki]
url = "http://127.0.0.1:3100"
org_id = "tenant-a"
[dashboard]
refresh = "5s"
range = "1h"
[[services]]
name = "api-gateway"
url = "http://127.0.0.1:8080/health"
job = "api-gateway"
conditions = ["[STATUS] == 200", "[BODY].status == healthy", "[RESPONSE_TIME] < 500"]
timeout = "5s"
[[rules]]
name = "gateway-error-rate"
promql = 'sum(rate(api_gateway_requests_total{status="error"}[5m])) / sum(rate(api_gateway_requests_total[5m]))'
warn = "0.01"
crit = "0.05"
[prices."claude-sonnet"]
input = 3.0
output = 15.0
'''


def write(tmp_path: Path, text: str, name: str = "config.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_issue_contract_parses(tmp_path):
    cfg = load_config(write(tmp_path, CONTRACT), env={})
    assert cfg.prometheus.url == "http://127.0.0.1:9090"
    assert cfg.loki.org_id == "tenant-a"
    assert cfg.dashboard.refresh == 5.0 and cfg.dashboard.range == 3600.0
    svc = cfg.services[0]
    assert (svc.name, svc.job, svc.timeout) == ("api-gateway", "api-gateway", 5.0)
    assert svc.conditions[1] == "[BODY].status == healthy"
    assert svc.selector == '{job="api-gateway"}'
    assert cfg.rules[0].warn == "0.01" and cfg.rules[0].crit == "0.05"
    assert cfg.prices["claude-sonnet"].output == 15.0


def test_defaults_without_any_file(tmp_path):
    cfg = load_config(env={"HOME": str(tmp_path)})
    assert cfg == Config()
    assert cfg.source is None


def test_xdg_path(tmp_path):
    assert default_config_path({"XDG_CONFIG_HOME": "/x"}) == Path("/x/llmwatch/config.toml")
    assert default_config_path({"HOME": "/home/u"}) == Path("/home/u/.config/llmwatch/config.toml")
    xdg = tmp_path / "xdg"
    (xdg / "llmwatch").mkdir(parents=True)
    (xdg / "llmwatch" / "config.toml").write_text('[dashboard]\nrefresh = "7s"\n')
    assert load_config(env={"XDG_CONFIG_HOME": str(xdg)}).dashboard.refresh == 7.0


def test_precedence_flags_over_env_over_file(tmp_path):
    path = write(tmp_path, '[prometheus]\nurl = "http://file:9090"\n')
    assert load_config(path, env={}).prometheus.url == "http://file:9090"
    env = {"LLMWATCH_PROMETHEUS_URL": "http://env:9090"}
    assert load_config(path, env=env).prometheus.url == "http://env:9090"
    flags = {("prometheus", "url"): "http://flag:9090"}
    assert load_config(path, env=env, overrides=flags).prometheus.url == "http://flag:9090"


def test_llmwatch_config_env_names_the_file(tmp_path):
    path = write(tmp_path, '[dashboard]\nrange = "6h"\n', "other.toml")
    assert load_config(env={"LLMWATCH_CONFIG": str(path)}).dashboard.range == 6 * 3600


def test_loki_env_logcli_names_and_llmwatch_name_wins():
    env = {"LOKI_ADDR": "http://logcli:3100", "LOKI_ORG_ID": "t1", "LOKI_USERNAME": "u", "LOKI_PASSWORD": "pw"}
    cfg = load_config(env=env | {"HOME": "/nonexistent"})
    assert (cfg.loki.url, cfg.loki.org_id, cfg.loki.username, cfg.loki.password) == ("http://logcli:3100", "t1", "u", "pw")
    cfg = load_config(env=env | {"HOME": "/nonexistent", "LLMWATCH_LOKI_URL": "http://ours:3100"})
    assert cfg.loki.url == "http://ours:3100"


@pytest.mark.parametrize(
    "text, expected",
    [
        ('[prometheus]\nurll = "http://x"\n', "prometheus.urll: unknown key"),
        ('[promethus]\nurl = "http://x"\n', "promethus: unknown section"),
        ('[dashboard]\nrefresh = "5x"\n', "dashboard.refresh: bad duration '5x'"),
        ('[dashboard]\nrefresh = "500ms"\n', "dashboard.refresh: minimum is 1s"),
        ('[dashboard]\nrefresh = 5\nrange = true\n', "dashboard.range"),
        ('[prometheus]\nurl = "localhost:9090"\n', "prometheus.url: bad URL 'localhost:9090'"),
        ('[prometheus]\nurl = "http://h:99999"\n', "prometheus.url: bad URL"),
        ('[prometheus]\ntimeout = "soon"\n', "prometheus.timeout: bad duration"),
        ('[prometheus]\ninsecure = "yes"\n', "prometheus.insecure: expected true or false, got 'yes'"),
        ('[[services]]\nname = "a"\n', "services[0] (a): missing required key 'url'"),
        ('[[services]]\nname = "a"\nurl = "http://x"\ncolour = 1\n', "services[0] (a).colour: unknown key"),
        ('[[services]]\nname = "a"\nurl = "http://x"\n[[services]]\nname = "a"\nurl = "http://y"\n', "duplicate service name 'a'"),
        ('[[services]]\nname = "a"\nurl = "http://x"\nconditions = "[STATUS] == 200"\n', "conditions: expected a list of strings"),
        ('[[rules]]\nname = "r"\npromql = "up"\nwarn = "abc"\n', "rules[0] (r).warn: bad threshold range 'abc'"),
        ('[prices.gpt]\ninput = 1\n', 'prices."gpt": missing required key \'output\''),
        ('[prices.gpt]\ninput = "cheap"\noutput = 1\n', 'prices."gpt".input: expected a number'),
        ('[routing]\ncloud_reference = "gpt"\n', "routing.cloud_reference: 'gpt' has no entry in [prices]"),
        ('[slo]\nerror_rate = -0.1\n', "slo.error_rate: must not be negative"),
        ('[slo]\nerror_rate = 5\n', "expected a ratio between 0 and 1"),
        ('services = 3\n', "services: expected [[services]] tables"),
        ('[prometheus\nurl=1', "invalid TOML"),
    ],
)
def test_errors_name_file_key_and_value(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_config(path, env={})
    message = str(err.value)
    assert message.startswith(str(path) + ": "), message
    assert expected in message, message
    assert "\n" not in message


def test_missing_explicit_file_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.toml", env={})
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(env={"LLMWATCH_CONFIG": str(tmp_path / "nope.toml")})


def test_directory_and_binary_files(tmp_path):
    with pytest.raises(ConfigError, match="is a directory"):
        load_config(tmp_path, env={})
    path = tmp_path / "bin.toml"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(path, env={})


def test_bad_env_value_names_the_variable(tmp_path):
    with pytest.raises(ConfigError, match="^LLMWATCH_PROMETHEUS_URL: bad URL 'nonsense'"):
        load_config(env={"LLMWATCH_PROMETHEUS_URL": "nonsense", "HOME": str(tmp_path)})


def test_bad_flag_value_names_the_flag(tmp_path):
    with pytest.raises(ConfigError, match=r"dashboard.refresh \(command line\): minimum is 1s"):
        load_config(env={"HOME": str(tmp_path)}, overrides={("dashboard", "refresh"): "0.5s"})


def test_secrets_never_in_messages(tmp_path):
    path = write(tmp_path, '[prometheus]\nbearer_token = 12345678\n')
    with pytest.raises(ConfigError) as err:
        load_config(path, env={})
    assert "12345678" not in str(err.value) and "value hidden" in str(err.value)
    path = write(tmp_path, '[prometheus]\nurl = "ftp://admin:hunter22@host/"\n')
    with pytest.raises(ConfigError) as err:
        load_config(path, env={})
    assert "hunter22" not in str(err.value) and "admin" not in str(err.value)


def test_secrets_listing_and_token_file(tmp_path):
    token = tmp_path / "token"
    token.write_text("file-token-abc\n")
    path = write(tmp_path, f'''
[prometheus]
url = "https://u:urlpass99@prom:9090"
bearer_token_file = "{token}"
[loki]
username = "bob"
password = "lokipass77"
headers = {{ Authorization = "Basic zzzz1234" }}
''')
    cfg = load_config(path, env={})
    assert cfg.prometheus.token() == "file-token-abc"
    assert set(cfg.secrets()) >= {"urlpass99", "lokipass77", "Basic zzzz1234"}
    assert cfg.prometheus.display == "https://***@prom:9090"


def test_token_and_token_file_are_exclusive(tmp_path):
    path = write(tmp_path, '[prometheus]\nbearer_token = "a"\nbearer_token_file = "/x"\n')
    with pytest.raises(ConfigError, match="not both"):
        load_config(path, env={})
    # an env token replaces a file's token_file instead of clashing with it
    path = write(tmp_path, '[loki]\nbearer_token_file = "/x"\n')
    assert load_config(path, env={"LOKI_BEARER_TOKEN": "tok"}).loki.bearer_token == "tok"
