#!/usr/bin/env bash
# The peers `make perf` measures stampede against, beyond wrk (which make setup installs): ab
# (apache2-utils), h2load (nghttp2-client), hey, and tcpdump (the wire as the latency reference) from
# Debian, Locust from PyPI into .venv.
# Idempotent; make test does not need them.
set -euo pipefail
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
missing=()
for p in apache2-utils nghttp2-client hey valgrind linux-perf tcpdump; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "[perf-peers] installing apt packages: ${missing[*]}"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if ! .venv/bin/python -c "import locust" >/dev/null 2>&1; then
  echo "[perf-peers] installing locust into .venv"
  .venv/bin/pip install -q --disable-pip-version-check locust
fi
