#!/usr/bin/env bash
# make run: the distributed system on this machine. Starts a Tansu broker, an orchestrator, two
# drivers and a local target; runs an avalanche and a tsunami test through the REST API; prints
# both reports and where the dashboard and the report files are; stops everything it started.
set -euo pipefail
BIN="${1:-.build/release/stampede}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BROKER_PORT="${DEMO_BROKER_PORT:-19092}"
API_PORT="${DEMO_API_PORT:-18090}"
TARGET_PORT="${DEMO_TARGET_PORT:-18080}"
REPORTS="$ROOT/reports"
LOGS="$(mktemp -d /tmp/stampede-demo.XXXXXX)"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

wait_port() {
  for _ in $(seq 100); do (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done
  echo "demo: nothing listens on port $1 (logs in $LOGS)" >&2; exit 1
}
api() { curl -sS -X "$1" "http://127.0.0.1:$API_PORT$2" ${3:+-H 'Content-Type: application/json' -d "$3"}; }
wait_done() {
  for _ in $(seq 600); do
    status="$(api GET "/tests/$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])')"
    [ "$status" = done ] || [ "$status" = failed ] && return 0
    sleep 0.2
  done
  echo "demo: test $1 did not finish" >&2; exit 1
}
show() {
  python3 - "$REPORTS/$1/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
l = r["latency_us"]
print(f"  {r['test_id']}: {r['mode']} on {r['target']} with drivers {', '.join(r['drivers'])}")
print(f"  {r['requests']} requests, {r['responses']} responses in {r['duration_s']} s = {r['rps']} req/s, "
      f"errors {sum(r['errors'].values())}, partial {r['partial']}")
print(f"  latency: min {l['min']} us, p50 {l['p50']} us, p90 {l['p90']} us, p99 {l['p99']} us, "
      f"p99.9 {l['p999']} us, max {l['max']} us (merged HDR histogram)")
PY
}

"$BIN" version
"$ROOT/.deps/bin/tansu" broker --listener-url "tcp://127.0.0.1:$BROKER_PORT" \
  --advertised-listener-url "tcp://127.0.0.1:$BROKER_PORT" >"$LOGS/tansu.log" 2>&1 &
PIDS+=($!)
wait_port "$BROKER_PORT"
"$BIN" target --listen "127.0.0.1:$TARGET_PORT" --body-bytes 64 >"$LOGS/target.log" 2>&1 &
PIDS+=($!)
"$BIN" orchestrator --listen "127.0.0.1:$API_PORT" --brokers "127.0.0.1:$BROKER_PORT" --reports-dir "$REPORTS" \
  >"$LOGS/orchestrator.log" 2>&1 &
PIDS+=($!)
wait_port "$API_PORT"
for d in driver-1 driver-2; do
  "$BIN" driver --brokers "127.0.0.1:$BROKER_PORT" --id "$d" >"$LOGS/$d.log" 2>&1 &
  PIDS+=($!)
done
for _ in $(seq 100); do
  [ "$(api GET /drivers | python3 -c 'import json,sys; print(sum(d["state"]=="idle" for d in json.load(sys.stdin)))')" = 2 ] && break
  sleep 0.2
done
echo
echo "Dashboard: http://127.0.0.1:$API_PORT/   (live while the demo runs)"
echo

STAMP="$(date +%s)"
# demo_test ID FIELDS: creates test ID (TestConfig FIELDS plus the target), triggers it, waits, shows it.
demo_test() {
  api POST /tests "{\"test_id\":\"$1\",$2,\"target\":\"http://127.0.0.1:$TARGET_PORT/\"}" >/dev/null
  api POST /trigger "{\"test_id\":\"$1\"}" >/dev/null
  wait_done "$1"
  show "$1"
}
echo "== avalanche: 2 drivers x 20 connections, 20,000 requests each =="
demo_test "demo-avalanche-$STAMP" '"test_type":"AVALANCHE","message_count_per_driver":20000,"connections":20'
echo
echo "== tsunami: 1,000 requests/s in total for 5 s; latency from the intended send time =="
demo_test "demo-tsunami-$STAMP" '"test_type":"TSUNAMI","rate":1000,"duration_s":5,"connections":10'
echo
echo "Report files: $REPORTS/demo-*-$STAMP/ (report.json, drivers/<id>.json, latency.hlog)"
echo "Logs: $LOGS"
