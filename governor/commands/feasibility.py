"""`governor feasibility --tier NAME [--target 0.8]`: would another plan hold this cycle's usage?

The seed's v5 arithmetic: re-base this cycle's official (or calibrated) share of the cap to the other
tier (60 % of max20x = 240 % of max5x), turn the target share of that tier into a weekly budget of local
weighted units (through k, the calibration), and count how many sessions of this cycle's shapes fit it:
the marathon shape (mean of the top five sessions) against the median session.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from governor import fmt
from governor.meter import budget_state, usage
from governor.policy import feasibility as plan
from governor.policy import pricing
from governor.reports import tables
from governor.reports.refresh import add_source_args, refreshed


def register(sub: Any) -> None:
    p = sub.add_parser("feasibility", help="would another plan tier hold this cycle's usage?",
                       description="Re-base this cycle's usage to another tier and count the sessions of "
                                   "this cycle's shapes that fit its weekly budget.")
    p.add_argument("--tier", required=True, metavar="NAME",
                   help="the plan to test (a key of caps: max5x, pro, …)")
    p.add_argument("--target", type=float, default=0.8, metavar="FRACTION",
                   help="share of that tier's cap to stay under (default 0.8)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    add_source_args(p)
    p.set_defaults(func=run)


def session_units(conn: Any, config: dict[str, Any], start: float, end: float) -> list[float]:
    """Weighted units per session in [start, end)."""
    totals: dict[str, float] = {}
    for row in usage.session_totals(conn, start, end):
        key = str(row["session_id"])
        totals[key] = totals.get(key, 0.0) + pricing.weighted_units(row["tokens"], row["model"], config)
    return list(totals.values())


def build(state: budget_state.BudgetState, config: dict[str, Any], sessions: list[float], to_tier: str,
          target: float) -> dict[str, Any]:
    caps, from_tier, s = config["caps"], config["tier"], state.spent
    alpha = s.fraction_per_unit if s.model != "none" else None  # none: the configured cap stands in
    result = plan.feasibility(s.fraction, from_tier, to_tier, caps, alpha, sessions, target, s.background_per_hour)
    projected = plan.rebase(state.projected, from_tier, to_tier, caps)
    out = {
        "from_tier": from_tier, "to_tier": to_tier, "target": target, "k": s.k,
        "calibration": {"model": s.model, "alpha": alpha, "background_per_hour": s.background_per_hour},
        "other_surfaces": {"week_fraction_of_target_tier": result.other_surfaces},
        "spent": {"fraction": s.fraction, "source": s.source, "rebased": result.rebased},
        "projected": {"fraction": state.projected, "rebased": projected},
        "budget": {"units": result.budget_units, "fraction_of_current_tier": plan.rebase(
            target, to_tier, from_tier, caps), "fraction_of_target_tier": target},
        "sessions": {"count": len([u for u in sessions if u >= 1]), **result.fit},
    }
    out["verdict"] = verdict(out)
    return out


def verdict(r: dict[str, Any]) -> str:
    to, pct, fit = r["to_tier"], fmt.fmt_pct, r["sessions"]
    at_reset = r["projected"]["rebased"]
    if at_reset <= r["target"]:
        text = (f"{to} would fit: this cycle is on pace for {pct(at_reset)} of its cap at reset, "
                f"under the {pct(r['target'])} target.")
    else:
        text = f"{to} would not fit: this cycle is on pace for {pct(at_reset)} of its cap at reset"
        if fit["marathon"] is not None:
            text += (f"; a week at {pct(r['target'])} of it holds ~{fit['marathon']} marathon sessions "
                     f"or ~{fit['median']} median ones")
            if r["calibration"]["model"] == "marginal":
                text += (f" from this machine; other surfaces: "
                         f"{pct(r['other_surfaces']['week_fraction_of_target_tier'])} of the {to} cap")
        text += "."
    if r["spent"]["source"] == "local estimate":
        text += (" (Local estimate: this machine only; record /usage with `governor calibrate` "
                 "for the real figure.)")
    return text


def render(r: dict[str, Any]) -> str:
    pct, tok = fmt.fmt_pct, fmt.fmt_tokens
    current, to = r["from_tier"], r["to_tier"]
    rows = [
        [f"this cycle so far ({r['spent']['source']})", pct(r["spent"]["fraction"]),
         pct(r["spent"]["rebased"])],
        ["projected at reset", pct(r["projected"]["fraction"]), pct(r["projected"]["rebased"])],
        [f"weekly budget for {pct(r['target'])} of {to}", pct(r["budget"]["fraction_of_current_tier"]),
         pct(r["target"])],
    ]
    lines = [tables.table(["", f"% of {current} (now)", f"% of {to}"], rows),
             f"Weekly budget: {tok(r['budget']['units'])} local weighted units."]
    fit, cal = r["sessions"], r["calibration"]
    if cal["model"] == "marginal":
        lines[-1] = (f"Weekly budget: {tok(r['budget']['units'])} local weighted units for this machine, after "
                     f"the other surfaces' share.")
        lines.append(f"Other surfaces (other machines, the web app, at {pct(cal['background_per_hour'] * 24, 1)} "
                     f"of the {current} cap a day): {pct(r['other_surfaces']['week_fraction_of_target_tier'])} "
                     f"of the {to} cap a week.")
    if fit["marathon"] is not None:
        lines.append(f"This machine: {fit['count']} sessions this cycle; marathon (mean of the top "
                     f"{plan.MARATHON_TOP}) {tok(fit['marathon_units'])} units → {fit['marathon']} fit; "
                     f"median {tok(fit['median_units'])} → {fit['median']} fit.")
    lines.append(r["verdict"])
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from governor.errors import CliError

    if not 0 < args.target <= 2:
        raise CliError(f"--target must be a fraction of the cap in (0, 2], like 0.8 (got {args.target:g})")
    conn, _stats, config = refreshed(args)
    if args.tier not in config["caps"]:
        raise CliError(f"unknown tier {args.tier!r} (known: {', '.join(sorted(config['caps']))})")
    now = time.time()
    state = budget_state.compute(conn, config, now)
    sessions = session_units(conn, config, state.window.start.timestamp(), now + 1)
    result = build(state, config, sessions, args.tier, args.target)
    if args.json:
        tables.print_json(result)
    else:
        print(render(result))
    return 0
