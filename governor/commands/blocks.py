"""`governor blocks`: the 5-hour blocks of past activity as ccusage draws them, with tokens, weighted units,
notional USD and the official five-hour % seen during each; `--active` the current one, projected."""

from __future__ import annotations

import argparse
import time
from typing import Any

from governor.reports import tables
from governor.reports.refresh import add_source_args, day_range, has_any_usage, nothing_found_message, refreshed


def register(sub: Any) -> None:
    p = sub.add_parser(
        "blocks",
        help="usage per 5-hour block (like ccusage blocks)",
        description="The 5-hour blocks of past activity: start at the first response's hour, five hours"
        " long, a new block after five idle hours (ccusage's rule).",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--active", action="store_true", help="only the active block, with its projection")
    p.add_argument("--since", metavar="YYYY-MM-DD", help="only blocks ending after this day's start")
    p.add_argument("--tz", metavar="ZONE", help="IANA zone for --since and the table's times (default: local)")
    add_source_args(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from governor.reports.blocks import build, render

    args.until = None
    tz, start, _end = day_range(args)
    now = time.time()
    conn, stats, config = refreshed(args)
    if not has_any_usage(conn) and stats.files_seen == 0:
        if args.json:
            tables.print_json({"blocks": [], "note": nothing_found_message(stats)})
        else:
            print(nothing_found_message(stats))
        return 0
    data = build(conn, config, now, active_only=args.active, since=start)
    if args.json:
        tables.print_json(data)
    else:
        print(render(data, tz, args.active))
    return 0
