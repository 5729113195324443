"""The PostToolBatch hook as Claude Code runs it: the cheap gate, the run check, sub-agents, the kill switch."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from governor import paths
from governor.guards import run_gate
from tests.helpers import HOOKS_DIR, run_hook
from tests.test_prompt_hook import cap_for, iso, say, write_budget, write_week

SESSION = "sess-pace"  # the prompt hook tests' session


def batch(transcript: Path, session: str = SESSION, **extra: object) -> dict:
    return {"session_id": session, "transcript_path": str(transcript), "cwd": str(transcript.parent),
            "prompt_id": "p-1", "permission_mode": "default", "effort": {"level": "medium"},
            "hook_event_name": "PostToolBatch", **extra,
            "tool_calls": [{"tool_name": "Bash", "tool_input": {"command": "echo hi", "description": "echo"},
                            "tool_use_id": "toolu_1", "tool_response": "hi"}]}


def step(transcript: Path, **env: str) -> dict | None:
    out = run_hook("post_tool_batch.py", batch(transcript), env=env or None)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout) if out.stdout.strip() else None


def test_a_thousand_steps_with_no_check_due_never_open_the_ledger(tmp_path: Path) -> None:
    run_gate.schedule(SESSION, time.time() + 3600)
    payload = json.dumps(batch(tmp_path / "t.jsonl"), separators=(",", ":")).encode()  # as Claude Code sends it
    script = f"for i in $(seq 1000); do {sys.executable} {HOOKS_DIR / 'post_tool_batch.py'} < {tmp_path / 'p.json'}" \
             " || echo FAIL; done"
    (tmp_path / "p.json").write_bytes(payload)
    proc = subprocess.run(["sh", "-c", script], capture_output=True, timeout=900)
    assert proc.returncode == 0 and proc.stdout == b"" and proc.stderr == b""
    state = Path(paths.state_dir())
    assert sorted(p.name for p in state.iterdir()) == ["runs"]  # no ledger, no log, no config cache
    assert not os.path.exists(paths.ledger_path())
    run_gate.schedule(SESSION, time.time() - 1)  # the contrast: a due check does open it
    assert run_hook("post_tool_batch.py", payload).returncode == 0
    assert os.path.exists(paths.ledger_path())


def test_the_raw_bytes_gate_reads_the_session_and_leaves_doubt_to_the_guard(tmp_path: Path) -> None:
    now = time.time()
    run_gate.schedule(SESSION, now + 60)
    compact = json.dumps(batch(tmp_path / "t.jsonl"), separators=(",", ":")).encode()
    spaced = json.dumps(batch(tmp_path / "t.jsonl"), indent=1).encode()
    assert run_gate.quick_not_due(compact, now) and run_gate.quick_not_due(spaced, now)
    assert not run_gate.quick_not_due(compact, now + 61)  # due
    assert not run_gate.quick_not_due(json.dumps(batch(tmp_path, agent_id="a1")).encode(), now)
    assert not run_gate.quick_not_due(json.dumps(batch(tmp_path, session="../x")).encode(), now)
    assert not run_gate.quick_not_due(b"not json", now)


def test_a_run_hears_the_band_rise_the_crossing_and_its_share_once_each() -> None:
    transcript = write_week(context=120_000)
    cap = cap_for(1.01)  # the lowest band (ceiling 450k)
    write_budget(caps={"max20x": cap}, pacing={"run_check_seconds": 0})
    assert say(transcript) is not None  # the person's prompt: pacing message, the run begins
    assert step(transcript) is None  # the band was said by the prompt hook: nothing new
    write_week(responses=1, context=500_000, start_id=100)  # the run grows the context past 450k
    crossed = step(transcript)
    assert crossed is not None
    assert crossed["hookSpecificOutput"] == {"hookEventName": "PostToolBatch", "additionalContext": (
        "governor: This session's context is 500k tokens, over this week's 450k ceiling. Finish the current step,"
        " then suggest /compact or a fresh session to the person.")}
    assert crossed["systemMessage"] == ("governor: Context 500k is over the 450k ceiling; the model was asked to "
                                        "suggest /compact after this step.")
    assert step(transcript) is None  # once per crossing


def write_run_rows(session: str, n: int, context: int, start_id: int) -> None:
    from tests.helpers import assistant_row, jsonl

    time.sleep(1.1)  # transcript timestamps are whole seconds here: land after the prompt that began the run
    rows = [assistant_row(f"msg_run_{start_id + i}", f"req_run_{start_id + i}", session_id=session,
                          timestamp=iso(time.time()), input_tokens=50, output_tokens=800,
                          cache_creation=3000, cache_read=context - 3050) for i in range(n)]
    with open(Path(paths.transcript_roots()[0]) / "-home-dev-proj" / f"{session}.jsonl", "a") as fh:
        fh.write(jsonl(rows))


def test_the_run_share_is_said_at_the_warn_fraction_and_each_doubling() -> None:
    transcript = write_week(context=120_000)
    cap = cap_for(0.5)  # under pace: only the run share can speak
    write_budget(caps={"max20x": cap}, pacing={"run_check_seconds": 0})
    assert say(transcript) is None
    unit = 50 + 800 * 5 + 3000 * 1.25 + (120_000 - 3050) * 0.1  # weighted units of one response
    write_run_rows(SESSION, int(0.05 * cap / unit) + 1, 120_000, 0)
    first = step(transcript)
    assert first is not None and "of the weekly cap; at this rate" in first["systemMessage"]
    assert first["systemMessage"].startswith("governor: This run: 0m, ")
    assert step(transcript) is None
    write_run_rows(SESSION, int(0.05 * cap / unit) + 1, 120_000, 10_000)
    second = step(transcript)
    assert second is not None and "10%" in second["hookSpecificOutput"]["additionalContext"]


def test_kill_switch_disabled_pacing_and_sub_agents_stay_silent() -> None:
    transcript = write_week(context=500_000)
    write_budget(caps={"max20x": cap_for(1.4)}, pacing={"run_check_seconds": 0})
    sub = run_hook("post_tool_batch.py", batch(transcript, agent_id="a1b2", agent_type="general-purpose"))
    assert sub.returncode == 0 and sub.stdout == b""
    assert not os.path.exists(run_gate.stamp_path(SESSION))  # a sub-agent's step does not spend the parent's check
    assert step(transcript, GOVERNOR_DISABLE="1") is None
    write_budget(pacing={"run_check_seconds": 0, "enabled": False})
    assert step(transcript) is None
    write_budget(pacing={"run_check_seconds": 0})
    spoke = step(transcript)  # no prompt seen: the run starts here, band and crossing are news
    assert spoke is not None and spoke["systemMessage"].startswith("governor: Week ")


def test_stop_runs_at_clamp_exits_2_with_the_reason(tmp_path: Path) -> None:
    from tests.test_prompt_hook import record_official_week

    transcript = write_week(context=500_000)
    write_budget(caps={"max20x": cap_for(1.4)}, pacing={"run_check_seconds": 0, "stop_runs_at_clamp": True})
    record_official_week(97.0)
    out = run_hook("post_tool_batch.py", batch(transcript))
    assert out.returncode == 2 and out.stdout == b""
    assert out.stderr.decode().startswith("governor stopped this run: the weekly cap is 97% used (official)")
    assert run_hook("post_tool_batch.py", batch(transcript)).returncode == 0  # said once per run


def test_a_sub_agent_hears_only_the_clamp_once_on_its_own_context() -> None:
    from tests.helpers import assistant_row, jsonl
    from tests.test_prompt_hook import record_official_week

    transcript = write_week(context=100_000)  # the parent's own context is small: the parent is not clamped
    write_budget(caps={"max20x": cap_for(1.4)}, pacing={"run_check_seconds": 0})
    record_official_week(97.0)
    agent_file = transcript.with_suffix("") / "subagents" / "agent-a1b2.jsonl"
    agent_file.parent.mkdir(parents=True)

    def agent_step(context: int, n: int) -> dict | None:
        with open(agent_file, "a") as fh:
            fh.write(jsonl([assistant_row(f"msg_sub_{n}", f"req_sub_{n}", session_id=SESSION,
                                          timestamp=iso(time.time()), input_tokens=50, output_tokens=100,
                                          cache_creation=0, cache_read=context - 50, sidechain=True,
                                          agentId="a1b2")]))
        out = run_hook("post_tool_batch.py", batch(transcript, agent_id="a1b2", agent_type="general-purpose"))
        assert out.returncode == 0 and out.stderr == b""
        return json.loads(out.stdout) if out.stdout.strip() else None

    assert agent_step(120_000, 1) is None  # the week is at 97 % but this agent's context is small
    said = agent_step(600_000, 2)
    assert said is not None
    assert re.fullmatch(r"governor: The weekly cap is 97% used \(official\) and this session's context \(600k\) is "
                        r"over the \d+k ceiling\. Stop here: summarise for the person what is done and what is left, "
                        r"and suggest /compact or a fresh session\.",
                        said["hookSpecificOutput"]["additionalContext"]), said
    assert agent_step(620_000, 3) is None  # once per agent
    assert step(transcript) is not None  # the parent's run check still says its own facts (the band)
    other = run_hook("post_tool_batch.py", batch(transcript, agent_id="c3d4"))  # another agent, no file yet
    assert other.returncode == 0 and other.stdout == b""


def test_status_and_the_status_line_show_an_active_run_past_the_warn_share() -> None:
    from tests.helpers import run_cli

    transcript = write_week(context=120_000)
    cap = cap_for(0.5)
    write_budget(caps={"max20x": cap}, pacing={"run_check_seconds": 0})
    assert say(transcript) is None  # the run begins
    line = {"session_id": SESSION, "transcript_path": str(transcript), "model": {"id": "claude-opus-4-5"}}
    quiet = run_cli("statusline", input=json.dumps(line), env={"NO_COLOR": "1"})
    assert quiet.returncode == 0 and " run " not in quiet.stdout  # under the warn share: not shown
    unit = 50 + 800 * 5 + 3000 * 1.25 + (120_000 - 3050) * 0.1
    write_run_rows(SESSION, int(0.06 * cap / unit) + 1, 120_000, 0)
    shown = run_cli("statusline", input=json.dumps(line), env={"NO_COLOR": "1"})
    assert shown.returncode == 0 and re.fullmatch(r"wk \d+% local est\. → \d+% at reset · run 6\.\d%\n", shown.stdout)
    status = json.loads(run_cli("status", "--json").stdout)
    assert [r["session_id"] for r in status["runs"]] == [SESSION]
    run = status["runs"][0]
    assert 0.06 <= run["share"] < 0.065 and run["responses"] == int(0.06 * cap / unit) + 1
    assert run["share_per_hour"] > run["share"]  # a run of seconds: more than its share per hour
    text = run_cli("status", env={"NO_COLOR": "1"}).stdout
    table = (r"active runs +started +length +resp +share +rate\n[- ]+\n"
             r"sess-pac +\w{3} \d\d \w{3} \d\d:\d\d \S+ +0\.0 h +\d+ +6\.\d% +\d+\.\d%/h\n")
    assert re.search(table, text), text


def test_a_machine_prompt_continues_the_run_and_a_person_begins_a_new_one() -> None:
    transcript = write_week(context=120_000)
    cap = cap_for(0.5)
    write_budget(caps={"max20x": cap}, pacing={"run_check_seconds": 0})
    assert say(transcript) is None  # the person's prompt begins the run
    unit = 50 + 800 * 5 + 3000 * 1.25 + (120_000 - 3050) * 0.1
    write_run_rows(SESSION, int(0.05 * cap / unit) + 1, 120_000, 0)
    note = say(transcript, "<task-notification>\n<task-id>a1</task-id>\n<status>completed</status>")
    assert note is not None and note["systemMessage"].startswith("governor: This run: ")
    assert note["hookSpecificOutput"]["hookEventName"] == "UserPromptSubmit"
    assert step(transcript) is None  # said once, whichever hook said it
    assert say(transcript, "<task-notification>\n<task-id>a2</task-id>") is None
    time.sleep(1.1)
    assert say(transcript) is None  # a person's prompt: a new run, its share starts from zero
    assert step(transcript) is None
