"""UserPromptSubmit hook benchmark: warm hook wall time vs bare `python -c pass`, interleaved.

    python bench/bench_hooks.py CORPUS_DIR [CORPUS_DIR ...] [--runs 21]

Each CORPUS_DIR is a Claude config dir made by bench/gen_corpus.py. The ledger is built once (as
`governor install` does), then each sample appends one real-shaped turn to the newest transcript
and runs hooks/user_prompt_submit.py with a real payload, exactly as Claude Code would. The ratio is the
median hook wall over the median bare-interpreter wall measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile

from bench_ledger import INGEST, append_turn, corpus_size
from common import BARE, REPO, env_with, machine, median_ms, timed

HOOK = str(REPO / "hooks" / "user_prompt_submit.py")


def newest_transcript(corpus: str) -> str:
    return max(
        (
            os.path.join(d, f)
            for d, _, fs in os.walk(os.path.join(corpus, "projects"))
            for f in fs
            if f.endswith(".jsonl") and "subagents" not in d
        ),
        key=os.path.getmtime,
    )


def bench(corpus: str, runs: int, prompt: str, python: str, hook_script: str) -> dict:
    home = tempfile.mkdtemp(prefix="gov-hook-")
    env = env_with(GOVERNOR_HOME=home, CLAUDE_CONFIG_DIR=corpus)
    env.pop("PYTHONPATH")  # the hook script finds the package itself, as installed commands do
    transcript = newest_transcript(corpus)
    payload = json.dumps(
        {
            "session_id": "bench-session",
            "transcript_path": transcript,
            "cwd": "/home/dev/proj",
            "hook_event_name": "UserPromptSubmit",
            "prompt_id": "p",
            "permission_mode": "default",
            "prompt": prompt,
        }
    ).encode()
    build_env = env_with(GOVERNOR_HOME=home, CLAUDE_CONFIG_DIR=corpus)  # as `governor install` does it
    cold = timed([sys.executable, "-c", INGEST], build_env)[0]
    timed([python, hook_script], env, payload)  # first prompt: the once-a-minute full scan starts fresh
    bare, hook = [], []
    for i in range(runs):
        bare.append(timed([python, *BARE[1:]], env)[0])
        append_turn(corpus, 10_000 + i)
        hook.append(timed([python, hook_script], env, payload)[0])
    shutil.rmtree(home, ignore_errors=True)
    return {"size_mb": corpus_size(corpus) / 1e6, "cold_s": cold, "bare_ms": median_ms(bare),
            "hook_ms": median_ms(hook)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpora", nargs="+")
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--prompt", default="add a docstring to utils.py")
    parser.add_argument("--python", default=sys.executable,
                        help="interpreter of an installed governor (a venv made with `pip install .`)")
    parser.add_argument("--hook", default=HOOK, help="the hook script to run (default: the checkout's)")
    args = parser.parse_args()
    print(f"machine: {machine()}; interpreter {args.python}; hook {args.hook}\n")
    print("| corpus | size | ledger build (install) | bare python | warm hook | ratio |")
    print("|---|---|---|---|---|---|")
    for corpus in args.corpora:
        r = bench(corpus, args.runs, args.prompt, args.python, args.hook)
        print(
            f"| {os.path.basename(corpus)} | {r['size_mb']:,.0f} MB | {r['cold_s']:.1f} s | {r['bare_ms']:.1f} ms | "
            f"{r['hook_ms']:.1f} ms | {r['hook_ms'] / r['bare_ms']:.2f}× |",
            flush=True,
        )


if __name__ == "__main__":
    main()
