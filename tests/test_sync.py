"""Several machines, one ledger (governor sync): two and three machines with their own GOVERNOR_HOME and
transcript roots share a folder; after exchanging files each machine's `daily --json` is the union's."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.helpers import REPO_ROOT, assistant_row, jsonl
from tests.sync_machines import PROMPT_TEXT, Machine, copy_machine_state, machine_dir, same_usage, truth


@pytest.fixture()
def share(tmp_path: Path) -> Path:
    path = tmp_path / "Sync"
    path.mkdir()
    return path


def machines(tmp_path: Path, share: Path, *names: str) -> list[Machine]:
    out = [Machine(tmp_path, n) for n in names]
    for m in out:
        m.cli("sync", "init", str(share), "--name", m.name)
    return out


def test_two_machines_each_see_the_union(tmp_path: Path, share: Path) -> None:
    laptop, desktop = machines(tmp_path, share, "laptop", "desktop")
    laptop.write_session("s-lap", 7, day=23)
    # a fork copy that betters one response of each file: a row updated while its key waits for export
    for name, outputs in (("s-fork", (1, 90)), ("s-fork-copy", (90, 1))):
        rows = [assistant_row(f"msg_fork_{i}", f"req_fork_{i}", session_id=name, output_tokens=out,
                              timestamp=f"2026-11-23T1{i}:30:00.000Z") for i, out in enumerate(outputs)]
        (laptop.projects / "-home-dev-proj" / f"{name}.jsonl").write_text(jsonl(rows))
    desktop.write_session("s-desk", 5, day=24)
    desktop.write_session("s-desk2", 3, day=23, project="-home-dev-other")
    for m in (laptop, desktop, laptop):  # each exports on its report; the second laptop run merges desktop's
        m.daily()
    union = truth(tmp_path, laptop.projects, desktop.projects)
    assert union["totals"]["output_tokens"] > 0
    same_usage(laptop.daily(), union)
    same_usage(desktop.daily(), union)
    # and a report again changes nothing (re-reads are idempotent)
    same_usage(laptop.daily(), union)
    # the filters and the split
    mine = laptop.daily("--machine", "this")
    assert mine == laptop.daily("--machine", "laptop")
    same_usage(mine, truth(tmp_path, laptop.projects))
    same_usage(laptop.daily("--machine", "desktop"), truth(tmp_path, desktop.projects))
    same_usage(laptop.daily("--machine", "all"), union)
    human = laptop.cli("daily", "--tz", "UTC").stdout
    lap_w = mine["totals"]["weighted_units"]
    share_lap = round(100 * lap_w / union["totals"]["weighted_units"])
    assert human.rstrip().splitlines()[-1] == f"by machine: laptop (this) {share_lap}% · desktop {100 - share_lap}%"
    bad = laptop.cli("daily", "--machine", "tablet", check=False)
    assert bad.returncode == 2
    assert bad.stderr == "governor: no machine 'tablet'; known: this, all, desktop, laptop\n"
    sessions = json.loads(laptop.cli("sessions", "--json", "--machine", "desktop").stdout)["sessions"]
    assert sorted(s["session_id"] for s in sessions) == ["s-desk", "s-desk2"]


def test_three_machines_and_a_transcript_tree_on_two_of_them(tmp_path: Path, share: Path) -> None:
    a, b, c = machines(tmp_path, share, "a", "b", "c")
    a.write_session("s-a", 6, day=22)
    shared = a.write_session("s-shared", 9, day=23)
    b.write_session("s-b", 4, day=23)
    copy = b.projects / shared.parent.name / shared.name  # the same tree synced (or copied) to b
    copy.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(shared, copy)
    c.write_session("s-c", 2, day=25)
    for _ in range(2):
        for m in (a, b, c):
            m.daily()
    union = truth(tmp_path, a.projects, b.projects, c.projects)
    # the judge reads the shared transcript under two roots too: one record per response key, counted once
    assert union == truth(tmp_path, a.projects, b.projects.parent / "projects", c.projects)
    assert union["totals"]["output_tokens"] == sum(50 + i for n in (6, 9, 4, 2) for i in range(n))
    for m in (a, b, c):
        same_usage(m.daily(), union)
    status = json.loads(c.cli("sync", "status", "--json").stdout)
    names = [(m["name"], m["this"]) for m in status["machines"]]
    assert names[0] == ("c", True) and sorted(names[1:]) == [("a", False), ("b", False)]
    assert sum(m["records"] for m in status["machines"]) == 6 + 9 + 4 + 2  # the shared 9 once


def test_conflict_copies_never_double_count(tmp_path: Path, share: Path) -> None:
    a, b = machines(tmp_path, share, "a", "b")
    a.write_session("s-a", 5)
    a.daily()
    b.daily()
    union = truth(tmp_path, a.projects, b.projects)
    same_usage(b.daily(), union)
    directory = machine_dir(share, a)
    month = next(directory.glob("????-??.jsonl"))
    stem = month.name[:-len(".jsonl")]
    for name in (f"{stem}.sync-conflict-20261202-101500-ABCDEFG.jsonl", f"{stem} (conflicted copy).jsonl",
                 f"{stem} (Dev's conflicted copy 2026-12-02).jsonl", f"{month.name}~"):
        shutil.copy(month, directory / name)
    a.write_session("s-a2", 3, day=24)  # new records after the copies were made
    a.daily()
    shutil.copy(month, directory / f"{stem}.sync-conflict-20261202-101600-XYZ1234.jsonl")
    union = truth(tmp_path, a.projects, b.projects)
    same_usage(b.daily(), union)
    same_usage(a.daily(), union)  # a never reads its own directory, copies or not


def test_records_never_carry_prompt_text_and_projects_can_be_hashed(tmp_path: Path, share: Path) -> None:
    a = Machine(tmp_path, "a")
    a.cli("sync", "init", str(share), "--hash-projects")
    a.write_session("s-a", 3, project="-home-dev-secret-project")
    a.daily()
    exported = b"".join(p.read_bytes() for p in machine_dir(share, a).iterdir())
    assert PROMPT_TEXT.encode() not in exported and b"secret-project" not in exported
    lines = [json.loads(line) for line in next(machine_dir(share, a).glob("*.jsonl")).read_text().splitlines()]
    assert lines[0]["governor"] == "sync" and lines[0]["v"] == 1
    assert {line["project"] for line in lines[1:]} == {lines[1]["project"]}
    assert lines[1]["project"].startswith("sha256:") and len(lines) == 4


def _months(share: Path, m: Machine) -> list[Path]:
    return sorted(machine_dir(share, m).glob("*.jsonl"))


def _accepted(path: Path) -> list[dict]:
    """What every reader takes from the file: complete lines only, each valid, the header first."""
    from governor.meter.sync_merge import parse_line

    data = path.read_bytes()
    complete = data[: data.rfind(b"\n") + 1]
    lines = complete.splitlines()
    assert json.loads(lines[0])["governor"] == "sync"
    return [parse_line(line) for line in lines[1:]]


EXPORT_LOOP = r"""
import sys, time
from governor.config import load_config
from governor.meter import db, machine, sync_export
conn = db.connect()
config = load_config()
me = machine.current()
i = int(sys.argv[1])
while True:
    with db.transaction(conn):
        conn.executemany(
            "INSERT INTO usage(key, ts, session_id, project, model, input, output, cache_creation, cache_read)"
            " VALUES(?,?,?,?,?,?,?,?,?)",
            [(f"k{i}-{j}", 1795000000 + i, "s", "p", "claude-opus-4-5", 1, 2, 3, 4) for j in range(400)])
    i += 1
    sync_export.export(conn, config, me, time.time())
    print(i, flush=True)
"""


def test_sigkill_mid_export_leaves_a_file_every_reader_accepts(tmp_path: Path, share: Path) -> None:
    a, b = machines(tmp_path, share, "a", "b")
    start = 0
    for round_ in range(6):
        proc = subprocess.Popen([sys.executable, "-c", EXPORT_LOOP, str(start)], env=a.env, cwd=str(REPO_ROOT),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        for _ in range(2 + round_):
            line = proc.stdout.readline()
            assert line, proc.stderr.read() if proc.stderr else ""
        time.sleep(0.003 * round_)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        start += 100
        for path in _months(share, a):
            _accepted(path)  # a torn tail is never taken for a record, every complete line is one
    # a torn tail left by hand (a kill inside the write) is cut before the next append
    month = _months(share, a)[-1]
    with month.open("ab") as fh:
        fh.write(b'{"v":1,"n":5,"t":"u","key":"torn","ts":17950')
    a.write_session("s-after", 2)
    a.cli("sync", "status")  # exports again (and what a killed export had not committed is still queued)
    assert month.read_bytes().endswith(b"\n") and b'"key":"torn"' not in month.read_bytes()
    conn = sqlite3.connect(a.state / "ledger.sqlite3")
    (local,) = conn.execute("SELECT COUNT(*) FROM usage").fetchone()
    assert conn.execute("SELECT COUNT(*) FROM sync_outbox").fetchone() == (0,)
    keys = {d["key"] for path in _months(share, a) for d in _accepted(path)}
    assert len(keys) == local and "torn" not in keys
    b.cli("sync", "status")
    conn_b = sqlite3.connect(b.state / "ledger.sqlite3")
    assert conn_b.execute("SELECT COUNT(*) FROM usage WHERE machine IS NOT NULL").fetchone() == (local,)


def test_interleaved_exports_and_merges_stay_exact(tmp_path: Path, share: Path) -> None:
    a, b, c = machines(tmp_path, share, "a", "b", "c")
    errors: list[BaseException] = []

    def work(m: Machine, sessions: int) -> None:
        try:
            for i in range(sessions):
                m.write_session(f"s-{m.name}-{i}", 3 + i, day=20 + i)
                m.cli("daily", "--json")
                m.cli("sessions", "--json")
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test thread
            errors.append(exc)

    def reports(m: Machine, times: int) -> None:  # a second process on the same machine, exporting and merging
        try:
            for _ in range(times):
                m.cli("sync", "status", "--json")
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(m, 4)) for m in (a, b, c)]
    threads.append(threading.Thread(target=reports, args=(b, 8)))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    for m in (a, b, c):
        m.cli("daily", "--json")  # the last exports
    union = truth(tmp_path, a.projects, b.projects, c.projects)
    for m in (a, b, c):
        same_usage(m.daily(), union)


def test_hooks_and_status_line_merge_and_export_within_their_budget(tmp_path: Path, share: Path) -> None:
    from tests.test_prompt_hook import iso

    a, b = machines(tmp_path, share, "a", "b")
    now = time.time()
    rows = [assistant_row(f"msg_b{i}", f"req_b{i}", session_id="s-b", timestamp=iso(now - 900 + i))
            for i in range(4)]
    path = b.projects / "-home-dev-proj" / "s-b.jsonl"
    path.parent.mkdir(parents=True)
    path.write_text(jsonl(rows))
    payload = {"session_id": "s-b", "transcript_path": str(path), "cwd": str(path.parent),
               "hook_event_name": "UserPromptSubmit", "prompt": "hello", "permission_mode": "default"}
    hook = subprocess.run([sys.executable, str(REPO_ROOT / "hooks" / "user_prompt_submit.py")],
                          input=json.dumps(payload), capture_output=True, text=True, env=b.env, timeout=60)
    assert hook.returncode == 0, hook.stderr
    assert list(machine_dir(share, b).glob("*.jsonl")), "the prompt hook exported b's records"
    line = subprocess.run([sys.executable, "-m", "governor", "statusline"], input=json.dumps(
        {"session_id": "s-a", "transcript_path": "", "model": {"id": "claude-opus-4-5"}}), capture_output=True,
        text=True, env=a.env, timeout=60, cwd=str(REPO_ROOT))
    assert line.returncode == 0, line.stderr
    conn = sqlite3.connect(a.state / "ledger.sqlite3")
    assert conn.execute("SELECT COUNT(*) FROM usage WHERE machine IS NOT NULL").fetchone() == (4,)


def test_a_missing_sync_dir_fails_open_in_hooks_and_says_one_line_in_reports(tmp_path: Path, share: Path) -> None:
    a, b = machines(tmp_path, share, "a", "b")
    a.write_session("s-a", 3)
    a.daily()
    away = share.with_name("away")
    share.rename(away)  # an unmounted drive
    a.write_session("s-a2", 2, day=24)
    out = a.cli("daily", "--json")
    assert json.loads(out.stdout)["totals"]["output_tokens"] > 0
    assert out.stderr == (f"governor: sync: sync dir {share} is missing (unmounted or moved?); records wait in"
                          " the ledger\n")
    assert not share.exists()  # never recreated empty
    payload = {"session_id": "s-a", "transcript_path": str(a.projects / "-home-dev-proj" / "s-a.jsonl"),
               "cwd": "/", "hook_event_name": "UserPromptSubmit", "prompt": "hi", "permission_mode": "default"}
    hook = subprocess.run([sys.executable, str(REPO_ROOT / "hooks" / "user_prompt_submit.py")],
                          input=json.dumps(payload), capture_output=True, text=True, env=a.env, timeout=60)
    assert hook.returncode == 0 and hook.stderr == ""
    away.rename(share)  # mounted again: what waited goes out, nothing lost
    a.cli("daily")
    b.cli("daily")
    same_usage(b.daily(), truth(tmp_path, a.projects, b.projects))
    shutil.rmtree(share / "governor" / a.machine_id())  # a's files wiped: a exports everything again
    a.cli("daily")
    b.cli("daily")
    same_usage(b.daily(), truth(tmp_path, a.projects, b.projects))


def test_sync_init_refuses_a_dir_it_cannot_use(tmp_path: Path, share: Path) -> None:
    a = Machine(tmp_path, "a")
    missing = a.cli("sync", "init", str(tmp_path / "nope"), check=False)
    assert (missing.returncode, missing.stderr) == (
        2, f"governor: {tmp_path / 'nope'} does not exist; create it (or let the sync engine create it) first\n")
    (share / "governor").write_text("not a directory")
    taken = a.cli("sync", "init", str(share), check=False)
    assert taken.returncode == 0  # the dir itself is writable; the export's problem is one line
    assert taken.stderr.startswith(f"governor: sync: cannot write {share / 'governor'}")
    assert len(taken.stderr.splitlines()) == 1
    if os.geteuid() != 0:
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o555)
        refused = a.cli("sync", "init", str(ro), check=False)
        assert (refused.returncode, refused.stderr) == (2, f"governor: cannot write {ro}: permission denied\n")


FULL_DISK = r"""
import resource, signal, sys, time
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
from governor.config import load_config
from governor.meter import db, machine, sync_export
conn = db.connect()
me = machine.current()
conn.executemany("INSERT INTO usage(key, ts, session_id, project, model, input, output, cache_creation, cache_read)"
                 " VALUES(?,?,?,?,?,?,?,?,?)", [(f"k{j}", 1795000000, "s", "p", "m", 1, 2, 3, 4) for j in range(500)])
resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[1]), int(sys.argv[1])))
try:
    sync_export.export(conn, load_config(), me, time.time())
except sync_export.SyncError as exc:
    print(exc)
"""


def test_a_full_disk_loses_nothing(tmp_path: Path, share: Path) -> None:
    a, b = machines(tmp_path, share, "a", "b")
    a.write_session("s-a", 2)
    a.daily()
    month = _months(share, a)[0]
    size = month.stat().st_size
    out = subprocess.run([sys.executable, "-c", FULL_DISK, str(size + 5000)], env=a.env, cwd=str(REPO_ROOT),
                         capture_output=True, text=True, timeout=60)
    assert out.stdout == f"cannot write {month}: the file is too large for this disk\n", out.stderr
    assert month.stat().st_size == size  # the partial write was undone
    a.cli("daily")  # room again: the queue exports everything
    b.cli("daily")
    conn = sqlite3.connect(b.state / "ledger.sqlite3")
    assert conn.execute("SELECT COUNT(*) FROM usage WHERE machine IS NOT NULL").fetchone() == (502,)


def test_foreign_newer_and_corrupt_files(tmp_path: Path, share: Path) -> None:
    a, b = machines(tmp_path, share, "a", "b")
    a.write_session("s-a", 4)
    a.daily()
    directory = machine_dir(share, a)
    month = _months(share, a)[0]
    lines = month.read_text().splitlines(keepends=True)
    # a corrupt line in the middle, and one from a later format at the end of another month
    month.write_text("".join(lines[:2]) + "{not json\n" + '{"v":1,"n":3,"t":"u","key":7}\n' + "".join(lines[2:]))
    (directory / "2026-10.jsonl").write_text(lines[0] + '{"v":2,"n":1,"t":"u2","key":"x"}\n')
    (directory / "2026-09.jsonl").write_text('{"v":9,"governor":"sync"}\n{"v":9,"t":"u"}\n')
    (directory / "2026-08.jsonl").write_text("a,b,c\n1,2,3\n")  # not ours
    out = b.cli("daily", "--json")
    assert out.stderr == (f"governor: sync: 2 file(s) in {share} come from a newer governor; upgrade governor here"
                          " to count them (nothing is lost meanwhile)\n")
    same_usage(json.loads(out.stdout), truth(tmp_path, a.projects, b.projects))
    log = (b.state / "governor.log").read_text()
    assert "skipped 2 malformed line(s)" in log and "are not governor exports" in log


def test_a_copied_state_dir_gets_its_own_id(tmp_path: Path, share: Path) -> None:
    a, b = machines(tmp_path, share, "a", "b")
    a.write_session("s-a", 5)
    a.daily()
    clone = Machine(tmp_path, "clone")  # a's state dir restored onto another machine (another directory)
    copy_machine_state(a, clone)
    clone.write_session("s-clone", 3, day=24)
    out = clone.cli("daily", "--json")
    assert clone.machine_id() != a.machine_id()
    b.daily()
    a.daily()
    union = truth(tmp_path, a.projects, b.projects, clone.projects)
    for m in (a, b, clone):
        same_usage(m.daily(), union)
    assert json.loads(out.stdout)["totals"]["output_tokens"] > 0
    assert "state dir was copied" in (clone.state / "governor.log").read_text()


def test_stale_machines_and_clock_skew(tmp_path: Path, share: Path) -> None:
    a, b = machines(tmp_path, share, "a", "b")
    b.write_session("s-b", 2)
    b.daily()
    meta = machine_dir(share, b) / "machine.json"
    doc = json.loads(meta.read_text())
    doc["last_export"] = time.time() - 13 * 3600
    meta.write_text(json.dumps(doc))
    # b's clock runs a day ahead: its record is timed now on a, never in a cycle that has not begun
    ahead = time.time() + 86400
    with next(machine_dir(share, b).glob("*.jsonl")).open("a") as fh:
        fh.write(json.dumps({"v": 1, "n": 2**40, "t": "u", "key": "ahead", "ts": ahead, "session_id": "s-b",
                             "project": "p", "model": "claude-opus-4-5", "input": 1, "output": 1,
                             "cache_creation": 0, "cache_read": 0, "cache_5m": None, "cache_1h": None,
                             "sidechain": 0, "web_search": 0, "source": "transcript"}) + "\n")
    before = time.time()
    status = a.cli("status").stdout
    assert "stale:    b has not exported for over 12 h (last: 13 h ago)" in status
    assert "machines  a (this) 0% · b 100%" in status
    conn = sqlite3.connect(a.state / "ledger.sqlite3")
    (ts,) = conn.execute("SELECT ts FROM usage WHERE key='ahead'").fetchone()
    assert before - 1 <= ts <= time.time()
    data = json.loads(a.cli("sync", "status", "--json").stdout)
    assert [m["stale"] for m in data["machines"]] == [False, True]
    table = a.cli("sync", "status").stdout.splitlines()
    assert table[0] == f"sync on: {share}"
    assert table[1].split() == ["machine", "id", "last", "export", "records", "this", "cycle", "share"]
    assert table[3].split()[:2] == ["a", "(this)"] and table[3].split()[3:] == ["0", "min", "ago", "0", "0", "0%"]
    assert table[4].split() == ["b", b.machine_id()[:8], "13.0", "h", "ago", "3", "6", "100%", "stale:", "no",
                                "export", "for", "over", "12", "h"]


def test_sync_off_stops_exporting_and_keeps_what_was_merged(tmp_path: Path, share: Path) -> None:
    a, b = machines(tmp_path, share, "a", "b")
    b.write_session("s-b", 2)
    b.daily()
    a.daily()
    out = a.cli("sync", "off").stdout
    triggers = sqlite3.connect(a.state / "ledger.sqlite3").execute(
        "SELECT name FROM sqlite_master WHERE type='trigger' AND name LIKE 'sync_%'").fetchall()
    assert triggers == []  # a ledger without sync pays nothing per row
    assert out.startswith(f"sync off: this machine no longer exports to or merges from {share}; the 2 record(s)")
    a.write_session("s-a", 3)
    a.daily()
    assert not list(machine_dir(share, a).glob("*.jsonl")) or all(
        "s-a" not in p.read_text() for p in machine_dir(share, a).glob("*.jsonl"))
    assert a.daily()["totals"]["output_tokens"] == truth(tmp_path, a.projects, b.projects)["totals"]["output_tokens"]


def test_schema_9_ledger_migrates_without_reading_again(tmp_path: Path) -> None:
    from governor import paths
    from governor.meter import db

    path = paths.ledger_path()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    conn = sqlite3.connect(path)
    conn.executescript(db.SCHEMA + "PRAGMA user_version=9;")
    conn.execute("INSERT INTO usage(key, ts, model, input, output, cache_creation, cache_read)"
                 " VALUES('k', 1795000000, 'm', 1, 2, 3, 4)")
    conn.execute("INSERT INTO files(path, kind, offset) VALUES('/t.jsonl', 'claude', 99), ('/r.jsonl', 'codex', 77)")
    conn.commit()
    conn.close()
    conn = db.connect()
    assert conn.execute("PRAGMA user_version").fetchone() == (db.SCHEMA_VERSION,)
    assert conn.execute("SELECT key, machine FROM usage").fetchall() == [("k", None)]
    assert conn.execute("SELECT offset FROM files ORDER BY path").fetchall() == [(77,), (99,)]  # nothing read again


def test_an_official_capture_on_one_machine_calibrates_the_other(tmp_path: Path, share: Path) -> None:
    a, b = machines(tmp_path, share, "a", "b")
    now = time.time()
    line = subprocess.run([sys.executable, "-m", "governor", "statusline"], input=json.dumps(
        {"session_id": "s-a", "transcript_path": "", "model": {"id": "claude-opus-4-5"},
         "rate_limits": {"seven_day": {"used_percentage": 37, "resets_at": int(now + 2 * 86400)}}}),
        capture_output=True, text=True, env=a.env, timeout=60, cwd=str(REPO_ROOT))
    assert line.returncode == 0 and "37%" in line.stdout, line
    assert json.loads(Machine(tmp_path, "solo").cli("status", "--json").stdout)["spent"]["source"] == "local estimate"
    # the status line exported it (its first export is due at once): b's next report reads it
    spent = json.loads(b.cli("status", "--json").stdout)["spent"]
    assert (spent["source"], spent["fraction"]) == ("official", 0.37)
    conn = sqlite3.connect(b.state / "ledger.sqlite3")
    assert conn.execute("SELECT machine FROM captures").fetchall() == [(a.machine_id(),)]


def test_a_bulk_first_scan_with_sync_on_queues_every_row_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from governor import paths
    from governor.meter import db, ledger, machine, sync_export
    from tests.helpers import projects_root

    for n in range(3):
        rows = [assistant_row(f"msg_bulk{n}_{i}", f"req_bulk{n}_{i}", session_id=f"s{n}") for i in range(40)]
        (projects_root() / "-p").mkdir(exist_ok=True)
        (projects_root() / "-p" / f"s{n}.jsonl").write_text(jsonl(rows))
    conn = db.connect()
    sync_export.enable(conn, machine.current().id, time.time())  # type: ignore[union-attr]
    monkeypatch.setattr(ledger, "BULK_MIN_BYTES", 0)  # the load without indexes and triggers, as for 256 MB
    ledger.ingest(conn, paths.transcript_roots(), parallel=False)
    assert conn.execute("SELECT COUNT(*) FROM sync_outbox").fetchone() == (120,)
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='trigger' AND name LIKE 'sync%'")}
    assert names == set(db.SYNC_TRIGGER_NAMES)
    more = [assistant_row("msg_late", "req_late", session_id="s0")]
    with (projects_root() / "-p" / "s0.jsonl").open("a") as fh:
        fh.write(jsonl(more))
    ledger.ingest(conn, paths.transcript_roots(), parallel=False)  # a bulk load into a full ledger keeps them
    assert conn.execute("SELECT COUNT(*) FROM sync_outbox").fetchone() == (121,)


def test_a_corrupt_ledger_keeps_other_machines_records_theirs(tmp_path: Path, share: Path) -> None:
    """The salvage copies this machine's own rows; another machine's are read again from the sync folder, so
    they stay that machine's (the split) and count once (the totals)."""
    laptop, desktop = machines(tmp_path, share, "laptop", "desktop")
    laptop.write_session("s-lap", 600, day=23)
    desktop.write_session("s-desk", 600, day=24)
    for m in (laptop, desktop, laptop):
        m.daily()
    union = truth(tmp_path, laptop.projects, desktop.projects)
    split = laptop.cli("daily", "--tz", "UTC").stdout.rstrip().splitlines()[-1]
    assert split.startswith("by machine: laptop (this) ")
    ledger = laptop.state / "ledger.sqlite3"
    conn = sqlite3.connect(ledger)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = conn.execute("PRAGMA page_size").fetchone()[0]
    leaves = [p for (p,) in conn.execute("SELECT pageno FROM dbstat WHERE name='usage' AND pagetype='leaf'"
                                         " ORDER BY path")]
    conn.close()
    assert len(leaves) > 2
    with open(ledger, "r+b") as fh:  # garbage over the usage table's first data page
        fh.seek((leaves[0] - 1) * size)
        fh.write(bytes((i * 37) % 251 for i in range(size)))

    out = laptop.cli("sessions", "--json")  # reads the raw rows, so it meets the damage
    assert out.stderr.startswith("governor: the ledger was corrupt and is rebuilt from the transcripts; saved "), out
    same_usage(laptop.daily(), union)
    assert laptop.cli("daily", "--tz", "UTC").stdout.rstrip().splitlines()[-1] == split
    same_usage(laptop.daily("--machine", "desktop"), truth(tmp_path, desktop.projects))
