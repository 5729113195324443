"""ccusage's own Codex fork / sub-agent replay fixtures (tests/fixtures/codex/ccusage/README.md) through the
real mirror (files in $CODEX_HOME, the SQLite ledger): the totals and per-thread split their tests expect,
in either order the files are read, read whole or line by line."""

from __future__ import annotations

import os
import shutil
import sqlite3
from datetime import date, timezone
from pathlib import Path

import pytest

from governor.meter import db
from governor.meter.codex_ingest import codex_daily, ingest_codex
from tests.codex_fixtures import FIX, ts

CCUSAGE = FIX / "ccusage"
NOW = ts("2026-06-01T00:00:00Z")
TOKENS = ("input", "cached_input", "output", "reasoning", "total")


def install(name: str) -> Path:
    home = Path(os.environ["CODEX_HOME"])
    shutil.copytree(CCUSAGE / name, home, dirs_exist_ok=True)
    return home


def per_thread(conn: sqlite3.Connection) -> dict[str, list[tuple[int, ...]]]:
    """thread -> its responses (input, cached, output, reasoning, total), oldest first."""
    out: dict[str, list[tuple[int, ...]]] = {}
    for thread, *tokens in conn.execute(f"SELECT thread_id, {', '.join(TOKENS)} FROM codex_usage ORDER BY ts"):
        out.setdefault(thread, []).append(tuple(tokens))
    return out


def ingest_line_by_line(conn: sqlite3.Connection, home: Path, order: list[Path]) -> None:
    """Each file grows one line at a time, the files in `order`, an ingest after every line."""
    full = {p: p.read_bytes().splitlines(keepends=True) for p in order}
    for p in order:
        p.write_bytes(b"")
    for p in order:
        for i in range(len(full[p])):
            p.write_bytes(b"".join(full[p][: i + 1]))
            ingest_codex(conn, now=NOW, codex_home=str(home))


@pytest.mark.parametrize("mode", ["whole", "lines", "lines-reversed"])
def test_same_second_subagent_replay_counts_the_parent_once_and_the_subagent_its_own(mode: str) -> None:
    # loader.rs skips_replayed_parent_token_history_in_thread_spawn_subagent_files: 4 events, parent input
    # 1000 then 500, subagent 100/20 then 50/10 (input/output).
    home = install("same-second-subagent")
    conn = db.connect()
    files = sorted(home.rglob("rollout-*.jsonl"))
    if mode == "whole":
        ingest_codex(conn, now=NOW, codex_home=str(home))
    else:
        ingest_line_by_line(conn, home, files if mode == "lines" else files[::-1])
    threads = per_thread(conn)
    assert threads == {
        "rollout-2026-05-12T08-00-00-parent.jsonl": [(1000, 100, 200, 0, 1200), (500, 50, 100, 0, 600)],
        "subagent-abc": [(100, 10, 20, 0, 120), (50, 5, 10, 0, 60)],
    }


def test_skipped_replay_keeps_its_cumulative_baseline() -> None:
    # loader.rs keeps_cumulative_baseline_when_skipping_subagent_replay: one event 100/10/20/120, from a
    # total_token_usage-only line right after a replay whose parent file is not there.
    home = install("same-second-baseline")
    conn = db.connect()
    ingest_codex(conn, now=NOW, codex_home=str(home))
    assert per_thread(conn) == {"subagent-abc": [(100, 10, 20, 0, 120)]}


def test_three_subagents_replaying_the_same_parent_count_it_once() -> None:
    # loader.rs skips_replayed_history_across_multiple_subagent_files: 4 events, input 1150 in all.
    home = install("same-second-three-subagents")
    conn = db.connect()
    ingest_codex(conn, now=NOW, codex_home=str(home))
    rows = conn.execute("SELECT COUNT(*), SUM(input) FROM codex_usage").fetchone()
    assert tuple(rows) == (4, 1150)
    assert sorted(r[0] for r in conn.execute("SELECT input FROM codex_usage WHERE thread_id = 'subagent'")) == [
        25, 50, 75]


@pytest.mark.parametrize("mode", ["whole", "lines", "lines-reversed"])
def test_a_fork_replayed_over_several_seconds_counts_only_its_own_response(mode: str) -> None:
    # data-loader.ts (PR #910) deduplicates replayed fork prefixes from child sessions: events
    # [z-parent 100, z-parent 50, a-child 30] (total tokens). The replay is one line a second, so the
    # child's 10:00:02 copy is past any burst: it collapses onto the parent's row by its cumulative total.
    home = install("multi-second-fork")
    conn = db.connect()
    files = sorted(home.rglob("rollout-*.jsonl"))  # a-child first
    if mode == "whole":
        ingest_codex(conn, now=NOW, codex_home=str(home))
    else:
        ingest_line_by_line(conn, home, files if mode == "lines" else files[::-1])
    assert per_thread(conn) == {
        "parent-session": [(80, 0, 20, 0, 100), (40, 0, 10, 0, 50)],
        "child-session": [(24, 0, 6, 0, 30)],
    }


@pytest.mark.parametrize("skip_parent", [False, True])
def test_a_fork_whose_parent_is_outside_the_range_still_counts_only_its_own(skip_parent: bool) -> None:
    # data-loader.ts (PR #910) loads fork ancestors outside the requested date range: for 2025-09-12
    # (UTC) one event, the child's 30 tokens. Here with the parent read too, and with the parent left
    # unread as too old for the window asked (its mtime 2025-09-10T09:00:01Z, as the test sets it).
    home = install("multi-second-fork-range")
    parent = home / "sessions/2025/09/10/rollout-parent.jsonl"
    old = ts("2025-09-10T09:00:01Z")
    os.utime(parent, (old, old))
    conn = db.connect()
    ingest_codex(conn, now=NOW, codex_home=str(home), since=ts("2025-09-12T00:00:00Z") if skip_parent else None)
    day = date(2025, 9, 12)
    assert codex_daily(conn, timezone.utc, day, day) == [
        {"day": "2025-09-12", "input": 24, "cached_input": 0, "output": 6, "reasoning": 0, "total": 30,
         "responses": 1}]
    expected = {"child-range": [(24, 0, 6, 0, 30)]}
    if not skip_parent:
        expected["parent-range"] = [(80, 0, 20, 0, 100)]
    assert per_thread(conn) == expected
