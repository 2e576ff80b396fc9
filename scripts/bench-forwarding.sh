#!/usr/bin/env bash
# Forwarding benchmark: ingest with forwarding off and on (interleaved, same seeds), the backlog's
# drain rate, and a receiver outage mid-run (scripts/bench_forwarding.py says how).
#   usage: [BENCH_RUNS=3] [BENCH_SEED=70] [BENCH_OUTAGE=60] scripts/bench-forwarding.sh [N=100000] [C=64]
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { sudo_cmd=$(command -v sudo || true); $sudo_cmd apt-get update -qq >/dev/null; $sudo_cmd apt-get install -y -qq wrk >/dev/null; }
swift build -c release --product inboxlite 2>&1 | grep -E "error|Build" | tail -2 >&2
swift build -c release --product inboxlite-bench 2>&1 | grep -E "error|Build" | tail -2 >&2
python3 scripts/bench_forwarding.py "${1:-100000}" "${2:-64}" "${BENCH_RUNS:-3}" "${BENCH_SEED:-70}" "${BENCH_OUTAGE:-60}"
