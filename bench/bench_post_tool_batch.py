"""PostToolBatch hook benchmark: one model step of a long run, vs bare `python -c pass`, interleaved.

    python bench/bench_post_tool_batch.py CORPUS_DIR --python VENV/bin/python [--runs 21]

VENV is a non-editable `pip install <checkout>`; the hook run is the installed script
(site-packages/governor/_hooks/post_tool_batch.py), as `governor install` wires it. Two cases:
- no check due: the session's stamp says the next check is an hour away (most steps of a run);
- check due: the stamp has expired, one real-shaped turn was appended to the session's transcript, and the
  hook runs the whole check (incremental ingest, budget state, the run's facts) on a ledger built from
  CORPUS_DIR (a Claude config dir made by bench/gen_corpus.py), as `governor install` builds it.
The ratio is the median hook wall over the median bare-interpreter wall measured in the same run. The
installed UserPromptSubmit hook runs interleaved too, as the reference: the check does its ingest.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import sys
import tempfile
import time

from bench_hooks import newest_transcript
from bench_ledger import INGEST, append_turn, corpus_size
from common import REPO, env_with, machine, median_ms, timed

SESSION = "bench-session"


def installed_hook(python: str) -> str:
    prefix = os.path.dirname(os.path.dirname(python))
    found = glob.glob(os.path.join(prefix, "lib", "python3*", "site-packages", "governor", "_hooks",
                                   "post_tool_batch.py"))
    if not found or str(REPO) in found[0]:
        raise SystemExit(f"no installed governor under {prefix}: pip install {REPO} (not -e) into a venv")
    return found[0]


def stamp(home: str, due_at: float) -> None:
    os.makedirs(os.path.join(home, "runs"), exist_ok=True)
    with open(os.path.join(home, "runs", SESSION), "w") as fh:
        fh.write(f"{due_at:.3f}")


def bench(corpus: str, runs: int, python: str) -> dict:
    home = tempfile.mkdtemp(prefix="gov-batch-")
    hook = installed_hook(python)
    env = {k: v for k, v in env_with(GOVERNOR_HOME=home, CLAUDE_CONFIG_DIR=corpus).items() if k != "PYTHONPATH"}
    transcript = newest_transcript(corpus)
    payload = json.dumps({
        "session_id": SESSION, "transcript_path": transcript, "cwd": "/home/dev/proj", "prompt_id": "p",
        "permission_mode": "default", "effort": {"level": "medium"}, "hook_event_name": "PostToolBatch",
        "tool_calls": [{"tool_name": "Bash", "tool_input": {"command": "echo hi", "description": "echo"},
                        "tool_use_id": "toolu_bench", "tool_response": "hi"}],
    }).encode()
    cold = timed([sys.executable, "-c", INGEST], env_with(GOVERNOR_HOME=home, CLAUDE_CONFIG_DIR=corpus))[0]
    stamp(home, 0)
    timed([python, hook], env, payload)  # the first check: config cache, the full scan's meta stamp
    prompt_hook = os.path.join(os.path.dirname(hook), "user_prompt_submit.py")
    prompt = json.dumps({"session_id": SESSION, "transcript_path": transcript, "cwd": "/home/dev/proj",
                         "hook_event_name": "UserPromptSubmit", "prompt_id": "p", "permission_mode": "default",
                         "prompt": "add a docstring to utils.py"}).encode()
    bare, idle, due, prompted = [], [], [], []
    for i in range(runs):
        bare.append(timed([python, "-c", "pass"], env)[0])
        stamp(home, time.time() + 3600)
        idle.append(timed([python, hook], env, payload)[0])
        append_turn(corpus, 20_000 + i)
        stamp(home, 0)
        due.append(timed([python, hook], env, payload)[0])
        append_turn(corpus, 40_000 + i)
        prompted.append(timed([python, prompt_hook], env, prompt)[0])  # the reference: the same ingest per prompt
    shutil.rmtree(home, ignore_errors=True)
    return {"size_mb": corpus_size(corpus) / 1e6, "cold_s": cold, "bare_ms": median_ms(bare),
            "idle_ms": median_ms(idle), "due_ms": median_ms(due), "prompt_ms": median_ms(prompted)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpora", nargs="+")
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--python", required=True, help="interpreter of a venv with `pip install <checkout>`")
    args = parser.parse_args()
    print(f"machine: {machine()}; interpreter {args.python}; hook {installed_hook(args.python)}\n")
    print("| corpus | size | ledger build | bare python | no check due | ratio | check due | ratio |"
          " UserPromptSubmit (reference) | ratio |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for corpus in args.corpora:
        r = bench(corpus, args.runs, args.python)
        print(f"| {os.path.basename(corpus)} | {r['size_mb']:,.0f} MB | {r['cold_s']:.1f} s | {r['bare_ms']:.1f} ms | "
              f"{r['idle_ms']:.1f} ms | {r['idle_ms'] / r['bare_ms']:.2f}× | {r['due_ms']:.1f} ms | "
              f"{r['due_ms'] / r['bare_ms']:.2f}× | {r['prompt_ms']:.1f} ms | {r['prompt_ms'] / r['bare_ms']:.2f}× |",
              flush=True)


if __name__ == "__main__":
    main()
