"""What the hot paths import in their steady state, from `-X importtime` of the installed scripts.

    env -u PYTHONDONTWRITEBYTECODE python bench/bench_importtime.py VENV CORPUS_DIR [--runs 7] [--top 0]

VENV is a non-editable install (time what users run); CORPUS_DIR a Claude config dir from gen_corpus.py.
A ledger is built from it first; then, per hot path (the prompt hook, the status line, the PostToolBatch
run check with a check due), one warm-up run and RUNS measured ones, each after one appended turn. Prints,
per path, the number of modules imported, the sum of their self times (each module's minimum over the runs,
so load on the machine inflates it less), and the cumulative time of the stdlib modules issue 21 is about
(absent = not imported). --top N lists the N modules with the largest self time too.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import subprocess
import tempfile
import time

from bench_hooks import newest_transcript
from bench_ledger import append_turn
from common import machine

WATCH = ("typing", "json", "re", "enum", "contextlib", "datetime", "sqlite3")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("venv")
    ap.add_argument("corpus")
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--top", type=int, default=0)
    args = ap.parse_args()
    python = os.path.join(args.venv, "bin", "python")
    hooks = glob.glob(os.path.join(args.venv, "lib", "python3*", "site-packages", "governor", "_hooks"))[0]
    home = tempfile.mkdtemp(prefix="gov-imports-")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "GOVERNOR_HOME")}
    env.update(GOVERNOR_HOME=home, CLAUDE_CONFIG_DIR=args.corpus, HOME=home, NO_COLOR="1")
    subprocess.run([os.path.join(args.venv, "bin", "governor"), "daily", "--json"], env=env, check=True,
                   stdout=subprocess.DEVNULL, cwd="/")
    transcript = newest_transcript(args.corpus)
    base = {"session_id": "bench-session", "transcript_path": transcript, "cwd": "/home/dev/proj",
            "permission_mode": "default"}
    paths = {
        "prompt hook": ("user_prompt_submit.py", {**base, "hook_event_name": "UserPromptSubmit",
                                                  "prompt": "add a docstring to utils.py"}),
        "status line": ("statusline.py", {**base, "rate_limits": {"seven_day": {
            "used_percentage": 41, "resets_at": time.time() + 3 * 86400}}, "context_window": {
            "current_usage": {"input_tokens": 9, "cache_read_input_tokens": 90_000}}}),
        "run check due": ("post_tool_batch.py", {**base, "hook_event_name": "PostToolBatch", "prompt_id": "p",
                                                 "tool_calls": [{"tool_name": "Bash", "tool_input": {"command": "true"},
                                                                 "tool_use_id": "t", "tool_response": ""}]}),
    }
    print(f"machine: {machine()}; venv {args.venv}; corpus {args.corpus}; runs {args.runs}\n")
    print("| path | modules | sum of self times | " + " | ".join(WATCH) + " |")
    print("|---|---|---|" + "---|" * len(WATCH))
    tops = []
    for label, (script, payload) in paths.items():
        data = json.dumps(payload).encode()
        best: dict[str, tuple[int, int]] = {}
        for i in range(args.runs + 1):
            os.makedirs(os.path.join(home, "runs"), exist_ok=True)
            with open(os.path.join(home, "runs", "bench-session"), "w") as fh:
                fh.write("0")  # a run check is due
            append_turn(args.corpus, 30_000 + i)
            proc = subprocess.run([python, "-X", "importtime", os.path.join(hooks, script)], input=data, env=env,
                                  capture_output=True, cwd="/", check=True)
            if i == 0:
                continue  # the warm-up: config cache, the full scan
            for line in proc.stderr.decode().splitlines():
                if not line.startswith("import time:") or "self [us]" in line:
                    continue
                self_us, cumulative, name = line[len("import time:"):].split("|")
                name = name.strip()
                old = best.get(name, (10**12, 10**12))
                best[name] = (min(old[0], int(self_us)), min(old[1], int(cumulative)))
        total = sum(s for s, _c in best.values()) / 1000
        cells = [f"{best[m][1] / 1000:.1f} ms" if m in best else "—" for m in WATCH]
        print(f"| {label} | {len(best)} | {total:.1f} ms | " + " | ".join(cells) + " |")
        tops.append((label, sorted(best.items(), key=lambda kv: -kv[1][0])[:args.top]))
    for label, top in tops:
        if top:
            print(f"\n{label}: " + ", ".join(f"{name} {s / 1000:.2f}" for name, (s, _c) in top))
    shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
