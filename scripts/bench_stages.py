#!/usr/bin/env python3
"""Splits `perf script -F comm,tid,ip,sym,dso` output (recorded with -g) of the InboxLite server
into the stages of a delivery, and prints JSON: the share of samples per stage, plus the top
functions (self time) of each stage.

Stages, by thread and call chain:
- http:   NIO event loops and the Swift concurrency pool — HTTP parsing, signature check, JSON
          decoding, answering, the hand-offs between threads;
- apply:  the writer thread outside of a commit — SQL statements of the batch;
- commit: the writer thread inside SQLite's commit (WAL append, fsync) and the WAL checkpointer
          thread.
Thread names come from the server (`inbox-writer`, `inbox-checkpoint`); everything else is http.
With `--top` it prints a readable table instead of JSON.
"""
import collections, json, sys

COMMIT_MARKERS = ("__libc_pwrite", "pwrite64", "sqlite3PagerCommitPhaseOne", "sqlite3WalFrames", "pagerWalFrames", "sqlite3VdbeHalt",
                  "fdatasync", "fsync", "walCheckpoint", "sqlite3WalCheckpoint")

def samples(lines):
    head, frames = None, []
    for line in lines:
        line = line.rstrip("\n")
        if not line.strip():
            if head: yield head, frames
            head, frames = None, []
        elif not line.startswith("\t"):  # sample headers are right-aligned; frames start with a tab
            if head: yield head, frames
            head, frames = line.split(), []
        else:
            parts = line.split(None, 1)
            rest = parts[1] if len(parts) > 1 else ""
            sym, _, dso = rest.rpartition(" (")
            frames.append((sym.strip() or "?", dso.rstrip(")").rsplit("/", 1)[-1]))
    if head: yield head, frames

def stage(comm, frames):
    if comm.startswith("inbox-checkpoin"): return "commit"
    if comm.startswith("inbox-writer"):
        return "commit" if any(any(m in s for m in COMMIT_MARKERS) for s, _ in frames) else "apply"
    return "http"

def main():
    counts = collections.Counter()
    top = collections.defaultdict(collections.Counter)
    dsos = collections.defaultdict(collections.Counter)
    for head, frames in samples(sys.stdin):
        comm = head[0]
        st = stage(comm, frames)
        counts[st] += 1
        if frames:
            sym, dso = frames[0]
            top[st][sym[:90]] += 1
            dsos[st][dso] += 1
    total = sum(counts.values()) or 1
    if counts["apply"] + counts["commit"] == 0:
        # No sample carried the writer's thread name (perf missed the rename): no split, rather
        # than every sample counted as http.
        if "--top" in sys.argv:
            print("(no sample carried the writer's thread name: no split by stage for this run)")
        else:
            json.dump({"samples": total, "share": {}}, sys.stdout)
        return
    result = {"samples": total, "share": {k: counts[k] / total for k in ("http", "apply", "commit")},
              "top": {k: [(s, c / total) for s, c in top[k].most_common(12)] for k in top},
              "dso": {k: [(d, c / total) for d, c in dsos[k].most_common(6)] for k in dsos}}
    if "--top" in sys.argv:
        for k in ("http", "apply", "commit"):
            print(f"== {k}: {result['share'][k]*100:.1f}% of samples")
            print("   by library: " + ", ".join(f"{d} {v*100:.1f}%" for d, v in result["dso"].get(k, [])))
            for s, v in result["top"].get(k, []):
                print(f"   {v*100:5.1f}%  {s}")
    else:
        json.dump(result, sys.stdout)

if __name__ == "__main__":
    main()
