"""`governor backtest`: replay past cycles from the ledger and compare the recent-rate and the rhythm
projection's errors at 72 h, 24 h and 6 h before each reset."""

from __future__ import annotations

import argparse
import time
from typing import Any

from governor.reports import tables
from governor.reports.refresh import add_source_args, refreshed


def register(sub: Any) -> None:
    p = sub.add_parser(
        "backtest",
        help="how well the weekly projection did on past cycles (recent rate vs rhythm)",
        description="Replay past weekly cycles from the ledger: each model's projection at 72 h, 24 h and"
        " 6 h before the reset against where the cycle ended (mean absolute error, points of the cap).",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--weeks", type=int, default=12, metavar="N", help="past cycles to replay (default 12)")
    add_source_args(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from governor.errors import CliError
    from governor.reports.backtest import build, render

    if not 1 <= args.weeks <= 520:
        raise CliError("--weeks must be between 1 and 520")
    now = time.time()
    conn, _stats, config = refreshed(args)
    data = build(conn, config, now, args.weeks)
    if args.json:
        tables.print_json(data)
    else:
        print(render(data))
    return 0
