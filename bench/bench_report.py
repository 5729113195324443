"""`governor report` on a big ledger: wall time and file size, against `governor status --json` (the same
refresh of the ledger plus the status build) measured interleaved in the same run.

    env -u PYTHONDONTWRITEBYTECODE python bench/bench_report.py CORPUS_DIR --python VENV/bin/python [--runs 7]

CORPUS_DIR is what bench/gen_corpus.py wrote (it holds projects/); generate it with --days 2 or so, so the
whole corpus falls inside the current weekly cycle and every chart has data. The ledger is built once
(cold, reported) in a temporary GOVERNOR_HOME; the user's files are never touched.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine, timed  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus")
    parser.add_argument("--python", default=sys.executable, help="the interpreter governor is installed in")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    corpus = Path(args.corpus).resolve()
    size_mb = sum(p.stat().st_size for p in corpus.rglob("*.jsonl")) / 1e6
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        env.update(HOME=str(home), GOVERNOR_HOME=str(home / "governor"), CODEX_HOME=str(home / ".codex"),
                   CLAUDE_CONFIG_DIR=str(corpus), XDG_STATE_HOME=str(home / "state"),
                   XDG_CONFIG_HOME=str(home / "config"), NO_COLOR="1")
        governor = [args.python, "-m", "governor"]
        cold, _ = timed([*governor, "daily", "--json"], env)
        out = Path(tmp) / "report.html"
        report_s, status_s = [], []
        for _ in range(args.runs):  # paired and interleaved: machine noise hits both alike
            status_s.append(timed([*governor, "status", "--json"], env)[0])
            report_s.append(timed([*governor, "report", "--html", str(out)], env)[0])
        ledger_mb = (home / "governor" / "ledger.sqlite3").stat().st_size / 1e6 if (
            home / "governor" / "ledger.sqlite3").exists() else float("nan")
        html_mb = out.stat().st_size / 1e6
    print(f"machine: {machine()}")
    print(f"corpus {corpus} {size_mb:,.0f} MB of transcripts; ledger {ledger_mb:,.1f} MB; cold build {cold:.2f} s")
    print("| runs | report median | status --json median | report − status | report file |")
    print("|---|---|---|---|---|")
    rep, st = statistics.median(report_s), statistics.median(status_s)
    print(f"| {args.runs} | {rep:.2f} s | {st:.2f} s | {rep - st:+.2f} s | {html_mb:.2f} MB |")
    print("report runs (s): " + ", ".join(f"{s:.2f}" for s in report_s))
    print("status runs (s): " + ", ".join(f"{s:.2f}" for s in status_s))


if __name__ == "__main__":
    main()
