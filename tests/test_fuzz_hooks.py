"""Seeded fuzz of the installed hook scripts as Claude Code runs them (issue 22's acceptance): hostile
payload families on stdin and hostile files as transcript_path / file_path / files under projects/.
Every run: exit 0, no traceback, stdout empty or one valid UTF-8 JSON object, under 10 s and 200 MB RSS,
and nothing created or changed outside GOVERNOR_HOME but the memory index and its archive.
GOVERNOR_FUZZ_RUNS sets the runs per hook (default 12: about a minute in all)."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.helpers import HOOKS_DIR, assistant_row, jsonl, projects_root
from tests.test_memory_hook import memory_index

HOOKS = {"user_prompt_submit.py": "UserPromptSubmit", "post_tool_use.py": "PostToolUse",
         "session_start.py": "SessionStart", "statusline.py": "StatusLine",
         "codex_user_prompt_submit.py": "UserPromptSubmit", "post_tool_batch.py": "PostToolBatch"}
MAX_RSS_KB = 200 * 1024


def _hostile_files(root: Path) -> list[str]:
    project = root / "-fuzz"
    (project / "sess" / "subagents").mkdir(parents=True)
    (project / "good.jsonl").write_text(jsonl([assistant_row(message_id="msg_fuzz")]))
    os.mkfifo(project / "fifo.jsonl")
    os.symlink("/dev/zero", project / "zero.jsonl")
    os.symlink("/dev/urandom", project / "sess" / "subagents" / "agent-r.jsonl")
    os.symlink("nowhere.jsonl", project / "dangling.jsonl")
    os.symlink("loop-b.jsonl", project / "loop-a.jsonl")
    os.symlink("loop-a.jsonl", project / "loop-b.jsonl")
    with open(project / "sparse.jsonl", "wb") as fh:  # 1 GB of holes, no newline
        fh.truncate(1 << 30)
    (project / "poison.jsonl").write_bytes(b'{"type":"assistant","message":{"id":"\\ud800","usage":'
                                           b'{"output_tokens":99999999999999999999}}}\n' + b"[" * 50000 + b"\n")
    return [str(p) for p in sorted(project.iterdir())] + ["/dev/zero", "/dev/stdin", "/proc/self/mem"]


def _value(rng: random.Random, files: list[str], depth: int = 0) -> Any:
    kind = rng.randrange(9 if depth < 3 else 6)
    if kind == 0:
        return rng.choice(files)
    if kind == 1:
        return "\ud800" + "x" * rng.randrange(3) + "\udfff"
    if kind == 2:
        return rng.choice([None, True, -1, 2**70, 1e308, 0.5, "", "0"])
    if kind == 3:
        return "y" * rng.choice([1, 1000, 300_000])
    if kind == 4:
        return rng.choice(["Write", "Edit", "MultiEdit", "Read", "user", "startup", "resume"])
    if kind == 5:
        return {"used_percentage": rng.choice([1e300, -5, 50, "x"]), "resets_at": rng.choice([1e300, 2**64, -1])}
    if kind == 6:
        return [_value(rng, files, depth + 1) for _ in range(rng.randrange(4))]
    return {rng.choice(["file_path", "content", "seven_day", "five_hour", "k"]): _value(rng, files, depth + 1)
            for _ in range(rng.randrange(4))}


def _payload(rng: random.Random, files: list[str], event: str, memory: str) -> bytes:
    family = rng.randrange(7)
    if family == 0:
        return rng.randbytes(rng.randrange(1, 4096))
    if family == 1:
        return b'{"a":' * 100_000 + b"1" + b"}" * 100_000
    if family == 2:
        return ("{" + ",".join(f'"k{i}":{i}' for i in range(rng.choice([1000, 200_000]))) + "}").encode()
    if family == 3:
        return json.dumps(rng.choice([[1], "x", 5, None])).encode()
    base: dict[str, Any] = {
        "session_id": rng.choice(["s-1", "\ud800", "", 5]), "hook_event_name": event, "cwd": "/tmp",
        "transcript_path": rng.choice(files), "prompt": rng.choice(["implement it across the repo",
                                                                   "why " + "w " * 2000, "\udc80"]),
        "tool_name": rng.choice(["Write", "Edit"]), "source": rng.choice(["user", "startup", None]),
        "tool_input": {"file_path": rng.choice([*files, memory])},
        "rate_limits": {"seven_day": _value(rng, files), "five_hour": _value(rng, files)},
        "agent_id": rng.choice([None, "a1b2", "../up", 7, "\ud800"]), "tool_calls": _value(rng, files),
    }
    for _ in range(rng.randrange(4)):
        base[rng.choice(list(base))] = _value(rng, files)
    return json.dumps(base, ensure_ascii=rng.random() < 0.5).encode("utf-8", "surrogatepass")


def _tree(top: Path, skip: Path) -> dict[str, tuple[int, int]]:
    found = {}
    for dirpath, dirs, names in os.walk(top):
        if Path(dirpath) == skip or skip in Path(dirpath).parents:
            dirs[:] = []
            continue
        for name in names:
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            found[path] = (st.st_size, st.st_mtime_ns)
    return found


# Runs the hook as its own child and reports that child's peak RSS (KB) as the last stderr line: the
# test process's RUSAGE_CHILDREN would include every other test's subprocesses.
_MEASURE = ("import resource, subprocess, sys\n"
            "code = subprocess.run(sys.argv[1:]).returncode\n"
            "sys.stderr.write('\\nrss_kb=%d' % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
            "sys.exit(code)\n")


def _run(script: str, data: bytes) -> tuple[subprocess.CompletedProcess, float, int]:
    start = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-c", _MEASURE, sys.executable, str(HOOKS_DIR / script)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=os.environ.copy())
    try:
        out, err = proc.communicate(data, timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        return subprocess.CompletedProcess(proc.args, -9, out, err), 10.0, 0
    err, _sep, rss = err.rpartition(b"\nrss_kb=")
    return (subprocess.CompletedProcess(proc.args, proc.returncode, out, err), time.monotonic() - start,
            int(rss or 0))


def test_hostile_payloads_through_every_hook(isolated_env, tmp_path: Path) -> None:
    rng = random.Random(22)
    files = _hostile_files(projects_root())
    memory = memory_index()
    home, state = Path(isolated_env["HOME"]), Path(isolated_env["GOVERNOR_HOME"])
    before = _tree(tmp_path, state)
    runs = int(os.environ.get("GOVERNOR_FUZZ_RUNS", "12"))
    failures = []
    peak_kb = 0
    for script, event in HOOKS.items():
        for n in range(runs):
            data = _payload(rng, files, event, str(memory))
            proc, seconds, rss_kb = _run(script, data)
            peak_kb = max(peak_kb, rss_kb)
            out = proc.stdout
            ok_out = out == b"" or (out.count(b"\n") <= 1 and isinstance(json.loads(out.decode("utf-8")), dict)
                                    if script != "statusline.py" else out.decode("utf-8").count("\n") <= 1)
            if proc.returncode != 0 or b"Traceback" in proc.stderr or seconds >= 10 or not ok_out:
                failures.append((script, n, proc.returncode, round(seconds, 1), data[:120], proc.stderr[-300:]))
    assert failures == []
    assert 0 < peak_kb < MAX_RSS_KB, f"a hook peaked at {peak_kb // 1024} MB"
    after = _tree(tmp_path, state)
    allowed = {str(memory), str(memory.parent / "MEMORY.overflow.md")}
    changed = {p for p in set(before) | set(after) if before.get(p) != after.get(p)} - allowed
    assert changed == set()
    assert home.exists()
