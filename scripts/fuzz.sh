#!/usr/bin/env bash
# Builds the libFuzzer target (Tests/Fuzz/FuzzTarget.swift) with AddressSanitizer and runs it over
# the corpus in Tests/Fuzz/corpus, which grows with what it finds. Not part of CI: it needs its own
# instrumented build.
#   usage: scripts/fuzz.sh [seconds, default 600] [extra libFuzzer flags...]
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_TO_RUN=${1:-600}
shift || true
OUT=.build-fuzz
mkdir -p "$OUT" Tests/Fuzz/corpus
swiftc -sanitize=fuzzer,address -parse-as-library -O -g -module-name InboxFuzz \
  Tests/Fuzz/FuzzTarget.swift \
  Sources/InboxEvents/*.swift Sources/InboxEvents/Dialects/*.swift \
  Sources/WebhookReceiver/SessionIdScanner.swift Sources/WebhookReceiver/SignatureHeaders.swift \
  -o "$OUT/inboxlite-fuzz"
"$OUT/inboxlite-fuzz" Tests/Fuzz/corpus -max_total_time="$SECONDS_TO_RUN" -max_len=8192 -timeout=5 \
  -dict=Tests/Fuzz/json.dict -print_final_stats=1 "$@"
