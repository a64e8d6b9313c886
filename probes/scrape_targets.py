"""What to scrape directly, and how to authenticate to it: one ScrapeTarget per /metrics URL.

Why per URL: a direct-scrape stack mixes exporters that need nothing (vLLM, a gateway) with ones
that need credentials (LiteLLM's /metrics wants the master key as a bearer token by default), so
auth cannot be one setting for all. The same target comes from `--scrape [JOB=]URL` plus
`--scrape-auth JOB=SPEC`, or from a `[[scrape]]` table in the config. Secrets stay out of every
message: a target shows as its job and display URL.

--scrape-auth SPEC forms:
  bearer-file:PATH     Authorization: Bearer <file contents>, read on every scrape (rotation-safe)
  bearer-env:VAR       Authorization: Bearer <$VAR>
  bearer:TOKEN         the token itself (visible in `ps`: prefer the two above)
  basic:USER:PASSWORD  HTTP basic auth (or put user:password@ in the URL)
  header:NAME=VALUE    any header, repeatable (X-Api-Key=..., Cookie=...)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from typing import Iterable, Mapping, Sequence
from urllib.parse import unquote, urlsplit, urlunsplit

from probes.http import ClientOptions
from probes.redact import url_secrets

__all__ = ["ScrapeAuthError", "ScrapeTarget", "apply_auth", "as_targets"]


class ScrapeAuthError(ValueError):
    """A --scrape-auth value that cannot be used; the message never holds the secret."""


@dataclass(frozen=True)
class ScrapeTarget:
    job: str
    url: str
    bearer_token: str | None = None
    bearer_token_file: str | None = None
    username: str | None = None
    password: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)

    def client_key(self) -> tuple:
        """Targets with the same credentials share one HTTP client."""
        return (self.bearer_token, self.bearer_token_file, self.username, self.password,
                tuple(sorted((k.lower(), v) for k, v in self.headers.items())))

    def options(self, base: ClientOptions) -> ClientOptions:
        """The client options for this target: its own credentials over the shared base."""
        return replace(base, bearer_token=self.bearer_token or base.bearer_token,
                       bearer_token_file=None if self.bearer_token else (self.bearer_token_file or base.bearer_token_file),
                       username=self.username or base.username, password=self.password or base.password,
                       headers={**base.headers, **self.headers})

    def secrets(self) -> list[str]:
        """Everything of this target to keep out of output: token (or the token file's contents),
        password and user:password (probes.redact adds the base64 and other forms), header values,
        secrets in the URL."""
        out = [self.bearer_token, self.password, *self.headers.values(), *url_secrets(self.url)]
        if self.username and self.password:
            out.append(f"{self.username}:{self.password}")
        if self.bearer_token_file and not self.bearer_token:
            try:
                out.append(open(self.bearer_token_file, encoding="utf-8").read().strip())
            except OSError:
                pass  # unreadable now: the scrape reports it
        return [s for s in out if s]


def from_url(job: str, url: str) -> ScrapeTarget:
    """A target whose URL may carry user:password@ (moved into basic auth, out of the URL)."""
    parts = urlsplit(url)
    if parts.username is None:
        return ScrapeTarget(job, url)
    host = parts.hostname or ""
    netloc = (f"[{host}]" if ":" in host else host) + (f":{parts.port}" if parts.port else "")
    clean = urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
    return ScrapeTarget(job, clean, username=unquote(parts.username), password=unquote(parts.password or ""))


def as_targets(items: Iterable[ScrapeTarget | tuple[str, str]]) -> list[ScrapeTarget]:
    return [t if isinstance(t, ScrapeTarget) else from_url(*t) for t in items]


def _spec(job: str, spec: str, env: Mapping[str, str]) -> dict:
    kind, sep, rest = spec.partition(":")
    where = f"--scrape-auth {job}={kind}:..."
    if not sep or not rest:
        raise ScrapeAuthError(f"{where}: want bearer-file:PATH, bearer-env:VAR, bearer:TOKEN, basic:USER:PASSWORD "
                              "or header:NAME=VALUE")
    if kind == "bearer":
        return {"bearer_token": rest}
    if kind == "bearer-file":
        if not os.path.isfile(rest):
            raise ScrapeAuthError(f"--scrape-auth {job}=bearer-file:{rest}: no such file")
        return {"bearer_token_file": rest}
    if kind == "bearer-env":
        if not env.get(rest):
            raise ScrapeAuthError(f"--scrape-auth {job}=bearer-env:{rest}: ${rest} is not set")
        return {"bearer_token": env[rest]}
    if kind == "basic":
        user, colon, password = rest.partition(":")
        if not user or not colon:
            raise ScrapeAuthError(f"{where}: want basic:USER:PASSWORD")
        return {"username": user, "password": password}
    if kind == "header":
        name, eq, value = rest.partition("=")
        if not name.strip() or not eq or any(c in name for c in " :\r\n") or any(c in value for c in "\r\n"):
            raise ScrapeAuthError(f"{where}: want header:NAME=VALUE (a header name without spaces or ':')")
        return {"headers": {name.strip(): value}}
    raise ScrapeAuthError(f"{where}: unknown kind {kind!r} (bearer-file, bearer-env, bearer, basic, header)")


def apply_auth(targets: Sequence[ScrapeTarget], specs: Iterable[str],
               env: Mapping[str, str] | None = None) -> list[ScrapeTarget]:
    """Targets with each `JOB=SPEC` of --scrape-auth applied to the target of that job."""
    env = os.environ if env is None else env
    out = list(targets)
    jobs = {t.job: i for i, t in enumerate(out)}
    for item in specs:
        job, eq, spec = item.partition("=")
        job = job.strip()
        if not eq or job not in jobs:
            known = ", ".join(sorted(jobs)) or "none"
            raise ScrapeAuthError(f"--scrape-auth {job or item!r}: no --scrape target has that job (jobs: {known}); "
                                  "write JOB=SPEC")
        i = jobs[job]
        change = _spec(job, spec.strip(), env)
        if "headers" in change:
            change["headers"] = {**out[i].headers, **change["headers"]}
        out[i] = replace(out[i], **change)
    return out
