#!/usr/bin/env python3
"""Generates N unique signed Inbox Hub webhooks (plus retried duplicates) as raw HTTP requests
for wrk, and prints the counts the database must hold afterwards (JSON on stdout).

Mix per unique delivery: 45% message.received, 25% message.sent, 25% message.ack (for earlier
sent messages, short id as the gateway sends it), 5% session events; then 5% of the bodies are
sent a second time (gateway retries) and must be answered as duplicates.
"""
import hashlib, hmac, json, random, sys, time, datetime

def main():
    n, secret, out_path, host = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    rng = random.Random(42)
    now = time.time()
    iso = datetime.datetime.fromtimestamp(now, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    header_ts = str(int(now * 1000))
    sessions = [f"crm_{i}" for i in range(4)]
    contacts = [f"346{rng.randrange(10**8):08d}@c.us" for _ in range(2000)]
    bodies, sent_keys = [], []
    counts = {"received": 0, "sent": 0, "ack": 0, "session": 0}
    acked = set()
    for i in range(n):
        session = sessions[i % len(sessions)]
        roll = rng.random()
        if roll < 0.25 and len(sent_keys) > len(acked) + 10:
            # an ack for a sent message not acked yet (one ack per message keeps the count exact)
            while True:
                key, sess = sent_keys[rng.randrange(len(sent_keys))]
                if key not in acked:
                    break
            acked.add(key)
            event, session = "message.ack", sess
            data = {"messageId": key, "ack": rng.choice([2, 3]), "timestamp": int(now)}
            counts["ack"] += 1
        elif roll < 0.50:
            chat = contacts[rng.randrange(len(contacts))]
            key = f"OUT{i:010d}"
            sent_keys.append((key, session))
            event = "message.sent"
            data = {"id": {"fromMe": True, "remote": chat, "id": key, "_serialized": f"true_{chat}_{key}_out"},
                    "body": f"Respuesta {i} " + "x" * rng.randrange(20, 200), "timestamp": int(now) - rng.randrange(86400),
                    "from": "34657032985@c.us", "to": chat, "fromMe": True}
            counts["sent"] += 1
        elif roll < 0.95:
            chat = contacts[rng.randrange(len(contacts))]
            key = f"IN{i:010d}"
            event = "message.received"
            data = {"id": {"fromMe": False, "remote": chat, "id": key, "_serialized": f"false_{chat}_{key}_in"},
                    "body": f"Hola, ¿cómo estás? mensaje {i} " + "y" * rng.randrange(20, 300), "type": "chat",
                    "timestamp": int(now) - rng.randrange(86400), "from": chat, "to": "34657032985@c.us",
                    "fromMe": False, "hasMedia": False, "isForwarded": False, "isStarred": False,
                    "isStatus": False, "quotedMsgId": None, "notifyName": f"Cliente {chat[3:7]}"}
            counts["received"] += 1
        else:
            event = "session.connected"
            data = {"phoneNumber": "34657032985", "timestamp": iso, "n": i}
            counts["session"] += 1
        body = json.dumps({"event": event, "sessionId": session, "data": data, "timestamp": iso},
                          ensure_ascii=False, separators=(",", ":")).encode()
        bodies.append((body, event, session))
    duplicates = [bodies[rng.randrange(len(bodies))] for _ in range(n // 20)]
    # Retries come a little after their original: append them, then lightly shuffle everything.
    requests = bodies + duplicates
    for i in range(len(requests) - 1, 0, -1):
        j = max(0, i - rng.randrange(50))
        requests[i], requests[j] = requests[j], requests[i]
    with open(out_path, "wb") as out:
        for body, event, session in requests:
            sig = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
            head = (f"POST /webhooks/inbox-hub HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
                    f"X-Webhook-Signature: {sig}\r\nX-Webhook-Event: {event}\r\nX-Webhook-Session: {session}\r\n"
                    f"X-Webhook-Timestamp: {header_ts}\r\nContent-Length: {len(body)}\r\n\r\n").encode()
            raw = head + body
            out.write(f"{len(raw)}\n".encode() + raw)
    unique_bodies = len({b for b, _, _ in bodies})
    json.dump({"requests": len(requests), "unique": unique_bodies, "duplicates": len(requests) - unique_bodies,
               "messages": counts["received"] + counts["sent"], "acked": counts["ack"], **counts,
               "avg_body_bytes": sum(len(b) for b, _, _ in bodies) // len(bodies)}, sys.stdout)

if __name__ == "__main__":
    main()
