#!/usr/bin/env bash
# The one test command (README and CI use it): from a fresh Debian machine it installs the real
# Prometheus and Alertmanager (the integration tests run against the real servers, never fakes),
# makes .venv, installs llmwatch with its test extras, then runs pytest with your arguments.
#   bash scripts/test.sh                 # everything
#   bash scripts/test.sh -m integration  # only the real-server tests
#   bash scripts/test.sh -k loki -x      # any pytest arguments pass through
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf '==> %s\n' "$*"; }

# --- 1. Debian packages: prometheus, prometheus-alertmanager -----------------------------------
missing=()
[ -x /usr/bin/prometheus ] || missing+=(prometheus)
[ -x /usr/bin/prometheus-alertmanager ] || missing+=(prometheus-alertmanager)
if [ "${#missing[@]}" -gt 0 ]; then
  sudo_cmd=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo_cmd=(sudo); else sudo_cmd=(none); fi
  fi
  if [ "${sudo_cmd[*]-}" = "none" ]; then
    say "not root and no sudo: install these Debian packages yourself, then re-run:"
    say "  apt-get install --no-install-recommends ${missing[*]}"
    say "continuing: integration tests will be skipped (or fail when CI=true)"
  else
    say "installing Debian packages: ${missing[*]}"
    # The packages ship services; tests start their own servers on free ports, so keep the
    # packaged ones from starting (policy-rc.d 101 = "not allowed") and stop any that did.
    policy=/usr/sbin/policy-rc.d
    made_policy=0
    if [ ! -e "$policy" ]; then
      printf '#!/bin/sh\nexit 101\n' | "${sudo_cmd[@]}" tee "$policy" >/dev/null
      "${sudo_cmd[@]}" chmod 755 "$policy"
      made_policy=1
    fi
    restore_policy() { if [ "$made_policy" = 1 ]; then "${sudo_cmd[@]}" rm -f "$policy"; fi; }
    trap restore_policy EXIT
    "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      "${missing[@]}" >/dev/null
    restore_policy
    trap - EXIT
    if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
      for unit in prometheus prometheus-alertmanager; do
        "${sudo_cmd[@]}" systemctl disable --now "$unit" >/dev/null 2>&1 || true
      done
    fi
    say "installed: $(/usr/bin/prometheus --version 2>&1 | head -n1)"
  fi
else
  say "found $(/usr/bin/prometheus --version 2>&1 | head -n1 | cut -d' ' -f1-3) and prometheus-alertmanager"
fi

# --- 2. virtualenv and the package --------------------------------------------------------------
if [ ! -x .venv/bin/python ]; then
  say "creating .venv (python3 -m venv)"
  python3 -m venv .venv
fi
say "installing llmwatch with test extras into .venv (pip install -e '.[test]')"
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'

# --- 3. the real-exporter tier: exporter libraries in their own venv, Node apps' node_modules -----
# LiteLLM pins half of PyPI: its packages live in .venv-exporters (the apps run as subprocesses on
# that interpreter), never in .venv. Both installs are skipped when already at the pinned versions
# (a stamp named after the lock file's hash). LLMWATCH_SKIP_EXPORTERS=1 skips them (the tier then
# skips, or fails when CI=true).
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo "$@"; else return 1; fi
}
if [ "${LLMWATCH_SKIP_EXPORTERS:-}" != "1" ]; then
  t0=$(date +%s)
  req=tests/exporters/requirements.txt
  stamp=".venv-exporters/.installed-$(sha256sum "$req" | cut -c1-16)"
  if [ ! -f "$stamp" ]; then
    say "installing the exporter libraries into .venv-exporters (pip install -r $req)"
    [ -x .venv-exporters/bin/python ] || python3 -m venv .venv-exporters
    .venv-exporters/bin/python -m pip install --quiet --disable-pip-version-check -r "$req"
    rm -f .venv-exporters/.installed-*
    touch "$stamp"
  fi
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    say "installing Debian's nodejs and npm (the Dev-PyNode app runs on express + prom-client)"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq || true
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null \
      || say "could not install nodejs/npm: the real-exporter tier will skip (or fail when CI=true)"
  fi
  lock=tests/exporters/node/package-lock.json
  nstamp="tests/exporters/node/node_modules/.installed-$(sha256sum "$lock" | cut -c1-16)"
  if command -v npm >/dev/null 2>&1 && [ ! -f "$nstamp" ]; then
    say "installing express and prom-client (npm ci in tests/exporters/node)"
    (cd tests/exporters/node && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    touch "$nstamp"
  fi
  say "real-exporter tier ready ($(( $(date +%s) - t0 )) s)"
fi

# --- 4. pytest ----------------------------------------------------------------------------------
say "running: python -m pytest $*"
set +e
.venv/bin/python -m pytest "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
  say "FAILED: pytest collected no tests (exit 5): check the arguments or the tests/ directory"
  exit 1
fi
exit "$rc"
