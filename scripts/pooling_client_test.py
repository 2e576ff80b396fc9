#!/usr/bin/env python3
"""A client that pools connections, as a reverse proxy does (Python requests.Session): 1,500
sequential API requests over kept-alive connections, every third asking `Connection: close`,
every seventh a webhook. Every request must be answered: none may meet a connection the server
closed without saying so. Usage: pooling_client_test.py BINARY"""
import hashlib, hmac, json, socket, subprocess, sys, tempfile, time
from datetime import datetime, timezone
import requests

BINARY = sys.argv[1]
SECRET, TOKEN = "pool-secret", "pool-token"
work = tempfile.mkdtemp(prefix="inboxlite-pool-")
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
base = f"http://127.0.0.1:{port}"
server = subprocess.Popen([BINARY, "serve", "--db", f"{work}/db.sqlite", "--port", str(port), "--webhook-secret", SECRET,
                           "--api-token", TOKEN, "--log-level", "warning"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
failures, closes_echoed, asked_close = [], 0, 0
try:
    for _ in range(100):
        try:
            requests.get(f"{base}/healthz", timeout=1)
            break
        except requests.ConnectionError:
            time.sleep(0.1)
    session = requests.Session()
    for n in range(1500):
        headers = {"Authorization": f"Bearer {TOKEN}"}
        if n % 3 == 0:
            headers["Connection"] = "close"
            asked_close += 1
        try:
            if n % 7 == 0:
                now = datetime.now(timezone.utc)
                body = json.dumps({"event": "message.received", "sessionId": "crm", "timestamp": now.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                                   "data": {"id": {"fromMe": False, "remote": "34600000001@c.us", "id": f"P{n}",
                                                   "_serialized": f"false_34600000001@c.us_P{n}"},
                                            "body": f"pool {n}", "timestamp": int(time.time()), "from": "34600000001@c.us"}}).encode()
                headers.update({"Content-Type": "application/json", "X-Webhook-Session": "crm",
                                "X-Webhook-Timestamp": str(int(time.time() * 1000)),
                                "X-Webhook-Signature": "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()})
                response = session.post(f"{base}/webhooks/inbox-hub", data=body, headers=headers, timeout=10)
            else:
                response = session.get(f"{base}/api/sessions" if n % 2 else f"{base}/api/conversations?limit=5", headers=headers, timeout=10)
            if response.status_code != 200:
                failures.append(f"request {n}: HTTP {response.status_code}")
            if "Connection" in headers and response.headers.get("Connection", "").lower() == "close":
                closes_echoed += 1
        except requests.RequestException as error:
            failures.append(f"request {n}: {error!r}")
finally:
    server.terminate()
    server.wait(timeout=10)

print(f"  {'ok  ' if not failures else 'FAIL'} 1,500 pooled requests, {len(failures)} unanswered or failed"
      + (f" (first: {failures[0]})" if failures else ""))
print(f"  {'ok  ' if closes_echoed == asked_close else 'FAIL'} Connection: close echoed on {closes_echoed} of {asked_close} answers that asked for it")
sys.exit(1 if failures or closes_echoed != asked_close else 0)
