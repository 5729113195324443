"""Poison lines never stop the meter (issue 14, item 7): each line below is skipped and counted as
malformed on both parse paths, alone and mixed into a real-shaped transcript; the other rows stay exact,
one log line says so, and daily / sessions / status keep working."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from governor import paths
from governor.meter import db, ledger
from tests.helpers import assistant_row, jsonl, projects_root, run_cli, user_row

GOOD = json.dumps(assistant_row(message_id="msg_poison", request_id="req_poison", output_tokens=77),
                  separators=(",", ":"))


def _swap(old: str, new: str) -> bytes:
    assert old in GOOD
    return GOOD.replace(old, new, 1).encode()


POISON: dict[str, bytes] = {
    "lone surrogate in model": _swap('"claude-opus-4-5-20251101"', '"claude-\\ud800"'),
    "lone surrogate in message id": _swap('"msg_poison"', '"msg_\\udc00"'),
    "lone surrogate in session": _swap('"sess-1"', '"sess-\\ud83d"'),
    "token count 2^63": _swap('"output_tokens":77', '"output_tokens":9223372036854775808'),
    "token count 2^64+": _swap('"output_tokens":77', '"output_tokens":18446744073709551617'),
    "negative token count": _swap('"input_tokens":100', '"input_tokens":-1'),
    "absurd float count": _swap('"output_tokens":77', '"output_tokens":1e300'),
    "NaN count": _swap('"output_tokens":77', '"output_tokens":NaN'),
    "Infinity count": _swap('"cache_read_input_tokens":10000', '"cache_read_input_tokens":Infinity'),
    "nested 5000 deep in content": _swap('"content":[', '"deep":' + "[" * 5000 + "]" * 5000 + ',"content":['),
    "nested 100000 deep at the top": _swap('"parentUuid":null', '"parentUuid":' + '{"a":' * 100000 + "1"
                                           + "}" * 100000),
}

# A real-shaped transcript: a user turn and two responses, one of them in two content-block rows.
REAL_ROWS = [
    user_row(),
    assistant_row(message_id="msg_a", request_id="req_a", output_tokens=2, block_index=0),
    assistant_row(message_id="msg_a", request_id="req_a", output_tokens=40, block_index=1),
    assistant_row(message_id="msg_b", request_id="req_b", session_id="sess-2", input_tokens=7,
                  output_tokens=9, cache_creation=0, cache_read=500, timestamp="2026-11-23T15:00:00.000Z"),
]
REAL_TOTALS = {"responses": 2, "input": 107, "output": 49, "cache_creation": 1000, "cache_read": 10500}


def _totals(conn) -> dict[str, int]:
    n, *sums = conn.execute(
        "SELECT COUNT(*), SUM(input), SUM(output), SUM(cache_creation), SUM(cache_read) FROM usage").fetchone()
    keys = ("input", "output", "cache_creation", "cache_read")
    return {"responses": n, **{k: int(v or 0) for k, v in zip(keys, sums, strict=True)}}


def _ingest(root: Path, fast: bool, monkeypatch: pytest.MonkeyPatch) -> tuple[ledger.IngestStats, dict]:
    # the fast (msgspec) path is taken from FAST_PARSE_MIN_BYTES of new transcript; 0 forces it
    monkeypatch.setattr(ledger, "FAST_PARSE_MIN_BYTES", 0 if fast else 1 << 62)
    conn = db.connect()
    try:
        stats = ledger.ingest(conn, [str(root)], parallel=False)
        return stats, _totals(conn)
    finally:
        conn.close()


def _log() -> str:
    try:
        return Path(paths.log_path()).read_text()
    except FileNotFoundError:
        return ""


@pytest.mark.parametrize("fast", [False, True], ids=["json path", "msgspec path"])
@pytest.mark.parametrize("name", sorted(POISON))
def test_a_poison_line_alone_is_skipped_and_counted(name: str, fast: bool, monkeypatch) -> None:
    root = projects_root()
    (root / "p").mkdir()
    (root / "p" / "s.jsonl").write_bytes(POISON[name] + b"\n")
    stats, totals = _ingest(root, fast, monkeypatch)
    assert (stats.bad_lines, totals["responses"]) == (1, 0)
    assert _log().count("malformed line") == 1


@pytest.mark.parametrize("fast", [False, True], ids=["json path", "msgspec path"])
@pytest.mark.parametrize("name", sorted(POISON))
def test_a_poison_line_mixed_in_leaves_the_other_rows_exact(name: str, fast: bool, monkeypatch) -> None:
    root = projects_root()
    (root / "p").mkdir()
    text = jsonl(REAL_ROWS).encode()
    first, rest = text.split(b"\n", 2)[:2], text.split(b"\n", 2)[2]
    (root / "p" / "s.jsonl").write_bytes(b"\n".join(first) + b"\n" + POISON[name] + b"\n" + rest)
    stats, totals = _ingest(root, fast, monkeypatch)
    assert stats.bad_lines == 1
    assert totals == REAL_TOTALS
    stats, totals = _ingest(root, fast, monkeypatch)  # the next run reads nothing new, logs nothing new
    assert (stats.bad_lines, totals) == (0, REAL_TOTALS)
    assert _log().count("malformed line") == 1


def test_every_report_works_over_all_the_poison_and_a_link_loop() -> None:
    root = projects_root()
    (root / "p").mkdir()
    body = b"".join(line + b"\n" for line in POISON.values()) + jsonl(REAL_ROWS).encode()
    (root / "p" / "s.jsonl").write_bytes(body)
    os.symlink("loop-b.jsonl", root / "p" / "loop-a.jsonl")
    os.symlink("loop-a.jsonl", root / "p" / "loop-b.jsonl")
    daily = run_cli("daily", "--json")
    assert daily.returncode == 0, daily.stderr
    assert "Traceback" not in daily.stderr
    days = json.loads(daily.stdout)
    assert days["totals"]["output_tokens"] == REAL_TOTALS["output"]
    for args in (("sessions", "--json"), ("status",), ("daily",)):
        result = run_cli(*args)
        assert result.returncode == 0 and "Traceback" not in result.stderr, (args, result.stderr)
    conn = db.connect()
    try:
        (bad,) = conn.execute("SELECT SUM(bad_lines) FROM files").fetchone()
        assert bad == len(POISON)
        assert _totals(conn) == REAL_TOTALS
    finally:
        conn.close()
    log = _log()
    assert log.count(f"skipped {len(POISON)} malformed line(s)") == 1
    assert log.count("cannot be read") == 1 and "loop-a.jsonl" in log and "Traceback" not in log
