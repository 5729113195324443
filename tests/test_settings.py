"""install / uninstall on settings documents: what a person would see in their settings.json."""

from __future__ import annotations

import json
import os
import tempfile
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from governor.wiring import installer
from governor.wiring import settings_merge as gs

WIRING = gs.claude_wiring("/venv/bin/python", "/venv/lib/python3.11/site-packages/governor/_hooks")
OUR_EVENTS = [event for event, _m, _s in gs.CLAUDE_HOOKS]

leaf = st.one_of(st.none(), st.booleans(), st.integers(-(2**53), 2**53),
                 st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=12))
json_value = st.recursive(leaf, lambda inner: st.lists(inner, max_size=3)
                          | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=8)
command = st.text(min_size=0, max_size=30).filter(lambda c: not gs.is_governor_command(c))
handler = st.fixed_dictionaries({"type": st.just("command"), "command": command},
                                optional={"timeout": st.integers(1, 600), "async": st.booleans()})
group = st.fixed_dictionaries({"hooks": st.lists(handler, max_size=3)},
                              optional={"matcher": st.text(max_size=10)})
event_name = st.one_of(st.sampled_from([*OUR_EVENTS, "Stop", "PreToolUse", "PreCompact"]),
                       st.text(max_size=10))
hooks_section = st.dictionaries(event_name, st.lists(group, max_size=3), max_size=4)
status_line = st.one_of(
    st.fixed_dictionaries({"type": st.just("command"), "command": command},
                          optional={"padding": st.integers(0, 4), "refreshInterval": st.integers(1, 60)}),
    json_value,
)
other_keys = st.dictionaries(st.text(max_size=10).filter(lambda k: k not in ("hooks", "statusLine")),
                             json_value, max_size=4)


@st.composite
def settings_docs(draw: st.DrawFn) -> dict[str, Any]:
    """A settings document: unknown keys, maybe hooks and a status line, each at a random position."""
    items = list(draw(other_keys).items())
    for key, strategy in (("hooks", hooks_section), ("statusLine", status_line)):
        if draw(st.booleans()):
            items.insert(draw(st.integers(0, len(items))), (key, draw(strategy)))
    return dict(items)


def governor_entry_counts(doc: dict[str, Any]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for event, _group, _handler in gs.governor_handlers(doc):
        counts[event] = counts.get(event, 0) + 1
    return counts


def dumps(doc: Any) -> bytes:
    return json.dumps(doc, indent=2, ensure_ascii=False).encode() + b"\n"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(settings_docs())
def test_install_install_uninstall_gives_back_the_same_file(doc: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path, budget, store = (os.path.join(tmp, n) for n in ("settings.json", "budget.json", "record.json"))
        with open(path, "wb") as fh:
            fh.write(dumps(doc))
        installer.install(path, WIRING, budget=budget, store=store)
        once = open(path, "rb").read()
        second = installer.install(path, WIRING, budget=budget, store=store)
        installed = json.loads(open(path, "rb").read())
        assert not second.changed and open(path, "rb").read() == once  # idempotent, byte for byte
        assert governor_entry_counts(installed) == dict.fromkeys(OUR_EVENTS, 1)
        assert installed["statusLine"]["command"] == WIRING.status_line
        previous = doc.get("statusLine")
        command = previous.get("command") if isinstance(previous, dict) else None
        if isinstance(command, str) and command.strip():
            assert installer.read_chain(budget) == command  # their status line is chained
        installer.uninstall(path, budget=budget, store=store)
        assert open(path, "rb").read() == dumps(doc)  # same JSON, same key order, same bytes


@given(settings_docs())
def test_install_is_idempotent_and_keeps_other_entries(doc: dict[str, Any]) -> None:
    first = gs.install_doc(doc, WIRING)
    again = gs.install_doc(first.doc, WIRING, first.record)
    assert json.dumps(again.doc) == json.dumps(first.doc)
    assert again.record == first.record
    others = [(e, h) for e, gr in (doc.get("hooks") or {}).items() for g in gr for h in g["hooks"]]
    kept = [(e, h) for e, gr in first.doc["hooks"].items() for g in gr for h in g["hooks"] if not gs._ours(h)]
    assert kept == others


def test_a_moved_venv_is_updated_in_place_not_duplicated() -> None:
    stale = gs.claude_wiring("/old venv/bin/python", "/old venv/lib/governor/_hooks")
    mine = {"type": "command", "command": "~/bin/lint.sh"}
    doc = {"hooks": {"PostToolUse": [{"matcher": "Bash", "hooks": [mine]}]}}
    installed = gs.install_doc(doc, stale).doc
    installed["hooks"]["PostToolUse"].append({"matcher": "Read", "hooks": [mine]})
    moved = gs.install_doc(installed, WIRING)
    post = moved.doc["hooks"]["PostToolUse"]
    assert [g.get("matcher") for g in post] == ["Bash", "Write|Edit|MultiEdit", "Read"]
    assert governor_entry_counts(moved.doc) == dict.fromkeys(OUR_EVENTS, 1)
    assert "/old venv" not in json.dumps(moved.doc)
    assert "PostToolUse: updated" in moved.actions


def test_an_install_that_can_skip_site_runs_every_script_with_python_s_and_replaces_the_old_entries() -> None:
    hooks = "/venv/lib/python3.11/site-packages/governor/_hooks"
    fast = gs.claude_wiring("/venv/bin/python", hooks, skip_site=True)
    assert {event: group["hooks"][0]["command"] for event, group in fast.groups.items()} == {
        "UserPromptSubmit": f"/venv/bin/python -S {hooks}/user_prompt_submit.py # governor",
        "PostToolUse": f"/venv/bin/python -S {hooks}/post_tool_use.py # governor",
        "PostToolBatch": f"/venv/bin/python -S {hooks}/post_tool_batch.py # governor",
        "SessionStart": f"/venv/bin/python -S {hooks}/session_start.py # governor",
    }
    assert fast.status_line == f"/venv/bin/python -S {hooks}/statusline.py # governor"
    assert gs.codex_wiring("/venv/bin/python", hooks, skip_site=True).groups["UserPromptSubmit"]["hooks"][0][
        "command"] == f"/venv/bin/python -S {hooks}/codex_user_prompt_submit.py # governor"
    upgraded = gs.install_doc(gs.install_doc({}, WIRING).doc, fast)  # an older install's commands, no -S
    assert governor_entry_counts(upgraded.doc) == dict.fromkeys(OUR_EVENTS, 1)
    assert upgraded.doc["statusLine"]["command"] == fast.status_line
    assert gs.is_governor_command(f"python3 -S {hooks}/post_tool_use.py")  # hand-written, no marker


def test_commands_survive_spaces_and_quotes_in_paths() -> None:
    wiring = gs.claude_wiring("/Users/J O'Neil/venv/bin/python", "/Users/J O'Neil/hooks")
    cmd = wiring.groups["SessionStart"]["hooks"][0]["command"]
    assert cmd.endswith(" # governor") and "'\"'\"'" in cmd  # shell-quoted apostrophe
    assert gs.is_governor_command(cmd)


def test_hand_written_entries_without_the_marker_are_recognised() -> None:
    assert gs.is_governor_command("python3 /x/site-packages/governor/_hooks/post_tool_use.py")
    assert gs.is_governor_command("/venv/bin/python -m governor statusline")
    assert not gs.is_governor_command("python3 ~/.claude/hooks/session_start.py")
    assert not gs.is_governor_command("echo governor")


def test_a_governor_handler_inside_someone_elses_group_leaves_their_handler() -> None:
    mine = {"type": "command", "command": "~/bin/audit.sh"}
    ours = {"type": "command", "command": "python /x/governor/_hooks/user_prompt_submit.py"}
    doc = {"hooks": {"UserPromptSubmit": [{"hooks": [ours, mine]}]}}
    removed = gs.uninstall_doc(doc).doc
    assert removed == {"hooks": {"UserPromptSubmit": [{"hooks": [mine]}]}}


def test_empty_containers_that_were_there_before_install_stay() -> None:
    doc = {"hooks": {"UserPromptSubmit": []}, "statusLine": "odd but kept"}
    change = gs.install_doc(doc, WIRING)
    assert gs.uninstall_doc(change.doc, change.record).doc == doc
    assert gs.uninstall_doc({"hooks": {}}).doc == {"hooks": {}}  # nothing of ours: nothing touched


def test_without_a_record_uninstall_falls_back_to_the_chain() -> None:
    theirs = {"statusLine": {"type": "command", "command": "~/sl.sh", "padding": 2}}
    installed = gs.install_doc(theirs, WIRING)
    assert installed.chain == "~/sl.sh"
    restored = gs.uninstall_doc(installed.doc, None, chain="~/sl.sh")
    assert restored.doc == {"statusLine": {"type": "command", "command": "~/sl.sh", "padding": 2}}
    assert gs.uninstall_doc(installed.doc, None, chain=None).doc == {}
