#!/usr/bin/env bash
# Ingest benchmark on a realistic stream (scripts/bench_ingest_gen.py: ~40 % receipts, some
# before their message, groups, session events, media, WAHA messages with reactions, edits and
# deletions, 5 % retried duplicates), fired by wrk over C
# connections at a release build. Each run: a fresh database (or a copy of BENCH_DB), the stream
# generated from seed BENCH_SEED+run, perf sampling the server, then /healthz of the same
# process at the same connection count; afterwards every row count and the final state are
# checked. Prints one line per run and a table of medians and ranges.
# BENCH_CEILING=1 (the default) then sends the first run's stream to `inboxlite-bench
# http-ceiling`: the same webhook route, verifier and parser in front of a store that keeps
# nothing, for what HTTP + verification + decoding alone allow on this machine.
# BENCH_ENGINE=postgresql runs on a throwaway PostgreSQL cluster with its durable defaults (fsync
# and synchronous_commit on; a fresh database per run), and BENCH_NODES=2 on two nodes sharing it,
# the stream dealt out to them alternately (as a round-robin balancer would), each at C/2 connections.
#   usage: [BENCH_RUNS=3] [BENCH_SEED=42] [BENCH_DB=filled.sqlite] [BENCH_PERF=0] [BENCH_CEILING=0] [BENCH_BIN=path]
#          [BENCH_ENGINE=sqlite|postgresql] [BENCH_NODES=1|2]
#          scripts/bench-ingest.sh [N=100000] [C=64] [extra serve flags, e.g. --durability full]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-100000}; C=${2:-64}; shift $(( $# > 2 ? 2 : $# )) || true
RUNS=${BENCH_RUNS:-3}; SEED=${BENCH_SEED:-42}
PERF=${BENCH_PERF:-1}; command -v perf >/dev/null || PERF=0
command -v wrk >/dev/null || { sudo_cmd=$(command -v sudo || true); $sudo_cmd apt-get update -qq >/dev/null; $sudo_cmd apt-get install -y -qq wrk >/dev/null; }

# BENCH_BIN runs another build (e.g. an older commit's, to compare in the same session) instead.
if [ -z "${BENCH_BIN:-}" ]; then
  swift build -c release --product inboxlite 2>&1 | grep -E "error|Compiling|Build" | tail -3 >&2
fi
CEILING=${BENCH_CEILING:-1}
[ "$CEILING" = 1 ] && { swift build -c release --product inboxlite-bench 2>&1 | grep -E "error|Compiling|Build" | tail -3 >&2; }
BIN=${BENCH_BIN:-.build/release/inboxlite}
ALL=$(mktemp -d /tmp/inboxlite-bench.XXXXXX)
ENGINE=${BENCH_ENGINE:-sqlite}; NODES=${BENCH_NODES:-1}
SERVER=; SERVERS=; PG_URL=
trap '[ -n "$SERVER$SERVERS" ] && kill $SERVER $SERVERS 2>/dev/null; [ -n "$PG_URL" ] && scripts/postgres-cluster.sh stop "$ALL/pg";
      [ -n "${BENCH_KEEP:-}" ] || rm -rf "$ALL"' EXIT
if [ "$ENGINE" = postgresql ]; then
  chmod 755 "$ALL"
  PG_URL=$(PG_DURABLE=1 scripts/postgres-cluster.sh start "$ALL/pg")
fi
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_up() { for _ in $(seq 200); do curl -fs "http://127.0.0.1:$1/healthz" >/dev/null && break; sleep 0.1; done; }
# Sends $1/requests.bin once over C connections to port $2; returns (wrk still running, in $WRK)
# when every request has been answered, so the caller can read the server's counters first.
fire_stream() {
  if [ "$#" -eq 2 ]; then
    BENCH_REQUESTS="$1/requests.bin" BENCH_DONE="$1/done" wrk -t1 -c"$C" -d600s --timeout 10s \
      -s scripts/bench_ingest.lua "http://127.0.0.1:$2" >"$1/wrk.txt" 2>&1 &
    WRK=$!
    while [ ! -s "$1/done" ] && kill -0 $WRK 2>/dev/null; do sleep 0.05; done
    return
  fi
  # Several nodes: request i goes to node i mod n, each node's share over C/n connections.
  local work=$1; shift; local n=$#
  python3 - "$work" "$n" <<'PY'
import sys
work, n = sys.argv[1], int(sys.argv[2])
data, pos, shares = open(f"{work}/requests.bin", "rb").read(), 0, [bytearray() for _ in range(n)]
index = 0
while pos < len(data):
    newline = data.index(b"\n", pos)
    end = newline + 1 + int(data[pos:newline])
    shares[index % n] += data[pos:end]
    pos, index = end, index + 1
for node, share in enumerate(shares):
    open(f"{work}/requests{node}.bin", "wb").write(share)
PY
  WRK=; local node=0
  for port in "$@"; do
    BENCH_REQUESTS="$work/requests$node.bin" BENCH_DONE="$work/done$node" wrk -t1 -c"$((C / n))" -d600s --timeout 10s \
      -s scripts/bench_ingest.lua "http://127.0.0.1:$port" >"$work/wrk$node.txt" 2>&1 &
    WRK="$WRK $!"; node=$((node + 1))
  done
  while true; do
    local finished=0
    for node in $(seq 0 $((n - 1))); do [ -s "$work/done$node" ] && finished=$((finished + 1)); done
    [ "$finished" -eq "$n" ] && break
    for pid in $WRK; do kill -0 "$pid" 2>/dev/null || break 2; done
    sleep 0.05
  done
  # The stream took as long as its slowest share.
  sort -g "$work"/done[0-9]* | tail -1 >"$work/done"
}
stop_stream() { for pid in $WRK; do kill -INT "$pid" 2>/dev/null || true; wait "$pid" || true; done; }
# The same process, the same connection count, the cheapest request it serves.
healthz_rate() { wrk -t1 -c"$C" -d5s "http://127.0.0.1:$2/healthz" >"$1/healthz.txt" 2>&1; }

for run in $(seq "$RUNS"); do
  WORK="$ALL/run$run"; mkdir -p "$WORK"
  sync; sleep 1  # the previous run's (or the build's) dirty pages reach the disk before this one starts
  PORT=$(free_port)
  SECRET=bench-secret-$run-$(date +%s)
  if [ -n "${BENCH_DB:-}" ]; then
    cp "$BENCH_DB" "$WORK/inbox.sqlite"
    sqlite3 "$WORK/inbox.sqlite" "select 1" >/dev/null  # WAL of the copy folded in
    # The copy on disk before the run: otherwise the first checkpoint's fsync writes the whole
    # copied file back while the run is timed.
    sync
  fi
  python3 scripts/bench_ingest_gen.py "$N" "$SECRET" "$WORK/requests.bin" "127.0.0.1:$PORT" "$((SEED + run - 1))" \
    >"$WORK/expected.json"
  DATABASE=(--db "$WORK/inbox.sqlite")
  if [ "$ENGINE" = postgresql ]; then
    psql "$PG_URL" -qc "CREATE DATABASE run$run"
    DATABASE=(--database-url "${PG_URL%/*}/run$run?sslmode=disable")
    echo "${PG_URL%/*}/run$run" >"$WORK/postgres-url"
  fi
  $BIN serve "${DATABASE[@]}" --port "$PORT" --webhook-secret "$SECRET" --waha-hmac-key "$SECRET" --api-token bench \
    --log-level warning "$@" >"$WORK/server.log" 2>&1 &
  SERVER=$!; SERVER_PID=$SERVER
  wait_up "$PORT"
  PORTS=$PORT; SERVERS=
  for node in $(seq 2 "$NODES"); do
    NODE_PORT=$(free_port)
    $BIN serve "${DATABASE[@]}" --port "$NODE_PORT" --webhook-secret "$SECRET" --waha-hmac-key "$SECRET" --api-token bench \
      --log-level warning "$@" >"$WORK/server$node.log" 2>&1 &
    SERVERS="$SERVERS $!"; PORTS="$PORTS $NODE_PORT"
    wait_up "$NODE_PORT"
  done
  if [ "$ENGINE" = postgresql ]; then
    echo "0 0 0 0" >"$WORK/before.txt"
  else
    sqlite3 "file:$WORK/inbox.sqlite?mode=ro" "select count(*) from messages; select count(*) from webhook_deliveries;
      select count(*) from messages_fts where messages_fts match 'mensaje';
      select count(*) from messages_fts where messages_fts match 'respuesta';" \
      >"$WORK/before.txt"
  fi

  [ "$PERF" = 1 ] && { perf record -F ${BENCH_PERF_HZ:-499} -g -a -o "$WORK/perf.data" >/dev/null 2>&1 & PERFPID=$!; sleep 0.5; }
  CPU0=$(cpu_ticks "$SERVER"); IO0=$(awk '/^write_bytes/ {print $2}' "/proc/$SERVER/io")
  if [ "$NODES" -gt 1 ]; then fire_stream "$WORK" $PORTS; else fire_stream "$WORK" "$PORT"; fi
  CPU1=$(cpu_ticks "$SERVER"); IO1=$(awk '/^write_bytes/ {print $2}' "/proc/$SERVER/io")
  stop_stream
  [ "$PERF" = 1 ] && { kill -INT $PERFPID; wait $PERFPID || true; }
  echo "duration_s=$(cat "$WORK/done") cpu_ticks=$((CPU1 - CPU0)) hz=$(getconf CLK_TCK) write_bytes=$((IO1 - IO0))" >>"$WORK/wrk.txt"

  healthz_rate "$WORK" "$PORT"
  awk '/VmHWM/ {print $2}' /proc/$SERVER/status >"$WORK/rss_kb"
  kill -TERM $SERVER $SERVERS; wait $SERVER $SERVERS || true; SERVER=; SERVERS=

  if [ "$PERF" = 1 ]; then
    perf script -i "$WORK/perf.data" --pid "$SERVER_PID" -F comm,tid,ip,sym,dso 2>/dev/null | python3 scripts/bench_stages.py >"$WORK/stages.json"
    perf script -i "$WORK/perf.data" --pid "$SERVER_PID" -F comm,tid,ip,sym,dso 2>/dev/null \
      | python3 scripts/bench_stages.py --top >"$WORK/profile.txt"
  fi
  python3 scripts/bench_ingest_check.py "$WORK" "$C" "$run" || { echo "run $run: final state check FAILED"; exit 1; }
done
python3 scripts/bench_ingest_check.py --summary "$ALL" "$RUNS"
if [ "$PERF" = 1 ]; then
  echo; echo "profile of the last run (perf -a, cpu-clock, the server's samples; self time by stage and function):"
  cat "$ALL/run$RUNS/profile.txt"
fi

if [ "$CEILING" = 1 ]; then
  # The same stream (run 1's seed) into the webhook route with nothing stored behind it.
  WORK="$ALL/ceiling"; mkdir -p "$WORK"
  PORT=$(free_port)
  SECRET=bench-ceiling-$(date +%s)
  python3 scripts/bench_ingest_gen.py "$N" "$SECRET" "$WORK/requests.bin" "127.0.0.1:$PORT" "$SEED" >/dev/null
  .build/release/inboxlite-bench http-ceiling --port "$PORT" --webhook-secret "$SECRET" >"$WORK/server.log" 2>&1 &
  SERVER=$!
  wait_up "$PORT"
  CPU0=$(cpu_ticks "$SERVER")
  fire_stream "$WORK" "$PORT"
  CPU1=$(cpu_ticks "$SERVER")
  stop_stream
  healthz_rate "$WORK" "$PORT"
  kill -TERM $SERVER; wait $SERVER || true; SERVER=
  python3 - "$WORK" "$CPU1" "$CPU0" "$(getconf CLK_TCK)" <<'PY'
import re, sys
work, cpu1, cpu0, hz = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
wrk = open(f"{work}/wrk.txt").read()
answered = int(re.search(r"answered=(\d+)", wrk).group(1))
p99 = float(re.search(r"p99_ms=([\d.]+)", wrk).group(1))
seconds = float(open(f"{work}/done").read())
healthz = float(re.search(r"Requests/sec:\s+([\d.]+)", open(f"{work}/healthz.txt").read()).group(1))
print(f"\nHTTP + verify + decode alone (inboxlite-bench http-ceiling, nothing stored, same stream, one run): "
      f"{answered / seconds:,.0f} deliveries/s, p99 {p99:.1f} ms, server CPU {(cpu1 - cpu0) / hz * 1e6 / answered:.0f} µs/delivery; "
      f"its /healthz {healthz:,.0f} req/s")
PY
fi
