#!/usr/bin/env python3
"""Forwarding to a CRM, checked from outside with an independent implementation: a receiver that
verifies every request with the `standardwebhooks` library (PyPI) and records what it got.
Steady traffic over many chats, one chat whose receiver answers 500 while the others flow, the
receiver down for a while, and kill -9 of InboxLite with a backlog: every event committed is
delivered at least once, with a valid signature, a stable webhook-id, and each chat's events in
commit order. Then two nodes on one PostgreSQL database (a throwaway cluster): one forwards, each
event once; kill -9 of that node and the other takes over. Usage: forwarding_test.py BINARY"""
import base64, hashlib, hmac, json, os, sqlite3, subprocess, sys, threading, time, urllib.request
from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler
from standardwebhooks.webhooks import Webhook

from live_server import LiveServer, ThrowawayPostgres

SECRET = "whsec_" + base64.b64encode(os.urandom(32)).decode()
WAHA_KEY = "fw-waha-key"
failures = []


def check(condition, what):
    print(f"  {'ok  ' if condition else 'FAIL'} {what}")
    if not condition:
        failures.append(what)


class Receiver:
    """A CRM endpoint: verifies, records, answers as told (200; 500 for some chats; or down)."""
    def __init__(self):
        self.received, self.bad_signatures, self.failing_chats, self.delay = [], [], set(), 0.0
        self.is_down = False
        self.lock = threading.Lock()
        self.verifier = Webhook(SECRET)
        self.server = None
        import socket
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/crm/hook"
        self.up()

    def up(self):
        receiver = self
        self.is_down = False

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                if receiver.is_down:  # a kept-alive connection of a receiver that went away
                    self.close_connection = True
                    self.connection.close()
                    return
                body = self.rfile.read(int(self.headers["content-length"]))
                try:
                    event = receiver.verifier.verify(body, {k.lower(): v for k, v in self.headers.items()})
                except Exception as error:
                    with receiver.lock:
                        receiver.bad_signatures.append(repr(error))
                    return self.answer(400)
                if receiver.delay:
                    time.sleep(receiver.delay)
                if event.get("chat") in receiver.failing_chats:
                    return self.answer(500)
                with receiver.lock:
                    receiver.received.append((self.headers["webhook-id"], event))
                self.answer(200)

            def answer(self, status):
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *arguments):
                pass

        class Server(ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                pass  # a connection InboxLite dropped (kill -9, a cancelled attempt): not the test's business

        self.server = Server(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def down(self):
        self.is_down = True
        self.server.shutdown()
        self.server.server_close()

    def seqs(self, chat=None):
        """First-arrival order of seqs (of one chat)."""
        seen, order = set(), []
        with self.lock:
            for _, event in self.received:
                if (chat is None or event.get("chat") == chat) and event["seq"] not in seen:
                    seen.add(event["seq"])
                    order.append(event["seq"])
        return order


def message(server, chat, key, text, outgoing=False):
    side = "true" if outgoing else "false"
    data = {"id": {"fromMe": outgoing, "remote": chat, "id": key, "_serialized": f"{side}_{chat}_{key}"},
            "body": text, "timestamp": int(time.time()), ("to" if outgoing else "from"): chat}
    return post(server, "message.sent" if outgoing else "message.received", data)


def post(server, event, data):
    body, headers = server.inbox_hub_webhook(event, data)
    request = urllib.request.Request(f"{server.base}/webhooks/inbox-hub", data=body, headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status


def waha(server, event, payload):
    """A WAHA webhook, signed as WAHA signs (HMAC-SHA512 of the body)."""
    body = json.dumps({"event": event, "session": "default", "payload": payload, "engine": "WEBJS"}).encode()
    headers = {"Content-Type": "application/json",
               "X-Webhook-Hmac": hmac.new(WAHA_KEY.encode(), body, hashlib.sha512).hexdigest(), "X-Webhook-Hmac-Algorithm": "sha512"}
    request = urllib.request.Request(f"{server.base}/webhooks/waha", data=body, headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status


def forwarding(server):
    request = urllib.request.Request(f"{server.base}/api/forwarding", headers={"Authorization": f"Bearer {server.token}"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.load(response)["data"][0]


def logged(server):
    """Every event in the log, by seq (the database, read as a person would)."""
    with sqlite3.connect(f"file:{server.folder}/db.sqlite?mode=ro", uri=True) as db:
        return {seq: (kind, chat) for seq, kind, chat in db.execute("SELECT seq, type, chat FROM inbox_events")}


def logged_on(database_url):
    """The log on PostgreSQL, through psql."""
    out = subprocess.run(["psql", database_url, "-AtF", "\t", "-c", "SELECT seq, type, chat FROM inbox_events"],
                         check=True, capture_output=True, text=True).stdout
    return {int(seq): (kind, chat) for seq, kind, chat in (line.split("\t") for line in out.splitlines())}


def two_nodes(binary):
    """Two nodes on one PostgreSQL database forward to one receiver: one of them at a time."""
    receiver = Receiver()
    postgres = ThrowawayPostgres("forwarding")
    database = postgres.database_url
    nodes = []
    try:
        nodes = [LiveServer(binary, "fw-secret", "fw-token", "--forward-url", receiver.url, "--forward-secret", SECRET,
                            database_url=database) for _ in range(2)]
        for node in nodes:
            node.wait_until_ready()
        chats = [f"346100{n:05d}@c.us" for n in range(10)]
        for n in range(100):
            message(nodes[n % 2], chats[n % 10], f"N{n}", f"two nodes {n}")
        committed = logged_on(database)
        check(wait_for(lambda: set(receiver.seqs()) >= set(committed), 20), f"two nodes: all {len(committed)} events delivered")
        check(len(receiver.received) == len(set(receiver.seqs())), f"each once ({len(receiver.received)} requests)")
        check(in_order(receiver, chats), "each chat in commit order, whichever node took its webhooks")
        holders = {forwarding(node)["forwarded_by"] for node in nodes}
        holder = next(iter(holders)) if len(holders) == 1 else None
        forwarding_node = next((node for node in nodes if holder and f":{node.process.pid}:" in holder), None)
        check(forwarding_node is not None, f"both nodes name the one node that forwards ({holders})")
        if forwarding_node:
            survivor = nodes[1] if forwarding_node is nodes[0] else nodes[0]
            forwarding_node.kill()
            for n in range(20):
                message(survivor, chats[n % 10], f"AFTER{n}", f"after the kill {n}")
            committed = logged_on(database)
            check(wait_for(lambda: set(receiver.seqs()) >= set(committed), 60),
                  "after kill -9 of the forwarding node, the other takes over (its lease ran out) and delivers everything")
            check(f":{survivor.process.pid}:" in (forwarding(survivor)["forwarded_by"] or ""), "the survivor forwards now")
            check(in_order(receiver, chats), "still in commit order per chat")
    finally:
        for node in nodes:
            if node.process.poll() is None:
                node.stop()
        postgres.stop()
        receiver.down()


def wait_for(condition, seconds):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def in_order(receiver, chats):
    return all(receiver.seqs(chat) == sorted(receiver.seqs(chat)) for chat in chats)


def main():
    receiver = Receiver()
    server = LiveServer(sys.argv[1], "fw-secret", "fw-token", "--forward-url", receiver.url, "--forward-secret", SECRET,
                        "--waha-hmac-key", WAHA_KEY)
    try:
        server.wait_until_ready()
        chats = [f"346000{n:05d}@c.us" for n in range(20)]

        # Steady traffic: 20 chats interleaved, an outgoing message with its receipts; and from
        # WAHA a message, a reaction to it, its edit and deletion, and a session status.
        for round in range(5):
            for n, chat in enumerate(chats):
                message(server, chat, f"A{round}-{n}", f"hola {round} {n}")
        message(server, chats[0], "OUT1", "our answer", outgoing=True)
        post(server, "message.ack", {"messageId": "OUT1", "ack": 2, "timestamp": int(time.time())})
        post(server, "message.ack", {"messageId": "OUT1", "ack": 3, "timestamp": int(time.time())})
        now, ana = int(time.time()), "5511988887777@c.us"
        waha(server, "message", {"id": f"false_{ana}_W1", "timestamp": now, "from": ana, "fromMe": False, "body": "oi"})
        waha(server, "message.reaction", {"id": f"false_{ana}_RR", "from": ana, "fromMe": False, "timestamp": now + 1,
                                          "reaction": {"text": "🙏", "messageId": f"false_{ana}_W1"}})
        waha(server, "message.edited", {"id": f"false_{ana}_ED", "from": ana, "fromMe": False, "timestamp": now + 2,
                                        "editedMessageId": "W1", "body": "olá"})
        waha(server, "message.revoked", {"after": {"id": f"false_{ana}_RV", "timestamp": now + 3, "from": ana},
                                         "revokedMessageId": "W1", "before": None})
        waha(server, "session.status", {"status": "WORKING"})
        committed = logged(server)
        check(wait_for(lambda: set(receiver.seqs()) >= set(committed), 15),
              f"steady: all {len(committed)} committed events delivered ({len(set(receiver.seqs()))} got)")
        check(not receiver.bad_signatures, f"every request verified by the standardwebhooks library ({len(receiver.bad_signatures)} did not)")
        check(in_order(receiver, chats + [ana]), "each chat's events arrived in commit order")
        types = {event["type"] for _, event in receiver.received}
        check({"message.received", "message.sent", "message.ack", "message.reaction", "message.edited", "message.deleted",
               "session.status"} <= types, f"event types seen: {sorted(types)}")
        reaction = next((event for _, event in receiver.received if event["type"] == "message.reaction"), {})
        check(reaction.get("reaction", {}).get("emoji") == "🙏" and reaction.get("chat") == ana,
              "a WAHA reaction arrives in the same shape: the emoji and its message's chat")
        ids_ok = all(webhook_id == event["id"] and webhook_id.endswith(f"_{event['seq']}") for webhook_id, event in receiver.received)
        check(ids_ok, "webhook-id is the event's id, evt_…_<seq>")
        by_seq = {event["seq"]: event for _, event in receiver.received}
        check(all(by_seq[seq]["type"] == kind for seq, (kind, _) in committed.items()), "each forwarded type is the logged one")
        ack = next((event for _, event in receiver.received if event["type"] == "message.ack"), None)
        check(ack is not None and ack["message"]["message_id"].endswith("OUT1") and "ack" in ack,
              "a receipt carries its message and what changed")

        # One chat's receiver fails (500): the others flow, that chat waits and then keeps its order.
        failing, flowing = chats[2], chats[3]
        receiver.failing_chats.add(failing)
        before = len(committed)
        for n in range(5):
            message(server, failing, f"F{n}", f"held {n}")
            message(server, flowing, f"G{n}", f"flows {n}")
        committed = logged(server)
        flowing_seqs = {seq for seq, (_, chat) in committed.items() if chat == flowing}
        check(wait_for(lambda: flowing_seqs <= set(receiver.seqs()), 5), "a failing chat does not hold back another chat")
        state = forwarding(server)
        check(state["waiting_for_retry"] >= 5 and "500" in (state["last_error"] or ""),
              f"the failing chat's events wait for a retry ({state['waiting_for_retry']}, last error {state['last_error']!r})")
        receiver.failing_chats.clear()
        check(wait_for(lambda: set(receiver.seqs()) >= set(committed), 20), "the held chat is delivered once its receiver answers")
        check(in_order(receiver, [failing]), "and its events arrived in commit order")

        # The receiver is down: webhooks are still answered at once; everything arrives after.
        receiver.down()
        started = time.time()
        for n in range(30):
            message(server, chats[n % len(chats)], f"D{n}", f"while down {n}")
        took = time.time() - started
        check(took < 5, f"30 webhooks answered in {took:.2f} s with the receiver down")
        time.sleep(2)
        check(forwarding(server)["backlog"] > 0, "the backlog waits in the database")
        receiver.up()
        committed = logged(server)
        check(wait_for(lambda: set(receiver.seqs()) >= set(committed), 30),
              f"after the outage all {len(committed)} events delivered")
        check(in_order(receiver, chats), "every chat still in commit order")

        # kill -9 with a backlog (a slow receiver): nothing acknowledged is lost.
        receiver.delay = 0.02
        keys = []
        for n in range(120):
            key = f"K{n}"
            if message(server, chats[n % len(chats)], key, f"before the kill {n}") == 200:
                keys.append(key)
        server.kill()
        receiver.delay = 0
        behind = len(set(logged(server)) - set(receiver.seqs()))
        server.start()
        server.wait_until_ready()
        committed = logged(server)
        check(wait_for(lambda: set(receiver.seqs()) >= set(committed), 30),
              f"after kill -9 ({behind} events not yet delivered at the kill) every committed event delivered")
        forwarded_keys = {event["message"]["message_id"].split("_")[-1] for _, event in receiver.received
                          if event["type"] == "message.received"}
        check(set(keys) <= forwarded_keys, f"all {len(keys)} acknowledged messages forwarded")
        check(not receiver.bad_signatures, "no request failed verification")
        check(wait_for(lambda: forwarding(server)["backlog"] == 0, 5), "GET /api/forwarding shows no backlog once all is delivered")
        state = forwarding(server)
        check(state["dead_letters"] == 0 and state["delivered"] > 0, f"dead letters {state['dead_letters']}, delivered {state['delivered']}")
        duplicates = len(receiver.received) - len(set(receiver.seqs()))
        print(f"       ({len(receiver.received)} requests for {len(set(receiver.seqs()))} events: {duplicates} sent again after the kill)")
    finally:
        server.stop()
        receiver.down()
    two_nodes(sys.argv[1])
    sys.exit(1 if failures else 0)


main()
