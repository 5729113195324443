"""`governor demo`'s report: the SAMPLE week's three moments and the router, as data and as text."""

from __future__ import annotations

import shutil
import textwrap
import time
from typing import Any

from governor import fmt, timeutil
from governor.fastdatetime import datetime

NEXT_STEPS = [
    ("governor install", "add the hooks and the status line to Claude Code"),
    ("governor status", "the same view on your own week (after a few sessions)"),
    ("governor doctor", "check the installation and the meter"),
]


def build(now: float | None = None) -> dict[str, Any]:
    """The whole demo as data (the sample week moved into the cycle holding `now`)."""
    from governor.config import load_config
    from governor.reports import demo_week
    from governor.reports.demo_moments import DemoWeek

    now = time.time() if now is None else now
    meta = demo_week.read_meta()
    with demo_week.sandbox(meta["tier"]):
        config = load_config()  # the sandbox's budget.json: the built-in defaults at the sample's tier
        week = demo_week.load(now, config["week"], meta)
        demo = DemoWeek(week, config)
        try:
            moments = [demo.moment(spec) for spec in week.meta["moments"]]
            over = next((m for m in moments if m["over_pace"]), moments[-1])  # the router's moment
            examples = demo.router_examples(over["over_pace"])
        finally:
            demo.close()
    return {
        "sample": True,
        "label": week.meta["label"],
        "config": {
            "tier": config["tier"],
            "cap_units": config["caps"][config["tier"]],
            "source": "built-in defaults at the sample's tier; your budget.json is not read",
        },
        "week": {"start": timeutil.iso(week.start), "reset": timeutil.iso(week.reset)},
        "transcripts": {"sessions": week.sessions, "rows": len(week.rows), "responses": week.responses},
        "moments": moments,
        "router": {
            "at": over["key"],
            "over_pace": over["over_pace"],
            "assumes": "the Codex CLI is installed",
            "examples": examples,
        },
        "next_steps": [{"command": c, "what": w} for c, w in NEXT_STEPS],
    }


def _when(iso_text: str, fmt: str = "%a %d %b %H:%M %Z") -> str:
    return datetime.fromisoformat(iso_text).astimezone(timeutil.local_zone()).strftime(fmt)


def _wrap(text: str, indent: str, width: int) -> str:
    return textwrap.fill(
        text,
        width=width,
        initial_indent=indent,
        subsequent_indent=indent,
        break_long_words=False,
        break_on_hyphens=False,
    )


def _hook_lines(name: str, h: dict[str, Any], color: bool, width: int) -> list[str]:
    out = h["output"]
    if not out:
        return [f"{name} hook prints: " + fmt.paint("nothing", "green", color) + " (exit 0, empty stdout)"]
    if h["verdict"] == "block":
        lines = [
            f"{name} hook prints "
            + fmt.paint('{"decision": "block", ...}', "red", color)
            + ": the prompt is not sent; you see the reason:"
        ]
        lines.append(_wrap(out["reason"], "    ", width))
        return lines
    lines = [f"{name} hook prints JSON on stdout:"]
    if out.get("systemMessage"):
        lines += ["  systemMessage (shown to you):", _wrap(out["systemMessage"], "    ", width)]
    context = out.get("hookSpecificOutput", {}).get("additionalContext")
    if context:
        lines += ["  additionalContext (handed to Claude):", _wrap(context, "    ", width)]
    return lines


def _status_block(status: dict[str, Any]) -> str:
    from governor.reports import status as status_report

    text = status_report.render(status)
    head, sep, _tail = text.rpartition("\n\nhook now")  # the hooks are shown in full below
    return head if sep else text


def render(d: dict[str, Any]) -> str:
    color = fmt.use_color()
    width = max(60, min(100, shutil.get_terminal_size((100, 24)).columns))
    bar = "─" * min(width, 78)
    t = d["transcripts"]
    lines = [
        fmt.paint(f"governor demo · {d['label']}", "bold", color),
        _wrap(
            "Nothing here comes from or goes to your ledger, budget.json or transcripts: the sample runs in a "
            "temporary directory (deleted afterwards) with governor's built-in defaults, tier "
            f"{d['config']['tier']} (your budget.json is ignored).",
            "",
            width,
        ),
        _wrap(
            f"Sample week {_when(d['week']['start'])} → {_when(d['week']['reset'])}: {t['sessions']} sessions, "
            f"{t['rows']} transcript rows = {t['responses']} API responses after de-duplication.",
            "",
            width,
        ),
    ]
    for n, m in enumerate(d["moments"], 1):
        lines += ["", bar, fmt.paint(f"{n}. {m['title']}", "bold", color) + f"  ({_when(m['at'])}, sample)", bar]
        start = m["hooks"].get("SessionStart")
        if start:
            lines.append(
                f"At {_when(start['at'], '%a %H:%M')} the person resumes the session "
                f"(claude --resume, {start['payload'].get('context_tokens', 0) / 1000:.0f}k tokens of "
                "context, cache cold)."
            )
            lines += _hook_lines("SessionStart", start, color, width)
            lines.append("")
        for c in m.get("captures", []):
            lines.append(
                _wrap(
                    f"official  the status line captured {c['window']} = {c['used_pct']:.0f}% at "
                    f"{_when(c['captured_at'], '%a %H:%M')} (sample; it also counts the sample "
                    "user's laptop, which these transcripts do not see): governor calibrates its meter to it",
                    "",
                    width,
                )
            )
        if m.get("captures"):
            lines.append("")
        lines += [
            _status_block(m["status"]),
            "",
            "status line  " + m["statusline"],
            "",
            f'The person types: "{m["hooks"]["UserPromptSubmit"]["payload"]["prompt"]}"',
        ]
        lines += _hook_lines("UserPromptSubmit", m["hooks"]["UserPromptSubmit"], color, width)
    r = d["router"]
    lines += ["", bar, fmt.paint("Router: which prompts could go to the second lane (Codex)", "bold", color), bar]
    for ex in r["examples"]:
        verdict = ex["decision"] + (f" ({ex['reason']})" if ex["reason"] else "")
        lines.append(_wrap(f'"{ex["prompt"]}"', "  ", width))
        pace = "over pace" if r["over_pace"] else "on pace"
        lines.append(f"    → class {ex['class']}; on {r['at'].capitalize()} ({pace}): {verdict}")
    lines.append(f"  (decisions assume {r['assumes']}; router.mode and lanes.codex in budget.json control it)")
    lines += ["", fmt.paint("Next steps", "bold", color)]
    lines += [
        f"  {fmt.paint(s['command'], 'cyan', color):<{20 + (9 if color else 0)}} {s['what']}"
        for s in d["next_steps"]
    ]
    return "\n".join(lines)
