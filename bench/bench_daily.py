"""A warm `governor daily --json` from two installed governors, side by side, and whether they print the same bytes.

    env -u PYTHONDONTWRITEBYTECODE python bench/bench_daily.py BASE_VENV NEW_VENV CORPUS_DIR [--runs 11]
        [--ccusage PATH [--ccusage-runs 3]]

Each side builds its own ledger from CORPUS_DIR first (a cold `daily --json`, not timed); then the sides
run `governor daily --json --tz UTC` alternately (A B, then B A): interpreter start, the incremental
rescan of every transcript (nothing new), the report from the roll-ups, the JSON. Prints the medians of
wall and CPU time, NEW / BASE, bare `python -c pass` measured in the same run, how many priced buckets
(15-minute × model × long-context) the ledger holds, and whether the two outputs are byte-identical.
With --ccusage, `ccusage claude daily --json --offline -z UTC` on the same corpus too, each run between
two NEW runs (which count in NEW's median), and NEW's median wall as a share of ccusage's.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sqlite3
import statistics
import subprocess
import tempfile
import time

from common import machine


def run(cmd: list[str], env: dict[str, str]) -> tuple[float, float, bytes]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    out = subprocess.run(cmd, env=env, capture_output=True, check=True, cwd="/").stdout
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("base")
    ap.add_argument("new")
    ap.add_argument("corpus")
    ap.add_argument("--runs", type=int, default=11)
    ap.add_argument("--ccusage", help="ccusage's binary: time it on the same corpus")
    ap.add_argument("--ccusage-runs", type=int, default=3)
    args = ap.parse_args()
    base_env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "GOVERNOR_HOME")}
    sides = []
    for name, venv in (("base", args.base), ("new", args.new)):
        home = tempfile.mkdtemp(prefix=f"gov-daily-{name}-")
        env = {**base_env, "GOVERNOR_HOME": home, "HOME": home, "CLAUDE_CONFIG_DIR": args.corpus, "NO_COLOR": "1"}
        cmd = [os.path.join(venv, "bin", "governor"), "daily", "--json", "--tz", "UTC"]
        run(cmd, env)  # the cold build
        sides.append({"name": name, "env": env, "cmd": cmd, "home": home, "python": os.path.join(venv, "bin", "python"),
                      "daily": [], "bare": [], "out": set()})
    conn = sqlite3.connect(os.path.join(sides[1]["home"], "ledger.sqlite3"))
    buckets = conn.execute("SELECT COUNT(*) FROM (SELECT bucket * 300 / 900, model, long_context FROM usage_rollup"
                           " WHERE responses > 0 GROUP BY 1, 2, 3)").fetchone()[0]
    conn.close()
    for i in range(args.runs):
        for side in (sides if i % 2 == 0 else sides[::-1]):
            side["bare"].append(run([side["python"], "-c", "pass"], side["env"])[:2])
            wall, cpu, out = run(side["cmd"], side["env"])
            side["daily"].append((wall, cpu))
            side["out"].add(out)
    ccusage: list[float] = []
    if args.ccusage:
        cc_env = {**sides[1]["env"], "HOME": tempfile.mkdtemp(prefix="gov-daily-cc-")}
        for _ in range(args.ccusage_runs):
            ccusage.append(run([args.ccusage, "claude", "daily", "--json", "--offline", "-z", "UTC"], cc_env)[0])
            wall, cpu, out = run(sides[1]["cmd"], sides[1]["env"])
            sides[1]["daily"].append((wall, cpu))
            sides[1]["out"].add(out)
        shutil.rmtree(cc_env["HOME"], ignore_errors=True)
    print(f"machine: {machine()}; corpus {args.corpus}; runs {args.runs}; {buckets:,} priced buckets")
    print("| measure | base wall ms | new wall ms | wall ratio | base CPU ms | new CPU ms | CPU ratio |")
    print("|---|---|---|---|---|---|---|")
    for label, key in (("bare python -c pass", "bare"), ("daily --json (warm)", "daily")):
        b, n = (statistics.median(s[0] for s in side[key]) * 1000 for side in sides)
        bc, nc = (statistics.median(s[1] for s in side[key]) * 1000 for side in sides)
        print(f"| {label} | {b:.1f} | {n:.1f} | {n / b:.3f} | {bc:.1f} | {nc:.1f} | {nc / bc:.3f} |")
    if ccusage:
        new_wall = statistics.median(s[0] for s in sides[1]["daily"])
        cc = statistics.median(ccusage)
        print(f"\nccusage daily --json: {cc:.2f} s (runs {', '.join(f'{w:.2f}' for w in ccusage)}); NEW's median"
              f" {new_wall * 1000:.1f} ms = {new_wall / cc:.4f}x ccusage")
    outs = [side["out"] for side in sides]
    same = len(outs[0]) == 1 and outs[0] == outs[1]
    print(f"\noutputs byte-identical across sides and runs: {'yes' if same else 'NO'}")
    for side in sides:
        shutil.rmtree(side["home"], ignore_errors=True)


if __name__ == "__main__":
    main()
