#!/usr/bin/env python3
"""Generates a realistic, seeded stream of signed Inbox Hub webhooks as raw HTTP requests for wrk,
and prints the final state the database must hold afterwards (JSON on stdout).

  usage: bench_ingest_gen.py N SECRET OUT HOST [SEED=42]

The stream (N unique deliveries, then 5 % of them sent again as gateway retries):
- about 40 % receipts (message.ack): each outgoing message gets 1-3 of them (ack 1, 2, 3 in
  some subset), and one receipt in eight arrives *before* its message (it must wait in
  pending_acks and be applied when the message comes);
- incoming and outgoing messages, one in eight in a group chat (with an author), spread over
  4 sessions and 2,000 contacts, each with one push name (one in fifty renamed mid-stream);
- about 4 % session events (qr / connected / disconnected) with distinct event times;
- one incoming message in ten is a photo, voice note or document with its file's metadata;
- about 8 % WAHA traffic (HMAC-SHA512 signed, 2 sessions): messages, and reactions, edits and
  deletions ("for everyone") of them; one reaction in eight arrives before its message;
- retries land a little after their original and must be answered as duplicates.
Every value is drawn from a seeded generator: the same N and SEED give the same bytes, except
the freshness timestamps, which are the time of generation.
"""
import hashlib, hmac, json, random, sys, time, datetime

def main():
    n, secret, out_path, host = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    seed = int(sys.argv[5]) if len(sys.argv) > 5 else 42
    rng = random.Random(seed)
    now = time.time()
    iso = lambda t: datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    header_ts = str(int(now * 1000))
    sessions = [f"bench{seed}_{i}" for i in range(4)]  # per seed: runs into a filled database are checked apart
    people = [f"346{rng.randrange(10**8):08d}@c.us" for _ in range(2000)]
    groups = [f"120363{rng.randrange(10**12):012d}@g.us" for _ in range(60)]
    # Each person's push name: the same on every message, as WhatsApp sends it (one in fifty changed
    # once, mid-stream, the way people rename themselves).
    names = {person: f"Cliente {n}" for n, person in enumerate(people)}
    renamed = set(people[::50])
    name_of = lambda person, i: names[person] + (" (novo)" if person in renamed and i > n // 2 else "")

    # (position in the stream, event, session, data); positions are floats, sorted at the end.
    stream = []
    expected = {"received": 0, "sent": 0, "ack": 0, "session": 0, "acks_before_message": 0,
                "acked_messages": 0, "ack_sum": 0, "media": 0, "reactions": 0, "edits": 0, "deletions": 0,
                "reactions_before_message": 0}
    contacts, contacts_by_session, conversations = set(), set(), set()
    waha_sessions = [f"bench{seed}_w{i}" for i in range(2)]  # InboxLite ids waha:bench{seed}_w{i}
    session_last = {}
    i = 0
    while len(stream) < n:
        i += 1
        pos = float(i)
        session = sessions[rng.randrange(len(sessions))]
        roll = rng.random()
        if roll < 0.05:
            kind = rng.choice(["session.qr", "session.connected", "session.disconnected"])
            t = now - 3600 + i / 1000.0  # distinct, increasing event times
            data = {"timestamp": iso(t)}
            if kind == "session.qr": data["qrCode"] = f"2@{rng.randrange(10**12)}"
            elif kind == "session.connected": data["phoneNumber"] = "34657032985"
            else: data["reason"] = "logout"
            stream.append((pos, kind, session, data))
            expected["session"] += 1
            session_last[session] = (t, {"session.qr": "QR Code", "session.connected": "Connected",
                                         "session.disconnected": "Disconnected"}[kind])
            continue
        if roll < 0.13:
            # WAHA: a message, and what the phone does to it afterwards.
            wsession = waha_sessions[rng.randrange(len(waha_sessions))]
            chat = people[rng.randrange(len(people))]
            ts = int(now) - rng.randrange(86400)
            key = f"W{i:010d}"
            mid = f"false_{chat}_{key}"
            contacts.add(chat); contacts_by_session.add(("waha:" + wsession, chat)); conversations.add(("waha:" + wsession, chat))
            stream.append((pos, "waha:message", wsession, {"id": mid, "timestamp": ts, "from": chat, "fromMe": False,
                           "body": f"mensaje {i} por WAHA " + "z" * rng.randrange(20, 200), "hasMedia": False,
                           "_data": {"notifyName": name_of(chat, i)}}))
            expected["received"] += 1
            follow = rng.random()
            if follow < 0.4:
                early = rng.random() < 0.125
                at = pos - rng.uniform(1, 100) if early else pos + rng.expovariate(1 / 200.0)
                expected["reactions_before_message"] += early
                stream.append((at, "waha:message.reaction", wsession, {"id": f"false_{chat}_R{key}", "from": chat, "fromMe": False,
                               "participant": chat, "timestamp": ts + 5, "reaction": {"text": rng.choice(["👍", "❤️", "😂", "🙏"]),
                                                                                      "messageId": mid}}))
                expected["reactions"] += 1
            elif follow < 0.55:
                stream.append((pos + rng.expovariate(1 / 200.0), "waha:message.edited", wsession, {"id": f"false_{chat}_E{key}",
                               "from": chat, "fromMe": False, "timestamp": ts + 30, "editedMessageId": key,
                               "body": f"mensaje {i} corregido"}))
                expected["edits"] += 1
            elif follow < 0.62:
                stream.append((pos + rng.expovariate(1 / 200.0), "waha:message.revoked", wsession, {"after": {"id": f"false_{chat}_D{key}",
                               "timestamp": ts + 60, "from": chat}, "revokedMessageId": key, "before": None}))
                expected["deletions"] += 1
            continue
        in_group = rng.random() < 0.125
        chat = groups[rng.randrange(len(groups))] if in_group else people[rng.randrange(len(people))]
        ts = int(now) - rng.randrange(86400)
        contacts.add(chat)
        contacts_by_session.add((session, chat))
        conversations.add((session, chat))
        if roll < 0.65:
            key = f"IN{i:010d}"
            author = people[rng.randrange(len(people))] if in_group else None
            data = {"id": {"fromMe": False, "remote": chat, "id": key, "_serialized": f"false_{chat}_{key}"},
                    "body": f"Hola, ¿cómo estás? mensaje {i} " + "y" * rng.randrange(20, 300), "type": "chat",
                    "timestamp": ts, "from": chat, "to": "34657032985@c.us", "fromMe": False, "hasMedia": False,
                    "isForwarded": False, "isStatus": False, "quotedMsgId": None, "notifyName": name_of(author or chat, i)}
            if in_group:
                data["author"] = author
                contacts.add(author)
                contacts_by_session.add((session, author))
            if rng.random() < 0.1:
                kind, mime, name = rng.choice([("image", "image/jpeg", None), ("ptt", "audio/ogg; codecs=opus", None),
                                               ("document", "application/pdf", f"factura-{i}.pdf")])
                data.update({"type": kind, "hasMedia": True, "body": f"mensaje {i} con archivo",
                             "_data": {"mimetype": mime, "size": rng.randrange(10_000, 3_000_000), "filename": name,
                                       "filehash": "q1w2e3r4t5y6u7i8o9p0", "duration": 7 if kind == "ptt" else None}})
                expected["media"] += 1
            stream.append((pos, "message.received", session, data))
            expected["received"] += 1
        else:
            key = f"OUT{i:010d}"
            data = {"id": {"fromMe": True, "remote": chat, "id": key, "_serialized": f"true_{chat}_{key}"},
                    "body": f"Respuesta {i} " + "x" * rng.randrange(20, 200), "timestamp": ts,
                    "from": "34657032985@c.us", "to": chat, "fromMe": True}
            stream.append((pos, "message.sent", session, data))
            expected["sent"] += 1
            # Receipts: 1-3 distinct codes, ascending; most come after the message, some before.
            count = rng.choices([1, 2, 3], weights=[10, 10, 7])[0]
            codes = sorted(rng.sample([1, 2, 3], count))
            expected["acked_messages"] += 1
            expected["ack_sum"] += codes[-1]
            for code in codes:
                if rng.random() < 0.125:
                    at = pos - rng.uniform(1, 300)
                    expected["acks_before_message"] += 1
                else:
                    at = pos + rng.expovariate(1 / 400.0)
                stream.append((at, "message.ack", session, {"messageId": key, "ack": code, "timestamp": ts + code}))
                expected["ack"] += 1
    stream.sort(key=lambda item: item[0])

    def envelope(event, session, data):
        if event.startswith("waha:"):
            return json.dumps({"event": event[5:], "session": session, "payload": data, "engine": "NOWEB",
                               "timestamp": int(now * 1000)}, ensure_ascii=False, separators=(",", ":")).encode()
        return json.dumps({"event": event, "sessionId": session, "data": data, "timestamp": iso(now)},
                          ensure_ascii=False, separators=(",", ":")).encode()
    bodies = [(envelope(event, session, data), event, session) for _, event, session, data in stream]
    # Retries come a little after their original.
    requests = list(bodies)
    for _ in range(len(bodies) // 20):
        original = rng.randrange(len(bodies))
        requests.insert(min(len(requests), original + rng.randrange(1, 60)), bodies[original])
    with open(out_path, "wb") as out:
        for body, event, session in requests:
            if event.startswith("waha:"):
                sig = hmac.new(secret.encode(), body, hashlib.sha512).hexdigest()
                head = (f"POST /webhooks/waha HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
                        f"X-Webhook-Hmac: {sig}\r\nX-Webhook-Hmac-Algorithm: sha512\r\n"
                        f"X-Webhook-Timestamp: {header_ts}\r\nContent-Length: {len(body)}\r\n\r\n").encode()
            else:
                sig = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
                head = (f"POST /webhooks/inbox-hub HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
                        f"X-Webhook-Signature: {sig}\r\nX-Webhook-Event: {event}\r\nX-Webhook-Session: {session}\r\n"
                        f"X-Webhook-Timestamp: {header_ts}\r\nContent-Length: {len(body)}\r\n\r\n").encode()
            raw = head + body
            out.write(f"{len(raw)}\n".encode() + raw)
    unique = len({b for b, _, _ in bodies})
    json.dump({"seed": seed, "requests": len(requests), "unique": unique, "duplicates": len(requests) - unique,
               "messages": expected["received"] + expected["sent"], **expected,
               "contacts": len(contacts), "contacts_by_session": len(contacts_by_session), "conversations": len(conversations),
               "session_status": {s: v[1] for s, v in sorted(session_last.items())},
               "ack_share": round(expected["ack"] / unique, 3),
               "avg_body_bytes": sum(len(b) for b, _, _ in bodies) // len(bodies)}, sys.stdout)

if __name__ == "__main__":
    main()
