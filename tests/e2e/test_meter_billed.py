"""Every billed request the real Claude Code 2.1.328 makes, metered: also those that leave no assistant row
(compaction, the WebSearch tool's own request), through --resume, --continue and --fork-session.

The mock knows what it served; `governor daily --json` must equal it in total and `governor sessions --json`
must give each session exactly the requests its runs made (a fork's copies stay with their session)."""

from __future__ import annotations

import json
import signal
import subprocess
from collections import Counter
from typing import Any

import pytest

from .governor_cli import governor_json
from .mock_anthropic import ErrorReply, Reply, Text, Usage, text_reply, tool_reply
from .runners import ClaudeRunner, parse_jsonl_stdout
from .workspace import Workspace

pytestmark = pytest.mark.e2e

FIELDS = ("input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")


def billed(replies: list[Reply]) -> Counter[str]:
    total: Counter[str] = Counter()
    for reply in replies:
        usage = reply.usage.as_dict()
        for field in FIELDS:
            total[field] += usage[field]
        total["web_search_requests"] += reply.usage.web_search_requests
    return total


class Scenario:
    def __init__(self, claude: ClaudeRunner) -> None:
        self.claude = claude
        self.per_session: dict[str, list[Reply]] = {}

    def run(self, prompt: str, *replies: Reply | ErrorReply, args: tuple[str, ...] = (),
            tools: str | None = None) -> str:
        mock = self.claude.mock
        before = len(mock.served_replies())
        mock.queue(*replies)
        run = self.claude.run(prompt, args=list(args), allowed_tools=tools)
        assert run.proc.returncode == 0, run.proc.stderr[-2000:]
        assert not mock.script, f"{prompt!r} left replies unserved: {mock.script}"
        self.per_session.setdefault(run.session_id, []).extend(mock.served_replies()[before:])
        return run.session_id


def totals(day: dict[str, Any]) -> dict[str, int]:
    return {f: day[f] for f in (*FIELDS, "web_search_requests")}


def test_every_billed_request_is_metered_to_the_session_that_made_it(
    claude: ClaudeRunner, workspace: Workspace
) -> None:
    s = Scenario(claude)
    main = s.run("first", text_reply("one", Usage(100, 10, 1000, 0, 200)))
    assert s.run("second", text_reply("two", Usage(200, 20, 1200, 0, 100)), args=("--resume", main)) == main
    assert s.run("third", text_reply("three", Usage(300, 30, 1300, 50, 0)), args=("--continue",)) == main
    fork = s.run("fourth", text_reply("four", Usage(400, 40, 1400, 0, 0)),
                 args=("--resume", main, "--fork-session"))
    assert fork != main
    # a manual /compact: its summarising request writes no assistant row
    s.run("/compact", text_reply("summary of the conversation", Usage(5000, 700, 0, 0, 0)), args=("--resume", main))
    # the WebSearch tool: its own request (server_tool_use.web_search_requests) writes no row either
    s.run(
        "search the web for the governor",
        tool_reply("WebSearch", {"query": "token budget governor"}, usage=Usage(600, 60, 2000, 0, 0)),
        text_reply("Found it.", Usage(50, 5, 0, 0, 0, web_search_requests=1)),
        text_reply("searched", Usage(700, 70, 2100, 0, 0)),
        args=("--resume", main),
        tools="WebSearch",
    )
    # the reactive auto-compact: a 400 "prompt is too long", a summary, the turn driven again
    s.run(
        "a long prompt",
        ErrorReply(400, "invalid_request_error", "prompt is too long: 250000 tokens > 200000 maximum"),
        text_reply("compacted summary", Usage(4000, 600, 0, 0, 0)),
        text_reply("after compaction", Usage(800, 80, 500, 0, 0)),
        args=("--resume", fork),
    )
    served = [r for replies in s.per_session.values() for r in replies]
    daily = governor_json(workspace, "daily", "--json")
    assert totals(daily["totals"]) == dict(billed(served))
    assert daily["totals"]["client_account"]["weighted_units"] > 0  # the no-row requests, shown apart
    sessions = governor_json(workspace, "sessions", "--json")
    got = {row["session_id"]: row for row in sessions["sessions"]}
    assert set(got) == set(s.per_session)
    for session, replies in s.per_session.items():
        expected = billed(replies)
        row = got[session]
        assert {f: row[f] for f in FIELDS} == {f: expected[f] for f in FIELDS}, session


def ctrl_c_while_stalled(claude: ClaudeRunner, workspace: Workspace, session: str, stall: str) -> dict[str, Any]:
    """`claude -p second --resume SESSION --include-partial-messages` against a reply that stalls at `stall`;
    SIGINT once the client shows it has read what was sent (the message_start event on its stdout), or as
    soon as the mock stalls when nothing was sent. Returns the run's result event."""
    claude.mock.queue(Reply([Text("never sent")], Usage(3000, 300, 500, 2000, 0), stall=stall))
    cmd = [str(claude.binary), "-p", "second", "--output-format", "stream-json", "--verbose",
           "--include-partial-messages", "--permission-mode", "acceptEdits", "--resume", session]
    proc = subprocess.Popen(cmd, cwd=workspace.project, env=claude.env(), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    try:
        assert claude.mock.stalled.wait(90), "the request never reached the mock"
        assert proc.stdout is not None
        while stall == "before_first_block":
            line = proc.stdout.readline()
            assert line, "the client exited before it read message_start"
            lines.append(line)
            if '"type":"message_start"' in line.replace(" ", ""):
                break
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        claude.mock.resume.set()
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err[-2000:]
    return [e for e in parse_jsonl_stdout("".join(lines) + out)[0] if e.get("type") == "result"][-1]


def session_rows(workspace: Workspace, session: str) -> list[dict[str, Any]]:
    path = next(workspace.claude_dir.rglob(f"{session}.jsonl"))
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_ctrl_c_before_the_first_content_block_is_metered(claude: ClaudeRunner, workspace: Workspace) -> None:
    """SIGINT to `claude -p` once the API has sent message_start (the input is billed) but no content block:
    the client writes no assistant row, only "[Request interrupted by user]", and its exit-time cost-state
    line counts the request at the message_start usage (output_tokens 1): governor meters it from there."""
    s = Scenario(claude)
    main = s.run("first", text_reply("one", Usage(100, 10, 1000, 0, 200)))
    result = ctrl_c_while_stalled(claude, workspace, main, "before_first_block")
    assert result["terminal_reason"] == "aborted_streaming" and result["is_error"]
    rows = session_rows(workspace, main)
    assert [r["message"]["content"][0]["text"] for r in rows if r.get("type") == "assistant"] == ["one"]  # no row
    assert any(r.get("type") == "user" and "[Request interrupted by user]" in json.dumps(r["message"]) for r in rows)
    # The request as served: the message_start usage (the stream stopped before any content block).
    aborted = Reply([], Usage(3000, 1, 500, 2000, 0))
    last_state = [r for r in rows if r.get("type") == "cost-state"][-1]["modelUsage"]["claude-opus-5-5"]
    assert (last_state["inputTokens"], last_state["outputTokens"]) == (100 + 3000, 10 + 1)
    served = [*s.per_session[main], aborted]
    daily = governor_json(workspace, "daily", "--json")
    assert totals(daily["totals"]) == dict(billed(served))
    sessions = {row["session_id"]: row for row in governor_json(workspace, "sessions", "--json")["sessions"]}
    expected = billed(served)
    assert {f: sessions[main][f] for f in FIELDS} == {f: expected[f] for f in FIELDS}


def test_ctrl_c_before_message_start_leaves_nothing_any_meter_can_count(
    claude: ClaudeRunner, workspace: Workspace
) -> None:
    """SIGINT while the API has answered 200 but sent no event yet: the client never saw a usage figure, so
    neither its rows nor its cost-state line (nor its result event) carry the request; governor, like any
    meter reading the client's files, shows the earlier requests only. Whether the API bills such a
    request cannot be seen from the client's side (docs/claude-code-transcripts.md)."""
    s = Scenario(claude)
    main = s.run("first", text_reply("one", Usage(100, 10, 1000, 0, 200)))
    result = ctrl_c_while_stalled(claude, workspace, main, "before_message_start")
    assert result["terminal_reason"] == "aborted_streaming"
    assert sum(m["inputTokens"] for m in result["model_usage_since_last_result"].values()) == 0
    rows = session_rows(workspace, main)
    assert [r.get("type") for r in rows].count("assistant") == 1
    states = [r["modelUsage"]["claude-opus-5-5"] for r in rows if r.get("type") == "cost-state"]
    assert len(states) == 2 and states[-1]["inputTokens"] == states[0]["inputTokens"] == 100  # written, unchanged
    assert len(claude.mock.messages()) >= 2  # the request was made
    daily = governor_json(workspace, "daily", "--json")
    assert totals(daily["totals"]) == dict(billed(s.per_session[main]))
