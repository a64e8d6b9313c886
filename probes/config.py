"""Configuration: one immutable Config from flags > environment > file > defaults.

The file is TOML at $XDG_CONFIG_HOME/llmwatch/config.toml (~/.config/llmwatch/config.toml),
overridden by --config FILE or LLMWATCH_CONFIG. Every error names the file, the key and the
problem; secret values (tokens, passwords, URL userinfo) never appear in a message.
"""

from __future__ import annotations

import base64
import math
import os
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Mapping
from urllib.parse import urlsplit

from probes.durations import DurationError, format_duration, parse_duration
from probes.redact import display_url, header_secrets, url_secrets

MIN_REFRESH_S = 1.0
MAX_NUMBER = 1e12   # no count, rate or ratio in a config file is larger; NaN and Inf never pass
MAX_PRICE = 1e6     # USD per million tokens
DEFAULT_LOCAL_PROVIDERS = (
    "ollama", "ollama_chat", "vllm", "hosted_vllm", "llamacpp", "llama.cpp", "llamafile",
    "lm_studio", "tgi", "huggingface_tgi", "sglang", "triton", "local",
)


class ConfigError(Exception):
    """A configuration problem, already phrased for the user (one line)."""


@dataclass(frozen=True)
class Endpoint:
    """How to reach one HTTP API (Prometheus, Alertmanager, Loki)."""

    url: str
    bearer_token: str | None = None
    bearer_token_file: str | None = None
    username: str | None = None
    password: str | None = None
    ca_file: str | None = None
    insecure: bool = False
    headers: Mapping[str, str] = field(default_factory=dict)
    timeout: float = 10.0
    org_id: str = ""  # Loki X-Scope-OrgID; empty for the others

    @property
    def display(self) -> str:
        return display_url(self.url)

    def secrets(self) -> list[str]:
        """This endpoint's secrets: token (or the token file's contents), password and user:pass
        (and its base64, the Basic header), credential headers, URL userinfo and query secrets."""
        out = [s for s in (self.bearer_token, self.password) if s]
        if self.username and self.password:
            pair = f"{self.username}:{self.password}"
            out += [pair, base64.b64encode(pair.encode()).decode()]
        if self.bearer_token_file and not self.bearer_token:
            try:
                out.append(self.token() or "")
            except ConfigError:
                pass  # unreadable now: the request reports it, and registers it once read
        return [s for s in out + _header_and_url_secrets(self.headers, self.url) if s]

    def token(self) -> str | None:
        """The bearer token, reading bearer_token_file at call time (rotated tokens work)."""
        if self.bearer_token:
            return self.bearer_token
        if self.bearer_token_file:
            try:
                return Path(self.bearer_token_file).read_text().strip()
            except OSError as exc:
                raise ConfigError(f"cannot read bearer_token_file {self.bearer_token_file}: {exc.strerror}") from None
        return None


@dataclass(frozen=True)
class Dashboard:
    refresh: float = 5.0
    range: float = 3600.0
    theme: str = "dark"
    readonly: bool = False


@dataclass(frozen=True)
class Service:
    name: str
    url: str
    job: str | None = None
    conditions: tuple[str, ...] = ()
    timeout: float = 5.0
    ca_file: str | None = None
    insecure: bool = False
    headers: Mapping[str, str] = field(default_factory=dict)
    loki_selector: str | None = None  # LogQL stream selector; default {job="<job or name>"}
    loki_labels: Mapping[str, str] = field(default_factory=dict)  # our label -> Loki label

    @property
    def selector(self) -> str:
        if self.loki_selector:
            return self.loki_selector
        return '{job="%s"}' % (self.job or self.name).replace('"', '\\"')


@dataclass(frozen=True)
class Rule:
    name: str
    promql: str
    warn: str | None = None
    crit: str | None = None
    unit: str = ""
    no_data: str = "unknown"  # status when the query matches nothing: ok | warning | critical | unknown


@dataclass(frozen=True)
class Price:
    input: float
    output: float


@dataclass(frozen=True)
class Routing:
    local_providers: tuple[str, ...] = DEFAULT_LOCAL_PROVIDERS
    cloud_reference: str | None = None  # a [prices] model that local traffic would have cost


@dataclass(frozen=True)
class Traffic:
    """What counts as traffic: monitoring routes (/metrics, /health*, /ready*, /live*, /-/...) do
    not, unless include_monitoring; `behind_gateway` lists engine jobs a gateway already counts."""

    include_monitoring: bool = False
    behind_gateway: tuple[str, ...] = ()


@dataclass(frozen=True)
class Slo:
    error_rate: float | None = None      # ratio, e.g. 0.01
    latency_p95: float | None = None     # seconds, e.g. 2.0
    availability: float | None = None    # ratio, e.g. 0.999
    window: float = 300.0


@dataclass(frozen=True)
class Config:
    prometheus: Endpoint = field(default_factory=lambda: Endpoint("http://127.0.0.1:9090"))
    alertmanager: Endpoint = field(default_factory=lambda: Endpoint("http://127.0.0.1:9093"))
    loki: Endpoint = field(default_factory=lambda: Endpoint("http://127.0.0.1:3100"))
    dashboard: Dashboard = field(default_factory=Dashboard)
    services: tuple[Service, ...] = ()
    rules: tuple[Rule, ...] = ()
    prices: Mapping[str, Price] = field(default_factory=dict)
    routing: Routing = field(default_factory=Routing)
    slo: Slo = field(default_factory=Slo)
    traffic: Traffic = field(default_factory=Traffic)
    scrape: tuple[Any, ...] = ()  # probes.scrape_targets.ScrapeTarget from [[scrape]]
    profiles_dir: str | None = None  # extra/overriding profile TOML files
    source: str | None = None  # the file this came from, if any
    explicit: frozenset[str] = frozenset()  # sections the user set (file, env or flags)

    def configured(self, section: str) -> bool:
        """Did the user point us at this server, or are we guessing the default address?"""
        return section in self.explicit

    def secrets(self) -> list[str]:
        """Every secret value in this config (tokens, passwords, the token file's contents, URL
        userinfo and secret query values, credential headers, [[scrape]] credentials), for
        probes.redact.register."""
        out = [s for ep in (self.prometheus, self.alertmanager, self.loki) for s in ep.secrets()]
        for target in self.scrape:
            out += target.secrets()
        for svc in self.services:
            out += _header_and_url_secrets(svc.headers, svc.url)
        return [s for s in out if s]


def _header_and_url_secrets(headers: Mapping[str, str], url: str) -> list[str]:
    out = [s for k, v in headers.items() for s in header_secrets(k, v)]
    return out + url_secrets(url)


# ---------------------------------------------------------------------------------------------
# Schema: key -> converter(value, where) -> python value. A converter raises ConfigError.


def _where(ctx: str, key: str) -> str:
    return f"{ctx}.{key}" if ctx else key


def _str(value: Any, ctx: str) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{ctx}: expected a string, got {_tname(value)}")
    return value


def _secret(value: Any, ctx: str) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{ctx}: expected a string, got {_tname(value)} (value hidden)")
    return value


def _bool(value: Any, ctx: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{ctx}: expected true or false, got {_show(value)}")
    return value


def _number(value: Any, ctx: str, high: float = MAX_NUMBER) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{ctx}: expected a number, got {_show(value)}")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise ConfigError(f"{ctx}: expected a finite number, got {_show(value)}")
    if number < 0:
        raise ConfigError(f"{ctx}: must not be negative, got {_show(value)}")
    if number > high:
        raise ConfigError(f"{ctx}: must be at most {high:g}, got {_show(value)}")
    return number


def _price(value: Any, ctx: str) -> float:
    return _number(value, ctx, MAX_PRICE)


def _duration(value: Any, ctx: str) -> float:
    try:
        seconds = parse_duration(value)
    except DurationError as exc:
        raise ConfigError(f"{ctx}: {exc}") from None
    if seconds <= 0:
        raise ConfigError(f"{ctx}: duration must be positive, got {_show(value)}")
    return seconds


def _duration_between(low: float, high: float) -> Callable[[Any, str], float]:
    """A duration converter with bounds: a refresh of a week or a timeout of 3 years is a typo."""
    def conv(value: Any, ctx: str) -> float:
        seconds = _duration(value, ctx)
        if seconds < low:
            raise ConfigError(f"{ctx}: minimum is {format_duration(low)}, got {_show(value)}")
        if seconds > high:
            raise ConfigError(f"{ctx}: maximum is {format_duration(high)}, got {_show(value)}")
        return seconds
    return conv


def check_url(value: Any, ctx: str) -> str:
    """An http(s) URL with a host and a valid port (0-65535), else ConfigError naming `ctx`."""
    text = _str(value, ctx).strip()
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:  # "Port out of range 0-65535"
        raise ConfigError(f"{ctx}: bad URL {display_url(text)!r}: {str(exc).lower()}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{ctx}: bad URL {display_url(text)!r} (want http:// or https:// with a host)")
    return text.rstrip("/") if parts.path in ("", "/") else text


def _str_list(value: Any, ctx: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{ctx}: expected a list of strings, got {_tname(value)}")
    return tuple(value)


def _str_map(value: Any, ctx: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ConfigError(f"{ctx}: expected a table of strings, got {_tname(value)}")
    return dict(value)


def _choice(*options: str) -> Callable[[Any, str], str]:
    def conv(value: Any, ctx: str) -> str:
        text = _str(value, ctx)
        if text not in options:
            raise ConfigError(f"{ctx}: expected one of {', '.join(options)}, got {text!r}")
        return text
    return conv


def _ratio(value: Any, ctx: str) -> float:
    number = _number(value, ctx)
    if number > 1:
        raise ConfigError(f"{ctx}: expected a ratio between 0 and 1 (1% is 0.01), got {_show(value)}")
    return number


def _threshold(value: Any, ctx: str) -> str | None:
    """A Nagios range; "" is "not set", as the plugin libraries treat an empty -w/-c."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ConfigError(f"{ctx}: expected a Nagios range like \"10\", \"10:\", \"~:10\", \"@10:20\"")
    text = str(value).strip()
    if not text:
        return None
    from probes.thresholds import ThresholdError, parse_range  # local: keeps import cost off config

    if any(not math.isfinite(float(n)) for n in _NUMBERS.findall(text)):  # "1e999" is infinity
        raise ConfigError(f"{ctx}: {_show(value)} has a number too large to hold")
    try:
        parse_range(text)
    except ThresholdError as exc:
        raise ConfigError(f"{ctx}: {exc}") from None
    return text


_NUMBERS = re.compile(r"[0-9][0-9.]*(?:[eE][-+]?[0-9]+)?")
_TIMEOUT = _duration_between(0.001, 3600.0)
_WINDOW = _duration_between(1.0, 365 * 86400.0)

_ENDPOINT_KEYS: dict[str, Callable[[Any, str], Any]] = {
    "url": check_url,
    "bearer_token": _secret,
    "bearer_token_file": _str,
    "username": _str,
    "password": _secret,
    "ca_file": _str,
    "insecure": _bool,
    "headers": _str_map,
    "timeout": _TIMEOUT,
}
_LOKI_KEYS = {**_ENDPOINT_KEYS, "org_id": _str}
_DASHBOARD_KEYS = {"refresh": _duration_between(MIN_REFRESH_S, 86400.0), "range": _WINDOW,
                   "theme": _choice("dark", "light"), "readonly": _bool}
_SERVICE_KEYS = {
    "name": _str,
    "url": check_url,
    "job": _str,
    "conditions": _str_list,
    "timeout": _TIMEOUT,
    "ca_file": _str,
    "insecure": _bool,
    "headers": _str_map,
    "loki_selector": _str,
    "loki_labels": _str_map,
}
_RULE_KEYS = {"name": _str, "promql": _str, "warn": _threshold, "crit": _threshold, "unit": _str,
              "no_data": _choice("ok", "warning", "critical", "unknown")}
_PRICE_KEYS = {"input": _price, "output": _price}
_ROUTING_KEYS = {"local_providers": _str_list, "cloud_reference": _str}
_TRAFFIC_KEYS = {"include_monitoring": _bool, "behind_gateway": _str_list}
_SCRAPE_KEYS = {"job": _str, "url": check_url, "bearer_token": _secret, "bearer_token_file": _str, "username": _str,
                "password": _secret, "headers": _str_map}
_SLO_KEYS = {"error_rate": _ratio, "latency_p95": _duration_between(0.000001, 86400.0), "availability": _ratio,
             "window": _WINDOW}
_TOP_KEYS = {
    "prometheus", "alertmanager", "loki", "dashboard", "services", "rules", "prices", "routing", "slo",
    "profiles_dir", "traffic", "scrape",
}


def _tname(value: Any) -> str:
    return {dict: "a table", list: "a list", str: "a string", bool: "a boolean", int: "an integer",
            float: "a number"}.get(type(value), type(value).__name__)


def _show(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return _tname(value)
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _section(raw: Any, schema: Mapping[str, Callable[[Any, str], Any]], ctx: str,
             required: tuple[str, ...] = ()) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ConfigError(f"{ctx}: expected a table, got {_tname(raw)}")
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in schema:
            known = ", ".join(sorted(schema))
            raise ConfigError(f"{_where(ctx, key)}: unknown key (known keys: {known})")
        out[key] = schema[key](value, _where(ctx, key))
    for key in required:
        if key not in out:
            raise ConfigError(f"{ctx}: missing required key {key!r}")
    return out


def _endpoint(raw: Any, ctx: str, default: Endpoint, schema=_ENDPOINT_KEYS) -> Endpoint:
    values = _section(raw, schema, ctx)
    if values.get("bearer_token") and values.get("bearer_token_file"):
        raise ConfigError(f"{ctx}: set bearer_token or bearer_token_file, not both")
    if values.get("password") is not None and not values.get("username"):
        raise ConfigError(f"{ctx}: password needs username")
    return replace(default, **values)


def parse_config(data: Mapping[str, Any], source: str | None = None) -> Config:
    """Validate a decoded TOML document into a Config. Errors say '<file>: <key>: <problem>'."""
    try:
        return _parse(data, source)
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}" if source else str(exc)) from None


def _parse(data: Mapping[str, Any], source: str | None) -> Config:
    for key in data:
        if key not in _TOP_KEYS:
            raise ConfigError(f"{key}: unknown section (known: {', '.join(sorted(_TOP_KEYS))})")
    base = Config()
    kw: dict[str, Any] = {"source": source, "explicit": frozenset(data)}
    if "prometheus" in data:
        kw["prometheus"] = _endpoint(data["prometheus"], "prometheus", base.prometheus)
    if "alertmanager" in data:
        kw["alertmanager"] = _endpoint(data["alertmanager"], "alertmanager", base.alertmanager)
    if "loki" in data:
        kw["loki"] = _endpoint(data["loki"], "loki", base.loki, _LOKI_KEYS)
    if "dashboard" in data:
        dash = _section(data["dashboard"], _DASHBOARD_KEYS, "dashboard")
        kw["dashboard"] = replace(base.dashboard, **dash)
    if "services" in data:
        kw["services"] = _services(data["services"])
    if "rules" in data:
        kw["rules"] = _rules(data["rules"])
    if "prices" in data:
        kw["prices"] = _prices(data["prices"])
    if "routing" in data:
        routing = _section(data["routing"], _ROUTING_KEYS, "routing")
        kw["routing"] = replace(base.routing, **routing)
    if "slo" in data:
        kw["slo"] = replace(base.slo, **_section(data["slo"], _SLO_KEYS, "slo"))
    if "profiles_dir" in data:
        kw["profiles_dir"] = _str(data["profiles_dir"], "profiles_dir")
    if "traffic" in data:
        kw["traffic"] = replace(base.traffic, **_section(data["traffic"], _TRAFFIC_KEYS, "traffic"))
    if "scrape" in data:
        kw["scrape"] = _scrape(data["scrape"])
    cfg = Config(**kw)
    ref = cfg.routing.cloud_reference
    if ref and ref not in cfg.prices:
        raise ConfigError(f"routing.cloud_reference: {ref!r} has no entry in [prices]")
    return cfg


def _array_of_tables(raw: Any, name: str) -> list[dict]:
    if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
        raise ConfigError(f"{name}: expected [[{name}]] tables, got {_tname(raw)}")
    return raw


def _services(raw: Any) -> tuple[Service, ...]:
    out: list[Service] = []
    seen: set[str] = set()
    for i, item in enumerate(_array_of_tables(raw, "services")):
        label = f"services[{i}]" + (f" ({item['name']})" if isinstance(item.get("name"), str) else "")
        values = _section(item, _SERVICE_KEYS, label, required=("name", "url"))
        if values["name"] in seen:
            raise ConfigError(f"{label}.name: duplicate service name {values['name']!r}")
        seen.add(values["name"])
        out.append(Service(**values))
    return tuple(out)


def _scrape(raw: Any) -> tuple[Any, ...]:
    """[[scrape]] tables: direct-scrape targets with their own credentials (like --scrape)."""
    from probes.scrape_targets import ScrapeTarget, from_url

    out: list[ScrapeTarget] = []
    for i, item in enumerate(_array_of_tables(raw, "scrape")):
        label = f"scrape[{i}]"
        values = _section(item, _SCRAPE_KEYS, label, required=("url",))
        if values.get("bearer_token") and values.get("bearer_token_file"):
            raise ConfigError(f"{label}: set bearer_token or bearer_token_file, not both")
        if values.get("password") is not None and not values.get("username"):
            raise ConfigError(f"{label}: password needs username")
        from probes.scrape import ScrapeArgError, parse_scrape_arg

        try:
            job, url = parse_scrape_arg(values.pop("url") if "job" not in values
                                        else f"{values.pop('job')}={values.pop('url')}")
        except ScrapeArgError as exc:
            raise ConfigError(f"{label}: {str(exc).replace('--scrape ', '')}") from None
        base = from_url(job, url)
        out.append(replace(base, **{k: v for k, v in values.items() if v is not None}))
    return tuple(out)


def _rules(raw: Any) -> tuple[Rule, ...]:
    out: list[Rule] = []
    seen: set[str] = set()
    for i, item in enumerate(_array_of_tables(raw, "rules")):
        label = f"rules[{i}]" + (f" ({item['name']})" if isinstance(item.get("name"), str) else "")
        values = _section(item, _RULE_KEYS, label, required=("name", "promql"))
        if values["name"] in seen:
            raise ConfigError(f"{label}.name: duplicate rule name {values['name']!r}")
        if not values["promql"].strip():
            raise ConfigError(f"{label}.promql: empty query")
        seen.add(values["name"])
        out.append(Rule(**values))
    return tuple(out)


def _prices(raw: Any) -> dict[str, Price]:
    if not isinstance(raw, dict):
        raise ConfigError(f"prices: expected a table of models, got {_tname(raw)}")
    out: dict[str, Price] = {}
    for model, table in raw.items():
        values = _section(table, _PRICE_KEYS, f'prices."{model}"', required=("input", "output"))
        out[model] = Price(**values)
    return out


# ---------------------------------------------------------------------------------------------
# Loading: file location, environment, flags.


def default_config_path(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    base = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME", "~")).expanduser() / ".config")
    return Path(base) / "llmwatch" / "config.toml"


def read_config_file(path: Path, *, explicit: bool) -> tuple[dict, str | None]:
    """The decoded TOML of path. A missing file is an error only when the user named it."""
    if not path.exists():
        if explicit:
            raise ConfigError(f"{path}: config file not found")
        return {}, None
    if path.is_dir():
        raise ConfigError(f"{path}: is a directory, not a config file")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        return tomllib.loads(raw.decode("utf-8")), str(path)
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None


# Environment variables -> (section, key). LLMWATCH_* beat the logcli-style LOKI_* names.
_ENV = [
    ("LOKI_ADDR", "loki", "url"),
    ("LOKI_USERNAME", "loki", "username"),
    ("LOKI_PASSWORD", "loki", "password"),
    ("LOKI_BEARER_TOKEN", "loki", "bearer_token"),
    ("LOKI_BEARER_TOKEN_FILE", "loki", "bearer_token_file"),
    ("LOKI_ORG_ID", "loki", "org_id"),
    ("LLMWATCH_PROMETHEUS_URL", "prometheus", "url"),
    ("LLMWATCH_ALERTMANAGER_URL", "alertmanager", "url"),
    ("LLMWATCH_LOKI_URL", "loki", "url"),
]


def _overlay(data: dict, section: str, key: str, value: Any) -> None:
    table = data.setdefault(section, {})
    if not isinstance(table, dict):
        raise ConfigError(f"{section}: expected a table, got {_tname(table)}")
    if key == "bearer_token":
        table.pop("bearer_token_file", None)
    if key == "bearer_token_file":
        table.pop("bearer_token", None)
    table[key] = value


_SCHEMAS = {"prometheus": _ENDPOINT_KEYS, "alertmanager": _ENDPOINT_KEYS, "loki": _LOKI_KEYS,
            "dashboard": _DASHBOARD_KEYS}


def _check_value(section: str, key: str, value: Any, origin: str) -> None:
    """Validate one value from the environment or a flag, naming where it came from."""
    conv = _SCHEMAS.get(section, {}).get(key)
    if conv is not None:
        conv(value, origin)


def load_config(
    path: str | os.PathLike | None = None,
    *,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[tuple[str, str], Any] | None = None,
) -> Config:
    """flags (overrides) > environment > file > defaults.

    path: --config; else LLMWATCH_CONFIG; else the XDG default (which may be absent).
    overrides: {("prometheus", "url"): "...", ("dashboard", "refresh"): "2s"} from flags.
    """
    env = os.environ if env is None else env
    if path is not None:
        cfg_path, explicit = Path(path).expanduser(), True
    elif env.get("LLMWATCH_CONFIG"):
        cfg_path, explicit = Path(env["LLMWATCH_CONFIG"]).expanduser(), True
    else:
        cfg_path, explicit = default_config_path(env), False
    data, source = read_config_file(cfg_path, explicit=explicit)
    layered = {k: (dict(v) if isinstance(v, dict) else v) for k, v in data.items()}
    env_layer: dict[tuple[str, str], str] = {}
    for var, section, key in _ENV:
        if env.get(var):
            _check_value(section, key, env[var], var)
            env_layer[(section, key)] = env[var]
    for (section, key), value in (overrides or {}).items():
        if value is not None:
            _check_value(section, key, value, f"{section}.{key} (command line)")
    try:
        for (section, key), value in env_layer.items():
            _overlay(layered, section, key, value)
        for (section, key), value in (overrides or {}).items():
            if value is not None:
                _overlay(layered, section, key, value)
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}" if source else str(exc)) from None
    return parse_config(layered, source)
