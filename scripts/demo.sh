#!/usr/bin/env bash
# make run: a local demo of the load engine. Starts `stampede target`, runs an avalanche and a
# tsunami test against it with `stampede bench`, and stops the target.
set -euo pipefail
BIN="${1:-.build/release/stampede}"
PORT="${DEMO_PORT:-18080}"

"$BIN" version
echo
"$BIN" target --listen "127.0.0.1:$PORT" --body-bytes 64 >/tmp/stampede-demo-target.log 2>&1 &
TARGET_PID=$!
trap 'kill "$TARGET_PID" 2>/dev/null || true; wait "$TARGET_PID" 2>/dev/null || true' EXIT
for _ in $(seq 50); do grep -q listening /tmp/stampede-demo-target.log 2>/dev/null && break; sleep 0.1; done
cat /tmp/stampede-demo-target.log

echo
echo "== avalanche: 20 connections, as fast as they go, 3 s =="
"$BIN" bench "http://127.0.0.1:$PORT/" --connections 20 --duration 3
echo
echo "== tsunami: 1000 requests/s over 10 connections, 3 s; latency from the intended send time =="
"$BIN" bench "http://127.0.0.1:$PORT/" --mode tsunami --rate 1000 --connections 10 --duration 3 --hlog /tmp/stampede-demo.hlog
echo
echo "Per-second latency histograms (HdrHistogram log 1.3): /tmp/stampede-demo.hlog"
