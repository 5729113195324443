"""`governor tier NAME`: switch the plan tier (the weekly cap) in budget.json, atomically under a lock."""

from __future__ import annotations

import argparse
from typing import Any

from governor import config, paths

TIERS = ("pro", "max5x", "max20x")


def register(sub: Any) -> None:
    p = sub.add_parser(
        "tier",
        help="show or switch the plan tier (pro, max5x, max20x)",
        description="Switch the tier whose weekly cap pacing uses; with no NAME, show it.",
    )
    p.add_argument("name", nargs="?", choices=TIERS, metavar="NAME", help="pro | max5x | max20x")
    p.set_defaults(func=run)


def set_tier(path: str, name: str) -> str | None:
    """Rewrite budget.json with `tier` = name, keeping every other key and its order; returns the old tier."""
    previous: dict[str, str | None] = {"tier": None}

    def edit(doc: dict[str, Any]) -> None:
        previous["tier"] = doc.get("tier")
        doc["tier"] = name

    config.update_budget(path, edit)
    return previous["tier"]


def run(args: argparse.Namespace) -> int:
    path = paths.budget_path()
    cfg = config.load_config()
    if args.name is None:
        print(f"tier {cfg['tier']}: weekly cap {cfg['caps'][cfg['tier']]:,.0f} weighted units ({path})")
        return 0
    old = set_tier(path, args.name)
    cfg = config.load_config()
    was = f" (was {old})" if old and old != args.name else ""
    print(
        f"tier {args.name}{was}: weekly cap {cfg['caps'][args.name]:,.0f} weighted units; written to {path}"
    )
    return 0
