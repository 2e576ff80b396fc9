#!/usr/bin/env bash
# Query benchmark: fills a database with ~1,000,000 messages over 20,000 conversations through the
# store's write path, then measures p50/p99 of the conversation list, a thread page, a contact
# search, a full-text search, delivery stats and health, each under 16 concurrent connections
# (wrk, release build). BENCH_SETS="stats health" measures only those.
#   usage: scripts/bench-query.sh [DELIVERIES=1125000] [CONNECTIONS=16] [SECONDS=10]
#   BENCH_DB=path reuses (or keeps) a filled database; BENCH_RUNS (3) runs of each set at 4 and
#   CONNECTIONS connections (BENCH_CONNECTIONS overrides); BENCH_SETS picks the request sets.
#   BENCH_ENGINE=postgresql fills and serves a database of a throwaway PostgreSQL cluster instead.
set -euo pipefail
cd "$(dirname "$0")/.."
DELIVERIES=${1:-1125000}; C=${2:-16}; SECONDS_EACH=${3:-10}
command -v wrk >/dev/null || { sudo_cmd=$(command -v sudo || true); $sudo_cmd apt-get update -qq >/dev/null; $sudo_cmd apt-get install -y -qq wrk >/dev/null; }
swift build -c release 2>&1 | grep -E 'error' >&2 || true
WORK=$(mktemp -d /tmp/inboxlite-qbench.XXXXXX)
DB=${BENCH_DB:-$WORK/inbox.sqlite}
PG_URL=
trap 'kill $SERVER 2>/dev/null || true; [ -n "$PG_URL" ] && scripts/postgres-cluster.sh stop "$WORK/pg"; rm -rf "$WORK"' EXIT
SERVER=""
if [ "${BENCH_ENGINE:-sqlite}" = postgresql ]; then
  chmod 755 "$WORK"
  PG_URL=$(PG_DURABLE=1 scripts/postgres-cluster.sh start "$WORK/pg")
  psql "$PG_URL" -qc "CREATE DATABASE bench"
  DB="${PG_URL%/*}/bench"
  .build/release/inboxlite-bench fill --database-url "$DB?sslmode=disable" --deliveries "$DELIVERIES" --conversations 20000
  psql "$DB" -qc "VACUUM ANALYZE"
  DATABASE=(--database-url "$DB?sslmode=disable")
else
  if [ ! -f "$DB" ]; then
    .build/release/inboxlite-bench fill --db "$DB" --deliveries "$DELIVERIES" --conversations 20000
  fi
  # Measure the query path, not the disk: read the file once so it sits in the OS page cache.
  cat "$DB" >/dev/null
  DATABASE=(--db "$DB")
fi
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
.build/release/inboxlite serve "${DATABASE[@]}" --port "$PORT" --webhook-secret bench --api-token bench --log-level warning \
  >"$WORK/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done

python3 - "$DB" "$WORK" <<'PY'
import random, sqlite3, subprocess, sys, urllib.parse
work = sys.argv[2]
class Psql:
    """The same queries through psql, for a PostgreSQL database."""
    def __init__(self, url): self.url = url
    def execute(self, sql):
        out = subprocess.run(["psql", self.url, "-AtF", "\t", "-c", sql], check=True,
                             capture_output=True, text=True).stdout
        rows = [tuple(line.split("\t")) for line in out.splitlines()]
        return type("Rows", (list,), {"fetchall": lambda self: list(self), "fetchone": lambda self: self[0]})(rows)
db = Psql(sys.argv[1]) if sys.argv[1].startswith("postgres") else sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
rng = random.Random(1)
q = urllib.parse.quote
convs = db.execute("SELECT session_id, contact FROM conversations ORDER BY random() LIMIT 2000").fetchall()
sessions = [r[0] for r in db.execute("SELECT session_id FROM sessions")]
numbers = [r[0] for r in db.execute("SELECT phone_number FROM contacts WHERE phone_number IS NOT NULL ORDER BY random() LIMIT 2000")]
words = ["presupuesto", "pedido", "envio", "factura", "gracias", "manana", "cita", "precio", "descuento", "llamada",
         "direccion", "pago", "transferencia", "devolucion", "garantia", "stock", "catalogo", "reunion", "urgente", "cafe"]
sets = {
  "conversation list": [f"/api/conversations?limit=50" + (f"&session={q(rng.choice(sessions))}" if rng.random() < .5 else "") for _ in range(500)],
  "thread page": [f"/api/conversations/{q(s)}/{q(c)}/messages?limit=50" for s, c in convs],
  "contact search": [f"/api/contacts?q={n[-7:-2]}&limit=20" for n in numbers],
  "full-text search": [f"/api/search?q={q(rng.choice(words) + ' ' + rng.choice(words))}&limit=20" for _ in range(2000)],
  "stats": ["/api/webhooks/stats"],
  "health": ["/api/webhooks/health"],
}
for name, urls in sets.items():
    open(f"{work}/{name.replace(' ', '_')}.txt", "w").write("\n".join(urls) + "\n")
print(f"database: {db.execute('select count(*) from webhook_deliveries').fetchone()[0]} deliveries, "
      f"{db.execute('select count(*) from messages').fetchone()[0]} messages, "
      f"{db.execute('select count(*) from conversations').fetchone()[0]} conversations, "
      f"{db.execute('select count(*) from contacts').fetchone()[0]} contacts")
PY
# Each set at each connection count, BENCH_RUNS times: pages/s, p50/p99, and the server's CPU
# per page (from /proc, so the load generator's own CPU is not counted); then median and range.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$SERVER/stat"; }
HZ=$(getconf CLK_TCK)
for name in ${BENCH_SETS:-conversation_list thread_page contact_search full-text_search stats health}; do
  for conns in ${BENCH_CONNECTIONS:-4 $C}; do
    for run in $(seq "${BENCH_RUNS:-3}"); do
      before=$(cpu_ticks)
      out=$(BENCH_URLS="$WORK/$name.txt" BENCH_TOKEN=bench wrk -t1 -c"$conns" -d"${SECONDS_EACH}s" --timeout 5s \
            -s scripts/bench_query.lua "http://127.0.0.1:$PORT" | grep BENCH)
      echo "$name $conns $(( $(cpu_ticks) - before )) ${out#BENCH }" >>"$WORK/results.txt"
    done
  done
done
python3 - "$WORK/results.txt" "$HZ" <<'PY'
import re, statistics, sys
hz = int(sys.argv[2]); rows = {}
for line in open(sys.argv[1]):
    name, conns, ticks, rest = line.split(" ", 3)
    v = dict((k, float(x)) for k, x in re.findall(r"(\w+)=([\d.]+)", rest))
    v["cpu_us"] = int(ticks) / hz * 1e6 / max(1, v["requests"])
    rows.setdefault((name, int(conns)), []).append(v)
fmt = lambda vals, f: f"{f.format(statistics.median(vals))} ({f.format(min(vals))}–{f.format(max(vals))})"
print("| request | conns | pages/s | p50 ms | p99 ms | server CPU µs/page | non-200 |\n|---|---|---|---|---|---|---|")
for (name, conns), vs in rows.items():
    print(f"| {name.replace('_', ' ')} | {conns} | {fmt([v['rps'] for v in vs], '{:,.0f}')} | {fmt([v['p50_ms'] for v in vs], '{:.2f}')} "
          f"| {fmt([v['p99_ms'] for v in vs], '{:.2f}')} | {fmt([v['cpu_us'] for v in vs], '{:.0f}')} | {sum(int(v['non200']) for v in vs)} |")
print(f"median (min–max) of {len(vs)} runs each")
PY
echo "server RSS=$(awk '/VmRSS/ {printf "%.1f MB", $2/1024}' /proc/$SERVER/status)"
