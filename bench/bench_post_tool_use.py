"""PostToolUse memory guard on a NON-memory file vs bare `python -c pass`, interleaved in one run.

    python bench/bench_post_tool_use.py [--runs 40] [--out bench/results-memory.md]

This hook fires on every Write/Edit/MultiEdit of every file, so its cost there must be ~nothing.
Measured with two interpreters: this one (whose `site` may already import a lot), and a clean
`python -m venv --without-pip` made from it (no .pth files: a plain install's startup). In the venv it
also measures a proposed entry script that calls memory_guard.quick_skip before importing
governor.guards.runtime. Records `-X importtime` of what the hook adds and checks no heavy module loads.
Writes the section `## PostToolUse memory guard` into --out (replacing an older copy of it).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from common import REPO, env_with, machine, median_ms, timed

HOOK = str(REPO / "hooks" / "post_tool_use.py")
HEAVY = ("pydantic", "filelock", "platformdirs", "governor.config", "governor.policy.memory_cap", "governor.fsutil")
SECTION = "## PostToolUse memory guard"
# The proposal for hooks/post_tool_use.py: decide from the raw stdin bytes before governor.guards.runtime (json,
# re, typing) is imported; hand the bytes on unchanged otherwise.
PROPOSED_ENTRY = '''import os
import sys

if os.environ.get("GOVERNOR_DISABLE", "") not in ("", "0"):
    raise SystemExit(0)
sys.path.insert(0, {root!r})
data = sys.stdin.buffer.read()
try:
    from governor.guards.memory import quick_skip

    if quick_skip(data):
        os._exit(0)  # nothing written, nothing to flush
except Exception:
    pass
import io

sys.stdin = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8")
from governor.guards.runtime import run_and_exit

run_and_exit("PostToolUse")
'''


PROBE = (  # report sys.modules however the hook leaves: normal exit, SystemExit, or os._exit
    "import atexit, os, sys\n"
    "def _report(*_a):\n"
    "    sys.stderr.write('MODS ' + ' '.join(sys.modules) + '\\n'); sys.stderr.flush()\n"
    "atexit.register(_report)\n"
    "_real_exit = os._exit\n"
    "def _exit(code):\n"
    "    _report(); _real_exit(code)\n"
    "os._exit = _exit\n"
)


def payload(path: str) -> bytes:
    return json.dumps({
        "session_id": "bench", "transcript_path": "/dev/null", "cwd": os.path.dirname(path),
        "permission_mode": "acceptEdits", "hook_event_name": "PostToolUse", "tool_name": "Edit",
        "tool_input": {"file_path": path, "old_string": "a", "new_string": "b", "replace_all": False},
        "tool_response": {"filePath": path, "oldString": "a", "newString": "b", "originalFile": "a",
                          "structuredPatch": [], "userModified": False, "replaceAll": False},
        "tool_use_id": "toolu_bench", "duration_ms": 3,
    }).encode()


def isolated_env(root: Path, budget: dict | None) -> dict[str, str]:
    home, gov = root / "home", root / "governor"
    (home / ".claude" / "projects").mkdir(parents=True, exist_ok=True)
    gov.mkdir(parents=True, exist_ok=True)
    if budget is not None:
        (gov / "budget.json").write_text(json.dumps(budget))
    env = env_with(HOME=str(home), CLAUDE_CONFIG_DIR=str(home / ".claude"), GOVERNOR_HOME=str(gov),
                   CODEX_HOME=str(home / ".codex"), XDG_STATE_HOME=str(home / ".state"),
                   XDG_CONFIG_HOME=str(home / ".config"))
    env.pop("GOVERNOR_DISABLE", None)
    return env


def loaded_modules(python: str, script: str, env: dict[str, str], data: bytes | None) -> set[str]:
    """sys.modules when a real run ends (importlib.import_module hides from -X importtime)."""
    code = "" if script == "" else (
        f"g = {{'__file__': {script!r}, '__name__': '__main__'}}\n"
        f"exec(compile(open({script!r}).read(), {script!r}, 'exec'), g)\n")
    proc = subprocess.run([python, "-c", PROBE + code], input=data, env=env, capture_output=True)
    if proc.returncode != 0 or proc.stdout:
        raise RuntimeError(f"probe misbehaved: rc={proc.returncode} {proc.stderr.decode()[-500:]}")
    return set(proc.stderr.decode().split("MODS ", 1)[1].split())


def import_times(python: str, env: dict[str, str], imports: list[str], keep: set[str]) -> list[tuple[str, int, int]]:
    """(module, self us, cumulative us) from `python -X importtime`, for the modules in `keep`."""
    code = f"import sys; sys.path.insert(0, {str(REPO)!r}); " + "; ".join(f"import {m}" for m in imports)
    err = subprocess.run([python, "-X", "importtime", "-c", code], env=env, capture_output=True, text=True).stderr
    rows = []
    for line in err.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|\s*(\S+)", line)
        if m and m.group(3) in keep:
            rows.append((m.group(3), int(m.group(1)), int(m.group(2))))
    return rows


def main() -> int:
    tmp = Path(tempfile.mkdtemp(prefix="gov-bench-ptu-"))
    try:
        return bench(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def bench(tmp: Path) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=40)
    ap.add_argument("--out", default=str(REPO / "bench" / "results-memory.md"))
    args = ap.parse_args()
    # An install compiles .pyc files; this sandbox sets PYTHONDONTWRITEBYTECODE, so compile them once here.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "governor"), str(REPO / "hooks")],
                   check=True)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp / "venv")], check=True)
    venv_py = str(tmp / "venv" / "bin" / "python")
    proposed = tmp / "proposed_post_tool_use.py"
    proposed.write_text(PROPOSED_ENTRY.format(root=str(REPO)))
    target = tmp / "project" / "src" / "app.py"
    target.parent.mkdir(parents=True)
    target.write_text("print('hello')\n")
    data = payload(str(target))
    env = isolated_env(tmp / "a", None)
    globs_env = isolated_env(tmp / "b", {"memory": {"paths": ["**/AI_CONTEXT.md", "~/notes/*.md"]}})
    py = sys.executable
    # name -> (baseline name, command, env, stdin)
    variants: dict[str, tuple[str, list[str], dict[str, str], bytes | None]] = {
        "this python: bare `python -c pass`": ("", [py, "-c", "pass"], env, None),
        "this python: hook, no budget.json": ("this python: bare `python -c pass`", [py, HOOK], env, data),
        "this python: hook, budget.json with memory.paths":
            ("this python: bare `python -c pass`", [py, HOOK], globs_env, data),
        "clean venv: bare `python -c pass`": ("", [venv_py, "-c", "pass"], env, None),
        "clean venv: hook, no budget.json": ("clean venv: bare `python -c pass`", [venv_py, HOOK], env, data),
        "clean venv: PROPOSED entry (quick_skip first)":
            ("clean venv: bare `python -c pass`", [venv_py, str(proposed)], env, data),
        "clean venv: PROPOSED entry, budget.json with memory.paths":
            ("clean venv: bare `python -c pass`", [venv_py, str(proposed)], globs_env, data),
    }
    load_at_start = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    samples: dict[str, list[float]] = {name: [] for name in variants}
    order = list(variants)
    for _ in range(args.runs):
        random.shuffle(order)  # interleaved, in random order, so drift hits every variant alike
        for name in order:
            _, cmd, run_env, stdin = variants[name]
            samples[name].append(timed(cmd, run_env, stdin)[0])
    assert target.read_text() == "print('hello')\n"

    lines = [SECTION, "", f"Command: `python bench/bench_post_tool_use.py --runs {args.runs}`  ",
             f"Machine: {machine()}, nproc {os.cpu_count()}, load average at start {load_at_start}  ",
             "Payload: a real PostToolUse `Edit` payload for a non-memory file (`project/src/app.py`); "
             f"{args.runs} runs of each variant, interleaved in random order; wall time of each process. "
             "`clean venv` = `python -m venv --without-pip` of the same interpreter (no .pth files).",
             "", "| variant | median ms | ratio to its bare | minus its bare, ms |", "|---|---:|---:|---:|"]
    ratios = {}
    for name, (base, *_rest) in variants.items():
        ms = median_ms(samples[name])
        base_ms = median_ms(samples[base]) if base else ms
        ratios[name] = ms / base_ms
        lines.append(f"| {name} | {ms:.1f} | {ms / base_ms:.2f}x | {ms - base_ms:+.1f} |")
    lines.append("")
    for name, ratio in ratios.items():
        if variants[name][0]:
            lines.append(f"- {name}: **{ratio:.2f}x** — target <= 1.5x {'met' if ratio <= 1.5 else 'NOT met'}")

    site = re.search(r"\|\s+(\d+) \| site$", subprocess.run([py, "-X", "importtime", "-c", "pass"], env=env,
                     capture_output=True, text=True).stderr, re.M)
    if site:
        lines += ["", f"This interpreter's `site` takes {int(site.group(1)) / 1000:.1f} ms at startup (the sandbox's"
                  " .pth files import certifi, re, typing, ...), which hides the hook's own imports; the clean"
                  " venv rows are what a plain install sees."]
    venv_base = loaded_modules(venv_py, "", env, None)
    current = loaded_modules(venv_py, HOOK, env, data)
    proposal = loaded_modules(venv_py, str(proposed), env, data)
    for title, mods, imports in (
        ("current entry (`hooks/post_tool_use.py`)", current, ["governor.guards.runtime", "governor.guards.memory"]),
        ("proposed entry", proposal, ["governor.guards.memory"]),
    ):
        extra = mods - venv_base
        heavy = sorted(m for m in mods if m in HEAVY or m.split(".")[0] in HEAVY)
        rows = import_times(venv_py, env, imports, extra)
        lines += ["", f"Clean venv, {title}: {len(extra)} modules beyond bare; heavy ones loaded: "
                  f"{', '.join(heavy) if heavy else 'none'} (checked: {', '.join(HEAVY)}). Top of "
                  "`python -X importtime` (microseconds):", "", "| module | self us | cumulative us |",
                  "|---|---:|---:|"]
        lines += [f"| {m} | {s} | {c} |" for m, s, c in sorted(rows, key=lambda r: -r[2])[:8]]
    lines.append("")
    text = "\n".join(lines)
    print(text)
    out = Path(args.out)
    old = out.read_text() if out.exists() else ""
    kept = re.sub(rf"{re.escape(SECTION)}\n.*?(?=\n## |\Z)", "", old, flags=re.S).strip()
    out.write_text((kept + "\n\n" if kept else "") + text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
