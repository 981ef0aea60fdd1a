#!/usr/bin/env bash
# make dist: a tarball a bookworm box runs with only libssl3, zlib1g and libzstd1 installed:
#   bin/stampede       the Swift runtime linked in statically (--static-swift-stdlib)
#   lib/librdkafka.so.1  the librdkafka >= 2.3 it was built against, found through an
#                      $ORIGIN-relative rpath (bin/../lib)
#   systemd/, env/     units and example environment files (deploy/)
# Usage: scripts/dist.sh  (after the build in the Makefile's dist target)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN="$ROOT/.build-dist/release/stampede"
[ -x "$BIN" ] || { echo "dist: $BIN is missing: run make dist" >&2; exit 1; }
VERSION="$("$BIN" version | awk '{print $2; exit}')"
ARCH="$(uname -m)"
NAME="stampede-$VERSION-linux-$ARCH"
OUT="$ROOT/dist/$NAME"
rm -rf "$OUT" && mkdir -p "$OUT/bin" "$OUT/lib" "$OUT/systemd" "$OUT/env"
cp "$BIN" "$OUT/bin/stampede"
strip "$OUT/bin/stampede"
RDKAFKA="$(ldd "$BIN" | awk '/librdkafka/ {print $3}')"
[ -n "$RDKAFKA" ] || { echo "dist: the binary does not link librdkafka?" >&2; exit 1; }
cp -L "$RDKAFKA" "$OUT/lib/librdkafka.so.1"
cp "$ROOT"/deploy/systemd/*.service "$OUT/systemd/"
cp "$ROOT"/deploy/env/* "$OUT/env/"
cp "$ROOT/README.md" "$OUT/"
tar -C "$ROOT/dist" -czf "$ROOT/dist/$NAME.tar.gz" "$NAME"
echo "dist/$NAME.tar.gz"
