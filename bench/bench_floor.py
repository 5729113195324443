"""The cold build against its floor: a Python loop that only finds the lines carrying `"usage"`.

    env -u PYTHONDONTWRITEBYTECODE python bench/bench_floor.py CORPUS_DIR --python VENV/bin/python [--runs 5]

The floor reads every transcript under CORPUS_DIR/projects in 16 MB blocks (as governor's tail does), splits
the lines and counts those holding `"usage"`, nothing else, in one process. The cold build is
`governor daily --json --tz UTC` of VENV (a non-editable install) on an empty ledger (every transcript
read, parsed, de-duplicated and stored, the roll-ups and indexes built, the report printed). Both run
alternately, each as a fresh process of the same interpreter; the table gives the medians of wall and CPU
time (user + system of the child and its workers) and their ratios.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import tempfile
import time

from common import machine

FLOOR = r'''
import os, sys
BLOCK = 16 * 1024 * 1024
n = 0
for dirpath, _dirs, files in os.walk(os.path.join(sys.argv[1], "projects")):
    for name in files:
        if not name.endswith(".jsonl"):
            continue
        with open(os.path.join(dirpath, name), "rb") as fh:
            carry = b""
            while True:
                chunk = fh.read(BLOCK)
                if not chunk:
                    break
                data = carry + chunk
                cut = data.rfind(b"\n")
                carry = data[cut + 1:]
                for line in data[:cut + 1].split(b"\n"):
                    if b'"usage"' in line:
                        n += 1
print(n)
'''


def run(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, check=True, cwd="/")
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus")
    ap.add_argument("--python", required=True)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    governor = os.path.join(os.path.dirname(args.python), "governor")
    base = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "GOVERNOR_HOME")}
    floor, cold = [], []
    for i in range(args.runs):
        home = tempfile.mkdtemp(prefix="gov-floor-")
        env = {**base, "GOVERNOR_HOME": home, "HOME": home, "CLAUDE_CONFIG_DIR": args.corpus, "NO_COLOR": "1"}
        pair = [("floor", [args.python, "-c", FLOOR, args.corpus]),
                ("cold", [governor, "daily", "--json", "--tz", "UTC"])]
        for name, cmd in (pair if i % 2 == 0 else pair[::-1]):
            (floor if name == "floor" else cold).append(run(cmd, env))
        shutil.rmtree(home, ignore_errors=True)
    print(f"machine: {machine()}; corpus {args.corpus}; runs {args.runs}")
    print("| measure | floor | cold build | ratio |")
    print("|---|---|---|---|")
    for k, label in ((0, "wall s"), (1, "CPU s")):
        f = statistics.median(s[k] for s in floor)
        c = statistics.median(s[k] for s in cold)
        print(f"| {label} | {f:.2f} | {c:.2f} | {c / f:.2f}× |")


if __name__ == "__main__":
    main()
