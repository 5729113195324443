"""Every billed request the real Claude Code 2.1.328 makes, metered: also those that leave no assistant row
(compaction, the WebSearch tool's own request), through --resume, --continue and --fork-session.

The mock knows what it served; `governor daily --json` must equal it in total and `governor sessions --json`
must give each session exactly the requests its runs made (a fork's copies stay with their session)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from .governor_cli import governor_json
from .mock_anthropic import ErrorReply, Reply, Usage, text_reply, tool_reply
from .runners import ClaudeRunner
from .workspace import Workspace

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
