#!/usr/bin/env python3
"""Forwarding benchmark, on release builds (scripts/bench-forwarding.sh builds them and runs this).

1. Ingest of the realistic stream (scripts/bench-ingest.sh) with forwarding off and on, to a fast
   local receiver (`inboxlite-bench receiver`: verifies each signature, counts, answers 204), runs
   interleaved with the same seeds.
2. Drain: the stream ingested while the receiver is down, then the receiver starts: how fast the
   backlog goes out (events/s between its first and last delivery) and how long until all is in.
3. Outage: half the stream with the receiver up, the receiver down for OUTAGE s while the other
   half arrives, then up again: both halves' ingest rates and when everything has arrived.

  usage: [BENCH_PARTS="1 2 3"] bench_forwarding.py N C RUNS SEED OUTAGE_SECONDS
"""
import base64, json, os, re, shutil, signal, socket, sqlite3, statistics, subprocess, sys, tempfile, time, urllib.request

N, C, RUNS, SEED, OUTAGE = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
PARTS = os.environ.get("BENCH_PARTS", "1 2 3").split()
BIN, BENCH = ".build/release/inboxlite", ".build/release/inboxlite-bench"
SECRET = "whsec_" + base64.b64encode(os.urandom(32)).decode()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(url):
    for _ in range(300):
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except Exception:
            time.sleep(0.05)
    raise SystemExit(f"{url} did not come up")


class Receiver:
    def __init__(self, port):
        self.port = port
        self.process = subprocess.Popen([BENCH, "receiver", "--port", str(port), "--secret", SECRET],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_up(f"http://127.0.0.1:{port}/stats")

    def stats(self):
        return json.load(urllib.request.urlopen(f"http://127.0.0.1:{self.port}/stats", timeout=5))

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=20)


def ingest_run(seed, forward_port=None):
    """One bench-ingest.sh run; its rate, p99 and the checked final state."""
    extra = ["--forward-url", f"http://127.0.0.1:{forward_port}/crm/hook", "--forward-secret", SECRET] if forward_port else []
    env = dict(os.environ, BENCH_RUNS="1", BENCH_SEED=str(seed), BENCH_PERF="0", BENCH_CEILING="0", BENCH_BIN=BIN)
    out = subprocess.run(["scripts/bench-ingest.sh", str(N), str(C), *extra], env=env, capture_output=True, text=True).stdout
    line = next((l for l in out.splitlines() if l.startswith("run 1:")), "")
    match = re.search(r": ([\d,]+)/s, p50 ([\d.]+) ms, p99 ([\d.]+) ms", line)
    if not match or "final state checked" not in line:
        raise SystemExit(f"bench-ingest failed:\n{out}")
    return float(match.group(1).replace(",", "")), float(match.group(3))


def split_stream(path, into):
    """The stream's requests dealt into `into` consecutive parts."""
    data, pos, entries = open(path, "rb").read(), 0, []
    while pos < len(data):
        newline = data.index(b"\n", pos)
        end = newline + 1 + int(data[pos:newline])
        entries.append(data[pos:end])
        pos = end
    size = (len(entries) + into - 1) // into
    parts = []
    for index in range(into):
        part = f"{path}.{index}"
        open(part, "wb").write(b"".join(entries[index * size:(index + 1) * size]))
        parts.append((part, len(entries[index * size:(index + 1) * size])))
    return parts


def fire(work, requests, port):
    """Sends a request file once over C connections; its rate (requests/s) and p99 ms."""
    done = f"{requests}.done"
    wrk = subprocess.Popen(["wrk", "-t1", f"-c{C}", "-d600s", "--timeout", "10s", "-s", "scripts/bench_ingest.lua", f"http://127.0.0.1:{port}"],
                           env=dict(os.environ, BENCH_REQUESTS=requests, BENCH_DONE=done), stdout=open(f"{requests}.wrk", "w"),
                           stderr=subprocess.STDOUT)
    while not (os.path.exists(done) and os.path.getsize(done)) and wrk.poll() is None:
        time.sleep(0.05)
    wrk.send_signal(signal.SIGINT)
    wrk.wait()
    text = open(f"{requests}.wrk").read()
    answered = int(re.search(r"answered=(\d+)", text).group(1))
    non200 = int(re.search(r"non200=(\d+)", text).group(1))
    if non200:
        raise SystemExit(f"{non200} webhooks were not answered 200")
    return answered / float(open(done).read()), float(re.search(r"p99_ms=([\d.]+)", text).group(1))


def serve(work, seed, receiver_port):
    port = free_port()
    secret = f"bench-secret-{seed}-{int(time.time())}"
    subprocess.run([sys.executable, "scripts/bench_ingest_gen.py", str(N), secret, f"{work}/requests.bin", f"127.0.0.1:{port}", str(seed)],
                   check=True, stdout=open(f"{work}/expected.json", "w"))
    server = subprocess.Popen([BIN, "serve", "--db", f"{work}/inbox.sqlite", "--port", str(port), "--webhook-secret", secret,
                               "--waha-hmac-key", secret, "--api-token", "bench", "--log-level", "warning",
                               "--forward-url", f"http://127.0.0.1:{receiver_port}/crm/hook", "--forward-secret", SECRET],
                              stdout=open(f"{work}/server.log", "w"), stderr=subprocess.STDOUT)
    wait_up(f"http://127.0.0.1:{port}/healthz")
    return server, port


def logged_events(work):
    with sqlite3.connect(f"file:{work}/inbox.sqlite?mode=ro", uri=True) as db:
        return db.execute("SELECT count(*) FROM inbox_events").fetchone()[0]


def wait_delivered(receiver, total, seconds):
    """When the receiver has every event (None: not within `seconds`), and how many it had when."""
    deadline, samples = time.time() + seconds, []
    while time.time() < deadline:
        events = receiver.stats()["events"]
        samples.append((time.time(), events))
        if events >= total:
            return time.time(), samples
        time.sleep(0.1)
    return None, samples


def bulk_rate(samples, total):
    """Events/s between 5 % and 95 % of them delivered: the drain itself, without the wait for
    the first probe nor the tail of held chats' retries."""
    low = next((t for t, n in samples if n >= 0.05 * total), None)
    high = next((t for t, n in samples if n >= 0.95 * total), None)
    return 0.9 * total / (high - low) if low and high and high > low else 0


def main():
    root = tempfile.mkdtemp(prefix="inboxlite-bench-forwarding.")
    try:
        if "1" in PARTS:
            print(f"1. ingest with forwarding off and on ({N} deliveries, {C} connections, interleaved, seeds {SEED}–{SEED + RUNS - 1})")
            off, on = [], []
            for run in range(RUNS):
                seed = SEED + run
                rate, p99 = ingest_run(seed)
                off.append((rate, p99))
                receiver = Receiver(free_port())
                rate_on, p99_on = ingest_run(seed, receiver.port)
                stats = receiver.stats()
                receiver.stop()
                on.append((rate_on, p99_on))
                print(f"   seed {seed}: off {rate:,.0f}/s p99 {p99:.1f} ms | on {rate_on:,.0f}/s p99 {p99_on:.1f} ms "
                      f"({rate_on / rate:.2f}; {stats['events']:,} events forwarded by the end, {stats['bad_signatures']} bad signatures)")
            median_off, median_on = statistics.median(r for r, _ in off), statistics.median(r for r, _ in on)
            pairs = [b[0] / a[0] for a, b in zip(off, on)]
            print(f"   median off {median_off:,.0f}/s, on {median_on:,.0f}/s; pairs on/off {', '.join(f'{p:.2f}' for p in pairs)}, "
                  f"median {statistics.median(pairs):.2f}")

        if "2" in PARTS:
            print("2. drain: the stream ingested with the receiver down, then the receiver starts")
            work = f"{root}/drain"
            os.makedirs(work)
            receiver_port = free_port()
            server, port = serve(work, SEED, receiver_port)
            rate, _ = fire(work, f"{work}/requests.bin", port)
            time.sleep(1)
            total = logged_events(work)
            started = time.time()
            receiver = Receiver(receiver_port)
            finished, samples = wait_delivered(receiver, total, 600)
            stats = receiver.stats()
            receiver.stop()
            server.terminate()
            server.wait()
            print(f"   {total:,} events (ingested at {rate:,.0f} deliveries/s with the receiver down); "
                  f"all delivered {finished - started:.1f} s after the receiver started (the first probe comes within 10 s); "
                  f"drained at {bulk_rate(samples, total):,.0f} events/s (from 5 % to 95 % of them); "
                  f"{stats['requests'] - stats['events']} sent twice, {stats['bad_signatures']} bad signatures"
                  if finished else f"   NOT all delivered: {stats}")

        if "3" in PARTS:
            print(f"3. outage: half the stream with the receiver up, {OUTAGE:.0f} s down while the other half arrives, then up")
            work = f"{root}/outage"
            os.makedirs(work)
            receiver_port = free_port()
            receiver = Receiver(receiver_port)
            server, port = serve(work, SEED + 1, receiver_port)
            (first, first_count), (second, second_count) = split_stream(f"{work}/requests.bin", 2)
            up_rate, up_p99 = fire(work, first, port)
            delivered_before = receiver.stats()["events"]
            receiver.stop()
            down_at = time.time()
            down_rate, down_p99 = fire(work, second, port)
            time.sleep(max(0, OUTAGE - (time.time() - down_at)))
            total = logged_events(work)
            receiver = Receiver(receiver_port)
            back_at = time.time()
            # The new receiver process counts what arrives from now on: what was not delivered before.
            finished, _ = wait_delivered(receiver, total - delivered_before, 900)
            stats = receiver.stats()
            receiver.stop()
            server.terminate()
            server.wait()
            print(f"   ingest with the receiver up {up_rate:,.0f}/s (p99 {up_p99:.1f} ms), down {down_rate:,.0f}/s (p99 {down_p99:.1f} ms); "
                  + (f"after {OUTAGE:.0f} s down, the {stats['events']:,} events not yet delivered arrived {finished - back_at:.1f} s after it came back"
                     if finished else f"NOT all delivered: {stats}, {total} logged"))
    finally:
        shutil.rmtree(root, ignore_errors=True)


main()
