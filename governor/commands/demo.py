"""`governor demo`: what governor does, on a SAMPLE week shipped with the package.

Three moments of an invented week (a light Tuesday, a marathon Thursday, a near-lockout Saturday): the
status view, the status line and exactly what each hook would print, then the router on two prompts.
Everything runs in a temporary directory with the default config; the user's ledger, budget.json and
transcripts are never read or written.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from governor.reports import tables
from governor.reports.demo import build, render


def register(sub: Any) -> None:
    p = sub.add_parser(
        "demo",
        help="what governor does, shown on a sample week (no history needed)",
        description="Replay a SAMPLE week shipped with governor and show the status and what "
        "the hooks would say at three moments. Touches none of your files.",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--report", nargs="?", const="governor-demo-report.html", metavar="FILE",
                   help="also write the sample week's HTML report (default ./governor-demo-report.html; "
                   "needs plotly)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.report:
        from governor.reports.report_html import require_plotly

        require_plotly()  # before the demo prints anything
    data = build()
    if args.json:
        tables.print_json(data)
    else:
        print(render(data))
    if args.report:
        from governor.reports.report_demo import sample_report

        sample_report(args.report)
        print(f"sample report: {args.report}", file=sys.stderr if args.json else sys.stdout)
    return 0


