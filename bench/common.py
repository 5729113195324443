"""Shared benchmark helpers: timing subprocesses, medians, peak RSS, bare-interpreter baseline."""

from __future__ import annotations

import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def env_with(**extra: str) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.update(extra)
    return env


def timed(cmd: list[str], env: dict[str, str] | None = None, stdin: bytes | None = None) -> tuple[float, int]:
    """(wall seconds, peak RSS in MB of the child) for one run; raises if the command fails."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, input=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[:3]} failed: {proc.stderr.decode()[-500:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return wall, max(after, before) // 1024


def peak_rss_mb(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, int]:
    """(wall s, peak RSS MB) via /usr/bin/time -f, which measures this child alone (incl. its pool workers' max)."""
    out = subprocess.run(
        ["/usr/bin/time", "-f", "%e %M", *cmd],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=True,
    )
    wall, kb = out.stderr.strip().splitlines()[-1].split()
    return float(wall), int(kb) // 1024


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def machine() -> str:
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {sys.version.split()[0]}, {platform.system()}"
    )


BARE = [sys.executable, "-c", "pass"]
