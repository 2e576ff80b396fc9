#!/usr/bin/env python3
"""A client that pools connections, as a reverse proxy does (Python requests.Session): 1,500
sequential API requests over kept-alive connections, every third asking `Connection: close`,
every seventh a webhook. Every request must be answered: none may meet a connection the server
closed without saying so. Usage: pooling_client_test.py BINARY"""
import sys, time
import requests

from live_server import LiveServer

server = LiveServer(sys.argv[1], "pool-secret", "pool-token")
base, TOKEN = server.base, server.token
failures, closes_echoed, asked_close = [], 0, 0
try:
    server.wait_until_ready()
    session = requests.Session()
    for n in range(1500):
        headers = {"Authorization": f"Bearer {TOKEN}"}
        if n % 3 == 0:
            headers["Connection"] = "close"
            asked_close += 1
        try:
            if n % 7 == 0:
                body, signed = server.inbox_hub_webhook("message.received", {
                    "id": {"fromMe": False, "remote": "34600000001@c.us", "id": f"P{n}", "_serialized": f"false_34600000001@c.us_P{n}"},
                    "body": f"pool {n}", "timestamp": int(time.time()), "from": "34600000001@c.us"})
                headers.update(signed)
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
    server.stop()

print(f"  {'ok  ' if not failures else 'FAIL'} 1,500 pooled requests, {len(failures)} unanswered or failed"
      + (f" (first: {failures[0]})" if failures else ""))
print(f"  {'ok  ' if closes_echoed == asked_close else 'FAIL'} Connection: close echoed on {closes_echoed} of {asked_close} answers that asked for it")
sys.exit(1 if failures or closes_echoed != asked_close else 0)
