"""The hand-off: brief files, the shell-quoted command run through a real shell with a fake `codex`,
router_guard.route end to end, and `governor handoff [--run]` recording exit code and tokens."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from governor.config_schema import defaults
from governor.guards import route
from governor.lanes import handoff, router_events
from governor.meter import db
from tests.helpers import REPO_ROOT, run_cli

FAKE_CODEX = f"""#!{sys.executable}
import json, os, sys
out = os.environ["FAKE_CODEX_OUT"]
with open(os.path.join(out, "argv.json"), "w") as fh:
    json.dump(sys.argv[1:], fh)
data = sys.stdin.buffer.read()
with open(os.path.join(out, "stdin.bin"), "wb") as fh:
    fh.write(data)
code = int(os.environ.get("FAKE_CODEX_EXIT", "0"))
if os.environ.get("FAKE_CODEX_SLEEP"):
    import time
    print(json.dumps({{"type": "thread.started", "thread_id": "slow"}}), flush=True)
    time.sleep(float(os.environ["FAKE_CODEX_SLEEP"]))
events = [{{"type": "thread.started", "thread_id": "01a208d8-d79e-75d2-ac1f-4030e546e5ad"}},
          {{"type": "turn.started"}},
          {{"type": "item.completed", "item": {{"id": "i1", "type": "command_execution",
            "command": "pytest -q", "aggregated_output": "ok", "exit_code": 0, "status": "completed"}}}}]
if code == 0:
    events += [{{"type": "item.completed", "item": {{"id": "i2", "type": "agent_message",
                 "text": "Changed auth.py and views.py; tests pass."}}}},
               {{"type": "turn.completed", "usage": {{"input_tokens": 3000, "cached_input_tokens": 750,
                 "cache_write_input_tokens": 0, "output_tokens": 375, "reasoning_output_tokens": 225}}}}]
else:
    events += [{{"type": "error", "message": "You've hit your usage limit."}},
               {{"type": "turn.failed", "error": {{"message": "You've hit your usage limit."}}}}]
for e in events:
    print(json.dumps(e), flush=True)
sys.exit(code)
"""


def make_fake_codex(bin_dir: Path, out_dir: Path) -> dict[str, str]:
    bin_dir.mkdir(parents=True, exist_ok=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    exe = bin_dir / "codex"
    exe.write_text(FAKE_CODEX)
    exe.chmod(0o755)
    return {"PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}", "FAKE_CODEX_OUT": str(out_dir)}


HOSTILE = "it's \"quoted\" $(touch /tmp/pwned) `id` \n new line  two  spaces; & | * ? ~ ! # \\ '"


def _shell_roundtrip(root: Path, prompt: str, dir_name: str) -> None:
    cwd = root / dir_name
    cwd.mkdir(parents=True)
    briefs = root / ("briefs " + dir_name)
    brief = handoff.write_brief(prompt, str(cwd), "sess-1", time.time(), directory=str(briefs))
    env = {**os.environ, **make_fake_codex(root / "bin dir", root / "out")}
    command = handoff.handoff_command(brief, str(cwd))
    proc = subprocess.run(["sh", "-c", command], env=env, capture_output=True, timeout=30, cwd=str(root))
    assert proc.returncode == 0, proc.stderr
    assert (root / "out" / "stdin.bin").read_bytes() == Path(brief).read_bytes()
    argv = json.loads((root / "out" / "argv.json").read_text())
    assert argv == ["exec", "--sandbox", "workspace-write", "--skip-git-repo-check", "-C", str(cwd), "-"]
    assert prompt in Path(brief).read_text()


def test_command_through_a_shell_passes_the_brief_unchanged(tmp_path: Path) -> None:
    prompt = "refactor the auth module across all call sites\n" + HOSTILE
    _shell_roundtrip(tmp_path, prompt, "proj " + HOSTILE)
    assert not Path("/tmp/pwned").exists()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    # no lone surrogates: a UTF-8 brief cannot hold them (test_lone_surrogate_prompt_still_gives_a_brief)
    st.text(
        alphabet=st.sampled_from(list("ab '\"$()`\n\t;&|*?~!#\\<>{}-=")) | st.characters(blacklist_categories=("Cs",)),
        min_size=1,
        max_size=80,
    ),
    st.text(alphabet=st.sampled_from(list("ab '\"$()`\n;&|*?!#\\<>{}-é")), min_size=1, max_size=30),
)
def test_command_quoting_property(prompt: str, dir_name: str) -> None:
    prompt = prompt.replace("\x00", "")
    if dir_name in (".", "..") or "\r" in prompt:
        return
    with tempfile.TemporaryDirectory() as tmp:
        _shell_roundtrip(Path(tmp), prompt, dir_name)


def test_lone_surrogate_prompt_still_gives_a_brief(tmp_path: Path) -> None:
    # JSON on stdin can carry "\ud800"; the brief is UTF-8, so it becomes a replacement character
    brief = handoff.write_brief("refactor the \ud800 module across files", str(tmp_path), "s", time.time(),
                                directory=str(tmp_path / "h"))
    assert "refactor the ? module across files" in Path(brief).read_text()


def test_brief_files_are_private_and_unique(tmp_path: Path) -> None:
    d = tmp_path / "handoffs"
    now = 1_790_000_000.0
    a = handoff.write_brief("refactor the auth module", str(tmp_path), "s", now, directory=str(d))
    b = handoff.write_brief("refactor the auth module", str(tmp_path), "s", now, directory=str(d))
    assert a != b
    assert Path(a).name.endswith("-refactor-the-auth-module.md") and Path(b).name.endswith("-2.md")
    for p in (a, b):
        assert stat.S_IMODE(os.stat(p).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(d).st_mode) == 0o700
    assert handoff.read_meta(a) == {"cwd": str(tmp_path), "session_id": "s",
                                    "created": "2026-09-21T14:13:20Z", "branch": None}


def test_brief_carries_git_state_and_survives_fences(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "feature/x", str(repo)], check=True)
    for i in range(30):
        (repo / f"f{i}.txt").write_text("x")
    prompt = "rewrite the module\n```\ncode\n````\n-->"
    text = Path(handoff.write_brief(prompt, str(repo), None, directory=str(tmp_path / "h"))).read_text()
    assert "Git branch: feature/x" in text
    assert "30 changed or untracked path(s)" in text and "… and 10 more" in text
    assert "`````text\n" + prompt + "\n`````" in text
    assert handoff.read_meta(str(next((tmp_path / "h").iterdir())))["branch"] == "feature/x"


def test_hook_result_is_short_and_has_the_command(tmp_path: Path) -> None:
    import tempfile

    short = Path(tempfile.mkdtemp(prefix="gh", dir="/tmp"))  # paths of everyday length (pytest's are long)
    brief = handoff.write_brief("migrate the db module", str(short), "s", directory=str(short / "h"))
    cmd = handoff.handoff_command(brief, str(short))
    result = route.hook_result(brief, cmd, "claude over pace")
    assert cmd in result["system_message"] and len(result["system_message"]) <= 300
    assert len(result["additional_context"]) <= 600 and "offer" in result["additional_context"]
    long_brief = "/" + "very-long-directory-name/" * 20 + "b.md"
    long = route.hook_result(long_brief, handoff.handoff_command(long_brief, str(tmp_path)), "x")
    assert len(long["system_message"]) <= 300 and "governor handoff --last --run" in long["system_message"]
    assert len(long["additional_context"]) <= 600


def _config(mode: str = "always", command: str = "codex") -> dict:
    cfg = defaults()
    cfg["router"]["mode"] = mode
    cfg["lanes"]["codex"]["command"] = command
    return cfg


def test_route_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = make_fake_codex(tmp_path / "bin", tmp_path / "out")
    monkeypatch.setenv("PATH", env["PATH"])
    conn = db.connect()
    now = time.time()
    payload = {"session_id": "s1", "cwd": str(tmp_path), "hook_event_name": "UserPromptSubmit",
               "prompt": "refactor the auth module across all call sites " + "x" * 500}
    result = route.route(payload, _config(), conn, False, now)
    assert result and ("codex exec --sandbox workspace-write" in result["system_message"]
                       or "governor handoff --last --run" in result["system_message"])
    assert route.route({**payload, "prompt": "why is it slow"}, _config(), conn, False, now) is None
    assert route.route({**payload, "prompt": "/compact"}, _config(), conn, False, now) is None
    assert route.route({**payload, "prompt": "run it"}, _config(), conn, False, now) is None
    assert route.route(payload, _config("when_over_pace"), conn, False, now) is None
    assert route.route(payload, _config("off"), conn, True, now) is None
    conn.execute("INSERT INTO codex_limits(limit_id, window, used_pct, window_minutes, resets_at,"
                 " observed_at) VALUES('codex', 'weekly', 91.0, 10080, ?, ?)", (now + 86400, now))
    assert route.route(payload, _config(), conn, True, now) is None
    assert router_events.latest_reason(conn, "s1", now - 1) == "codex weekly 91% >= 85%"
    conn.execute("UPDATE codex_limits SET resets_at = ?", (now - 1,))  # stale: the window has reset
    assert route.route(payload, _config(), conn, True, now) is not None
    assert route.route(payload, _config(command="no-such-codex-xyz"), conn, True, now) is None
    rows = conn.execute("SELECT decision, reason, prompt_head, brief_path FROM router_events"
                        " ORDER BY id").fetchall()
    assert [r[0] for r in rows] == ["handoff", "hold", "pass", "skipped", "skipped", "handoff", "skipped"]
    assert rows[3][1] == "claude on pace" and rows[6][1] == "codex not installed"
    assert all(len(r[2]) <= 60 for r in rows) and rows[0][3] and os.path.exists(rows[0][3])


def test_cli_handoff_prints_and_runs(tmp_path: Path) -> None:
    env = make_fake_codex(tmp_path / "bin", tmp_path / "out")
    r = run_cli("handoff", env=env)
    assert r.returncode == 2 and "no hand-off brief yet" in r.stderr and len(r.stderr.splitlines()) == 1
    r = run_cli("handoff", str(tmp_path / "missing.md"), env=env)
    assert r.returncode == 2 and "no such brief file" in r.stderr
    cwd = tmp_path / "my 'proj' $(x)"
    cwd.mkdir()
    brief = handoff.write_brief("refactor the auth module", str(cwd), "s1")
    r = run_cli("handoff", "--last", env=env)
    assert r.returncode == 0 and r.stdout.strip() == handoff.handoff_command(brief, str(cwd))
    r = run_cli("handoff", "--run", env=env)
    assert r.returncode == 0, r.stderr
    assert "Changed auth.py and views.py; tests pass." in r.stdout
    assert "codex ran: pytest -q" in r.stderr and "3,000 in (750 cached)" in r.stderr
    argv = json.loads((tmp_path / "out" / "argv.json").read_text())
    assert argv == ["exec", "--sandbox", "workspace-write", "-C", str(cwd), "--json",
                    "--skip-git-repo-check", "-"]
    assert (tmp_path / "out" / "stdin.bin").read_bytes() == Path(brief).read_bytes()
    r = run_cli("handoff", brief, "--run", "--json", env={**env, "FAKE_CODEX_EXIT": "1"})
    assert r.returncode == 1
    out = json.loads(r.stdout)
    assert out["exit_code"] == 1 and out["error"] == "You've hit your usage limit." and out["usage"] == {}
    rows = db.connect().execute("SELECT exit_code, thread_id, input, cached_input, output, reasoning,"
                                " brief_path FROM handoff_runs ORDER BY id").fetchall()
    assert rows == [(0, "01a208d8-d79e-75d2-ac1f-4030e546e5ad", 3000, 750, 375, 225, brief),
                    (1, "01a208d8-d79e-75d2-ac1f-4030e546e5ad", None, None, None, None, brief)]


def test_cli_handoff_without_codex(tmp_path: Path) -> None:
    handoff.write_brief("refactor the auth module", str(tmp_path), "s1")
    r = run_cli("handoff", "--run", env={"PATH": str(tmp_path / "empty")})
    assert r.returncode == 2 and "codex not found" in r.stderr and len(r.stderr.splitlines()) == 1


def test_cli_handoff_timeout_and_plain_brief(tmp_path: Path) -> None:
    env = make_fake_codex(tmp_path / "bin", tmp_path / "out")
    plain = tmp_path / "my brief.md"
    plain.write_text("implement the exporter across modules\n")
    r = run_cli("handoff", str(plain), env=env)
    assert r.returncode == 0 and r.stdout.strip() == handoff.handoff_command(str(plain), str(REPO_ROOT))
    started = time.monotonic()
    r = run_cli("handoff", str(plain), "--run", "--timeout", "1", env={**env, "FAKE_CODEX_SLEEP": "30"})
    assert time.monotonic() - started < 20
    assert r.returncode == 1 and "timed out" in r.stderr
    row = db.connect().execute("SELECT exit_code, thread_id, input FROM handoff_runs").fetchone()
    assert row[0] < 0 and row[1] == "slow" and row[2] is None
