#!/usr/bin/env bash
# Runs schemathesis against a live InboxLite with its own /openapi.yaml: no 5xx, and every
# response matches the documented status codes, content types, headers and schemas.
#   usage: scripts/api-conformance.sh [path to an inboxlite binary; default .build/debug/inboxlite]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-.build/debug/inboxlite}
[ -x "$BIN" ] || swift build --product inboxlite
python3 -m schemathesis.cli --version >/dev/null 2>&1 ||
  python3 -m pip install -q --disable-pip-version-check "schemathesis==4.32.5"
python3 -c 'import openapi_spec_validator' 2>/dev/null ||
  python3 -m pip install -q --disable-pip-version-check "openapi-spec-validator"
# The checked-in description must be a valid OpenAPI 3.1 document before anything is tested against it.
python3 -m openapi_spec_validator openapi.yaml
WORK=$(mktemp -d /tmp/inboxlite-st.XXXXXX)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$BIN" serve --db "$WORK/db.sqlite" --port "$PORT" --webhook-secret st-secret --api-token st-token \
  --meta-app-secret st-meta --meta-verify-token st-verify --waha-hmac-key st-waha --evolution-token st-evo \
  --forward-url "http://127.0.0.1:9/crm" --forward-secret "whsec_c3Qtc2VjcmV0LWZvci1mb3J3YXJkaW5nLTMyYnl0ZXM=" \
  --log-level error >"$WORK/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
python3 - "$PORT" <<'PY'
import sys, time, urllib.request
for _ in range(200):
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/healthz", timeout=1); break
    except Exception:
        time.sleep(0.1)
PY
# Some data, so reads return rows and not only empty pages.
"$BIN" send-test --url "http://127.0.0.1:$PORT/webhooks/inbox-hub" --secret st-secret >/dev/null
"$BIN" send-test --provider waha --url "http://127.0.0.1:$PORT" --secret st-waha --session st >/dev/null
"$BIN" send-test --provider evolution --url "http://127.0.0.1:$PORT" --secret st-evo --session st >/dev/null
"$BIN" send-test --provider meta --url "http://127.0.0.1:$PORT" --secret st-meta --session 420000000000002 >/dev/null
# /api/events and /api/inbox-events are endless streams by design; they have their own tests.
python3 -m schemathesis.cli run "http://127.0.0.1:$PORT/openapi.yaml" -H "Authorization: Bearer st-token" \
  --checks all \
  --exclude-path /api/events --exclude-path /api/inbox-events --max-examples 50 --seed 20261130 --no-color
