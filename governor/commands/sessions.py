"""`governor sessions`: per-session spend, so the few marathon sessions that dominate stand out."""

from __future__ import annotations

import argparse
from typing import Any

from governor.reports import tables
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
from governor.reports.sessions import build, render


def register(sub: Any) -> None:
    p = sub.add_parser(
        "sessions",
        help="usage per session",
        description="Per-session spend, sorted by weighted units, with each session's share.",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--since", metavar="YYYY-MM-DD", help="first day to include (local zone unless --tz)")
    p.add_argument("--until", metavar="YYYY-MM-DD", help="last day to include")
    p.add_argument("--tz", metavar="ZONE", help="IANA zone for --since/--until and the table's times")
    p.add_argument(
        "--limit", type=int, default=20, metavar="N", help="rows in the table (default 20; --json: all)"
    )
    add_source_args(p)
    add_machine_arg(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from governor.errors import CliError

    tz, start, end = day_range(args)
    if args.limit < 1:
        raise CliError("--limit must be at least 1")
    conn, stats, config = refreshed(args, since=start)
    if not has_any_usage(conn) and stats.files_seen == 0:
        if args.json:
            tables.print_json({"sessions": [], "note": nothing_found_message(stats)})
        else:
            print(nothing_found_message(stats))
        return 0
    machine = machine_filter(conn, args)
    rows = build(conn, config, start, end, tz, machine=machine)
    if args.json:
        tables.print_json({"sessions": rows})
        return 0
    print(render(rows, args.limit))
    split = machine_split(conn, config, start, end, machine)
    if split:
        print(split)
    return 0


