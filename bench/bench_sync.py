"""Several machines (issue 18): the warm prompt hook and status line with sync off, on (the default
throttle: merge at most every 60 s, export every 5 min) and on with every call due (merge_seconds 0,
export_minutes 0: each run stats the other machines' files and exports the turn it just read), paired.

    python bench/bench_sync.py CORPUS_DIR [--runs 21] [--foreign 20000]

CORPUS_DIR is a Claude config dir made by bench/gen_corpus.py. The sync dir holds two other machines'
exports of --foreign records each, merged once before timing (so the timed merges find nothing new, the
steady state). Each sample appends one real-shaped turn to the newest transcript, then runs bare
`python -c pass` and each variant's hook and status line, the variants in a shuffled order; ratios are of
medians in the same run.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench_hooks import newest_transcript
from bench_ledger import INGEST, append_turn, corpus_size
from bench_statusline import make_env
from bench_statusline import payload as statusline_payload
from common import BARE, REPO, machine, median_ms, timed

HOOK = str(REPO / "hooks" / "user_prompt_submit.py")
STATUSLINE = str(REPO / "hooks" / "statusline.py")
VARIANTS = {
    "sync off": None,
    "sync on (default throttle)": {},
    "sync on, every call due": {"merge_seconds": 0, "export_minutes": 0},
}


def foreign_machines(share: Path, records: int) -> None:
    now = time.time()
    for n, mid in enumerate(("00000000000000a1", "00000000000000b2")):
        directory = share / "governor" / mid
        directory.mkdir(parents=True)
        lines = [json.dumps({"governor": "sync", "v": 1, "machine": mid, "name": f"other{n}", "created": now})]
        for i in range(records):
            lines.append(json.dumps({
                "v": 1, "n": i + 1, "t": "u", "key": f"m:{mid}:{i}", "ts": now - 6 * 86400 + i * 25,
                "session_id": f"s-{mid}-{i // 400}", "project": "-home-dev-other", "model": "claude-opus-4-5-20251101",
                "input": 3, "output": 400, "cache_creation": 1500, "cache_read": 90_000, "cache_5m": 1500,
                "cache_1h": 0, "sidechain": 0, "web_search": 0, "source": "transcript"}, separators=(",", ":")))
        (directory / time.strftime("%Y-%m.jsonl", time.gmtime(now))).write_text("\n".join(lines) + "\n")
        (directory / "machine.json").write_text(json.dumps({"governor": "sync", "v": 1, "id": mid,
                                                            "name": f"other{n}", "last_export": now}))


IN_PROCESS = r"""
import json, statistics, sys, time
from governor.config import load_config
from governor.meter import db, sync, sync_export
conn = db.connect()
config = load_config()
def med(fn, n=101):
    out = []
    for _ in range(n):
        t = time.perf_counter(); fn(); out.append(time.perf_counter() - t)
    return statistics.median(out) * 1000
def due():
    with db.transaction(conn):
        conn.execute("DELETE FROM meta WHERE key IN (?, ?)", (sync.MERGE_KEY, sync.EXPORT_TRY_KEY))
    sync.tick(conn, config, time.time())
def due_with_a_row():
    with db.transaction(conn):
        conn.execute("UPDATE usage SET output = output + 1"
                     " WHERE key = (SELECT MAX(key) FROM usage WHERE machine IS NULL)")
    due()
reset = med(lambda: db.transaction(conn).__enter__() and conn.execute("COMMIT"), 51)
print(json.dumps({"not due": med(lambda: sync.tick(conn, config, time.time())),
                  "due, nothing new": med(due, 51) - reset,
                  "due, one row to export": med(due_with_a_row, 51) - 2 * reset}))
"""


COLD = r"""
import sys, time
from governor import paths
from governor.meter import db, ledger
conn = db.connect()
if sys.argv[1] == "on":  # export on, as `sync init` leaves it: its queue's triggers exist
    with db.transaction(conn):
        db.set_sync_triggers(conn, True)
start = time.perf_counter()
ledger.ingest(conn, paths.transcript_roots())
print(time.perf_counter() - start)
"""


def cold_builds(corpus: str, root: Path, runs: int) -> dict[str, list[float]]:
    """The first scan (install's ledger build, a bulk load) with export on and off, alternating."""
    import subprocess

    out: dict[str, list[float]] = {"off": [], "on": []}
    for i in range(runs):
        for variant in ("on", "off") if i % 2 else ("off", "on"):
            home = root / f"cold-{variant}-{i}"
            env = make_env(home, Path(corpus), None)
            proc = subprocess.run([sys.executable, "-c", COLD, variant], env=env, capture_output=True, text=True,
                                  check=True)
            out[variant].append(float(proc.stdout))
            shutil.rmtree(home, ignore_errors=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus")
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--foreign", type=int, default=20_000, help="records per other machine")
    parser.add_argument("--cold-runs", type=int, default=6, help="paired first scans with export on and off")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="gov-sync-bench-"))
    corpus = Path(args.corpus)
    try:
        envs = {}
        for i, (name, sync) in enumerate(VARIANTS.items()):
            budget = None
            if sync is not None:
                share = root / f"share{i}"
                share.mkdir()
                foreign_machines(share, args.foreign)
                budget = {"sync": {"dir": str(share), **sync}}
            env = make_env(root / f"v{i}", corpus, budget)
            timed([sys.executable, "-c", INGEST], env)  # the ledger as install builds it
            if sync is not None:  # first export of this machine's history and first merge, outside the timing
                timed([sys.executable, "-m", "governor", "sync", "status"], env)
            env.pop("PYTHONPATH")  # the scripts find the package themselves, as installed commands do
            envs[name] = env
        transcript = newest_transcript(str(corpus))
        hook_payload = json.dumps({"session_id": "bench-session", "transcript_path": transcript,
                                   "cwd": "/home/dev/proj", "hook_event_name": "UserPromptSubmit", "prompt_id": "p",
                                   "permission_mode": "default", "prompt": "add a docstring to utils.py"}).encode()
        for env in envs.values():  # first prompt and status line: config cache, full scan
            timed([sys.executable, HOOK], env, hook_payload)
            timed([sys.executable, STATUSLINE], env, json.dumps(statusline_payload(Path(transcript))).encode())
        samples: dict[str, list[float]] = {"bare": []}
        for i in range(args.runs):
            append_turn(str(corpus), 20_000 + i)
            samples["bare"].append(timed(BARE, envs["sync off"])[0])
            line = json.dumps(statusline_payload(Path(transcript))).encode()
            order = list(envs.items())
            random.Random(i).shuffle(order)  # no variant always runs first (or right after another)
            for name, env in order:
                samples.setdefault(f"prompt hook, {name}", []).append(timed([sys.executable, HOOK], env,
                                                                            hook_payload)[0])
                samples.setdefault(f"status line, {name}", []).append(timed([sys.executable, STATUSLINE], env,
                                                                            line)[0])
        bare = median_ms(samples["bare"])
        import subprocess

        env = {**envs["sync on (default throttle)"], "PYTHONPATH": str(REPO)}
        inproc = json.loads(subprocess.run([sys.executable, "-c", IN_PROCESS], env=env, capture_output=True,
                                           text=True, check=True).stdout)
        print(f"machine: {machine()}; corpus {corpus.name} {corpus_size(str(corpus)) / 1e6:,.0f} MB; "
              f"{args.foreign:,} records from each of 2 other machines; {args.runs} paired runs\n")
        print(f"Command: `python bench/bench_sync.py {args.corpus} --runs {args.runs} --foreign {args.foreign}"
              f" --cold-runs {args.cold_runs}`\n")
        print("| variant | median | vs bare python | vs sync off |")
        print("|---|---|---|---|")
        print(f"| bare `python -c pass` | {bare:.1f} ms | 1.00× | |")
        for what in ("prompt hook", "status line"):
            off = median_ms(samples[f"{what}, sync off"])
            for name in VARIANTS:
                ms = median_ms(samples[f"{what}, {name}"])
                print(f"| {what}, {name} | {ms:.1f} ms | {ms / bare:.2f}× | {ms / off:.2f}× |")
        cold = cold_builds(args.corpus, root, args.cold_runs)
        on, off = median_ms(cold["on"]) / 1000, median_ms(cold["off"]) / 1000
        print(f"\nFirst scan (bulk load), median of {args.cold_runs}: export off {off:.2f} s, export on {on:.2f} s"
              f" ({on / off:.2f}×)")
        print("\nIn process, `sync.tick` (what a hook or the status line adds), median of 101 (51) calls: "
              + ", ".join(f"{k} {v:.2f} ms" for k, v in inproc.items()))
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
