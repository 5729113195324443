"""The meter's invariants: each API response counted once, whatever the chunking, order, repeats,
copies, replays, torn lines or concurrent updaters."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from governor.meter import db, ledger, parse_pool, usage
from tests.helpers import REPO_ROOT, assistant_row, jsonl, user_row

TOKEN_KEYS = ("input", "output", "cache_creation", "cache_read")


def totals(conn) -> dict[str, int]:
    row = conn.execute(
        "SELECT COUNT(*), SUM(input), SUM(output), SUM(cache_creation), SUM(cache_read) FROM usage"
    )
    n, *sums = row.fetchone()
    return {"responses": n, **{k: int(v or 0) for k, v in zip(TOKEN_KEYS, sums, strict=False)}}


def response_rows(n: int, session: str = "s1", seed: int = 0) -> list[dict]:
    """n responses, each written as 1-3 content-block rows whose early rows carry placeholder output."""
    rng = random.Random(seed)
    rows: list[dict] = []
    for i in range(n):
        final_out = rng.randint(5, 900)
        blocks = rng.randint(1, 3)
        for b in range(blocks):
            out = final_out if b == blocks - 1 else rng.randint(1, 2)
            rows.append(
                assistant_row(
                    f"msg_{session}_{i}",
                    f"req_{session}_{i}",
                    session_id=session,
                    timestamp=f"2026-11-2{rng.randint(0, 3)}T1{rng.randint(0, 9)}:{rng.randint(0, 59):02d}"
                    f":{i % 60:02d}.000Z",
                    input_tokens=100 + i,
                    output_tokens=out,
                    cache_creation=1000 + i,
                    cache_read=20000 + i,
                    block_index=b,
                )
            )
        rows.append(user_row("next", session_id=session))
    return rows


def expected(rows: list[dict]) -> dict[str, int]:
    best: dict[str, dict] = {}
    for r in rows:
        if r["type"] != "assistant":
            continue
        u = r["message"]["usage"]
        key = r["message"]["id"]
        if key not in best or u["output_tokens"] > best[key]["output_tokens"]:
            best[key] = u
    return {
        "responses": len(best),
        "input": sum(u["input_tokens"] for u in best.values()),
        "output": sum(u["output_tokens"] for u in best.values()),
        "cache_creation": sum(u["cache_creation_input_tokens"] for u in best.values()),
        "cache_read": sum(u["cache_read_input_tokens"] for u in best.values()),
    }


def fresh_ledger(tmp: str):
    return db.connect(os.path.join(tmp, "ledger.sqlite3"))


def projects(tmp: str) -> Path:
    root = Path(tmp) / "projects"
    root.mkdir(parents=True, exist_ok=True)
    return root


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(1, 12), cuts=st.lists(st.integers(0, 10_000), max_size=6), seed=st.integers(0, 99))
def test_any_split_of_appends_counts_each_record_once(n: int, cuts: list[int], seed: int) -> None:
    rows = response_rows(n, seed=seed)
    data = jsonl(rows).encode()
    points = sorted({c % (len(data) + 1) for c in cuts}) + [len(data)]
    with tempfile.TemporaryDirectory() as tmp:
        root = projects(tmp)
        path = root / "-home-dev-proj" / "s1.jsonl"
        path.parent.mkdir()
        conn = fresh_ledger(tmp)
        written = 0
        for point in points:  # appends that end anywhere, mid-line included
            with open(path, "ab") as fh:
                fh.write(data[written:point])
            written = point
            ledger.ingest(conn, [str(root)], parallel=False)
        assert totals(conn) == expected(rows)
        assert conn.execute("SELECT SUM(bad_lines) FROM files").fetchone()[0] == 0


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), dup_rows=st.integers(0, 5), copies=st.integers(0, 2))
def test_file_order_duplicate_rows_and_copied_files_never_change_totals(
    seed: int, dup_rows: int, copies: int
) -> None:
    rng = random.Random(seed)
    per_file = [response_rows(rng.randint(1, 6), session=f"s{i}", seed=seed + i) for i in range(4)]
    want = expected([r for rows in per_file for r in rows])
    with tempfile.TemporaryDirectory() as tmp:
        root = projects(tmp)
        order = list(range(4))
        rng.shuffle(order)
        for i in order:
            rows = list(per_file[i])
            for _ in range(dup_rows):
                rows.append(dict(rng.choice(rows)))
            rng.shuffle(rows)
            proj = root / f"-p{i % 2}"
            proj.mkdir(exist_ok=True)
            (proj / f"s{i}.jsonl").write_text(jsonl(rows))
            for c in range(copies):  # a fork copies history into a new file with the same message ids
                (proj / f"fork{c}-s{i}.jsonl").write_text(jsonl(rows))
        conn = fresh_ledger(tmp)
        ledger.ingest(conn, [str(root)], parallel=False)
        assert totals(conn) == want


def test_highest_output_row_wins_whole_and_keeps_the_original_time_and_session(tmp_path: Path) -> None:
    root = projects(str(tmp_path))
    (root / "p").mkdir()
    original = assistant_row(
        "msg_A",
        "req_A",
        session_id="orig",
        timestamp="2026-11-20T10:00:00.000Z",
        output_tokens=2,
        input_tokens=10,
        cache_read=500,
    )
    final = assistant_row(
        "msg_A",
        "req_A",
        session_id="orig",
        timestamp="2026-11-20T10:00:01.000Z",
        output_tokens=300,
        input_tokens=10,
        cache_read=400,
        block_index=1,
    )
    resume_copy = assistant_row(
        "msg_A",
        "req_A",
        session_id="fork",
        timestamp="2026-11-22T09:00:00.000Z",
        output_tokens=300,
        input_tokens=10,
        cache_read=400,
    )
    (root / "p" / "fork.jsonl").write_text(jsonl([resume_copy]))
    (root / "p" / "orig.jsonl").write_text(jsonl([original, final]))
    conn = fresh_ledger(str(tmp_path))
    ledger.ingest(conn, [str(root)], parallel=False)
    row = conn.execute("SELECT session_id, ts, output, cache_read FROM usage").fetchall()
    assert len(row) == 1
    session, ts, output, cache_read = row[0]
    # tokens of the best row (not a per-field max: cache_read 400, not 500); time/session of the original
    assert (session, output, cache_read) == ("orig", 300, 400)
    assert ts == original_ts()


def original_ts() -> float:
    from governor.meter.transcript import parse_timestamp

    return parse_timestamp("2026-11-20T10:00:00.000Z")


def test_sidechain_replay_under_new_request_id_collapses_onto_parent(tmp_path: Path) -> None:
    root = projects(str(tmp_path))
    sub = root / "p" / "sess" / "subagents"
    sub.mkdir(parents=True)
    parent = assistant_row("msg_P", "req_P1", session_id="sess", output_tokens=80)
    replay = assistant_row(
        "msg_P",
        "req_P2",
        session_id="sess",
        output_tokens=80,
        sidechain=True,
        timestamp="2026-11-23T15:00:00.000Z",
    )
    own = assistant_row("msg_S", "req_S", session_id="sess", output_tokens=40, sidechain=True)
    (root / "p" / "sess.jsonl").write_text(jsonl([parent]))
    (sub / "agent-a1.jsonl").write_text(jsonl([replay, own]))
    conn = fresh_ledger(str(tmp_path))
    stats = ledger.ingest(conn, [str(root)], parallel=False)
    assert stats.files_seen == 2  # the subagent file is found
    assert totals(conn)["responses"] == 2
    assert totals(conn)["output"] == 120
    assert conn.execute("SELECT sidechain FROM usage WHERE key='m:msg_P'").fetchone()[0] == 0


def test_key_fallbacks_synthetic_and_error_rows(tmp_path: Path) -> None:
    root = projects(str(tmp_path))
    (root / "p").mkdir()
    no_id = assistant_row(None, "req_X", output_tokens=5)
    no_id_block2 = assistant_row(None, "req_X", output_tokens=9, block_index=1)
    no_ids = assistant_row(None, None, output_tokens=7, timestamp="2026-11-23T01:00:00.000Z")
    no_ids_again = assistant_row(None, None, output_tokens=7, timestamp="2026-11-23T01:00:00.000Z")
    synthetic = assistant_row("msg_syn", "req_syn", model="<synthetic>", output_tokens=1000)
    api_error = assistant_row("msg_err", "req_err", output_tokens=1000, isApiErrorMessage=True)
    no_usage = assistant_row("msg_nu", "req_nu")
    del no_usage["message"]["usage"]
    (root / "p" / "s.jsonl").write_text(
        jsonl([no_id, no_id_block2, no_ids, no_ids_again, synthetic, api_error, no_usage])
    )
    conn = fresh_ledger(str(tmp_path))
    ledger.ingest(conn, [str(root)], parallel=False)
    assert totals(conn)["responses"] == 2
    assert totals(conn)["output"] == 9 + 7


def test_malformed_and_torn_lines_are_skipped_and_counted(tmp_path: Path) -> None:
    root = projects(str(tmp_path))
    (root / "p").mkdir()
    good = jsonl([assistant_row("msg_1", "r1", output_tokens=10)])
    junk = b"\x00\xff\xfebinary junk\n" + b'{"type":"assistant","message":{"usage":{"input_tokens":"x"}}\n'
    path = root / "p" / "s.jsonl"
    path.write_bytes(good.encode() + junk + b'{"type":"assistant","mess')  # torn last line
    conn = fresh_ledger(str(tmp_path))
    ledger.ingest(conn, [str(root)], parallel=False)
    assert totals(conn)["responses"] == 1
    assert conn.execute("SELECT bad_lines FROM files").fetchone()[0] == 2
    # the torn line is completed by the next append and then counted exactly once
    with open(path, "ab") as fh:
        fh.write(
            jsonl([assistant_row("msg_2", "r2", output_tokens=20)])[
                len('{"type":"assistant","mess') :
            ].encode()
        )
    ledger.ingest(conn, [str(root)], parallel=False)
    assert totals(conn)["output"] == 30


def test_replaced_or_truncated_file_is_read_again_without_double_counting(tmp_path: Path) -> None:
    root = projects(str(tmp_path))
    (root / "p").mkdir()
    path = root / "p" / "s.jsonl"
    rows = response_rows(5)
    path.write_text(jsonl(rows))
    conn = fresh_ledger(str(tmp_path))
    ledger.ingest(conn, [str(root)], parallel=False)
    tmp = path.with_suffix(".new")
    tmp.write_text(jsonl(rows[:3]))
    os.replace(tmp, path)  # new inode, shorter
    ledger.ingest(conn, [str(root)], parallel=False)
    assert totals(conn) == expected(rows)
    path.write_text(jsonl(rows[:2]))  # truncated in place
    more = response_rows(2, session="s2")
    with open(path, "a") as fh:
        fh.write(jsonl(more))
    ledger.ingest(conn, [str(root)], parallel=False)
    assert totals(conn) == expected(rows + more)


def test_a_file_truncated_in_place_is_read_once_more_then_left_alone(tmp_path: Path) -> None:
    root = projects(str(tmp_path))
    (root / "p").mkdir()
    path = root / "p" / "s.jsonl"
    rows = response_rows(6)
    path.write_text(jsonl(rows))
    conn = fresh_ledger(str(tmp_path))
    ledger.ingest(conn, [str(root)], parallel=False)
    inode = path.stat().st_ino
    kept = jsonl(rows[:3]).encode()
    with open(path, "r+b") as fh:  # same inode, smaller size
        fh.truncate(len(kept))
    assert path.stat().st_ino == inode and path.read_bytes() == kept
    again = ledger.ingest(conn, [str(root)], parallel=False)
    assert (again.files_read, again.bytes_read) == (1, len(kept))  # read from 0 once
    assert totals(conn) == expected(rows)  # the rows it counted before stay, none twice
    cursor = conn.execute("SELECT ino, offset, size FROM files WHERE path = ?", (str(path),)).fetchone()
    assert tuple(cursor) == (inode, len(kept), len(kept))
    third = ledger.ingest(conn, [str(root)], parallel=False)
    assert (third.files_read, third.bytes_read, third.records) == (0, 0, 0)
    more = response_rows(2, session="s2")
    with open(path, "a") as fh:
        fh.write(jsonl(more))
    fourth = ledger.ingest(conn, [str(root)], parallel=False)
    assert fourth.bytes_read == len(jsonl(more).encode())  # only the appended bytes
    assert totals(conn) == expected(rows + more)


def test_old_untouched_files_are_not_read(tmp_path: Path) -> None:
    root = projects(str(tmp_path))
    (root / "p").mkdir()
    old = root / "p" / "old.jsonl"
    old.write_text(jsonl(response_rows(3, session="old")))
    os.utime(old, (1_000_000, 1_000_000))
    (root / "p" / "new.jsonl").write_text(jsonl(response_rows(2, session="new")))
    conn = fresh_ledger(str(tmp_path))
    stats = ledger.ingest(conn, [str(root)], since=2_000_000, parallel=False)
    assert stats.skipped_old == 1 and stats.files_read == 1
    again = ledger.ingest(conn, [str(root)], since=2_000_000, parallel=False)
    assert again.files_read == 0 and again.bytes_read == 0  # warm: nothing appended, nothing read


def test_parallel_cold_build_equals_serial(tmp_path: Path) -> None:
    root = projects(str(tmp_path))
    all_rows = []
    for i in range(6):
        rows = response_rows(20, session=f"s{i}", seed=i)
        all_rows += rows
        (root / f"-p{i}").mkdir()
        (root / f"-p{i}" / f"s{i}.jsonl").write_text(jsonl(rows))
    conn = fresh_ledger(str(tmp_path))
    old, old_task, old_min = ledger.PARALLEL_MIN_BYTES, parse_pool.TASK_BYTES, parse_pool.MIN_TASK_BYTES
    ledger.PARALLEL_MIN_BYTES = 0  # the bulk path: worker processes, indexes and triggers rebuilt at the end
    parse_pool.TASK_BYTES, parse_pool.MIN_TASK_BYTES = 1, 0  # a task per file: the worker's queue fills
    try:  # and the writer parses the rest
        ledger.ingest(conn, [str(root)])
    finally:
        ledger.PARALLEL_MIN_BYTES, parse_pool.TASK_BYTES, parse_pool.MIN_TASK_BYTES = old, old_task, old_min
    assert totals(conn) == expected(all_rows)
    serial = db.connect(os.path.join(str(tmp_path), "serial.sqlite3"))
    ledger.ingest(serial, [str(root)], parallel=False)  # rows one file at a time, roll-ups kept by triggers
    for table in ("usage", "usage_hourly", "usage_rollup"):
        query = f"SELECT * FROM {table} ORDER BY 1, 2"
        assert conn.execute(query).fetchall() == serial.execute(query).fetchall(), table
    kinds = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE tbl_name='usage'")}
    assert {"usage_ts", "usage_session", "usage_rollup_insert", "usage_rollup_update"} <= kinds
    for table in ("usage_hourly", "usage_rollup"):
        assert conn.execute(f"SELECT SUM(responses), SUM(output) FROM {table}").fetchone() == (
            totals(conn)["responses"], totals(conn)["output"])
    from governor.config_schema import defaults

    cfg = defaults()  # the roll-ups answer weekly sums exactly like the raw rows
    assert abs(usage.weighted_between(conn, cfg, 1_795_000_000, 1_796_000_000)
               - usage.weighted(usage.model_totals(conn, 1_795_000_000, 1_796_000_000), cfg)) < 1e-6


def _failing_parallel_build(tmp_path: Path, monkeypatch: Any, worker_parse: Any) -> tuple[Any, BaseException]:
    """A parallel first scan of six files whose worker processes parse with `worker_parse` (the writer
    parses with the real parser); returns the ledger connection and what the scan raised."""
    root = projects(str(tmp_path))
    for i in range(6):
        (root / f"-p{i}").mkdir()
        (root / f"-p{i}" / f"s{i}.jsonl").write_text(jsonl(response_rows(20, session=f"s{i}", seed=i)))
    conn = fresh_ledger(str(tmp_path))
    monkeypatch.setattr(ledger, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(parse_pool, "TASK_BYTES", 1)  # a task per file
    monkeypatch.setattr(parse_pool, "MIN_TASK_BYTES", 0)
    monkeypatch.setattr(parse_pool, "_parse_files", worker_parse)  # forked workers inherit it
    with pytest.raises(Exception) as raised:
        ledger.ingest(conn, [str(root)])
    return conn, raised.value


class _Refused(Exception):
    pass


def _refuse(jobs: Any, fast: bool, limit: Any) -> Any:
    raise _Refused(f"worker refused {len(jobs)} file(s)")


def _die(jobs: Any, fast: bool, limit: Any) -> Any:
    os._exit(7)


def test_a_worker_error_reaches_the_writer_and_nothing_is_stored(tmp_path: Path, monkeypatch: Any) -> None:
    conn, raised = _failing_parallel_build(tmp_path, monkeypatch, _refuse)
    assert type(raised) is _Refused and str(raised) == "worker refused 1 file(s)"
    assert conn.execute("SELECT COUNT(*) FROM usage").fetchone() == (0,)  # the one transaction rolled back
    assert conn.execute("SELECT COUNT(*) FROM files").fetchone() == (0,)


def test_a_worker_that_dies_fails_the_scan_with_its_exit_code(tmp_path: Path, monkeypatch: Any) -> None:
    conn, raised = _failing_parallel_build(tmp_path, monkeypatch, _die)
    assert type(raised) is RuntimeError
    assert str(raised) == "a transcript parser process died (exit code 7)"
    assert conn.execute("SELECT COUNT(*) FROM usage").fetchone() == (0,)
    assert conn.execute("SELECT COUNT(*) FROM files").fetchone() == (0,)


def test_corrupt_ledger_is_moved_aside_and_rebuilt(tmp_path: Path) -> None:
    root = projects(str(tmp_path))
    (root / "p").mkdir()
    rows = response_rows(4)
    (root / "p" / "s.jsonl").write_text(jsonl(rows))
    path = tmp_path / "ledger.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    conn = db.connect(str(path))
    ledger.ingest(conn, [str(root)], parallel=False)
    assert totals(conn) == expected(rows)
    assert list(tmp_path.glob("ledger.sqlite3.corrupt-*Z"))  # kept for salvage.connect


UPDATER = """
import sys
from governor.meter import db, ledger
conn = db.connect(sys.argv[1], busy_ms=60000)
for _ in range(int(sys.argv[3])):
    ledger.ingest(conn, [sys.argv[2]], parallel=False)
"""


def test_sixteen_concurrent_updaters_over_files_being_appended(tmp_path: Path) -> None:
    root = projects(str(tmp_path))
    files = []
    all_rows = []
    for i in range(4):
        (root / f"-p{i}").mkdir()
        rows = response_rows(40, session=f"s{i}", seed=i)
        all_rows += rows
        files.append((root / f"-p{i}" / f"s{i}.jsonl", jsonl(rows).encode()))
    ledger_file = str(tmp_path / "ledger.sqlite3")
    db.connect(ledger_file).close()
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    procs = [
        subprocess.Popen([sys.executable, "-c", UPDATER, ledger_file, str(root), "6"], env=env)
        for _ in range(16)
    ]
    rng = random.Random(7)
    written = [0] * len(files)
    while any(w < len(d) for w, (_, d) in zip(written, files, strict=False)):
        i = rng.randrange(len(files))
        path, data = files[i]
        step = rng.randint(50, 3000)
        with open(path, "ab") as fh:
            fh.write(data[written[i] : written[i] + step])
        written[i] = min(len(data), written[i] + step)
    for p in procs:
        assert p.wait(timeout=300) == 0
    conn = db.connect(ledger_file)
    ledger.ingest(conn, [str(root)], parallel=False)
    assert totals(conn) == expected(all_rows)


def test_weighted_units_use_weights_and_model_family(tmp_path: Path) -> None:
    from governor.config import load_config

    root = projects(str(tmp_path))
    (root / "p").mkdir()
    rows = [
        assistant_row(
            "m1",
            "r1",
            model="claude-sonnet-4-5-20250929",
            input_tokens=1000,
            output_tokens=100,
            cache_creation=2000,
            cache_read=30000,
        ),
        assistant_row(
            "m2",
            "r2",
            model="mystery-model-9",
            input_tokens=1000,
            output_tokens=0,
            cache_creation=0,
            cache_read=0,
        ),
    ]
    (root / "p" / "s.jsonl").write_text(jsonl(rows))
    conn = fresh_ledger(str(tmp_path))
    ledger.ingest(conn, [str(root)], parallel=False)
    got = usage.weighted_between(conn, load_config(), None, None)
    sonnet = (1000 * 1.0 + 100 * 5.0 + 2000 * 1.25 + 30000 * 0.1) * 0.6
    assert abs(got - (sonnet + 1000 * 1.0)) < 1e-6  # unknown model: default multiplier 1.0, never 0


def test_copying_a_whole_tree_twice_under_two_config_dirs_counts_once(tmp_path: Path) -> None:
    a = projects(str(tmp_path / "a"))
    (a / "p").mkdir()
    rows = response_rows(6)
    (a / "p" / "s.jsonl").write_text(jsonl(rows))
    b = tmp_path / "b" / "projects"
    shutil.copytree(a, b)
    conn = fresh_ledger(str(tmp_path))
    ledger.ingest(conn, [str(a), str(b)], parallel=False)
    assert totals(conn) == expected(rows)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), start_off=st.floats(0, 7 * 86400), length=st.floats(0, 9 * 86400))
def test_rollup_sums_equal_raw_sums_after_upserts(seed: int, start_off: float, length: float) -> None:
    from governor.config_schema import defaults

    rng = random.Random(seed)
    rows = []
    for i in range(60):  # responses over ~8 days, some rewritten by better rows and earlier copies
        ts = 1_795_000_000 + rng.uniform(0, 8 * 86400)
        stamp = time_iso(ts)
        rows.append(
            assistant_row(
                f"m{i % 40}",
                f"r{i}",
                timestamp=stamp,
                output_tokens=rng.randint(1, 500),
                input_tokens=rng.randint(1, 99),
                model=rng.choice(["claude-opus-4-5", "x-haiku"]),
            )
        )
    with tempfile.TemporaryDirectory() as tmp:
        root = projects(tmp)
        (root / "p").mkdir()
        (root / "p" / "s.jsonl").write_text(jsonl(rows))
        conn = fresh_ledger(tmp)
        ledger.ingest(conn, [str(root)], parallel=False)
        cfg = defaults()
        start = 1_795_000_000 + start_off
        fast = usage.weighted_between(conn, cfg, start, start + length)
        raw = usage.weighted(usage.model_totals(conn, start, start + length), cfg)
        assert abs(fast - raw) < 1e-6 * max(1.0, raw)


def time_iso(ts: float) -> str:
    import datetime as _dt

    return _dt.datetime.fromtimestamp(ts, _dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def test_a_process_killed_mid_ingest_leaves_a_consistent_ledger(tmp_path: Path) -> None:
    import signal
    import time as _time

    root = projects(str(tmp_path))
    all_rows = []
    for i in range(30):  # enough work that the kill lands inside the ingest's transaction
        rows = response_rows(150, session=f"k{i}", seed=i)
        all_rows += rows
        (root / f"-p{i}").mkdir()
        (root / f"-p{i}" / f"k{i}.jsonl").write_text(jsonl(rows))
    ledger_file = str(tmp_path / "ledger.sqlite3")
    db.connect(ledger_file).close()
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    victim = subprocess.Popen([sys.executable, "-c", UPDATER, ledger_file, str(root), "1"], env=env)
    _time.sleep(0.6)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    conn = db.connect(ledger_file)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    partial = totals(conn)["responses"]
    # all or nothing: either the whole ingest committed or none of it
    assert partial in (0, expected(all_rows)["responses"])
    ledger.ingest(conn, [str(root)], parallel=False)
    assert totals(conn) == expected(all_rows)


def test_a_time_budget_spreads_a_first_scan_over_calls_without_losing_anything(tmp_path: Path) -> None:
    root = projects(str(tmp_path))
    all_rows = []
    for i in range(5):
        rows = response_rows(10, session=f"b{i}", seed=i)
        all_rows += rows
        (root / f"-p{i}").mkdir()
        (root / f"-p{i}" / f"b{i}.jsonl").write_text(jsonl(rows))
    conn = fresh_ledger(str(tmp_path))
    first = ledger.ingest(conn, [str(root)], parallel=False, budget_s=0)
    assert first.files_read == 1 and first.unfinished == 4  # a hook with no time left stops after one file
    calls = 1
    while ledger.ingest(conn, [str(root)], parallel=False, budget_s=0).unfinished:
        calls += 1
    assert calls == 4
    assert totals(conn) == expected(all_rows)


@settings(max_examples=60, deadline=None)
@given(
    records=st.lists(
        st.tuples(
            st.sampled_from(["m:a", "m:b", "r:c"]),
            st.sampled_from([1_795_000_000.0, 1_795_000_000.5, 1_795_003_600.0]),  # ts
            st.sampled_from(["s1", "s2"]),
            st.just("-p1"),  # one file: one project
            st.sampled_from(["claude-opus-4-5", "claude-sonnet-4-5"]),
            st.integers(0, 3), st.integers(0, 3), st.integers(0, 3), st.integers(0, 3),  # the four counts
            st.one_of(st.none(), st.integers(0, 2)), st.one_of(st.none(), st.integers(0, 2)),  # 5m / 1h
            st.integers(0, 1),  # sidechain
        ),
        max_size=12,
    )
)
def test_pre_merging_a_files_rows_equals_upserting_each(records: list[tuple]) -> None:
    """The worker's per-file merge (_collapse) applies UPSERT's rules: loading its output gives the same
    ledger as loading every row, in order, one at a time."""
    from governor.meter.transcript import UsageRecord

    rows = [UsageRecord(*r) for r in records]
    with tempfile.TemporaryDirectory() as tmp:
        each, merged = fresh_ledger(tmp), db.connect(os.path.join(tmp, "merged.sqlite3"))
        for row in rows:
            each.execute(ledger.UPSERT, tuple(row))
        merged.executemany(ledger.UPSERT, parse_pool._collapse(rows))
        query = "SELECT * FROM usage ORDER BY key"
        assert merged.execute(query).fetchall() == each.execute(query).fetchall()
