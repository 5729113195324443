"""Claude Code's cost-state account reconciled into client-account records (meter/account*.py): real
files, a real ledger, the shapes observed from the real 2.1.328 (docs/claude-code-transcripts.md)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from governor.config_schema import defaults
from governor.meter import db, ledger
from governor.policy import pricing
from tests.helpers import assistant_row, jsonl, projects_root, user_row

MODEL = "claude-opus-5-5"
P, F = "aaaaaaaa-0000-4000-8000-000000000001", "bbbbbbbb-0000-4000-8000-000000000002"


def cost_state(session: str, inp: int, out: int, searches: int = 0, read: int = 0) -> dict[str, Any]:
    usage = {"inputTokens": inp, "outputTokens": out, "thinkingTokens": 0, "cacheReadInputTokens": read,
             "cacheCreationInputTokens": 0, "cacheCreationEphemeral5mInputTokens": 0,
             "cacheCreationEphemeral1hInputTokens": 0, "webSearchRequests": searches, "costUSD": 0.0}
    return {"type": "cost-state", "sessionId": session, "totalCostUSD": 0.0, "startTime": 1795440000000,
            "modelUsage": {MODEL: usage}, "hasUnknownModelCost": False}


def row(mid: str, session: str, ts: str, inp: int, out: int, **extra: Any) -> dict[str, Any]:
    return assistant_row(mid, "req_" + mid, session_id=session, timestamp=ts, model=MODEL, input_tokens=inp,
                         output_tokens=out, cache_creation=0, cache_read=0, **extra)


def write(path: Path, rows: list[dict[str, Any]], mode: str = "w") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, mode) as fh:
        fh.write(jsonl(rows))


def ledger_of(tmp_path: Path) -> Any:
    return db.connect(str(tmp_path / "ledger.sqlite3"))


def ingest(conn: Any) -> None:
    ledger.ingest(conn, [str(projects_root())], parallel=False)


def totals(conn: Any) -> tuple[int, int, int]:
    return conn.execute("SELECT SUM(input), SUM(output), SUM(web_search) FROM usage").fetchone()


def by_source(conn: Any) -> dict[tuple[str, str], tuple[int, int, int]]:
    rows = conn.execute("SELECT session_id, source, SUM(input), SUM(output), SUM(web_search) FROM usage"
                        " GROUP BY 1, 2")
    return {(r[0], r[1]): tuple(r[2:]) for r in rows}


def main_file() -> Path:
    return projects_root() / "-home-dev-proj" / f"{P}.jsonl"


def test_requests_without_a_row_become_client_account_records_read_incrementally(tmp_path: Path) -> None:
    conn = ledger_of(tmp_path)
    # process 1: one turn; process 2 (--resume): a /compact (no row) and a WebSearch turn (its search request
    # has no row); each process ends with the lineage's cumulative cost-state
    write(main_file(), [user_row(session_id=P), row("m1", P, "2026-11-23T10:00:00.000Z", 100, 10),
                        cost_state(P, 100, 10)])
    ingest(conn)
    assert by_source(conn) == {(P, "transcript"): (100, 10, 0)}
    write(main_file(), [user_row(session_id=P, timestamp="2026-11-23T11:00:00.000Z"),
                        row("m2", P, "2026-11-23T11:00:05.000Z", 200, 20),
                        cost_state(P, 100 + 5000 + 200 + 40, 10 + 700 + 20 + 4, searches=1)], mode="a")
    ingest(conn)
    assert by_source(conn) == {(P, "transcript"): (300, 30, 0), (P, "client-account"): (5040, 704, 1)}
    key, ts = conn.execute("SELECT key, ts FROM usage WHERE source='client-account'").fetchone()
    assert ts == 1795431605.0  # timed at the row before the cost-state line: between the rows around it
    assert key.startswith(f"ca:{P}:1:")
    ingest(conn)  # nothing new: nothing changes
    assert totals(conn) == (5340, 734, 1)
    # a restart (the cursors gone) reads everything again and lands on the same totals
    conn.execute("DELETE FROM files")
    ingest(conn)
    assert totals(conn) == (5340, 734, 1)


def test_a_row_appearing_later_for_the_request_takes_its_place(tmp_path: Path) -> None:
    conn = ledger_of(tmp_path)
    write(main_file(), [row("m1", P, "2026-11-23T10:00:00.000Z", 100, 10), cost_state(P, 400, 40)])
    ingest(conn)
    assert by_source(conn)[P, "client-account"] == (300, 30, 0)
    # the missing request's row turns up (a subagent file written late, here): the extra shrinks by it
    write(projects_root() / "-home-dev-proj" / P / "subagents" / "agent-1.jsonl",
          [row("m2", P, "2026-11-23T09:59:00.000Z", 300, 30, isSidechain=True)])
    ingest(conn)
    assert by_source(conn) == {(P, "transcript"): (400, 40, 0)}
    assert totals(conn) == (400, 40, 0)


def test_a_fork_counts_its_copied_lineage_once_and_keeps_each_request_with_its_session(tmp_path: Path) -> None:
    conn = ledger_of(tmp_path)
    write(main_file(), [row("m1", P, "2026-11-23T10:00:00.000Z", 100, 10), user_row(session_id=P),
                        cost_state(P, 100 + 5000, 10 + 700)])  # a compaction before the fork
    fork = projects_root() / "-home-dev-proj" / f"{F}.jsonl"
    copy = row("m1", F, "2026-11-23T10:00:00.000Z", 100, 10, requestSessionId=P)
    write(fork, [copy, row("m9", F, "2026-11-23T12:00:00.000Z", 400, 40),
                 cost_state(F, 100 + 5000 + 400 + 60, 10 + 700 + 40 + 6)])  # + one no-row request of its own
    ingest(conn)
    assert by_source(conn) == {(P, "transcript"): (100, 10, 0), (P, "client-account"): (5000, 700, 0),
                               (F, "transcript"): (400, 40, 0), (F, "client-account"): (60, 6, 0)}


def test_a_truncated_file_read_again_keeps_the_account_exact(tmp_path: Path) -> None:
    conn = ledger_of(tmp_path)
    write(main_file(), [row("m1", P, "2026-11-23T10:00:00.000Z", 100, 10), cost_state(P, 150, 15)])
    ingest(conn)
    assert totals(conn) == (150, 15, 0)
    shorter = main_file().with_suffix(".tmp")  # rewritten shorter (a new file in its place): the checkpoint is gone
    write(shorter, [row("m1", P, "2026-11-23T10:00:00.000Z", 100, 10)])
    os.replace(shorter, main_file())
    ingest(conn)
    assert by_source(conn) == {(P, "transcript"): (100, 10, 0)}


def test_sessions_without_cost_state_are_unchanged(tmp_path: Path) -> None:
    conn = ledger_of(tmp_path)
    write(main_file(), [row("m1", P, "2026-11-23T10:00:00.000Z", 100, 10)])
    ingest(conn)
    assert conn.execute("SELECT COUNT(*) FROM cost_state").fetchone()[0] == 0
    assert by_source(conn) == {(P, "transcript"): (100, 10, 0)}


def test_web_searches_and_fast_mode_are_priced() -> None:
    config = defaults()
    opus46 = "claude-opus-4-6"
    tokens = pricing.Tokens(input=1_000_000, output=1_000_000, responses=1)
    assert pricing.cost_usd(tokens, opus46, config) == 30.0
    assert pricing.cost_usd(tokens, opus46 + pricing.FAST, config) == 180.0  # $30 / $150: 6x
    assert pricing.weighted_units(tokens, opus46 + pricing.FAST, config) == 6 * pricing.weighted_units(
        tokens, opus46, config)
    searches = pricing.Tokens(web_search=1000, responses=1)
    assert pricing.cost_usd(searches, opus46, config) == 10.0
    assert pricing.price_for("claude-fable-5", config)[0]["label"] == "Fable 5"
    assert pricing.cost_usd(tokens, "claude-fable-5", config) == 60.0


def test_a_fast_row_and_its_web_searches_are_read_on_both_parse_paths() -> None:
    from governor.meter import transcript, transcript_fast

    r = row("m1", P, "2026-11-23T10:00:00.000Z", 100, 10, requestSessionId=F)
    r["message"]["usage"]["speed"] = "fast"
    r["message"]["usage"]["server_tool_use"] = {"web_search_requests": 2, "web_fetch_requests": 0}
    block = (json.dumps(r) + "\n").encode()
    slow, _ = transcript.parse_block(block, "p")
    fast, _ = transcript_fast.parse_block(block, "p")
    assert [tuple(x) for x in slow] == [tuple(x) for x in fast]
    assert (slow[0].session_id, slow[0].model, slow[0].web_search) == (F, MODEL + "+fast", 2)


# ccusage's /btw cases (rust/crates/ccusage/src/adapter/claude/mod.rs at 5816e640,
# keeps_parent_usage_when_sidechain_replays_message_with_new_request_id and
# refreshes_dedupe_indexes_when_parent_replaces_sidechain_replay): the rows' numbers, its expected totals.
def btw_row(mid: str, rid: str, sidechain: bool, read: int, out: int) -> dict[str, Any]:
    return assistant_row(mid, rid, session_id="session-a", timestamp="2026-03-29T07:00:00.000Z", input_tokens=0,
                         output_tokens=out, cache_creation=0, cache_read=read, sidechain=sidechain)


def test_ccusage_btw_a_sidechain_replay_never_beats_its_parent(tmp_path: Path) -> None:
    conn = ledger_of(tmp_path)
    write(main_file(), [btw_row("msg-parent", "req-parent", False, 20, 10),
                        btw_row("msg-parent", "req-sidechain-replay", True, 50_000, 10),
                        btw_row("msg-sidechain-answer", "req-sidechain-answer", True, 700, 30)])
    other = projects_root() / "-home-dev-proj" / "other.jsonl"  # the opposite order, in another file
    write(other, [btw_row("msg-parent2", "req-sidechain-replay", True, 50_000, 10),
                  btw_row("msg-parent2", "req-parent", False, 20, 10),
                  btw_row("msg-parent2", "req-parent", False, 5, 5)])
    ingest(conn)
    got = dict(conn.execute("SELECT key, cache_read FROM usage").fetchall())
    assert got == {"m:msg-parent": 20, "m:msg-sidechain-answer": 700, "m:msg-parent2": 20}


# ccusage's agent_progress cases (rust/crates/ccusage/src/main.rs at 5816e640,
# keeps_nested_agent_progress_in_daily_model_order, uses_direct_subagent_cost_for_duplicate_daily_agent_progress):
# its fixture lines as data.
CCUSAGE_MAIN = [
    '{"timestamp":"2026-03-10T06:00:00.000Z","version":"1.2.3","sessionId":"session-a","message":{"id":"msg_fast",'
    '"model":"claude-opus-4-6","role":"assistant","usage":{"input_tokens":10,"output_tokens":1,'
    '"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"speed":"fast"}},"requestId":"req_fast",'
    '"costUSD":0.03}',
    '{"sessionId":"session-a","version":"1.2.3","type":"progress","data":{"message":{"type":"assistant",'
    '"timestamp":"2026-03-10T06:00:01.000Z","message":{"model":"claude-haiku-4-5-20251001","id":"msg_haiku",'
    '"type":"message","role":"assistant","content":[],"usage":{"input_tokens":20,"output_tokens":2,'
    '"cache_creation_input_tokens":0,"cache_read_input_tokens":0}},"requestId":"req_haiku","uuid":"nested"}},'
    '"timestamp":"2026-03-10T06:00:01.001Z"}',
    '{"timestamp":"2026-03-10T06:00:02.000Z","version":"1.2.3","sessionId":"session-a","message":{"id":"msg_opus",'
    '"model":"claude-opus-4-6","role":"assistant","usage":{"input_tokens":30,"output_tokens":3,'
    '"cache_creation_input_tokens":0,"cache_read_input_tokens":0}},"requestId":"req_opus","costUSD":0.09}',
]
CCUSAGE_AGENT = (
    '{"timestamp":"2026-03-10T06:00:01.000Z","version":"1.2.3","sessionId":"session-a","message":{"id":"msg_haiku",'
    '"model":"claude-haiku-4-5-20251001","role":"assistant","usage":{"input_tokens":20,"output_tokens":2,'
    '"cache_creation_input_tokens":0,"cache_read_input_tokens":0}},"requestId":"req_haiku","costUSD":0.06}'
)


def _ccusage_rows(conn: Any) -> dict[str, tuple[str, str, int, int]]:
    rows = conn.execute("SELECT key, session_id, model, input, output FROM usage ORDER BY ts")
    return {r[0]: tuple(r[1:]) for r in rows}


def test_ccusage_agent_progress_counts_once_with_or_without_the_subagent_file(tmp_path: Path) -> None:
    conn = ledger_of(tmp_path)
    session = projects_root() / "project-a" / "session-a.jsonl"
    session.parent.mkdir(parents=True)
    session.write_text("\n".join(CCUSAGE_MAIN) + "\n")
    ingest(conn)  # no subagents/ file: the progress row's usage counts
    expected = {"m:msg_fast": ("session-a", "claude-opus-4-6+fast", 10, 1),
                "m:msg_haiku": ("session-a", "claude-haiku-4-5-20251001", 20, 2),
                "m:msg_opus": ("session-a", "claude-opus-4-6", 30, 3)}
    assert _ccusage_rows(conn) == expected
    write(projects_root() / "project-a" / "session-a" / "subagents" / "agent-a.jsonl", [json.loads(CCUSAGE_AGENT)])
    ingest(conn)  # the subagent's own row of the same response: still once
    assert _ccusage_rows(conn) == expected
    from governor.meter import transcript, transcript_fast

    block = ("\n".join(CCUSAGE_MAIN) + "\n").encode()
    assert [tuple(r) for r in transcript.parse_block(block, "p")[0]] == [
        tuple(r) for r in transcript_fast.parse_block(block, "p")[0]]
