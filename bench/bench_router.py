#!/usr/bin/env python3
"""Benchmark: does a 1 MB adversarial prompt slow the router? (target: < 20 ms added to the hook)

Measures, median of N runs each, a short prompt as the baseline in the same run:
  1. in-process `router.classify` (+ is_human_prompt) on 1 MB of repeated near-matches;
  2. the hook-relevant cost: a fresh `python -c` that imports governor.policy.router and classifies a 1 MiB
     prompt built in the child, vs the short prompt (the router's whole share of a hook process);
  3. the same with the payload JSON piped on stdin, as Claude Code sends it (adds the pipe + decode
     cost every guard pays before the router runs).
Writes `## Router` to bench/results-router.md.

    python bench/bench_router.py [--runs 25] [--out bench/results-router.md]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from governor.config_schema import defaults  # noqa: E402
from governor.policy import router  # noqa: E402

NEAR = "implemen refacto migrat build an write th acros modul all call site end-to-en desig xmodule "
HOSTILE = (NEAR * (1_048_576 // len(NEAR) + 1))[:1_048_576]
SHORT = "can you refactor the auth module across all call sites"
CHILD_BUILT = (
    "import json, sys\n"
    "from governor.policy import router\n"
    f"prompt = ({NEAR!r} * 11400)[:1048576] if sys.argv[2] == 'big' else {SHORT!r}\n"
    "p = {'prompt': prompt}\n"
    "cfg = json.loads(sys.argv[1])\n"
    "c = router.classify(p['prompt'], cfg) if router.is_human_prompt(p) else 'skip'\n"
    "sys.stdout.write(c)\n"
)
CHILD = (
    "import json, sys\n"
    "from governor.policy import router\n"
    "p = json.loads(sys.stdin.read())\n"
    "cfg = json.loads(sys.argv[1])\n"
    "c = router.classify(p['prompt'], cfg) if router.is_human_prompt(p) else 'skip'\n"
    "sys.stdout.write(c)\n"
)


def _payload(prompt: str) -> bytes:
    return json.dumps({"session_id": "bench", "cwd": "/home/dev/proj", "hook_event_name": "UserPromptSubmit",
                       "prompt": prompt}).encode()


def in_process(prompt: str, cfg: dict, runs: int) -> tuple[float, str]:
    payload = {"prompt": prompt}
    samples, result = [], ""
    for _ in range(runs):
        t0 = time.perf_counter()
        result = router.classify(prompt, cfg) if router.is_human_prompt(payload) else "skip"
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples), result


def _child_ms(payload: bytes | None, cfg: dict, which: str) -> tuple[float, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    argv = [sys.executable, "-c", CHILD if payload is not None else CHILD_BUILT, json.dumps(cfg), which]
    t0 = time.perf_counter()
    proc = subprocess.run(argv, input=payload if payload is not None else b"", capture_output=True, env=env,
                          check=True)
    return (time.perf_counter() - t0) * 1000, proc.stdout.decode()


def paired_subprocess(short: bytes | None, big: bytes | None, cfg: dict, runs: int) -> dict[str, float | str]:
    """Alternate short/1 MiB runs (order flipped each round) so machine load hits both alike.
    Payloads None: the child builds the prompt itself (no stdin)."""
    s_ms, b_ms, diffs, outs = [], [], [], ("", "")
    for i in range(runs):
        if i % 2:
            b, ob = _child_ms(big, cfg, "big")
            s, os_ = _child_ms(short, cfg, "short")
        else:
            s, os_ = _child_ms(short, cfg, "short")
            b, ob = _child_ms(big, cfg, "big")
        s_ms.append(s)
        b_ms.append(b)
        diffs.append(b - s)
        outs = (os_, ob)
    return {"short": statistics.median(s_ms), "big": statistics.median(b_ms),
            "added": statistics.median(diffs), "out_short": outs[0], "out_big": outs[1]}


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = f", load avg {os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else ""
    return (f"{cpu}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}{load}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=25)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results-router.md"))
    args = ap.parse_args()
    runs = max(20, args.runs)
    cfg = defaults()["router"]
    router.classify("warm up", cfg)

    ip_short, r_short = in_process(SHORT, cfg, runs * 4)
    ip_big, r_big = in_process(HOSTILE, cfg, runs * 4)
    ip_big_tail, r_tail = in_process(HOSTILE + " " + SHORT, cfg, runs * 4)
    built = paired_subprocess(None, None, cfg, runs)
    sp = paired_subprocess(_payload(SHORT), _payload(HOSTILE), cfg, runs)
    base, sp_big, added = float(sp["short"]), float(sp["big"]), float(sp["added"])
    b_base, b_big, b_added = float(built["short"]), float(built["big"]), float(built["added"])
    outcomes = (r_short, r_big, r_tail, sp["out_short"], sp["out_big"], built["out_short"], built["out_big"])
    assert outcomes == ("handoff", "none", "none", "handoff", "none", "handoff", "none"), outcomes

    cmd = f"python bench/bench_router.py --runs {runs}"
    lines = [
        "## Router", "",
        f"Command: `{cmd}`  ",
        f"Machine: {machine()}  ",
        f"Date: {time.strftime('%Y-%m-%d %H:%M %Z')}; medians of {runs * 4} in-process runs and of {runs} "
        f"alternating short / 1 MiB subprocess pairs; router.scan_chars = {cfg['scan_chars']}.", "",
        "Adversarial prompt: 1 MiB of repeated near-matches (`implemen refacto migrat build an …`); a real "
        "hand-off phrase appended after the scanned prefix is (by design) not seen.", "",
        "| measurement | short prompt | 1 MiB prompt | added |",
        "|---|---:|---:|---:|",
        f"| in-process `is_human_prompt` + `classify` | {ip_short:.4f} ms | {ip_big:.4f} ms "
        f"| {ip_big - ip_short:+.4f} ms |",
        f"| in-process, 1 MiB + real match at the end | {ip_short:.4f} ms | {ip_big_tail:.4f} ms "
        f"| {ip_big_tail - ip_short:+.4f} ms |",
        f"| hook-relevant: `python -c` import governor.policy.router, classify | {b_base:.1f} ms "
        f"| {b_big:.1f} ms | {b_added:+.1f} ms |",
        f"| the same, payload JSON piped on stdin as Claude Code sends it | {base:.1f} ms "
        f"| {sp_big:.1f} ms | {added:+.1f} ms |",
        "",
        "`added` for subprocesses = median of the per-pair differences (short and 1 MiB runs alternate).",
        "",
        f"Result: the router adds {b_added:.1f} ms to a hook process for a 1 MiB prompt (target < 20 ms); "
        f"with the 1 MiB payload piped in as Claude Code sends it (pipe + JSON decode, paid before any guard "
        f"runs), the whole difference is {added:.1f} ms. Subprocess medians carry the machine's load (noted "
        "above); the paired differences are what to compare. The in-process "
        f"router's own share is {ip_big - ip_short:.2f} ms: it scans only the first scan_chars characters, "
        "so this is the cost of a 4 KB prompt of near-matches, whatever the prompt's length.",
        "",
    ]
    text = "\n".join(lines)
    Path(args.out).write_text(text)
    print(text)
    return 0 if b_added < 20 else 1


if __name__ == "__main__":
    raise SystemExit(main())
