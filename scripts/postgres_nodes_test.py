#!/usr/bin/env python3
"""Two `inboxlite serve` nodes on one PostgreSQL database, tried from outside as a load balancer
would use them: the same delivery sent to both is stored once; a receipt that reaches one node
before its message reaches the other is applied; a node killed with -9 right after answering 200
lost nothing; a stream on one node replays what the other committed and, live, sees every node's
events within a second, each once and in id order, as a resume on the other node does; migrate, token,
replay and backup work on the shared database while the nodes run; PostgreSQL stopped means 503
with Retry-After (never a 200), and both nodes recover by themselves when it is back.

  usage: postgres_nodes_test.py INBOXLITE_BINARY

Starts its own throwaway cluster (scripts/postgres-cluster.sh) and stops everything it started."""
import http.client, json, subprocess, sys, threading, time, urllib.error, urllib.parse, urllib.request
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent))
from live_server import LiveServer, ThrowawayPostgres

SECRET, TOKEN = "nodes-secret", "nodes-token"
failures = []


def check(condition, what):
    print(("ok   " if condition else "FAIL ") + what)
    if not condition:
        failures.append(what)


def post(node, event, data, session="nodes", signed=None):
    body, headers = signed or node.inbox_hub_webhook(event, data, session=session)
    request = urllib.request.Request(f"{node.base}/webhooks/inbox-hub", data=body, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read()), answer.headers
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}"), error.headers


def get(node, path):
    request = urllib.request.Request(f"{node.base}{path}", headers={"Authorization": f"Bearer {TOKEN}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def read_stream(node, path, until, seconds=10):
    """What an event stream sends until `until` appears (or `seconds` pass)."""
    connection = http.client.HTTPConnection("127.0.0.1", node.port, timeout=seconds)
    connection.request("GET", path, headers={"Authorization": f"Bearer {TOKEN}"})
    response = connection.getresponse()
    text, deadline = "", time.time() + seconds
    while until not in text and time.time() < deadline:
        chunk = response.fp.read1(65536)
        if not chunk: break
        text += chunk.decode()
    connection.close()
    return text


def stream_ids(node, path, count, seconds=30):
    """The ids of the first `count` events a stream sends, with when each arrived."""
    connection = http.client.HTTPConnection("127.0.0.1", node.port, timeout=seconds)
    connection.request("GET", path, headers={"Authorization": f"Bearer {TOKEN}"})
    response = connection.getresponse()
    ids, buffer, deadline = [], "", time.time() + seconds
    while len(ids) < count and time.time() < deadline:
        chunk = response.fp.read1(65536)
        if not chunk: break
        buffer += chunk.decode()
        while "\n\n" in buffer:
            frame, buffer = buffer.split("\n\n", 1)
            for line in frame.split("\n"):
                if line.startswith("id: "): ids.append((int(line[4:]), time.time()))
    connection.close()
    return ids


class Listening(threading.Thread):
    """A live stream held open in the background (started before the events it should see)."""
    def __init__(self, node, path, count):
        super().__init__()
        self.node, self.path, self.count, self.ids = node, path, count, []
    def run(self):
        self.ids = stream_ids(self.node, self.path, self.count)


def sent(key, chat="34600000001@c.us"):
    return {"id": {"fromMe": True, "remote": chat, "id": key, "_serialized": f"true_{chat}_{key}"},
            "body": f"reply {key}", "timestamp": 1790000000, "fromMe": True}


def message_status(node, key, chat="34600000001@c.us"):
    status, text = get(node, "/api/messages/" + urllib.parse.quote(f"true_{chat}_{key}", safe=""))
    return json.loads(text)["data"]["message"]["status"] if status == 200 else None


def main():
    binary = sys.argv[1]
    postgres = ThrowawayPostgres("nodes")
    database = postgres.database_url
    nodes = []
    try:
        nodes = [LiveServer(binary, SECRET, TOKEN, database_url=database) for _ in range(2)]
        a, b = nodes
        for node in nodes:
            node.wait_until_ready()

        # 1. The same delivery sent to both nodes at once (a gateway retry racing the original).
        answers = {}
        signed = {index: a.inbox_hub_webhook("message.sent", sent(f"SAME{index}"), session="nodes") for index in range(40)}
        def send(node, index):
            answers.setdefault(index, []).append(post(node, None, None, signed=signed[index]))
        threads = [threading.Thread(target=send, args=(node, index)) for index in range(40) for node in nodes]
        for thread in threads: thread.start()
        for thread in threads: thread.join()
        check(all(sorted(bool(answer[1].get("duplicate")) for answer in pair) == [False, True] and all(answer[0] == 200 for answer in pair)
                  for pair in answers.values()), "the same delivery sent to both nodes at once: one stored, one duplicate")
        counts = [json.loads(get(node, "/api/webhooks/stats?provider=inbox-hub")[1])["data"]["totalDeliveries"] for node in nodes]
        check(counts == [40, 40], f"both nodes count 40 deliveries ({counts})")

        # 2. A read receipt through node A before its message reaches node B.
        for index in range(10):
            post(a, "message.ack", {"messageId": f"LATE{index}", "ack": 3, "timestamp": 1790000100})
            post(b, "message.sent", sent(f"LATE{index}"))
        check(all(message_status(node, f"LATE{index}") == "read" for index in range(10) for node in nodes),
              "receipts that reached node A before their messages reached node B are applied (read, on both nodes)")

        # 3. kill -9 of node A right after it answered 200.
        status, _, _ = post(a, "message.sent", sent("KILLED"))
        a.kill()
        check(status == 200 and message_status(b, "KILLED") == "sent", "node A killed -9 right after 200: node B reads the message")
        a.start()
        a.wait_until_ready()

        # 4. A stream on node B resumes from the log what node A committed.
        post(a, "message.sent", sent("STREAMED"))
        text = read_stream(b, "/api/events?last_event_id=0", until="STREAMED")
        check("STREAMED" in text and text.count("id: ") >= 60, "a stream on node B replays from the log what node A committed")

        # 5. One event stream across nodes: live streams on both nodes while both nodes commit.
        listeners = [Listening(node, f"/api/events?max_events={2 * 60}", 2 * 60) for node in nodes]
        for listener in listeners: listener.start()
        time.sleep(1)
        head = int(json.loads(get(a, "/api/webhooks/deliveries?limit=1")[1])["data"][0]["id"])
        writers = [threading.Thread(target=lambda node=node, tag=tag: [post(node, "message.sent", sent(f"LIVE{tag}{index}")) for index in range(60)])
                   for node, tag in zip(nodes, "AB")]
        for thread in writers: thread.start()
        for thread in writers: thread.join()
        for listener in listeners: listener.join()
        stored = [int(row["id"]) for row in json.loads(get(a, "/api/webhooks/deliveries?limit=200")[1])["data"] if int(row["id"]) > head]
        for name, listener in zip("AB", listeners):
            ids = [id for id, _ in listener.ids]
            check(ids == sorted(stored), f"a live stream on node {name} got all 120 events of both nodes, each once, in id order ({len(ids)} of {len(stored)})")
        # Latency: one event through node A, seen live on node B.
        listener = Listening(b, "/api/events?max_events=1", 1)
        listener.start()
        time.sleep(1)
        posted = time.time()
        post(a, "message.sent", sent("LATENCY"))
        listener.join()
        delay = listener.ids[0][1] - posted if listener.ids else None
        check(delay is not None and delay < 1.0, f"an event committed through node A is on node B's stream within a second ({delay and round(delay, 3)} s)")
        # Resume on the other node from the middle: the rest, no gap, no repeat.
        middle = sorted(stored)[59]
        resumed = [id for id, _ in stream_ids(a, f"/api/events?last_event_id={middle}&max_events=61", 61)]
        check(resumed == sorted(stored)[60:] + [listener.ids[0][0] if listener.ids else -1],
              "a stream resumed on node A from an id node B sent goes on with the next event, no gap, no repeat")

        # 6. The commands, on PostgreSQL, while both nodes run (one more writer taking turns).
        def command(*arguments):
            return subprocess.run([binary, *arguments, "--database-url", database], capture_output=True, text=True, timeout=60)
        migrated = command("migrate")
        check(migrated.returncode == 0 and "up to date" in migrated.stdout, f"migrate: the database is up to date ({migrated.stdout.strip()})")
        created = command("token", "create", "--name", "cli-reader", "--session", "nodes")
        secret = created.stdout.strip().splitlines()[-1] if created.returncode == 0 else ""
        def with_token(node, path, token):
            request = urllib.request.Request(f"{node.base}{path}", headers={"Authorization": f"Bearer {token}"})
            try:
                with urllib.request.urlopen(request, timeout=10) as answer: return answer.status
            except urllib.error.HTTPError as error: return error.code
        time.sleep(1.2)
        check(secret.startswith("il_") and all(with_token(node, "/api/conversations?session=nodes", secret) == 200 for node in nodes),
              "token create on PostgreSQL: both nodes accept the new token")
        listed = command("token", "list")
        check("cli-reader" in listed.stdout and secret not in listed.stdout, "token list shows it (never the token itself)")
        revoked = command("token", "revoke", "cli-reader")
        time.sleep(1.2)
        check(revoked.returncode == 0 and all(with_token(node, "/api/conversations", secret) == 401 for node in nodes),
              "token revoke on PostgreSQL: both nodes refuse it within a second")
        for index, node in enumerate(nodes):
            post(node, "conversation.created", {"id": f"unknown{index}"})
        replayed = command("replay", "--status", "ignored")
        check(replayed.returncode == 0 and replayed.stdout.startswith("replayed 2 ignored deliveries: 0 applied, 2 ignored"),
              f"replay on PostgreSQL re-applies the ignored deliveries both nodes stored ({replayed.stdout.strip()})")
        dump = Path(postgres.folder) / "backup.dump"
        backed = command("backup", "--to", str(dump))
        check(backed.returncode == 0 and dump.stat().st_size > 0 and "password" not in backed.stdout + backed.stderr,
              f"backup on PostgreSQL: pg_dump, custom format ({backed.stdout.strip() or backed.stderr.strip()})")
        check(dump.exists() and oct(dump.stat().st_mode & 0o777) == "0o600", f"the dump is readable by its owner only ({oct(dump.stat().st_mode & 0o777) if dump.exists() else '-'})")
        restored = subprocess.run(["pg_restore", "--list", str(dump)], capture_output=True, text=True)
        check("webhook_deliveries" in restored.stdout, "the dump holds the tables (pg_restore --list)")

        # 7. PostgreSQL stopped: 503 with Retry-After, never 200; back: both nodes recover by themselves.
        postgres.pause()
        outage = [post(node, "message.sent", sent(f"DOWN{index}")) for index, node in enumerate(nodes)]
        check(all(answer[0] == 503 and answer[2].get("Retry-After") for answer in outage), "PostgreSQL stopped: 503 with Retry-After on both nodes")
        time.sleep(1.5)
        health = [json.loads(urllib.request.urlopen(f"{node.base}/healthz", timeout=5).read()) for node in nodes]
        check(all(h["database"] == "unreachable" and h["engine"] == "postgresql" for h in health), "/healthz says the database is unreachable")
        postgres.resume()
        recovered = []
        for index, node in enumerate(nodes):
            for _ in range(50):
                answer = post(node, "message.sent", sent(f"DOWN{index}"))
                if answer[0] == 200: break
                time.sleep(0.2)
            recovered.append(answer[0] == 200 and not answer[1].get("duplicate"))
        check(all(recovered), "PostgreSQL back: the refused deliveries are stored on retry, through both nodes")
        # A read connection tries again at most once a second, so a read may still fail just after.
        deadline = time.time() + 5
        while not all(message_status(node, "DOWN1") == "sent" for node in nodes) and time.time() < deadline:
            time.sleep(0.2)
        check(all(message_status(node, "DOWN1") == "sent" for node in nodes), "and both nodes read them (within seconds)")
    finally:
        for node in nodes:
            node.stop()
        postgres.stop()
    print(f"{len(failures)} failed" if failures else "all passed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
