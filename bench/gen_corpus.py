"""Generate a realistic Claude Code transcript tree for benchmarks.

Shape (as Claude Code 2.1.328 writes it): per project, session files of user / assistant / tool-result
rows; each API response is 1-3 assistant rows (one per content block) sharing message.id and usage,
older-style early rows carrying the placeholder output_tokens; tool results of realistic size (2-40 KB);
some sessions forked (history copied into a new file with the same ids); subagent files with sidechain
rows. Deterministic for a given --seed.

    python bench/gen_corpus.py OUT_DIR --size-mb 1000 [--days 7] [--seed 1] [--no-1h] [--max-context N]
        [--turns-scale F]

--turns-scale 0.03 makes sessions ~30x shorter, so the same size holds ~30x the files (many small
transcripts: what the prompt hook's once-a-minute full scan grows with).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time
import uuid

MODELS = [
    ("claude-opus-4-5-20251101", 0.6),
    ("claude-sonnet-4-5-20250929", 0.3),
    ("claude-haiku-4-5-20251001", 0.1),
]
WORDS = (
    "the parser module returns tokens from each file while the ledger keeps one record per response "
    "and the hook stays fast because it reads only appended bytes"
).split()


def text(rng: random.Random, n_bytes: int) -> str:
    out: list[str] = []
    size = 0
    while size < n_bytes:
        w = rng.choice(WORDS)
        out.append(w)
        size += len(w) + 1
    return " ".join(out)


def dumps(row: dict) -> str:
    return json.dumps(row, separators=(",", ":"))


def session_lines(
    rng: random.Random,
    session: str,
    cwd: str,
    start: float,
    turns: int,
    use_1h: bool,
    sidechain: bool = False,
    agent: str | None = None,
    max_context: int = 600_000,
) -> list[str]:
    lines: list[str] = []
    ts = start
    context = rng.randint(15_000, 40_000)
    model = rng.choices([m for m, _ in MODELS], [w for _, w in MODELS])[0]
    for turn in range(turns):
        ts += rng.uniform(5, 240)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{int(ts * 1000) % 1000:03d}Z"
        base = {
            "sessionId": session,
            "cwd": cwd,
            "version": "2.1.328",
            "gitBranch": "main",
            "userType": "external",
            "isSidechain": sidechain,
            "timestamp": stamp,
        }
        if agent:
            base["agentId"] = agent
        if turn % 4 == 0:
            lines.append(
                dumps(
                    {
                        **base,
                        "type": "user",
                        "uuid": str(uuid.UUID(int=rng.getrandbits(128))),
                        "message": {"role": "user", "content": text(rng, rng.randint(40, 400))},
                    }
                )
            )
        else:  # a tool result of realistic size
            lines.append(
                dumps(
                    {
                        **base,
                        "type": "user",
                        "uuid": str(uuid.UUID(int=rng.getrandbits(128))),
                        "message": {
                            "role": "user",
                            "content": [
                                {
                                    "type": "tool_result",
                                    "tool_use_id": f"toolu_{rng.getrandbits(48):012x}",
                                    "content": text(rng, int(rng.lognormvariate(7.6, 0.9))),
                                }
                            ],
                        },
                        "toolUseResult": {"stdout": "", "stderr": "", "interrupted": False},
                    }
                )
            )
        written = rng.randint(200, 6000)
        cache_read = context
        context += written + rng.randint(100, 3000)
        output = rng.randint(20, 1500)
        usage = {
            "input_tokens": rng.randint(1, 50),
            "cache_creation_input_tokens": written,
            "cache_read_input_tokens": cache_read,
            "output_tokens": output,
            "service_tier": "standard",
            "cache_creation": {
                "ephemeral_5m_input_tokens": 0 if use_1h else written,
                "ephemeral_1h_input_tokens": written if use_1h else 0,
            },
        }
        msg_id = f"msg_{rng.getrandbits(80):020x}"
        req_id = f"req_{rng.getrandbits(80):020x}"
        blocks = rng.choice((1, 2, 2, 3))
        for b in range(blocks):
            block_usage = dict(usage)
            if b < blocks - 1 and rng.random() < 0.5:  # older builds: message_start placeholder on early rows
                block_usage["output_tokens"] = rng.randint(1, 2)
            content = (
                [{"type": "text", "text": text(rng, rng.randint(50, 600))}]
                if b == 0
                else [
                    {
                        "type": "tool_use",
                        "id": f"toolu_{rng.getrandbits(48):012x}",
                        "name": "Edit",
                        "input": {
                            "file_path": f"{cwd}/src/mod{b}.py",
                            "old_string": text(rng, 200),
                            "new_string": text(rng, rng.randint(100, 1500)),
                        },
                    }
                ]
            )
            lines.append(
                dumps(
                    {
                        **base,
                        "type": "assistant",
                        "uuid": str(uuid.UUID(int=rng.getrandbits(128))),
                        "requestId": req_id,
                        "apiBlockIndex": b,
                        "message": {
                            "id": msg_id,
                            "type": "message",
                            "role": "assistant",
                            "model": model,
                            "content": content,
                            "stop_reason": "tool_use",
                            "stop_sequence": None,
                            "usage": block_usage,
                        },
                    }
                )
            )
        if context > max_context:  # auto-compact
            context = rng.randint(20_000, 50_000)
    return lines


def generate(
    out: str, size_mb: float, days: float, seed: int, use_1h: bool, max_context: int = 600_000,
    turns_scale: float = 1.0,
) -> dict:
    rng = random.Random(seed)
    root = os.path.join(out, "projects")
    target = int(size_mb * 1024 * 1024)
    now = time.time()
    written = files = sessions = 0
    while written < target:
        project = f"-home-dev-proj{rng.randint(0, 24)}"
        cwd = "/home/dev/" + project.rsplit("-", 1)[1]
        session = str(uuid.UUID(int=rng.getrandbits(128)))
        start = now - rng.uniform(0, days * 86400)
        turns = int(rng.lognormvariate(5.0, 0.9) * turns_scale) + 5
        lines = session_lines(rng, session, cwd, start, turns, use_1h, max_context=max_context)
        directory = os.path.join(root, project)
        os.makedirs(directory, exist_ok=True)
        blob = "\n".join(lines) + "\n"
        with open(os.path.join(directory, f"{session}.jsonl"), "w") as fh:
            fh.write(blob)
        written += len(blob)
        files += 1
        sessions += 1
        if rng.random() < 0.15:  # a fork: history copied into a new session file with the same ids
            fork = str(uuid.UUID(int=rng.getrandbits(128)))
            cut = rng.randint(1, len(lines))
            copied = [line.replace(session, fork) for line in lines[:cut]]
            copied += session_lines(
                rng, fork, cwd, start + 86400 * 0.2, rng.randint(5, 60), use_1h, max_context=max_context
            )
            fork_blob = "\n".join(copied) + "\n"
            with open(os.path.join(directory, f"{fork}.jsonl"), "w") as fh:
                fh.write(fork_blob)
            written += len(fork_blob)
            files += 1
        if rng.random() < 0.3:  # subagent transcripts
            agent = f"{rng.getrandbits(32):08x}"
            sub = os.path.join(directory, session, "subagents")
            os.makedirs(sub, exist_ok=True)
            sub_lines = session_lines(
                rng, session, cwd, start + 600, rng.randint(5, 80), use_1h, True, agent, max_context
            )
            sub_blob = "\n".join(sub_lines) + "\n"
            with open(os.path.join(sub, f"agent-{agent}.jsonl"), "w") as fh:
                fh.write(sub_blob)
            written += len(sub_blob)
            files += 1
    return {"bytes": written, "files": files, "sessions": sessions}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out")
    parser.add_argument("--size-mb", type=float, default=100)
    parser.add_argument("--days", type=float, default=7)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-1h", action="store_true", help="5-minute cache writes only (API-key style)")
    parser.add_argument(
        "--max-context",
        type=int,
        default=600_000,
        help="compact above this many context tokens (190000 keeps every request short-context)",
    )
    parser.add_argument("--turns-scale", type=float, default=1.0, help="scale every session's length")
    args = parser.parse_args()
    print(json.dumps(generate(args.out, args.size_mb, args.days, args.seed, not args.no_1h, args.max_context,
                              args.turns_scale)))


if __name__ == "__main__":
    main()
