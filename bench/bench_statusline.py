"""Warm `governor statusline` vs bare `python -c pass`, interleaved in one run.

    python bench/bench_statusline.py CORPUS_DIR [--runs 30] [--out bench/results-statusline.md]

CORPUS_DIR is a Claude config dir made by bench/gen_corpus.py (it holds projects/). The ledger is
built from it first (cold ingest, timed once), so the status line is measured warm, as Claude Code
runs it at every refresh: `python -m governor statusline` and the installed `hooks/statusline.py`,
a real status-line payload on stdin with `rate_limits` and this session's transcript_path.
Variants: governor alone, after one new turn, with a trivial `statusline.chain`, with a chain that
takes 150 ms (runs concurrently: ~max, not sum), and the same under `python -S`. Also times the
ledger update choices in-process and lists `python -S -X importtime` top entries.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import BARE, REPO, env_with, machine, median_ms, timed

STATUSLINE = [sys.executable, "-m", "governor", "statusline"]
SCRIPT = str(REPO / "hooks" / "statusline.py")  # what `governor install` writes as the statusLine command
SCRIPT_NAME = "installed script `python hooks/statusline.py` (warm)"
INGEST = ("from governor import paths; from governor.meter import db, ledger; "
          "ledger.ingest(db.connect(), paths.transcript_roots())")
SLOW_CHAIN_S = 0.15
PHASES = """
import json, statistics, sys, time
from governor.meter import budget_state, db, ledger, official
from governor import paths
from governor.statusline import run as sl
from governor.config import load_config
transcript, payload = sys.argv[1], json.loads(sys.argv[2])
conn, config, now = db.connect(), load_config(), time.time()
def t(fn, n=20):
    out = []
    for _ in range(n):
        s = time.perf_counter(); fn(); out.append(time.perf_counter() - s)
    return round(statistics.median(out) * 1000, 2)
def one():
    sl.ingest_session(conn, transcript)
def full():
    ledger.ingest(conn, paths.transcript_roots(), since=budget_state.cycle_start_for(config, conn, now), parallel=False)
print(json.dumps({
    "connect (open + schema check)": t(lambda: db.connect(busy_ms=250).close()),
    "update_ledger: captures + .claude.json + this session's files": t(
        lambda: sl.update_ledger(conn, payload, config, now)),
    "  of which this session's files (no new bytes)": t(one),
    "alternative: full incremental ledger.ingest (no new bytes)": t(full),
    "budget_state.compute": t(lambda: budget_state.compute(conn, config, now)),
    "codex_weekly": t(lambda: sl.codex_weekly(conn, config, now)),
}))
"""


def newest_transcript(corpus: Path) -> Path:
    files = [p for p in (corpus / "projects").glob("*/*.jsonl")]
    return max(files, key=lambda p: p.stat().st_mtime)


def private_config_dir(corpus: Path, root: Path) -> tuple[Path, Path, Path]:
    """A Claude config dir whose projects/ links the corpus's projects (left untouched) plus two copies of
    the newest session: one that stays as it is, one the benchmark appends turns to."""
    projects = root / "claude" / "projects"
    projects.mkdir(parents=True)
    for project in (corpus / "projects").iterdir():
        (projects / project.name).symlink_to(project)
    newest = newest_transcript(corpus)
    copies = []
    for name in ("-bench-live", "-bench-append"):
        (projects / name).mkdir()
        copies.append(Path(shutil.copy(newest, projects / name / newest.name)))
    return root / "claude", copies[0], copies[1]


def append_turn(path: Path, n: int) -> None:
    """One real-shaped turn: a user row and a two-block assistant response (as Claude Code writes it)."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    usage = {"input_tokens": 3, "cache_creation_input_tokens": 900, "cache_read_input_tokens": 120_000,
             "output_tokens": 400}
    rows: list[dict[str, Any]] = [{"type": "user", "sessionId": path.stem, "timestamp": stamp,
                                   "message": {"role": "user", "content": "go"}}]
    rows += [{"type": "assistant", "sessionId": path.stem, "timestamp": stamp, "requestId": f"req_sl_{n}",
              "message": {"id": f"msg_sl_{n}", "model": "claude-opus-4-5-20251101", "usage": usage,
                          "content": [{"type": "text", "text": "done"}]}, "apiBlockIndex": b} for b in (0, 1)]
    with path.open("a") as fh:
        fh.write("".join(json.dumps(r) + "\n" for r in rows))


def payload(transcript: Path) -> dict[str, Any]:
    now = time.time()
    return {
        "session_id": transcript.stem, "transcript_path": str(transcript), "cwd": "/home/dev/proj",
        "model": {"id": "claude-opus-4-5-20251101", "display_name": "Opus 4.5"}, "version": "2.1.328",
        "workspace": {"current_dir": "/home/dev/proj", "project_dir": "/home/dev/proj", "added_dirs": []},
        "cost": {"total_cost_usd": 1.23, "total_duration_ms": 900000, "total_api_duration_ms": 400000,
                 "total_lines_added": 120, "total_lines_removed": 30},
        "context_window": {"total_input_tokens": 182000, "total_output_tokens": 900, "context_window_size": 1000000,
                           "current_usage": {"input_tokens": 3, "output_tokens": 900,
                                             "cache_creation_input_tokens": 1997, "cache_read_input_tokens": 180000},
                           "used_percentage": 18, "remaining_percentage": 82},
        "exceeds_200k_tokens": False,
        "rate_limits": {"five_hour": {"used_percentage": 22, "resets_at": int(now + 7200)},
                        "seven_day": {"used_percentage": 61, "resets_at": int(now + 3 * 86400)}},
    }


def make_env(root: Path, corpus: Path, budget: dict | None) -> dict[str, str]:
    gov = root / "governor"
    gov.mkdir(parents=True, exist_ok=True)
    if budget is not None:
        (gov / "budget.json").write_text(json.dumps(budget))
    env = env_with(HOME=str(root / "home"), CLAUDE_CONFIG_DIR=str(corpus), GOVERNOR_HOME=str(gov),
                   CODEX_HOME=str(root / "codex"), XDG_STATE_HOME=str(root / "state"),
                   XDG_CONFIG_HOME=str(root / "config"), NO_COLOR="1")
    for key in ("GOVERNOR_DISABLE", "GOVERNOR_CONFIG", "FORCE_COLOR"):
        env.pop(key, None)
    return env


def import_top(env: dict[str, str], data: bytes, n: int = 15, runs: int = 5) -> list[tuple[str, int, int]]:
    """Modules `python -S -m governor statusline` loads beyond bare `python -S -c pass` (no site, so the
    sandbox's .pth imports hide nothing), median self/cumulative us over `runs` traces, top by cumulative."""
    def trace(cmd: list[str], stdin: bytes | None) -> dict[str, tuple[int, int]]:
        seen: dict[str, list[tuple[int, int]]] = {}
        for _ in range(runs):
            err = subprocess.run(cmd, env=env, input=stdin, capture_output=True).stderr.decode()
            for line in err.splitlines():
                m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|\s*(\S+)", line)
                if m:
                    seen.setdefault(m.group(3), []).append((int(m.group(1)), int(m.group(2))))
        return {k: sorted(v)[len(v) // 2] for k, v in seen.items()}

    bare = trace([sys.executable, "-S", "-X", "importtime", "-c", "pass"], None)
    ours = trace([sys.executable, "-S", "-X", "importtime", *STATUSLINE[1:]], data)
    extra = [(m, s, c) for m, (s, c) in ours.items() if m not in bare]
    return sorted(extra, key=lambda r: -r[2])[:n] + [("(sum of self times, all extra modules)",
                                                     sum(s for _m, s, _c in extra), 0)]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus", help="a Claude config dir holding projects/ (bench/gen_corpus.py)")
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--out", default=str(REPO / "bench" / "results-statusline.md"))
    args = ap.parse_args()
    corpus = Path(args.corpus).resolve()
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "governor")], check=True)
    tmp = Path(tempfile.mkdtemp(prefix="gov-bench-sl-"))
    try:
        claude, live, appended = private_config_dir(corpus, tmp)
        env = make_env(tmp / "a", claude, None)
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", INGEST], env=env, check=True)
        cold_s = time.perf_counter() - started
        data = json.dumps(payload(live)).encode()
        subprocess.run(STATUSLINE, env=env, input=data, check=True, capture_output=True)  # config cache, captures
        ledger_file = tmp / "a" / "governor" / "ledger.sqlite3"
        with sqlite3.connect(ledger_file) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            usage_rows = conn.execute("SELECT COUNT(*) FROM usage").fetchone()[0]

        def variant_env(name: str, budget: dict | None) -> dict[str, str]:
            venv = make_env(tmp / name, claude, budget)
            shutil.copy(ledger_file, tmp / name / "governor" / "ledger.sqlite3")
            return venv

        append_env, append_data = variant_env("append", None), json.dumps(payload(appended)).encode()
        variants: dict[str, tuple[list[str], dict[str, str], bytes | None]] = {
            BARE_NAME: (BARE, env, None),
            WARM: (STATUSLINE, env, data),
            APPENDED: (STATUSLINE, append_env, append_data),
            "governor statusline + chain `cat >/dev/null; echo prev`": (
                STATUSLINE, variant_env("chain1", {"statusline": {"chain": "cat >/dev/null; echo prev"}}), data),
            f"governor statusline + chain taking {SLOW_CHAIN_S * 1000:.0f} ms": (STATUSLINE, variant_env(
                "chain2", {"statusline": {"chain": f"cat >/dev/null; sleep {SLOW_CHAIN_S}; echo prev"}}), data),
            SCRIPT_NAME: ([sys.executable, SCRIPT], env, data),
            BARE_S: ([sys.executable, "-S", "-c", "pass"], env, None),
            WARM_S: ([sys.executable, "-S", *STATUSLINE[1:]], env, data),
            f"{SCRIPT_NAME} under `python -S`": ([sys.executable, "-S", SCRIPT], env, data),
        }
        for cmd, venv, stdin in variants.values():  # warm every state dir (config cache, captures)
            if stdin is not None:
                subprocess.run(cmd, env=venv, input=stdin, check=True, capture_output=True)
        out = subprocess.run(STATUSLINE, env=env, input=data, capture_output=True, check=True).stdout.decode()
        load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
        samples: dict[str, list[float]] = {name: [] for name in variants}
        order = list(variants)
        for run in range(args.runs):
            random.shuffle(order)
            for name in order:
                cmd, venv, stdin = variants[name]
                if name == APPENDED:
                    append_turn(appended, run)
                samples[name].append(timed(cmd, venv, stdin)[0])
        with sqlite3.connect(tmp / "append" / "governor" / "ledger.sqlite3") as conn:
            caught = conn.execute("SELECT COUNT(*) FROM usage WHERE key LIKE 'm:msg_sl_%'").fetchone()[0]
        assert caught == args.runs, f"the appended turns were not all ingested ({caught}/{args.runs})"
        phases = json.loads(subprocess.run([sys.executable, "-c", PHASES, str(live), data.decode()], env=env,
                                           capture_output=True, check=True, text=True).stdout)
        top = import_top(env, data)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    write(args, corpus, cold_s, usage_rows, out, load, samples, phases, top)
    return 0 if median_ms(samples[WARM]) <= 3 * median_ms(samples[BARE_NAME]) else 1


BARE_NAME = "bare `python -c pass`"
BARE_S = "bare `python -S -c pass`"
WARM = "governor statusline (warm)"
WARM_S = "governor statusline (warm) under `python -S`"
APPENDED = "governor statusline, one new turn in this session's transcript"
TITLE = """# governor statusline: warm cost per refresh

Claude Code runs the statusLine command after every assistant message (debounced 300 ms), so its
cost is paid constantly. Target: warm median <= 3x bare `python -c pass` on a 1 GB corpus.
One section per corpus; re-running a corpus replaces its section.
"""


def write(args: argparse.Namespace, corpus: Path, cold_s: float, usage_rows: int, out: str, load: str,
          samples: dict[str, list[float]], phases: dict[str, float], top: list[tuple[str, int, int]]) -> None:
    size = sum(p.stat().st_size for p in (corpus / "projects").rglob("*.jsonl"))
    bare = median_ms(samples[BARE_NAME])
    section = f"## Corpus {corpus}"
    lines = [section, "",
             f"Command: `python bench/bench_statusline.py {corpus} --runs {args.runs}`  ",
             f"Machine: {machine()}, load average at start {load}  ",
             f"Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}  ",
             f"Corpus: {size / 1e6:,.0f} MB of transcripts, {usage_rows:,} de-duplicated responses in the ledger "
             f"(cold ingest {cold_s:.1f} s, done first so the status line runs warm).  ",
             "Payload: a real status-line JSON with `rate_limits` and the newest transcript as transcript_path; "
             f"{args.runs} runs of each variant, interleaved in random order; wall time of each process.  ",
             f"Output: `{out.strip()}`", "",
             "| variant | median ms | ratio to bare | minus bare, ms |", "|---|---:|---:|---:|"]
    for name, values in samples.items():
        base = median_ms(samples[BARE_S]) if "-S" in name else bare
        ms = median_ms(values)
        lines.append(f"| {name} | {ms:.1f} | {ms / base:.2f}x | {ms - base:+.1f} |")
    ratio = median_ms(samples[WARM]) / bare
    ratio_s = median_ms(samples[WARM_S]) / median_ms(samples[BARE_S])
    ratio_script = median_ms(samples[SCRIPT_NAME]) / bare
    ratio_script_s = median_ms(samples[f"{SCRIPT_NAME} under `python -S`"]) / median_ms(samples[BARE_S])
    lines += ["", "`-S` rows are against bare `python -S -c pass` (no site: this sandbox's .pth files import "
              "certifi at every start, which inflates plain bare python); the closer estimate for a clean install.",
              "", f"Target: warm ≤ 3× bare python. Against this sandbox's bare python: **{ratio:.2f}x** "
              f"({'met' if ratio <= 3 else 'NOT met'}). Against bare `python -S` (the clean-install estimate, close "
              f"to DESIGN.md's ~15 ms bare): **{ratio_s:.2f}x** ({'met' if ratio_s <= 3 else 'NOT met'}): the "
              "floor is the stdlib the shared hot-path modules import (dataclasses → inspect/re/enum, typing, "
              "sqlite3, json, datetime, zoneinfo), see the import table; governor's own statusline work is the "
              "few ms in the phase table.", "",
              f"The installed script (no runpy, no argparse, `os._exit` skips teardown): {ratio_script:.2f}x, "
              f"under `-S` {ratio_script_s:.2f}x.",
              "", "In-process phases (median of 20, ms):", "", "| phase | ms |", "|---|---:|"]
    lines += [f"| {name} | {ms} |" for name, ms in phases.items()]
    lines += ["", "`python -S -X importtime -m governor statusline`: modules beyond bare `python -S -c pass`, top by "
              "cumulative (median of 5 traces, microseconds):", "", "| module | self us | cumulative us |",
              "|---|---:|---:|"]
    lines += [f"| {m} | {s} | {c} |" for m, s, c in top]
    text = "\n".join(lines)
    print(text)
    out_path = Path(args.out)
    old = out_path.read_text() if out_path.exists() else TITLE
    kept = re.sub(rf"{re.escape(section)}\n.*?(?=\n## |\Z)", "", old, flags=re.S).strip()
    out_path.write_text(kept + "\n\n" + text + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
