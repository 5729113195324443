"""`governor daily`: tokens, weighted units and notional USD per calendar day (and per model)."""

from __future__ import annotations

import argparse

from governor.policy.pricing import Tokens
from governor.reports import tables
from governor.reports.daily import build, fields, render
from governor.reports.refresh import (
    add_machine_arg,
    add_source_args,
    day_range,
    has_any_usage,
    machine_filter,
    machine_split,
    nothing_found_message,
    refreshed,
)

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing costs ~2 ms per report
    from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser(
        "daily", help="usage per day", description="Tokens, weighted units and notional USD per day."
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--since", metavar="YYYY-MM-DD", help="first day to include")
    p.add_argument("--until", metavar="YYYY-MM-DD", help="last day to include")
    p.add_argument("--tz", metavar="ZONE", help="IANA zone for day boundaries (default: local)")
    add_source_args(p)
    add_machine_arg(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from governor.errors import CliError

    tz, start, end = day_range(args)
    if start is not None and end is not None and end <= start:
        raise CliError("--until is before --since")
    conn, stats, config = refreshed(args, since=start)
    if not has_any_usage(conn) and stats.files_seen == 0:
        if args.json:
            tables.print_json(
                {
                    "days": [],
                    "totals": {**fields(Tokens(), 0, 0), "client_account": fields(Tokens(), 0, 0)},
                    "unknown_models": [],
                    "note": nothing_found_message(stats),
                }
            )
        else:
            print(nothing_found_message(stats))
        return 0
    machine = machine_filter(conn, args)
    data = build(conn, config, tz, start, end, machine)
    if args.json:
        tables.print_json(data)
        return 0
    print(render(data))
    split = machine_split(conn, config, start, end, machine)
    if split:
        print(split)
    return 0


