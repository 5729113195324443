"""The installed status line in a clean venv vs that venv's bare `python -c pass`, interleaved.

    python bench/bench_statusline_venv.py VENV_PYTHON STATUSLINE_SCRIPT CORPUS_DIR [--runs 31]

VENV_PYTHON: a venv made with `pip install .` (no .pth files, compiled bytecode: what users run);
STATUSLINE_SCRIPT: its site-packages/governor/_hooks/statusline.py. The ledger is built first, then each
sample renders the line for a real status-line payload (with rate_limits) for the newest transcript.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile

from bench_hooks import newest_transcript
from bench_ledger import INGEST
from common import env_with, machine, median_ms, timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("python")
    parser.add_argument("script")
    parser.add_argument("corpus")
    parser.add_argument("--runs", type=int, default=31)
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="gov-sl-")
    env = env_with(GOVERNOR_HOME=home, CLAUDE_CONFIG_DIR=args.corpus, NO_COLOR="1")
    timed([sys.executable, "-c", INGEST], env)
    env.pop("PYTHONPATH")
    transcript = newest_transcript(args.corpus)
    payload = json.dumps({
        "session_id": "bench-session", "transcript_path": transcript, "cwd": "/home/dev/proj",
        "model": {"id": "claude-opus-4-5", "display_name": "Opus 4.5"}, "version": "2.1.328",
        "context_window": {"current_usage": {"input_tokens": 1200, "cache_creation_input_tokens": 2000,
                                             "cache_read_input_tokens": 179000, "output_tokens": 50}},
        "rate_limits": {"five_hour": {"used_percentage": 22, "resets_at": 4102444800},
                        "seven_day": {"used_percentage": 61, "resets_at": 4102444800}},
    }).encode()
    timed([args.python, args.script], env, payload)
    bare, line = [], []
    for _ in range(args.runs):
        bare.append(timed([args.python, "-c", "pass"], env)[0])
        line.append(timed([args.python, args.script], env, payload)[0])
    shutil.rmtree(home, ignore_errors=True)
    b, s = median_ms(bare), median_ms(line)
    print(f"machine: {machine()}; {args.python}\n")
    print("| corpus | bare python | status line | ratio |\n|---|---|---|---|")
    print(f"| {args.corpus} | {b:.1f} ms | {s:.1f} ms | {s / b:.2f}× |")


if __name__ == "__main__":
    main()
