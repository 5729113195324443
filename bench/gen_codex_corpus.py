"""Generate a Codex home of rollouts for benchmarks: N rollouts (0.169.0 shape, one to five turns each)
spread over D days in sessions/YYYY/MM/DD, as Codex files them. Deterministic for a given --seed.

    python bench/gen_codex_corpus.py OUT_DIR [--rollouts 300] [--days 60] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time
import uuid


def line(stamp: float, kind: str, payload: dict[str, object]) -> str:
    when = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(stamp)) + f".{int(stamp % 1 * 1000):03d}Z"
    return json.dumps({"timestamp": when, "type": kind, "payload": payload}) + "\n"


def rollout(rng: random.Random, start: float, thread: str) -> str:
    out = [line(start, "session_meta", {"id": thread, "source": "exec", "cli_version": "0.169.0",
                                        "base_instructions": {"text": "x" * 4000}})]
    total = [0, 0, 0, 0]
    at = start
    for turn in range(rng.randint(1, 5)):
        at += rng.uniform(5, 600)
        out.append(line(at, "event_msg", {"type": "task_started", "turn_id": f"t{turn}", "started_at": int(at)}))
        out.append(line(at, "turn_context", {"turn_id": f"t{turn}", "model": "gpt-5.2-codex"}))
        for _ in range(rng.randint(1, 6)):
            at += rng.uniform(1, 30)
            usage = [rng.randint(2000, 60000), 0, rng.randint(50, 3000), 0]
            usage[1] = usage[0] // 2
            total = [a + b for a, b in zip(total, usage, strict=True)]
            fields = ("input_tokens", "cached_input_tokens", "output_tokens", "reasoning_output_tokens")
            last = dict(zip(fields, usage, strict=True)) | {"total_tokens": usage[0] + usage[2]}
            cum = dict(zip(fields, total, strict=True)) | {"total_tokens": total[0] + total[2]}
            filler = "y" * rng.randint(200, 8000)
            out.append(line(at, "response_item", {"type": "function_call_output", "output": filler}))
            rid = str(uuid.UUID(int=rng.getrandbits(128)))
            out.append(line(at, "token_usage_record", {"thread_id": thread, "response_id": rid, "usage": last}))
            limits = {"limit_id": "codex",
                      "primary": {"used_percent": 30.0, "window_minutes": 300, "resets_at": int(at) + 9000},
                      "secondary": {"used_percent": 40.0, "window_minutes": 10080, "resets_at": int(at) + 300000}}
            info = {"total_token_usage": cum, "last_token_usage": last}
            out.append(line(at, "event_msg", {"type": "token_count", "info": info, "rate_limits": limits}))
    return "".join(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--rollouts", type=int, default=300)
    ap.add_argument("--days", type=int, default=60)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    now = time.time()
    for _ in range(args.rollouts):
        start = now - rng.uniform(0, args.days * 86400)
        thread = str(uuid.UUID(int=rng.getrandbits(128)))
        folder = os.path.join(args.out, "sessions", time.strftime("%Y/%m/%d", time.localtime(start)))
        os.makedirs(folder, exist_ok=True)
        name = f"rollout-{time.strftime('%Y-%m-%dT%H-%M-%S', time.localtime(start))}-{thread}.jsonl"
        path = os.path.join(folder, name)
        with open(path, "w") as fh:
            fh.write(rollout(rng, start, thread))
        os.utime(path, (start + 3600, start + 3600))


if __name__ == "__main__":
    main()
