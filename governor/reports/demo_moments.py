"""`governor demo`'s engine: replay the sample week and, at each of its moments, ask the real policy and
guard code what `governor status`, the status line and the hooks would show. Runs inside
demo_week.sandbox(): the hooks' own functions resolve every path into the throw-away directory."""

from __future__ import annotations

import json
import os
from typing import Any

from governor import paths, timeutil
from governor.guards import runtime, session
from governor.guards.prompt import respond
from governor.guards.result import HookResult
from governor.meter import budget_state, db, ledger, official, transcript
from governor.policy import router
from governor.reports import status
from governor.reports.demo_week import Replay, SampleWeek
from governor.statusline.run import state_line


def hook_output(event: str, result: HookResult | None) -> dict[str, Any]:
    """Exactly what the hook prints on stdout ('' = nothing), parsed, and a one-word verdict."""
    stdout = runtime.render(event, result)
    parsed = json.loads(stdout) if stdout else None
    verdict = "silent" if not parsed else "block" if parsed.get("decision") == "block" else "advice"
    return {"stdout": stdout, "output": parsed, "verdict": verdict}


class DemoWeek:
    """The sample week in a sandboxed ledger; `moment()` evaluates one moment (they must come in time order)."""

    def __init__(self, week: SampleWeek, config: dict[str, Any]) -> None:
        self.week, self.config = week, config
        self.root = paths.transcript_roots()[0]  # the sandbox's CLAUDE_CONFIG_DIR/projects
        os.makedirs(self.root, mode=0o700, exist_ok=True)
        self.replay = Replay(week, self.root)
        self.conn = db.connect(paths.ledger_path())
        self.captured: set[int] = set()

    def close(self) -> None:
        self.conn.close()

    def _catch_up(self, now: float) -> None:
        """What the hooks and the status line would have done by `now`: ingest, record official captures."""
        self.replay.advance(now)
        ledger.ingest(self.conn, [self.root], parallel=False)
        for i, capture in enumerate(self.week.meta.get("captures", [])):
            at = self.week.at(capture["at"])
            if i not in self.captured and at <= now:
                payload = capture["statusline"]
                with db.transaction(self.conn):
                    official.record_rate_limits(
                        self.conn, self.week.rate_limits(payload["rate_limits"]), at, payload.get("session_id")
                    )
                self.captured.add(i)

    def ledger_at(self, now: float) -> Any:
        """The sandbox's ledger as the hooks would have left it by `now` (for the sample report)."""
        self._catch_up(now)
        return self.conn

    def _session_start(self, spec: dict[str, Any]) -> dict[str, Any]:
        at = self.week.at(spec["at"])
        self._catch_up(at)
        payload = dict(spec["payload"])
        payload["transcript_path"] = self.replay.path(payload["session_id"], payload.get("cwd") or "/")
        return {
            "at": timeutil.iso(at),
            "payload": _shown(payload),
            **hook_output("SessionStart", session.handle(payload)),
        }

    def moment(self, spec: dict[str, Any]) -> dict[str, Any]:
        now = self.week.at(spec["at"])
        out: dict[str, Any] = {"key": spec["key"], "title": spec["title"], "at": timeutil.iso(now), "hooks": {}}
        if spec.get("session_start"):
            out["hooks"]["SessionStart"] = self._session_start(spec["session_start"])
        self._catch_up(now)
        out["captures"] = [
            {"window": c.window, "used_pct": c.used_pct, "captured_at": timeutil.iso(c.captured_at), "source": c.source}
            for c in official.cycle_captures(self.conn, budget_state.WEEKLY, self.week.start, now)
        ]
        state = budget_state.compute(self.conn, self.config, now)
        out["status"] = status.build(self.conn, self.config, now)
        path = self.replay.path(spec["session_id"], spec["cwd"])
        payload = {
            "session_id": spec["session_id"],
            "transcript_path": path,
            "cwd": spec["cwd"],
            "permission_mode": "acceptEdits",
            "hook_event_name": "UserPromptSubmit",
            "prompt": spec["prompt"],
        }
        out["hooks"]["UserPromptSubmit"] = {
            "payload": _shown(payload),
            **hook_output("UserPromptSubmit", self._prompt(payload, state, now)),
        }
        context = transcript.last_context_tokens(path)
        out["context_tokens"] = context
        out["over_pace"] = state.pace.band is not None
        out["statusline"] = state_line(state, self.config, context)
        return out

    def _prompt(self, payload: dict[str, Any], state: budget_state.BudgetState, now: float) -> HookResult | None:
        """The prompt guard's own answer, at the sample's clock instead of the real one."""
        return respond(payload, self.config, self.conn, state, now)

    def router_examples(self, over_pace: bool) -> list[dict[str, Any]]:
        """How the router classifies the sample prompts, and what it decides at this pace if Codex is installed."""
        cfg, lane = self.config["router"], self.config["lanes"]["codex"]
        codex = router.CodexState(enabled=bool(lane["enabled"]), installed=True, hot_at=float(lane["hot_at"]))
        out = []
        for prompt in self.week.meta.get("router", []):
            cls = router.classify(prompt, cfg)
            decision, reason = router.routing_decision(cls, cfg["mode"], over_pace, codex)
            out.append({"prompt": prompt, "class": cls, "decision": decision, "reason": reason})
        return out


def _shown(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload as shown: the transcript path lives in a directory deleted after the demo."""
    return {k: v for k, v in payload.items() if k != "transcript_path"}
