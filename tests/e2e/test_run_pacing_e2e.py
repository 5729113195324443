"""Pacing inside one long autonomous run, with the real Claude Code 2.1.328: one `-p` prompt, 32 model steps
with tool calls, the context growing past the band's ceiling, a heavy week pre-seeded, a background
sub-agent and a MEMORY.md write in the same run. What reaches the model's requests and the person."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from .governor_cli import (
    GOVERNOR_ENV,
    governor,
    governor_json,
    install_governor,
    seed_heavy_week,
    seed_transcript,
    write_budget,
)
from .mock_anthropic import Reply, Usage, text_reply, tool_reply
from .runners import ClaudeRun, ClaudeRunner
from .test_governor_e2e import assert_clean, governor_log_stays_clean, system_texts  # noqa: F401 - autouse
from .workspace import Workspace, encode_project

pytestmark = pytest.mark.e2e

STEPS = 32
SUB_MARKER = "SUBAGENT-TASK"
RUN_CONFIG = {"run_check_seconds": 0, "run_warn_fraction": 0.006}


def context_at(step: int) -> int:
    return 100_000 + step * 16_000  # 100k -> 596k: past the lowest band's 450k ceiling at step 22


def script(ws: Workspace) -> tuple[list[Reply], str]:
    memory = ws.claude_dir / "projects" / encode_project(ws.project) / "memory" / "MEMORY.md"
    long_line = "- Run notes: " + "the loop re-reads its whole context on every step " * 20
    replies: list[Reply] = []
    for step in range(STEPS):
        ctx = context_at(step)
        usage = Usage(input_tokens=50, output_tokens=200, cache_read_input_tokens=ctx - 2050, cache_creation_5m=0,
                      cache_creation_1h=2000)
        if step == 4:
            replies.append(tool_reply("Agent", {"description": "side task", "subagent_type": "general-purpose",
                                                "prompt": f"{SUB_MARKER}: echo twice"}, usage=usage))
        elif step == 8:
            replies.append(tool_reply("Write", {"file_path": str(memory), "content": f"# Memory\n\n{long_line}\n"},
                                      usage=usage))
        else:
            replies.append(tool_reply("Bash", {"command": f"echo step{step}", "description": "echo"}, usage=usage))
    replies.append(text_reply("All steps done.", usage=Usage(50, 30, context_at(STEPS) - 2050, 0, 2000)))
    return replies, str(memory)


def sub_agent_script() -> list[Reply]:
    return [tool_reply("Bash", {"command": f"echo sub{i}", "description": "echo"}) for i in range(3)] + [
        text_reply("side task done")]


def run_long(claude: ClaudeRunner, ws: Workspace, env: dict[str, str] | None = None) -> tuple[ClaudeRun, str]:
    replies, memory = script(ws)
    claude.mock.queue(*replies)
    claude.mock.queue_for(SUB_MARKER, *sub_agent_script())
    run = claude.run("work through the steps", env={**GOVERNOR_ENV, **(env or {})},
                     allowed_tools="Bash(echo:*) Agent Write", timeout=600)
    return run, memory


def main_bodies(claude: ClaudeRunner) -> list[dict[str, Any]]:
    return [b for b in claude.mock.messages() if b.get("tools") and SUB_MARKER not in json.dumps(b["messages"][0])]


def heavy_week(ws: Workspace, projected: float) -> float:
    install_governor(ws)
    seed_transcript(ws, responses=400, context=900_000, session="seed-heavy")  # the run is a small part of it
    cap = seed_heavy_week(ws, projected=projected)
    write_budget(ws, pacing=RUN_CONFIG)
    return cap


def test_a_long_run_hears_the_band_the_crossing_and_its_share_once_each(
    claude: ClaudeRunner, workspace: Workspace
) -> None:
    heavy_week(workspace, projected=1.095)

    run, memory = run_long(claude, workspace)

    assert_clean(run, claude.mock)
    assert run.result["result"] == "All steps done."
    bodies = main_bodies(claude)
    assert len(bodies) >= STEPS + 1
    # The run check speaks at a model step (PostToolBatch), or at a machine prompt continuing the run: the
    # background agent's task notification can arrive as a UserPromptSubmit at any point of the loop.
    prompts = run.hook_responses("UserPromptSubmit")
    # the person's prompt gets the prompt hook's message; the seeded week reads 22-23 % depending on the clock
    assert re.match(r"governor: week 2\d% used \(local estimate\)", json.loads(prompts[0]["stdout"])["systemMessage"])
    said = [json.loads(r["stdout"]) for r in run.hook_responses() if r.get("stdout", "").strip()
            and (r["hook_event"] == "PostToolBatch" or (r["hook_event"] == "UserPromptSubmit" and r is not prompts[0]))]
    models = [s["hookSpecificOutput"]["additionalContext"] for s in said]
    events = [s["hookSpecificOutput"]["hookEventName"] for s in said]
    assert len(models) == 3, models  # the band, the crossing, the run share: each once, in that order
    assert re.fullmatch(r"governor: The week is on pace for 110% of the weekly cap by the reset, \w{3} 00:00 UTC "
                        r"\(in 3d \d+h\); 2\d% used \(local estimate\)\. Keep this run lean: avoid re-reading large "
                        r"files and printing long outputs\.", models[0]), models[0]
    assert re.fullmatch(r"governor: This session's context is 3\d\dk tokens, over this week's 350k ceiling\. Finish "
                        r"the current step, then suggest /compact or a fresh session to the person\.", models[1])
    # The share is said at the first check past the 0.6 % line; how far past depends on how many rows (the
    # background agent's among them) landed between two checks, so it reads 0.6 or 0.7 % (CI saw both).
    assert re.fullmatch(r"governor: This run: 0m, \d+ responses, 0\.[67]% of the weekly cap; at this rate \d+% more "
                        r"per hour\.", models[2]), models[2]
    # Each injection reaches the very next request and stays, one copy, in every request after it.
    first_seen = []
    for text in models:
        label = f"{events[models.index(text)]} hook additional context: " + text
        carried = [i for i, b in enumerate(bodies) if label in "".join(system_texts(b)).replace('\\"', '"')]
        assert carried == list(range(carried[0], len(bodies))), text
        assert all(json.dumps(b).count(json.dumps(label)[1:-1]) == 1 for b in bodies[carried[0]:])
        first_seen.append(carried[0])
    assert first_seen == sorted(first_seen) and len(set(first_seen)) == 3
    assert sum(t.count("additional context: governor: ") for t in system_texts(bodies[-1])) == 3  # nothing else
    persons = [s["systemMessage"] for s in said]  # the person sees each line
    assert all(f"{e} says: {p}" in run.system_messages() for e, p in zip(events, persons, strict=True))
    assert not any(p in json.dumps(b) for p in persons for b in bodies if p not in models)
    # The background sub-agent's own steps were not advised (nor did they repeat the parent's advice).
    sub_bodies = [b for b in claude.mock.messages() if SUB_MARKER in json.dumps(b.get("messages", [{}])[0])]
    assert len(sub_bodies) == 4 and not any("governor" in "".join(system_texts(b)) for b in sub_bodies)
    # The memory guard still caps the MEMORY.md written in the same run.
    lines = open(memory).read().splitlines()
    assert lines[:2] == ["# Memory", ""] and len(lines[2]) <= 350 and lines[2].endswith(" …")
    runs = governor_json(workspace, "status", "--json")["runs"]
    assert [r["session_id"] for r in runs] == [run.session_id]
    assert runs[0]["responses"] >= STEPS and runs[0]["share"] > RUN_CONFIG["run_warn_fraction"]


def test_under_pace_a_long_run_hears_nothing(claude: ClaudeRunner, workspace: Workspace) -> None:
    cap = heavy_week(workspace, projected=1.5)
    write_budget(workspace, caps={"max20x": cap * 3}, pacing={"run_check_seconds": 0})  # 50 %; warn at 5 %

    run, _memory = run_long(claude, workspace)

    assert_clean(run, claude.mock)
    assert not any("governor:" in t for b in claude.mock.messages() for t in system_texts(b))
    assert not [r for r in run.hook_responses("PostToolBatch") if r.get("stdout", "").strip()]
    assert not any("governor:" in m for m in run.system_messages())


def test_the_kill_switch_silences_the_run_check(claude: ClaudeRunner, workspace: Workspace) -> None:
    heavy_week(workspace, projected=1.095)

    run, memory = run_long(claude, workspace, env={"GOVERNOR_DISABLE": "1"})

    assert_clean(run, claude.mock)
    assert not any("governor" in json.dumps(b) for b in claude.mock.messages())
    assert not any("governor" in m for m in run.system_messages())
    assert len(open(memory).read().splitlines()[2]) > 350  # every hook is a no-op, the memory guard too


def clamp_week(ws: Workspace, stop: bool) -> None:
    """A heavy week read as 97 % used on /usage: past the 95 % clamp, so the run is stopped once its context
    crosses the clamp's ceiling."""
    heavy_week(ws, projected=1.095)
    write_budget(ws, pacing={**RUN_CONFIG, "stop_runs_at_clamp": stop})
    governor(ws, "calibrate", "--week", "97")


CLAMP_FACTS = (r"the weekly cap is 97% used \(official\) and this session's context \((\d+)k\) is over the "
               r"(\d+)k ceiling")


def test_at_the_clamp_the_run_is_told_once_to_stop_and_summarise_and_is_not_stopped(
    claude: ClaudeRunner, workspace: Workspace
) -> None:
    clamp_week(workspace, stop=False)

    run, _memory = run_long(claude, workspace)

    assert_clean(run, claude.mock)
    assert run.result["result"] == "All steps done."  # warn-only by default: the loop goes on
    bodies = main_bodies(claude)
    said = [json.loads(r["stdout"]) for r in run.hook_responses("PostToolBatch") if r.get("stdout", "").strip()]
    clamps = [s for s in said if "Stop here" in s["hookSpecificOutput"]["additionalContext"]]
    assert len(clamps) == 1, said
    model = clamps[0]["hookSpecificOutput"]["additionalContext"]
    facts = re.fullmatch(r"governor: The " + CLAMP_FACTS[4:] + r"\. Stop here: summarise for the person what is "
                         r"done and what is left, and suggest /compact or a fresh session\.", model)
    assert facts, model
    context, ceiling = int(facts[1]), int(facts[2])
    # The check reads the transcript's last row, which Claude Code may write a moment after the step's hooks:
    # the clamp is said at the step that crossed or the next one, with the context that step had.
    step = step_with_context(context)
    assert context > ceiling and step in (first_step_over(ceiling), first_step_over(ceiling) + 1)
    assert re.fullmatch(r"governor: The " + CLAMP_FACTS[4:] + r": the model was asked to stop and summarise\.",
                        clamps[0]["systemMessage"])
    label = "PostToolBatch hook additional context: " + model
    carried = [i for i, b in enumerate(bodies) if label in "".join(system_texts(b))]
    # the request after the step whose PostToolBatch spoke (one later when the transcript lagged by a row)
    assert carried[0] in (step + 1, step + 2) and carried == list(range(carried[0], len(bodies)))


def first_step_over(ceiling_k: int) -> int:
    return next(step for step in range(STEPS) if context_at(step) // 1000 > ceiling_k)


def step_with_context(context_k: int) -> int:
    return next(step for step in range(STEPS) if context_at(step) // 1000 == context_k)


def test_stop_runs_at_clamp_ends_the_loop_at_the_step_that_crossed_and_the_reason_reaches_the_next_turn(
    claude: ClaudeRunner, workspace: Workspace
) -> None:
    clamp_week(workspace, stop=True)

    run, _memory = run_long(claude, workspace)

    stops = [r for r in run.hook_responses("PostToolBatch") if r.get("exit_code") == 2]
    assert len(stops) == 1 and stops[0]["stdout"] == ""
    facts = re.fullmatch(r"governor stopped this run: " + CLAMP_FACTS + r"\. Summarise what is done; /compact or "
                         r"start a fresh session before going on \(pacing\.stop_runs_at_clamp\)\.\n",
                         stops[0]["stderr"])
    assert facts, stops[0]["stderr"]
    step = step_with_context(int(facts[1]))
    assert step in (first_step_over(int(facts[2])), first_step_over(int(facts[2])) + 1)
    # Claude Code 2.1.328 sends no further request: the step the hook stopped was the last one served. (The
    # hook reads the context from the transcript's last row, which can lag the step by one row.)
    served_steps = len(main_bodies(claude))
    assert served_steps in (step + 1, step + 2)
    assert run.result["subtype"] == "success" and run.result["result"] == ""
    # The reason is kept in the transcript as a hook_stopped_continuation attachment ...
    attachments = [r["attachment"] for r in run.transcript_rows() if r.get("type") == "attachment"
                   and r["attachment"].get("type") == "hook_stopped_continuation"]
    assert len(attachments) == 1 and stops[0]["stderr"] in attachments[0]["message"]
    # The person's next prompt in that session meets the prompt hook's clamp: the same facts, nothing sent.
    served = len(claude.mock.messages())
    again = claude.run("what is left?", env=GOVERNOR_ENV, args=["--resume", run.session_id], allowed_tools=None)
    assert len(claude.mock.messages()) == served
    assert again.result["result"].startswith(
        "UserPromptSubmit operation blocked by hook:\ngovernor: paused this prompt: the weekly cap is 97% used "
        "(official), resets ") and (  # the context of the last step served, now all in the transcript
        f"this session's context is {context_at(served_steps - 1) // 1000}k tokens, over the {facts[2]}k ceiling"
        in again.result["result"]), again.result["result"]


def test_a_lone_background_sub_agent_past_the_clamp_is_told_once_to_stop(
    claude: ClaudeRunner, workspace: Workspace
) -> None:
    clamp_week(workspace, stop=False)
    claude.mock.queue(
        tool_reply("Agent", {"description": "long side task", "subagent_type": "general-purpose",
                             "prompt": f"{SUB_MARKER}: echo many times"}),
        text_reply("Started the side task."), text_reply("Side task finished."))
    sub_steps = 24
    claude.mock.queue_for(SUB_MARKER, *[
        tool_reply("Bash", {"command": f"echo sub{i}", "description": "echo"},
                   usage=Usage(50, 100, context_at(i) - 2050, 0, 2000)) for i in range(sub_steps)],
        text_reply("side task done"))

    run = claude.run("start the long side task", env=GOVERNOR_ENV, allowed_tools="Bash(echo:*) Agent", timeout=600)

    assert_clean(run, claude.mock)
    subs = [r for r in run.hook_responses("PostToolBatch") if r.get("stdout", "").strip()]
    assert len(subs) == 1, subs
    model = json.loads(subs[0]["stdout"])["hookSpecificOutput"]["additionalContext"]
    facts = re.fullmatch(r"governor: The " + CLAMP_FACTS[4:] + r"\. Stop here: summarise for the person what is "
                         r"done and what is left, and suggest /compact or a fresh session\.", model)
    assert facts, model
    step = step_with_context(int(facts[1]))
    assert step in (first_step_over(int(facts[2])), first_step_over(int(facts[2])) + 1)
    sub_bodies = [b for b in claude.mock.messages() if SUB_MARKER in json.dumps(b.get("messages", [{}])[0])]
    label = "PostToolBatch hook additional context: " + model
    carried = [i for i, b in enumerate(sub_bodies) if label in "".join(system_texts(b))]
    # the agent's next request on (one later when its transcript lagged the hook by a row)
    assert carried and carried[0] in (step + 1, step + 2) and carried == list(range(carried[0], len(sub_bodies)))
    parent = [b for b in claude.mock.messages() if b not in sub_bodies and b.get("tools")]
    assert not any(label in "".join(system_texts(b)) for b in parent)  # the parent was not told the agent's clamp
