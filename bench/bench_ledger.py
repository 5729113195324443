"""Ledger benchmarks: cold build vs ccusage, warm update after one appended turn.

    python bench/bench_ledger.py CORPUS_DIR [CORPUS_DIR ...] [--ccusage PATH] [--runs 15] [--cold-runs 5]

Each CORPUS_DIR is a Claude config dir made by bench/gen_corpus.py (it holds projects/). Prints a
markdown table: cold build wall (median of --cold-runs, each governor run interleaved with a ccusage
`claude daily --offline --json` run on the same corpus) and peak RSS for both, their ratio, and the warm
update's median wall minus bare `python -c pass` measured interleaved in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time

from common import BARE, env_with, machine, median_ms, peak_rss_mb, timed

INGEST = ("from governor import paths; from governor.meter import db, ledger; "
          "ledger.ingest(db.connect(), paths.transcript_roots())")
# What a hook or the status line pays: only the prompting session's files.
INGEST_SESSION = ("import sys; from governor import paths; from governor.meter import db, ledger, transcript_files; "
                  "roots = paths.transcript_roots(); "
                  "ledger.ingest(db.connect(), roots, only=transcript_files.session_files(sys.argv[1], roots))")


def corpus_size(path: str) -> int:
    return sum(
        os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs if f.endswith(".jsonl")
    )


def append_turn(corpus: str, n: int) -> str:
    """Append one real-shaped turn (user row + 2-block assistant response) to the newest transcript."""
    newest = max(
        (
            os.path.join(d, f)
            for d, _, fs in os.walk(os.path.join(corpus, "projects"))
            for f in fs
            if f.endswith(".jsonl") and "subagents" not in d
        ),
        key=os.path.getmtime,
    )
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    usage = {
        "input_tokens": 3,
        "cache_creation_input_tokens": 900,
        "cache_read_input_tokens": 120_000,
        "output_tokens": 400,
    }
    rows = [
        {
            "type": "user",
            "sessionId": "bench",
            "timestamp": stamp,
            "message": {"role": "user", "content": "go"},
        }
    ]
    rows += [
        {
            "type": "assistant",
            "sessionId": "bench",
            "timestamp": stamp,
            "requestId": f"req_bench_{n}",
            "message": {
                "id": f"msg_bench_{n}",
                "model": "claude-opus-4-5-20251101",
                "usage": usage,
                "content": [{"type": "text", "text": "done"}],
            },
            "apiBlockIndex": b,
        }
        for b in (0, 1)
    ]
    with open(newest, "a") as fh:
        fh.write("".join(json.dumps(r) + "\n" for r in rows))
    return newest


def bench_corpus(corpus: str, ccusage: str | None, runs: int, cold_runs: int) -> dict:
    result: dict = {"corpus": corpus, "size_mb": corpus_size(corpus) / 1e6}
    cmd = [sys.executable, "-m", "governor", "daily", "--json", "--tz", "UTC"]
    cc = [ccusage, "claude", "daily", "--json", "--offline", "-z", "UTC"] if ccusage else None
    gov_walls: list[float] = []
    cc_walls: list[float] = []
    gov_rss = cc_rss = 0
    homes: list[str] = []
    for _ in range(cold_runs):  # interleaved, each governor run on an empty ledger
        if homes:
            shutil.rmtree(homes[-1], ignore_errors=True)
        homes.append(tempfile.mkdtemp(prefix="gov-bench-"))
        env = env_with(GOVERNOR_HOME=homes[-1], CLAUDE_CONFIG_DIR=corpus)
        wall, mb = peak_rss_mb(cmd, env)
        gov_walls.append(wall)
        gov_rss = max(gov_rss, mb)
        if cc:
            wall, mb = peak_rss_mb(cc, env)
            cc_walls.append(wall)
            cc_rss = max(cc_rss, mb)
    result["gov_cold_s"], result["gov_cold_rss_mb"] = statistics.median(gov_walls), gov_rss
    result["gov_cold_runs"] = gov_walls
    if cc:
        result["ccusage_s"], result["ccusage_rss_mb"] = statistics.median(cc_walls), cc_rss
        result["ccusage_runs"] = cc_walls
    bare, warm, session = [], [], []
    for i in range(runs):  # interleaved so machine noise hits all alike
        bare.append(timed(BARE, env)[0])
        path = append_turn(corpus, i)
        session.append(timed([sys.executable, "-c", INGEST_SESSION, path], env)[0])
        append_turn(corpus, 1000 + i)
        warm.append(timed([sys.executable, "-c", INGEST], env)[0])
    result["bare_ms"], result["warm_ms"] = median_ms(bare), median_ms(warm)
    result["session_ms"] = median_ms(session)
    result["warm_over_bare_ms"] = result["warm_ms"] - result["bare_ms"]
    result["session_over_bare_ms"] = result["session_ms"] - result["bare_ms"]
    shutil.rmtree(homes[-1], ignore_errors=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("corpora", nargs="+")
    parser.add_argument("--ccusage", default=shutil.which("ccusage"))
    parser.add_argument("--runs", type=int, default=15, help="warm-update samples")
    parser.add_argument("--cold-runs", type=int, default=5, help="cold builds (each interleaved with ccusage)")
    args = parser.parse_args()
    print(f"machine: {machine()}\n")
    print(
        "| corpus | size | governor cold | RSS | ccusage cold | RSS | ratio | bare python "
        "| warm update, session files (hooks) − bare | warm update, full rescan (reports) − bare |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for corpus in args.corpora:
        r = bench_corpus(corpus, args.ccusage, args.runs, args.cold_runs)
        if "ccusage_s" in r:
            cc = f"{r['ccusage_s']:.2f} s | {r['ccusage_rss_mb']} MB | {r['gov_cold_s'] / r['ccusage_s']:.2f}×"
        else:
            cc = "n/a | n/a | n/a"
        print(
            f"| {os.path.basename(corpus)} | {r['size_mb']:,.0f} MB | {r['gov_cold_s']:.2f} s | "
            f"{r['gov_cold_rss_mb']} MB | {cc} | {r['bare_ms']:.1f} ms | {r['session_over_bare_ms']:.1f} ms | "
            f"{r['warm_over_bare_ms']:.1f} ms |",
            flush=True,
        )
        runs = ", ".join(f"{w:.2f}" for w in r["gov_cold_runs"])
        cc_runs = ", ".join(f"{w:.2f}" for w in r.get("ccusage_runs", []))
        print(f"<!-- {os.path.basename(corpus)} cold runs (s): governor {runs}; ccusage {cc_runs} -->", flush=True)


if __name__ == "__main__":
    main()
