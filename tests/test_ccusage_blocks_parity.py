"""Acceptance: on a corpus without ambiguous rows, `governor blocks --json` has the same blocks as ccusage
20.0.24's `claude blocks --json --offline` (same starts, ends, first and last responses, gaps left out)
and the same token totals per block, exactly; cost within 1 % (the daily parity test's reasoning).

ccusage is installed from npm into the e2e cache on first use (tests/test_ccusage_parity.py); without npm
this skips.
"""

from __future__ import annotations

import json
import os
import subprocess
from datetime import datetime
from pathlib import Path

from tests.helpers import run_cli
from tests.test_ccusage_parity import ccusage_binary, trap_free_corpus


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def test_blocks_equal_ccusage_blocks_token_totals_per_block(tmp_path: Path) -> None:
    binary = ccusage_binary()
    # Sparse enough over ten days that idle stretches of more than five hours split the blocks.
    corpus = trap_free_corpus(tmp_path / "corpus", size_mb=5, days=10, seed=11)
    ours = json.loads(run_cli("blocks", "--json", "--claude-dir", str(corpus)).stdout)["blocks"]
    env = {**os.environ, "CLAUDE_CONFIG_DIR": str(corpus)}
    proc = subprocess.run([str(binary), "claude", "blocks", "--json", "--offline"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    theirs = [b for b in json.loads(proc.stdout)["blocks"] if not b["isGap"]]
    assert any(b["isGap"] for b in json.loads(proc.stdout)["blocks"]), "the corpus should have gaps"
    assert len(ours) == len(theirs) >= 5
    for mine, cc in zip(ours, theirs, strict=True):
        assert (_epoch(mine["start"]), _epoch(mine["end"])) == (_epoch(cc["startTime"]), _epoch(cc["endTime"]))
        assert abs(_epoch(mine["last_response"]) - _epoch(cc["actualEndTime"])) < 1
        t = cc["tokenCounts"]
        assert (mine["input_tokens"], mine["output_tokens"], mine["cache_creation_input_tokens"],
                mine["cache_read_input_tokens"]) == (t["inputTokens"], t["outputTokens"],
                                                     t["cacheCreationInputTokens"], t["cacheReadInputTokens"])
        assert mine["total_tokens"] == cc["totalTokens"]
        assert mine["responses"] == cc["entries"]
        assert mine["is_active"] == cc["isActive"]
        assert abs(mine["cost_usd"] - cc["costUSD"]) <= 0.01 * cc["costUSD"] + 1e-9
        assert mine["weighted_units"] > 0
