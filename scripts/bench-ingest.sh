#!/usr/bin/env bash
# Ingest benchmark: N unique signed webhooks (realistic mix + 5% retried duplicates) fired by wrk
# over C connections at a release build on a fresh database; prints deliveries/s, p50/p99, the
# server's peak RSS, and checks every row count afterwards.
#   usage: [BENCH_NO_FTS=1] scripts/bench-ingest.sh [N=100000] [C=64] [extra serve flags, e.g. --durability full]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-100000}; C=${2:-64}; shift $(( $# > 2 ? 2 : $# )) || true
command -v wrk >/dev/null || { sudo_cmd=$(command -v sudo || true); $sudo_cmd apt-get update -qq >/dev/null; $sudo_cmd apt-get install -y -qq wrk >/dev/null; }

swift build -c release --product inboxlite >/dev/null
BIN=.build/release/inboxlite
WORK=$(mktemp -d /tmp/inboxlite-bench.XXXXXX)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
SECRET=bench-secret-$(date +%s)
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT

if [ "${BENCH_NO_FTS:-0}" = 1 ]; then
  # Comparison run: the same schema without the triggers that feed the full-text index.
  $BIN migrate --db "$WORK/inbox.sqlite" >/dev/null
  sqlite3 "$WORK/inbox.sqlite" "DROP TRIGGER messages_fts_insert; DROP TRIGGER messages_fts_update; DROP TRIGGER messages_fts_delete;"
  echo "full-text index triggers dropped (BENCH_NO_FTS=1)"
fi
$BIN serve --db "$WORK/inbox.sqlite" --port "$PORT" --webhook-secret "$SECRET" --api-token bench \
  --log-level warning "$@" >"$WORK/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done

python3 scripts/bench_ingest_gen.py "$N" "$SECRET" "$WORK/requests.bin" "127.0.0.1:$PORT" >"$WORK/expected.json"
echo "generated: $(cat "$WORK/expected.json")"
BENCH_REQUESTS="$WORK/requests.bin" BENCH_DONE="$WORK/done" wrk -t1 -c"$C" -d600s --timeout 10s \
  -s scripts/bench_ingest.lua "http://127.0.0.1:$PORT" >"$WORK/wrk.txt" 2>&1 &
WRK=$!
while [ ! -s "$WORK/done" ] && kill -0 $WRK 2>/dev/null; do sleep 0.2; done
kill -INT $WRK 2>/dev/null || true; wait $WRK || true
echo "duration_s=$(cat "$WORK/done")" >>"$WORK/wrk.txt"
RSS_KB=$(awk '/VmHWM/ {print $2}' /proc/$SERVER/status)
kill -TERM $SERVER; wait $SERVER || true

python3 - "$WORK" "$RSS_KB" "$C" <<'PY'
import json, re, sqlite3, sys
work, rss_kb, conns = sys.argv[1], int(sys.argv[2]), sys.argv[3]
expected = json.load(open(f"{work}/expected.json"))
wrk = open(f"{work}/wrk.txt").read()
vals = dict(re.findall(r"(\w+)=([\d.]+)", " ".join(l for l in wrk.splitlines() if l.startswith(("BENCH", "duration_s")))))
db = sqlite3.connect(f"file:{work}/inbox.sqlite?mode=ro", uri=True)
q = lambda sql: db.execute(sql).fetchone()[0]
checks = {
    "answered 200": (int(vals["ok"]) + int(vals["non200"]) * 1000000, expected["requests"]),
    "answered duplicate": (int(vals["duplicates"]), expected["duplicates"]),
    "webhook_deliveries rows (unique bodies)": (q("select count(*) from webhook_deliveries"), expected["unique"]),
    "deliveries not applied": (q("select count(*) from webhook_deliveries where status <> 'applied'"), 0),
    "messages (received + sent)": (q("select count(*) from messages"), expected["messages"]),
    "messages with an ack applied": (q("select count(*) from messages where ack is not null"), expected["acked"]),
    "acks left pending": (q("select count(*) from pending_acks"), 0),
}
duration = float(vals["duration_s"])
print(f"connections={conns} requests={expected['requests']} unique={expected['unique']} duplicates={expected['duplicates']} avg_body={expected['avg_body_bytes']}B")
print(f"deliveries/s={expected['requests']/duration:,.0f}  p50={vals['p50_ms']}ms  p90={vals['p90_ms']}ms  p99={vals['p99_ms']}ms  max={vals['max_ms']}ms  duration={duration:.2f}s")
print(f"server peak RSS={rss_kb/1024:.1f} MB")
for name, (got, want) in checks.items():
    print(f"  [{'ok' if got == want else 'FAIL'}] {name}: {got} (expected {want})")
sys.exit(0 if all(got == want for got, want in checks.values()) else 1)
PY
