"""`governor blocks`: ccusage's block rule at its edges, totals per block, the official % seen during a block,
and the active block's projection, through the real CLI over real transcript files and a real ledger."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone

from governor.meter import db, official
from governor.policy.calibrate import Capture
from tests.helpers import assistant_row, projects_root, run_cli, write_transcript


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _row(n: int, ts: float, **kw: int) -> dict:
    return assistant_row(message_id=f"msg_{n}", request_id=f"req_{n}", timestamp=_iso(ts), **kw)


def test_blocks_split_as_ccusage_does_at_the_edges() -> None:
    t0 = datetime(2026, 11, 23, 10, 20, tzinfo=timezone.utc).timestamp()
    hour = 3600.0
    rows = [
        _row(1, t0, input_tokens=1, output_tokens=2, cache_creation=3, cache_read=4),
        _row(2, t0 + 4 * hour + 39 * 60, input_tokens=10, output_tokens=20, cache_creation=30, cache_read=40),
        # exactly five hours after the block's floored start (15:00:00.000): still the first block
        _row(3, t0 + 4 * hour + 40 * 60, input_tokens=100, output_tokens=0, cache_creation=0, cache_read=0),
        # one second later: a new block from 15:00
        _row(4, t0 + 4 * hour + 40 * 60 + 1, input_tokens=1000, output_tokens=0, cache_creation=0, cache_read=0),
        # 7 idle hours: a gap, then a block from 03:00 the next day
        _row(5, t0 + 11 * hour + 55 * 60, input_tokens=5, output_tokens=5, cache_creation=0, cache_read=0),
    ]
    write_transcript(projects_root(), "-home-dev-proj", "sess-1", rows)
    blocks = json.loads(run_cli("blocks", "--json").stdout)["blocks"]
    assert [(b["start"], b["end"], b["responses"]) for b in blocks] == [
        ("2026-11-23T10:00:00+00:00", "2026-11-23T15:00:00+00:00", 3),
        ("2026-11-23T15:00:00+00:00", "2026-11-23T20:00:00+00:00", 1),
        ("2026-11-23T22:00:00+00:00", "2026-11-24T03:00:00+00:00", 1),
    ]
    first = blocks[0]
    assert (first["input_tokens"], first["output_tokens"], first["cache_creation_input_tokens"],
            first["cache_read_input_tokens"], first["total_tokens"]) == (111, 22, 33, 44, 210)
    # Opus weights: input 1, cache write 1.25, cache read 0.1, output 5; multiplier 1
    assert first["weighted_units"] == round(111 + 22 * 5 + 33 * 1.25 + 44 * 0.1, 3)
    assert first["cost_usd"] > 0 and first["official_pct"] is None and not first["is_active"]
    text = run_cli("blocks", "--tz", "UTC").stdout
    assert "2026-11-23 Mon 10:00  15:00" in text and "2026-11-23 Mon 22:00  03:00" in text


def test_active_block_is_projected_and_shows_the_official_five_hour_pct() -> None:
    now = time.time()
    start = now - 2 * 3600
    rows = [_row(i, start + i * 600, input_tokens=1000, output_tokens=0, cache_creation=0, cache_read=0)
            for i in range(12)]  # one response every 10 minutes for the last two hours
    write_transcript(projects_root(), "-home-dev-proj", "sess-1", rows)
    old = [_row(100 + i, start - 86400 + i * 60, input_tokens=7, output_tokens=0, cache_creation=0, cache_read=0)
           for i in range(3)]
    write_transcript(projects_root(), "-home-dev-proj", "sess-0", old)
    run_cli("blocks")  # ingest
    conn = db.connect()
    official.record(conn, Capture("five_hour", 20.0, now + 3 * 3600, start + 6 * 600 - 1, "statusline"))
    conn.close()
    everything = json.loads(run_cli("blocks", "--json").stdout)["blocks"]
    assert [b["is_active"] for b in everything] == [False, True]
    assert everything[0]["official_pct"] is None and "projection" not in everything[0]
    active = json.loads(run_cli("blocks", "--json", "--active").stdout)["blocks"]
    assert len(active) == 1
    block = active[0]
    assert block["official_pct"] == 20.0 and block["input_tokens"] == 12_000
    p = block["projection"]
    # 12,000 units over the 110 minutes since the first response, the rest of the block at that burn
    block_end = datetime.fromisoformat(block["end"]).timestamp()
    burn = 12_000 / ((now - start) / 3600)
    assert abs(p["units_per_hour"] - burn) / burn < 0.01
    assert abs(p["weighted_units"] - (12_000 + burn * (block_end - now) / 3600)) < 0.01 * p["weighted_units"]
    # 20 % after 6,000 units: the projected units at the same % per unit
    assert abs(p["official_pct"] - 20.0 * p["weighted_units"] / 6000) < 0.2
    text = run_cli("blocks", "--active").stdout
    assert "active block:" in text and "of the official five-hour limit" in text


def test_no_usage_says_so() -> None:
    assert "No Claude Code transcripts found" in run_cli("blocks").stdout
    assert json.loads(run_cli("blocks", "--json").stdout)["blocks"] == []
