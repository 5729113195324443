"""Acceptance: on a corpus without ambiguous rows, `governor daily --json --tz UTC` equals ccusage 20.0.24's
`claude daily --json --offline -z UTC` token totals per day exactly, and cost within 1 %.

ccusage is installed from npm into the e2e cache on first use; without npm (or the registry) this skips.
The corpus keeps every prompt under 200k tokens: above that, ccusage tiers each token field separately
while governor applies Anthropic's rule (the whole request at the long-context rate), so costs differ
there by design (see BENCHMARKS.md).
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO_ROOT, run_cli

VERSION = "20.0.24"
CACHE = Path(os.environ.get("GOVERNOR_E2E_CACHE") or Path.home() / ".cache" / "governor-e2e" / "npm")


def ccusage_binary() -> Path:
    prefix = CACHE / f"ccusage-{VERSION}"
    binary = prefix / "node_modules" / ".bin" / "ccusage"
    if binary.exists():
        return binary
    if not shutil.which("npm") or not shutil.which("node"):
        pytest.skip("ccusage parity: npm/node not available")
    prefix.mkdir(parents=True, exist_ok=True)
    with open(prefix / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not binary.exists():
            proc = subprocess.run(
                ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(prefix), f"ccusage@{VERSION}"],
                capture_output=True, text=True, timeout=300,
            )
            if proc.returncode != 0 or not binary.exists():
                pytest.skip(f"ccusage parity: npm install ccusage@{VERSION} failed: {proc.stderr.strip()[-200:]}")
    return binary


def trap_free_corpus(corpus: Path, size_mb: float, days: float, seed: int) -> Path:
    """bench/gen_corpus.py's corpus with every prompt under 200k tokens (see the module docstring)."""
    sys.path.insert(0, str(REPO_ROOT / "bench"))
    try:
        from gen_corpus import generate
    finally:
        sys.path.pop(0)
    generate(str(corpus), size_mb=size_mb, days=days, seed=seed, use_1h=True, max_context=190_000)
    return corpus


def test_daily_equals_ccusage_tokens_exactly_and_cost_within_one_percent(tmp_path: Path) -> None:
    binary = ccusage_binary()
    corpus = trap_free_corpus(tmp_path / "corpus", size_mb=6, days=6, seed=5)
    ours = json.loads(run_cli("daily", "--json", "--tz", "UTC", "--claude-dir", str(corpus)).stdout)
    env = {**os.environ, "CLAUDE_CONFIG_DIR": str(corpus)}
    proc = subprocess.run([str(binary), "claude", "daily", "--json", "--offline", "-z", "UTC"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    theirs = {d["date"]: d for d in json.loads(proc.stdout)["daily"]}
    assert [d["date"] for d in ours["days"]] == sorted(theirs)
    assert len(ours["days"]) >= 3
    for day in ours["days"]:
        cc = theirs[day["date"]]
        assert (day["input_tokens"], day["output_tokens"], day["cache_creation_input_tokens"],
                day["cache_read_input_tokens"]) == (cc["inputTokens"], cc["outputTokens"],
                                                    cc["cacheCreationTokens"], cc["cacheReadTokens"])
        assert abs(day["cost_usd"] - cc["totalCost"]) <= 0.01 * cc["totalCost"]
