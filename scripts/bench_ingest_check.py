#!/usr/bin/env python3
"""Checks one run of scripts/bench-ingest.sh against the final state its stream must leave, and
records the run's figures; with --summary, prints the table of medians and ranges over runs.

  bench_ingest_check.py RUN_DIR CONNECTIONS RUN_NUMBER
  bench_ingest_check.py --summary BENCH_DIR RUNS
"""
import glob, json, os, re, sqlite3, statistics, subprocess, sys

def parse_kv(text, prefixes):
    lines = " ".join(l for l in text.splitlines() if l.startswith(prefixes))
    return dict(re.findall(r"(\w+)=([\d.]+)", lines))

def wrk_figures(work):
    """The answers' counts and latencies; with several nodes, their wrk outputs added up (counts)
    and the worst of them (latencies)."""
    vals = parse_kv(open(f"{work}/wrk.txt").read(), ("BENCH", "duration_s"))
    shares = [parse_kv(open(path).read(), ("BENCH",)) for path in sorted(glob.glob(f"{work}/wrk[0-9]*.txt"))]
    for key in ("ok", "non200", "duplicates", "answered"):
        if shares: vals[key] = str(sum(int(share[key]) for share in shares))
    for key in ("p50_ms", "p99_ms", "max_ms"):
        if shares: vals[key] = str(max(float(share[key]) for share in shares))
    return vals


class PostgresQueries:
    """The checks' SQL on PostgreSQL, through psql (`:ours` and `:hub` as literals); SQLite's
    full-text table becomes the same search the API runs (`inbox_search_words`)."""
    def __init__(self, url, params):
        self.url, self.params = url, params

    def translate(self, sql):
        for name, value in self.params.items():
            sql = sql.replace(f":{name}", "'" + value.replace("'", "''") + "'")
        return re.sub(r"from messages_fts where messages_fts match '(\w+)'",
                      r"from messages where inbox_search_words(body) @@ plainto_tsquery('simple', '\1')", sql)

    def execute(self, sql, _params=None):
        out = subprocess.run(["psql", self.url, "-AtF", "\t", "-c", self.translate(sql)], check=True, capture_output=True, text=True).stdout
        return Rows([tuple(int(cell) if re.fullmatch(r"-?\d+", cell) else cell for cell in line.split("\t")) for line in out.splitlines()])


class Rows(list):
    def fetchone(self): return self[0] if self else None
    def fetchall(self): return list(self)


def check_run(work, conns, run):
    expected = json.load(open(f"{work}/expected.json"))
    vals = wrk_figures(work)
    health = open(f"{work}/healthz.txt").read()
    healthz = float(re.search(r"Requests/sec:\s+([\d.]+)", health).group(1))
    before_messages, before_deliveries, before_fts_received, before_fts_sent = (
        int(x) for x in open(f"{work}/before.txt").read().split())
    # This run's sessions (Inbox Hub bench<seed>_<n>, WAHA waha:bench<seed>_w<n>), for `like :ours escape '\'`.
    ours = {"ours": f"%bench{expected['seed']}\\_%", "hub": f"bench{expected['seed']}\\_%"}
    if os.path.exists(f"{work}/postgres-url"):
        db = PostgresQueries(open(f"{work}/postgres-url").read().strip(), ours)
        tables = {row[0] for row in db.execute("select table_name from information_schema.tables where table_schema = 'public'")}
    else:
        db = sqlite3.connect(f"file:{work}/inbox.sqlite?mode=ro", uri=True)
        tables = {row[0] for row in db.execute("select name from sqlite_master where type = 'table'")}
    q = lambda sql: db.execute(sql, ours).fetchone()[0]
    statuses = dict(db.execute("select session_id, status from sessions where session_id like :hub escape '\\'", ours).fetchall())
    # Builds before reactions, edits and deletions were applied stored them as ignored (for comparisons with them).
    applies_changes = "message_reactions" in tables
    changes = expected.get("reactions", 0) + expected.get("edits", 0) + expected.get("deletions", 0)
    checks = {
        "answered 200": (int(vals["ok"]) + int(vals["non200"]) * 1000000, expected["requests"]),
        "answered duplicate": (int(vals["duplicates"]), expected["duplicates"]),
        "webhook_deliveries rows": (q("select count(*) from webhook_deliveries") - before_deliveries, expected["unique"]),
        "deliveries not applied": (q("select count(*) from webhook_deliveries where status <> 'applied' and session_id like :ours escape '\\'"),
                                   0 if applies_changes else changes),
        "messages": (q("select count(*) from messages") - before_messages, expected["messages"]),
        "message_acks rows (one per receipt)": (q("select count(*) from message_acks where message_id in "
                                                  "(select id from messages where session_id like :ours escape '\\')"), expected["ack"]),
        "messages acked": (q("select count(*) from messages where session_id like :ours escape '\\' and ack is not null"),
                           expected["acked_messages"]),
        "sum of final ack codes (highest wins)": (q("select coalesce(sum(ack),0) from messages where session_id like :ours escape '\\'"),
                                                  expected["ack_sum"]),
        "receipts left pending": (q("select count(*) from pending_acks where session_id like :ours escape '\\'"), 0),
        "session_events rows": (q("select count(*) from session_events where session_id like :ours escape '\\'"), expected["session"]),
        "conversations": (q("select count(*) from conversations where session_id like :ours escape '\\'"), expected["conversations"]),
        "full-text hits for 'mensaje' (every received text not deleted)": (
            q("select count(*) from messages_fts where messages_fts match 'mensaje'") - before_fts_received,
            expected["received"] - (expected.get("deletions", 0) if applies_changes else 0)),
        "full-text hits for 'respuesta' (every sent text)": (q("select count(*) from messages_fts where messages_fts match 'respuesta'")
                                                             - before_fts_sent, expected["sent"]),
        "final session statuses (latest event wins)": (statuses, expected["session_status"]),
    }
    if applies_changes:
        checks.update({
            "message_reactions rows": (q("select count(*) from message_reactions where message_id in "
                                         "(select id from messages where session_id like :ours escape '\\')"), expected["reactions"]),
            "message_edits rows": (q("select count(*) from message_edits where message_id in "
                                     "(select id from messages where session_id like :ours escape '\\')"), expected["edits"]),
            "messages deleted": (q("select count(*) from messages where deleted_at is not null and session_id like :ours escape '\\'"),
                                 expected["deletions"]),
            "message_media rows": (q("select count(*) from message_media where message_id in "
                                     "(select id from messages where session_id like :ours escape '\\')"), expected["media"]),
            "changes left pending": (q("select count(*) from pending_message_changes where session_id like :ours escape '\\'"), 0),
        })
    if before_messages == 0:
        # One contact per person per session since contact_identities; one per person before.
        per_session = "contact_identities" in tables
        checks["contacts"] = (q("select count(*) from contacts"), expected["contacts_by_session" if per_session else "contacts"])
    duration = float(vals["duration_s"])
    rate = expected["requests"] / duration
    cpu_us = int(vals["cpu_ticks"]) / int(vals["hz"]) * 1e6 / expected["requests"]
    result = {"run": run, "connections": int(conns), "requests": expected["requests"], "rate": rate,
              "p50": float(vals["p50_ms"]), "p99": float(vals["p99_ms"]), "max": float(vals["max_ms"]),
              "rss_mb": int(open(f"{work}/rss_kb").read()) / 1024, "healthz": healthz, "ratio": rate / healthz,
              "cpu_us": cpu_us, "messages_before": before_messages,
              "kb_written": int(vals.get("write_bytes", 0)) / 1024 / expected["requests"]}
    if os.path.exists(f"{work}/stages.json"):
        stages = json.load(open(f"{work}/stages.json"))
        for k, share in stages["share"].items():
            result[f"cpu_us_{k}"] = cpu_us * share
    json.dump(result, open(f"{work}/result.json", "w"))
    ok = all(got == want for got, want in checks.values())
    print(f"run {run}: {result['requests']} deliveries ({expected['ack_share']*100:.0f}% receipts, "
          f"{expected['acks_before_message']} before their message, {expected['duplicates']} retries) over {conns} "
          f"connections into a database of {before_messages} messages: {rate:,.0f}/s, p50 {result['p50']:.1f} ms, "
          f"p99 {result['p99']:.1f} ms, max {result['max']:.1f} ms; /healthz {healthz:,.0f}/s; RSS {result['rss_mb']:.1f} MB; "
          f"final state {'checked' if ok else 'WRONG'}")
    for name, (got, want) in checks.items():
        if got != want or "-v" in sys.argv:
            print(f"  [{'ok' if got == want else 'FAIL'}] {name}: {got} (expected {want})")
    return ok

def summary(bench_dir, runs):
    results = [json.load(open(f"{bench_dir}/run{i}/result.json")) for i in range(1, runs + 1)]
    rows = [("deliveries/s", "rate", "{:,.0f}"), ("p50 ms", "p50", "{:.1f}"), ("p99 ms", "p99", "{:.1f}"),
            ("max ms", "max", "{:.1f}"), ("peak RSS MB", "rss_mb", "{:.1f}"), ("/healthz req/s (same run)", "healthz", "{:,.0f}"),
            ("deliveries/s ÷ /healthz", "ratio", "{:.2f}"), ("server CPU µs/delivery", "cpu_us", "{:.0f}"),
            ("  http + verify + decode", "cpu_us_http", "{:.0f}"), ("  writer: apply", "cpu_us_apply", "{:.0f}"),
            ("  writer: commit + WAL + checkpoint", "cpu_us_commit", "{:.0f}"),
            ("KB written to disk per delivery (WAL + checkpoints)", "kb_written", "{:.1f}")]
    print(f"\n{runs} runs, {results[0]['requests']} deliveries each, {results[0]['connections']} connections, "
          f"database at start: {results[0]['messages_before']} messages")
    print(f"| measure | median | range |\n|---|---|---|")
    for label, key, fmt in rows:
        vals = [r[key] for r in results if key in r]
        if not vals: continue
        print(f"| {label} | {fmt.format(statistics.median(vals))} | {fmt.format(min(vals))} – {fmt.format(max(vals))} |")

if __name__ == "__main__":
    if sys.argv[1] == "--summary":
        summary(sys.argv[2], int(sys.argv[3]))
    else:
        sys.exit(0 if check_run(sys.argv[1], sys.argv[2], sys.argv[3]) else 1)
