"""Two installed governors side by side: the warm prompt hook, its once-a-minute full scan, the warm status
line, the PostToolBatch run check with a check due, and a cold build, each run alternately (A B, then B A)
so that load on the machine falls on both alike.

    env -u PYTHONDONTWRITEBYTECODE python bench/bench_ab.py BASE_VENV NEW_VENV CORPUS_DIR [--runs 21] [--cold-runs 5]
        [--codex-home DIR] [--all-windows]

With --codex-home (a Codex home, e.g. from bench/gen_codex_corpus.py; read only) both sides see those
rollouts, and a hand-off-class prompt is measured too (the router reads the Codex lane).

--all-windows: the status line's rate_limits carry the 5-hour window too, and CORPUS_DIR/.claude.json (written,
and removed after) holds a fresh cachedUsageUtilization with a Sonnet-only week, an Opus week in limits[] and
extra usage: every window governor knows is live on both sides.

A venv is a directory with bin/python and governor installed in it (not editable: time what users run). The
hooks and the status line run as the command lines `governor install` would write for that venv (with its
interpreter flags, e.g. -S); "bare python -S -c pass" is shown beside bare `python -c pass`, which the ratios use.
Prints, per measure, the medians of wall and CPU time (user + system of the child and its workers) for
each side and the ratio NEW / BASE; CPU time is the steadier figure on a shared machine. A second table
gives each side's medians over its own bare `python -c pass` measured in the same run (the hook targets).
Per iteration and side: the full scan first (the ledger's last-full-scan stamp cleared, so the prompt hook
re-reads every transcript's stat as it does once a minute), then the warm runs, which therefore read only
the session's files. A governor whose hook leaves the full scan to a detached process after its reply
(guards.background_scan) is waited for before the next run, and that process's own cost is measured as
"full scan, detached process" (the stamp cleared again, the scan run directly): what the machine pays once
a minute, off the person's path.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shlex
import shutil
import sqlite3
import statistics
import subprocess
import tempfile
import time
from typing import Any

from bench_hooks import newest_transcript
from bench_ledger import append_turn
from common import machine


def site_hooks(venv: str) -> str:
    out = subprocess.run([os.path.join(venv, "bin", "python"), "-c",
                          "import governor._hooks, os; print(os.path.dirname(governor._hooks.__file__))"],
                         capture_output=True, text=True, check=True, cwd="/")
    return out.stdout.strip()


def installed_commands(venv: str) -> dict[str, list[str]]:
    """The hook and status-line command lines `governor install` would write for this venv, as argv
    (the interpreter flags it chose included): what Claude Code runs."""
    out = subprocess.run([os.path.join(venv, "bin", "python"), "-c",
                          "import json; from governor.wiring import installer; w = installer.claude_wiring(); "
                          "print(json.dumps({**{e: g['hooks'][0]['command'] for e, g in w.groups.items()}, "
                          "'statusLine': w.status_line}))"], capture_output=True, text=True, check=True, cwd="/")
    return {event: shlex.split(command, comments=True) for event, command in json.loads(out.stdout).items()}


def run(cmd: list[str], env: dict[str, str], stdin: bytes | None = None) -> tuple[float, float]:
    """(wall s, CPU s) of one run; raises if it fails."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, input=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd="/")
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[:2]} failed: {proc.stderr.decode()[-500:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


class Side:
    def __init__(self, name: str, venv: str, corpus: str, codex_home: str | None = None) -> None:
        self.name, self.python = name, os.path.join(venv, "bin", "python")
        self.governor = os.path.join(venv, "bin", "governor")
        self.hooks = site_hooks(venv)
        self.commands = installed_commands(venv)
        self.home = tempfile.mkdtemp(prefix=f"gov-ab-{name}-")
        base = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "GOVERNOR_HOME")}
        self.env = {**base, "GOVERNOR_HOME": self.home, "CLAUDE_CONFIG_DIR": corpus, "HOME": self.home,
                    "NO_COLOR": "1"}
        if codex_home:
            self.env["CODEX_HOME"] = codex_home
        self.samples: dict[str, list[tuple[float, float]]] = {}
        self.detached_scan = os.path.exists(os.path.join(os.path.dirname(self.hooks), "guards", "background_scan.py"))

    def measure(self, label: str, cmd: list[str], stdin: bytes | None = None,
                env: dict[str, str] | None = None) -> None:
        self.samples.setdefault(label, []).append(run(cmd, env or self.env, stdin))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("base")
    ap.add_argument("new")
    ap.add_argument("corpus")
    ap.add_argument("--runs", type=int, default=21)
    ap.add_argument("--cold-runs", type=int, default=5)
    ap.add_argument("--codex-home")
    ap.add_argument("--all-windows", action="store_true")
    args = ap.parse_args()
    sides = [Side("base", args.base, args.corpus, args.codex_home), Side("new", args.new, args.corpus, args.codex_home)]
    transcript = newest_transcript(args.corpus)
    prompt = json.dumps({"session_id": "bench-session", "transcript_path": transcript, "cwd": "/home/dev/proj",
                         "hook_event_name": "UserPromptSubmit", "prompt": "add a docstring to utils.py",
                         "permission_mode": "default"}).encode()
    handoff = json.dumps({**json.loads(prompt), "prompt": "refactor the auth module across all call sites"}).encode()
    batch = json.dumps({"session_id": "bench-session", "transcript_path": transcript, "cwd": "/home/dev/proj",
                        "prompt_id": "p", "permission_mode": "default", "hook_event_name": "PostToolBatch",
                        "tool_calls": [{"tool_name": "Bash", "tool_input": {"command": "echo hi"},
                                        "tool_use_id": "toolu_bench", "tool_response": "hi"}]}).encode()
    rate_limits: dict[str, Any] = {"seven_day": {"used_percentage": 41, "resets_at": time.time() + 3 * 86400}}
    claude_json = os.path.join(args.corpus, ".claude.json")
    if args.all_windows:
        rate_limits["five_hour"] = {"used_percentage": 22, "resets_at": time.time() + 3 * 3600}
        write_claude_json(claude_json)
    status = json.dumps({"session_id": "bench-session", "transcript_path": transcript, "rate_limits": rate_limits,
                         "context_window": {"current_usage": {"input_tokens": 9, "cache_read_input_tokens": 90_000}}
                         }).encode()
    for order in range(args.cold_runs):  # cold builds: an empty ledger each time
        for side in (sides if order % 2 == 0 else sides[::-1]):
            cold_home = tempfile.mkdtemp(prefix="gov-ab-cold-")
            side.measure("cold build (daily --json)", [side.governor, "daily", "--json", "--tz", "UTC"],
                         env={**side.env, "GOVERNOR_HOME": cold_home})
            shutil.rmtree(cold_home)
    for side in sides:  # the ledgers the warm runs use, built as `governor install` does
        run([side.governor, "daily", "--json"], side.env)
        run(side.commands["UserPromptSubmit"], side.env, prompt)
    for i in range(args.runs):
        append_turn(args.corpus, 20_000 + i)  # each side reads the same new turn
        for side in (sides if i % 2 == 0 else sides[::-1]):
            side.measure("bare python -c pass", [side.python, "-c", "pass"])
            side.measure("bare python -S -c pass (no site module)", [side.python, "-S", "-c", "pass"])
            expire_full_scan(side.home)
            side.measure("prompt hook (full scan)", side.commands["UserPromptSubmit"],
                         prompt)
            if side.detached_scan:
                wait_for_scan(side.home)
                expire_full_scan(side.home)
                side.measure("full scan, detached process", [side.python, "-c", DETACHED_SCAN])
            side.measure("prompt hook (warm)", side.commands["UserPromptSubmit"],
                         prompt)
            side.measure("status line (warm)", side.commands["statusLine"], status)
            if args.codex_home:
                side.measure("prompt hook, hand-off prompt (warm)",
                             side.commands["UserPromptSubmit"], handoff)
            expire_run_check(side.home)
            side.measure("run check due (PostToolBatch)", side.commands["PostToolBatch"],
                         batch)
    print(f"machine: {machine()}; runs {args.runs}, cold runs {args.cold_runs}; corpus {args.corpus}")
    print("| measure | base wall ms | new wall ms | wall ratio | base CPU ms | new CPU ms | CPU ratio |")
    print("|---|---|---|---|---|---|---|")
    for label in [label for label in sides[1].samples if label in sides[0].samples]:
        b, n = (statistics.median(s[0] for s in side.samples[label]) * 1000 for side in sides)
        bc, nc = (statistics.median(s[1] for s in side.samples[label]) * 1000 for side in sides)
        print(f"| {label} | {b:.1f} | {n:.1f} | {n / b:.3f} | {bc:.1f} | {nc:.1f} | {nc / bc:.3f} |")
    print("\n| measure | base × bare (wall) | new × bare (wall) | base × bare (CPU) | new × bare (CPU) |")
    print("|---|---|---|---|---|")
    for label in [*sides[1].samples, *(label for label in sides[0].samples if label not in sides[1].samples)]:
        if label.startswith("cold") or label.startswith("bare"):
            continue
        cells = []
        for k in (0, 1):
            for side in sides:
                bare = statistics.median(s[k] for s in side.samples["bare python -c pass"])
                mine = side.samples.get(label)
                cells.append(f"{statistics.median(s[k] for s in mine) / bare:.2f}×" if mine else "–")
        print(f"| {label} | " + " | ".join(cells) + " |")
    for side in sides:
        shutil.rmtree(side.home, ignore_errors=True)
    if args.all_windows:
        os.unlink(claude_json)


def write_claude_json(path: str) -> None:
    """A fresh cachedUsageUtilization as Claude Code 2.1.328 keeps it (its fetch time is refreshed per run)."""
    from datetime import datetime, timezone

    def iso(seconds: float) -> str:
        return datetime.fromtimestamp(time.time() + seconds, timezone.utc).isoformat()

    body = {"five_hour": {"utilization": 22.0, "resets_at": iso(3 * 3600)},
            "seven_day": {"utilization": 41.0, "resets_at": iso(3 * 86400)},
            "seven_day_sonnet": {"utilization": 30.0, "resets_at": iso(2 * 86400)}, "seven_day_opus": None,
            "extra_usage": {"is_enabled": True, "monthly_limit": 5000, "used_credits": 1240, "utilization": 24.8,
                            "currency": "USD"},
            "limits": [{"kind": "weekly_scoped", "group": "weekly", "percent": 12, "resets_at": iso(4 * 86400),
                        "severity": "normal", "is_active": False, "scope": {"model": {"display_name": "Opus"}}}]}
    with open(path, "w") as fh:
        json.dump({"cachedUsageUtilization": {"fetchedAtMs": int(time.time() * 1000), "utilization": body}}, fh)


def expire_full_scan(home: str) -> None:
    """The next prompt hook re-scans every transcript, as it does once a minute."""
    conn = sqlite3.connect(os.path.join(home, "ledger.sqlite3"), timeout=10)
    conn.execute("UPDATE meta SET value='0' WHERE key='claude_last_full_scan'")
    conn.commit()
    conn.close()


DETACHED_SCAN = "from governor.guards import background_scan as b; b.main('bench')"


def wait_for_scan(home: str, seconds: float = 120) -> None:
    """Until the hook's detached full scan has let go of its lock."""
    import fcntl

    path = os.path.join(home, "locks", "full-scan.lock")
    if not os.path.exists(path):
        return
    fd = os.open(path, os.O_RDWR)
    deadline = time.monotonic() + seconds
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                fcntl.flock(fd, fcntl.LOCK_UN)
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("the detached full scan did not finish") from None
                time.sleep(0.005)
    finally:
        os.close(fd)


def expire_run_check(home: str) -> None:
    """The session's run-check stamp says a check is due."""
    os.makedirs(os.path.join(home, "runs"), exist_ok=True)
    with open(os.path.join(home, "runs", "bench-session"), "w") as fh:
        fh.write("0")


if __name__ == "__main__":
    main()
