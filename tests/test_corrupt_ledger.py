"""A ledger with corrupt data pages (issue 22): a real ledger built by the CLI, some of its pages
overwritten on disk, then the real commands, hooks and status line run against it. Whoever meets the
damage sets the file aside; the next command salvages what is readable (captures, router events, hook
state, usage of transcripts Claude Code has since deleted), rebuilds from the transcripts and says in
one line what could not be saved."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import time
from pathlib import Path
from typing import Any

from governor import paths
from governor.guards import hook_state
from governor.lanes import router_events
from governor.meter import db
from tests.helpers import assistant_row, jsonl, projects_root, run_cli, run_hook, wait_for_background_scan
from tests.official_fixtures import iso, status_payload, window

SESSIONS, ROWS = 12, 300
PAGE = re.compile(r"ledger\.sqlite3\.corrupt-\d{8}T\d{6}Z")


def _ledger() -> Path:
    return Path(paths.ledger_path())


def _seed() -> dict[str, Any]:
    """Twelve sessions of this week's transcripts (s00 oldest), a ledger built by `daily`, two official
    captures from the status line, router events, a hand-off run and hook state."""
    now = time.time()
    root = projects_root()
    for s in range(SESSIONS):
        rows = [assistant_row(message_id=f"m{s}_{i}", request_id=f"r{s}_{i}", session_id=f"s{s:02}",
                              timestamp=iso(now - 86400 + s * 3600 + i), output_tokens=s * 1000 + i + 1)
                for i in range(ROWS)]
        (root / "-home-dev-proj").mkdir(parents=True, exist_ok=True)
        (root / "-home-dev-proj" / f"s{s:02}.jsonl").write_text(jsonl(rows))
    assert run_cli("daily").returncode == 0
    proc = run_cli("statusline", input=json.dumps(status_payload({"five_hour": window(22, 3600),
                                                                  "seven_day": window(61)})),
                   env={"NO_COLOR": "1"})
    assert proc.returncode == 0 and proc.stdout.startswith("wk 61% official"), proc.stderr
    conn = db.connect()
    with db.transaction(conn):
        router_events.record_event(conn, now - 500, "s03", "handoff", "implement it across the repo", "/b/1.md",
                                   "broad")
        router_events.record_event(conn, now - 400, "s04", "hold", "design the architecture", None, "architecture")
        conn.execute("INSERT INTO handoff_runs(ts, brief_path, exit_code, thread_id, input, cached_input, output,"
                     " reasoning) VALUES(?, '/b/1.md', 0, 'th-1', 900, 100, 50, 5)", (now - 450,))
        hook_state.save(conn, "s05", "pacing", {"severity": 2, "at": now - 300}, now - 300)
    conn.close()
    return {"now": now, "kept": _kept()}


def _kept() -> dict[str, list[tuple[Any, ...]]]:
    """What exists only in the ledger, without the ids SQLite hands out."""
    conn = sqlite3.connect(_ledger())
    try:
        return {
            "captures": conn.execute("SELECT window, used_pct, resets_at, captured_at, source, session_id"
                                     " FROM captures ORDER BY window").fetchall(),
            "router_events": conn.execute("SELECT ts, session_id, decision, prompt_head, brief_path, reason"
                                          " FROM router_events ORDER BY ts").fetchall(),
            "handoff_runs": conn.execute("SELECT ts, brief_path, exit_code, thread_id, input FROM handoff_runs"
                                         ).fetchall(),
            "hook_state": conn.execute("SELECT session_id, guard, value FROM hook_state ORDER BY 1, 2").fetchall(),
        }
    finally:
        conn.close()


def _leaf_pages(table: str) -> list[tuple[int, int, int]]:
    """(page number, first rowid, last rowid) of each leaf page of `table`, in rowid order (rowids are
    dense here: rows are only ever inserted)."""
    conn = sqlite3.connect(_ledger())
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        count, top = conn.execute(f"SELECT count(*), max(rowid) FROM {table}").fetchone()
        assert count == top
        pages, first = [], 1
        for pageno, cells in conn.execute("SELECT pageno, ncell FROM dbstat WHERE name=? AND pagetype='leaf'"
                                          " ORDER BY path", (table,)):
            pages.append((pageno, first, first + cells - 1))
            first += cells
        assert first - 1 == count
        return pages
    finally:
        conn.close()


def _pages(table: str) -> list[int]:
    """Every page of a table without rowids (its leaves and interior pages)."""
    conn = sqlite3.connect(_ledger())
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return [r[0] for r in conn.execute("SELECT pageno FROM dbstat WHERE name=? ORDER BY path", (table,))]
    finally:
        conn.close()


def _overwrite(pages: list[int]) -> None:
    """Garbage over whole data pages, as a bad sector or a torn copy leaves them (the header stays)."""
    conn = sqlite3.connect(_ledger())
    size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    with open(_ledger(), "r+b") as fh:
        for page in pages:
            fh.seek((page - 1) * size)
            fh.write(bytes((page * 37 + i) % 251 for i in range(size)))


def _delete_first_transcript() -> tuple[int, int]:
    """Delete the transcript whose rows were stored first, as Claude Code's cleanupPeriodDays sweep would;
    returns its rows' rowid range (its usage now lives only in the ledger)."""
    conn = sqlite3.connect(_ledger())
    try:
        (session,) = conn.execute("SELECT session_id FROM usage WHERE rowid = 1").fetchone()
        lo, hi = conn.execute("SELECT min(rowid), max(rowid) FROM usage WHERE session_id=?", (session,)).fetchone()
    finally:
        conn.close()
    (projects_root() / "-home-dev-proj" / f"{session}.jsonl").unlink()
    return lo, hi


def _output_between(lo: int, hi: int) -> tuple[int, int]:
    conn = sqlite3.connect(_ledger())
    try:
        return conn.execute("SELECT count(*), sum(output) FROM usage WHERE rowid BETWEEN ? AND ?", (lo, hi)).fetchone()
    finally:
        conn.close()


def _totals() -> tuple[int, int]:
    conn = sqlite3.connect(_ledger())
    try:
        return conn.execute("SELECT count(*), sum(output) FROM usage").fetchone()
    finally:
        conn.close()


def _log() -> str:
    return Path(paths.log_path()).read_text()


def test_daily_salvages_a_ledger_with_corrupt_pages_and_keeps_the_history_of_deleted_transcripts() -> None:
    seeded = _seed()
    baseline = run_cli("daily", "--json")
    assert baseline.returncode == 0
    before = _totals()
    _gone_lo, gone_hi = _delete_first_transcript()
    damaged = [p for p in _leaf_pages("usage") if p[1] > gone_hi][2:4]  # rows of transcripts still there
    rollups = _leaf_pages("usage_hourly") + _leaf_pages("usage_rollup")  # what daily reads (summed anew)
    _overwrite([p[0] for p in damaged + rollups] + _pages("usage_quarter"))
    lost = sum(p[2] - p[1] + 1 for p in damaged)
    plain = sqlite3.connect(_ledger())
    try:
        plain.execute("SELECT sum(output) FROM usage").fetchone()
        raise AssertionError(f"the pages are not corrupt: {damaged}")
    except sqlite3.DatabaseError as exc:
        assert str(exc) == "database disk image is malformed"
    finally:
        plain.close()

    out = run_cli("daily", "--json")
    assert out.returncode == 0, out.stderr
    assert out.stdout == baseline.stdout  # every transcript's usage, the deleted one's from the old file
    moved = [n for n in os.listdir(_ledger().parent) if PAGE.fullmatch(n.removesuffix(".salvaged"))]
    assert len(moved) == 1 and moved[0].endswith(".salvaged")
    old = str(_ledger().parent / moved[0])
    assert out.stderr == (
        "governor: the ledger was corrupt and is rebuilt from the transcripts; saved 2 official captures,"
        f" 2 router events, 1 hook state, 1 hand-off run, {SESSIONS * ROWS - lost:,} usage rows from the old"
        f" file; could not read {lost:,} usage rows (usage of transcripts that still exist, and other machines'"
        f" records, are read again from their sources); old file kept as {old}\n")
    assert {n.removeprefix(moved[0]) for n in os.listdir(_ledger().parent) if n.startswith(moved[0])} >= {"", "-wal"}
    assert _kept() == seeded["kept"] and _totals() == before
    log = _log()
    assert "moved aside to" in log and out.stderr.removeprefix("governor: ").strip() in log
    again = run_cli("daily", "--json")  # salvaged once: nothing more to say
    assert again.stderr == "" and again.stdout == baseline.stdout


def test_what_cannot_be_saved_is_said_and_doctor_shows_the_last_recovery() -> None:
    _seed()
    _gone_lo, gone_hi = _delete_first_transcript()
    first = _leaf_pages("usage")[0]
    assert first[2] <= gone_hi  # the first page holds only the deleted transcript's rows
    lost_rows, lost_output = _output_between(first[1], first[2])
    captures = _leaf_pages("captures")
    assert len(captures) == 1
    before = _totals()
    _overwrite([first[0], captures[0][0]])

    out = run_cli("status")
    assert out.returncode == 0, out.stderr
    line = out.stderr.splitlines()[0]
    assert re.fullmatch(
        r"governor: the ledger was corrupt and is rebuilt from the transcripts; saved 2 router events, 1 hook"
        rf" state, 1 hand-off run, {SESSIONS * ROWS - lost_rows:,} usage rows from the old file; could not read"
        rf" 2 official captures, {lost_rows:,} usage rows \(usage of transcripts that still exist, and other"
        r" machines' records, are read again from their sources\); old file kept as .*\.salvaged", line), line
    assert _totals() == (before[0] - lost_rows, before[1] - lost_output)  # only the deleted transcript's page
    doctor = run_cli("doctor", "--no-run").stdout
    recovery = [ln for ln in doctor.splitlines() if ln.startswith("· ledger recovery: ")]
    assert len(recovery) == 1 and recovery[0].endswith(line.removeprefix("governor: the ledger was corrupt and"
                                                                         " is rebuilt from the transcripts"))
    assert "quick_check ok" in doctor


def test_a_prompt_hook_sets_the_file_aside_and_never_blocks_the_next_prompt() -> None:
    seeded = _seed()
    _overwrite([p[0] for p in _leaf_pages("files")])  # the transcripts' cursors: every ingest reads them
    transcript = projects_root() / "-home-dev-proj" / "s11.jsonl"
    payload = {"session_id": "s11", "transcript_path": str(transcript), "cwd": "/home/dev/proj",
               "hook_event_name": "UserPromptSubmit", "prompt": "carry on"}
    first = run_hook("user_prompt_submit.py", payload)
    assert (first.returncode, first.stdout, first.stderr) == (0, b"", b"")
    state = _ledger().parent
    moved = [n for n in os.listdir(state) if PAGE.fullmatch(n)]
    assert len(moved) == 1  # set aside, not read: salvage is left to the next command
    assert not _ledger().exists() or _totals()[0] == 0
    assert f"moved aside to {state / moved[0]} (database disk image is malformed)" in _log()

    second = run_hook("user_prompt_submit.py", payload)  # a new ledger, built from the transcripts
    assert (second.returncode, second.stderr) == (0, b"")
    assert wait_for_background_scan()  # every other session is read after the reply
    assert _totals() == (SESSIONS * ROWS, sum(s * 1000 * ROWS + ROWS * (ROWS + 1) // 2 for s in range(SESSIONS)))
    fresh = _kept()["router_events"]
    assert [e[1:4] for e in fresh] == [("s11", "pass", "carry on")]  # only this prompt's: not yet salvaged

    status = run_cli("status")
    assert status.returncode == 0 and status.stderr.startswith(
        "governor: the ledger was corrupt and is rebuilt from the transcripts; saved 2 official captures,"
        " 2 router events, 1 hook state, 1 hand-off run"), status.stderr
    kept = _kept()
    assert kept["router_events"] == sorted(seeded["kept"]["router_events"] + fresh)
    assert [s for s in kept["hook_state"] if s[0] != "s11"] == seeded["kept"]["hook_state"]  # s11: this prompt's run
    assert kept["handoff_runs"] == seeded["kept"]["handoff_runs"]
    assert kept["captures"] == seeded["kept"]["captures"]
    assert [n for n in os.listdir(state) if PAGE.fullmatch(n.removesuffix(".salvaged"))] == [moved[0] + ".salvaged"]
    assert "Traceback" not in status.stderr


def test_the_status_line_shows_its_last_line_and_the_next_one_is_rebuilt() -> None:
    _seed()
    payload = json.dumps(status_payload({"five_hour": window(22, 3600), "seven_day": window(61)}))
    shown = run_cli("statusline", input=payload, env={"NO_COLOR": "1"}).stdout
    assert shown.startswith("wk 61% official")
    _overwrite([p[0] for p in _leaf_pages("usage_hourly")] + [p[0] for p in _leaf_pages("usage_rollup")])
    out = run_cli("statusline", input=payload, env={"NO_COLOR": "1"})
    assert (out.returncode, out.stdout, out.stderr) == (0, shown, "")  # the last line, not a blank
    assert len([n for n in os.listdir(_ledger().parent) if PAGE.fullmatch(n)]) == 1
    again = run_cli("statusline", input=payload, env={"NO_COLOR": "1"})
    assert again.returncode == 0 and again.stdout.startswith("wk 61% official"), again.stdout


def test_a_damaged_right_edge_is_read_around_too() -> None:
    """The last page holds max(rowid): the ranges go on past the last readable row instead."""
    from governor.meter import ledger, salvage

    root = projects_root()
    rows = [assistant_row(message_id=f"m{i}", request_id=f"r{i}", output_tokens=i + 1) for i in range(3000)]
    (root / "p").mkdir()
    (root / "p" / "s.jsonl").write_text(jsonl(rows))
    conn = db.connect()
    ledger.ingest(conn, [str(root)], parallel=False)
    conn.close()
    pages = _leaf_pages("usage")
    damaged = [pages[1], pages[-1]]
    _overwrite([p[0] for p in damaged])
    (root / "p" / "s.jsonl").unlink()  # nothing to rebuild from: what is not salvaged is gone
    conn = sqlite3.connect(_ledger())
    try:
        conn.execute("SELECT max(rowid) FROM usage").fetchone()
        raise AssertionError("the right edge is readable")
    except sqlite3.DatabaseError:
        pass
    finally:
        conn.close()
    assert db.quarantine(sqlite3.DatabaseError("database disk image is malformed")) is not None
    said: list[str] = []
    db.on_recovery = said.append
    try:
        conn = salvage.connect()
    finally:
        db.on_recovery = None
    lost = sum(p[2] - p[1] + 1 for p in damaged)
    lost_output = sum(i + 1 for p in damaged for i in range(p[1] - 1, p[2]))
    assert conn.execute("SELECT count(*), sum(output) FROM usage").fetchone() == (
        3000 - lost, 3000 * 3001 // 2 - lost_output)
    assert conn.execute("SELECT sum(responses), sum(output) FROM usage_hourly").fetchone() == (
        3000 - lost, 3000 * 3001 // 2 - lost_output)  # the roll-ups summed anew from what was saved
    assert len(said) == 1 and f" {3000 - lost:,} usage rows from the old file" in said[0]
    assert f"could not read {lost:,} usage rows" in said[0]


HOLDER = """
import sys, time
from governor.meter import db
conn = db.connect()
conn.execute("SELECT count(*) FROM usage").fetchone()
print("open", flush=True)
sys.stdin.readline()  # the ledger is moved aside and a new one written meanwhile
conn.close()
print("closed", flush=True)
"""


def test_a_process_still_holding_the_moved_file_leaves_the_new_ledger_alone() -> None:
    """SQLite deletes `<file>-wal` by name when the last connection closes, unless it sees that its file
    was moved: then it neither checkpoints nor deletes. A hook still running on the old file when another
    process sets it aside must not take the new ledger's WAL with it."""
    import subprocess
    import sys

    from tests.helpers import REPO_ROOT

    db.connect().close()
    holder = subprocess.Popen([sys.executable, "-c", HOLDER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    assert holder.stdout is not None and holder.stdin is not None
    assert holder.stdout.readline() == "open\n"
    moved = db.quarantine(sqlite3.DatabaseError("database disk image is malformed"))
    assert moved is not None and not _ledger().exists()
    conn = db.connect()
    conn.execute("PRAGMA wal_autocheckpoint=0")  # the rows stay in the WAL: lost if it were deleted
    with db.transaction(conn):
        conn.execute("INSERT INTO captures(window, used_pct, captured_at, source) VALUES('seven_day', 40, 1, 'x')")
    holder.stdin.write("\n")
    holder.stdin.flush()
    assert holder.stdout.readline() == "closed\n" and holder.wait(timeout=30) == 0
    assert Path(str(_ledger()) + "-wal").exists()
    other = sqlite3.connect(_ledger())
    assert other.execute("SELECT window, used_pct FROM captures").fetchall() == [("seven_day", 40.0)]
    other.close()
    conn.close()


def test_hooks_status_lines_and_reports_meeting_the_damage_at_once_set_it_aside_once() -> None:
    import subprocess
    import sys

    from tests.helpers import HOOKS_DIR, REPO_ROOT

    seeded = _seed()
    _overwrite([p[0] for p in _leaf_pages("files")] + [p[0] for p in _leaf_pages("usage_rollup")])
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "NO_COLOR": "1"}
    transcript = projects_root() / "-home-dev-proj" / "s11.jsonl"
    prompt = json.dumps({"session_id": "s11", "transcript_path": str(transcript), "cwd": "/home/dev/proj",
                         "hook_event_name": "UserPromptSubmit", "prompt": "carry on"})
    line = json.dumps(status_payload({"five_hour": window(22, 3600), "seven_day": window(61)}))
    runs = [([sys.executable, str(HOOKS_DIR / "user_prompt_submit.py")], prompt)] * 6
    runs += [([sys.executable, "-m", "governor", "statusline"], line)] * 3
    runs += [([sys.executable, "-m", "governor", "status"], "")] * 2
    procs = [subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              env=env, cwd=str(REPO_ROOT)) for cmd, _data in runs]
    outs = [p.communicate(data.encode(), timeout=120) for p, (_cmd, data) in zip(procs, runs, strict=True)]
    for proc, (_out, err) in zip(procs, outs, strict=True):
        assert proc.returncode in (0, 1) and b"Traceback" not in err, err  # 1: the ledger busy, said so
    assert all(p.returncode == 0 for p in procs[:9])  # hooks and status lines always exit 0
    state = _ledger().parent
    moved = [n for n in os.listdir(state) if PAGE.fullmatch(n.removesuffix(".salvaged"))]
    assert len(moved) == 1, moved  # set aside once: a later meeting of the damage finds a new file there
    status = run_cli("status")
    assert status.returncode == 0 and "Traceback" not in status.stderr, status.stderr
    assert [n for n in os.listdir(state) if PAGE.fullmatch(n.removesuffix(".salvaged"))] == [
        moved[0].removesuffix(".salvaged") + ".salvaged"]
    kept = _kept()
    assert set(seeded["kept"]["router_events"]) <= set(kept["router_events"])
    for window_, pct, resets, at, _source, _session in seeded["kept"]["captures"]:  # kept, or refreshed by a
        assert any(c[:3] == (window_, pct, resets) and c[3] >= at for c in kept["captures"])  # new status line
    assert _totals() == (SESSIONS * ROWS, sum(s * 1000 * ROWS + ROWS * (ROWS + 1) // 2 for s in range(SESSIONS)))
