"""`governor report`: this week, the sessions, one session's context and the days, drawn as one
self-contained HTML file (plotly, inlined; nothing fetched at view time). Prints the file's path."""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

from governor.reports.refresh import add_source_args, day_range, refreshed


def register(sub: Any) -> None:
    p = sub.add_parser(
        "report",
        help="this week, sessions and days as charts in one HTML file",
        description="Draw this week's spend, the sessions, one session's context and the days into one "
        "self-contained HTML file (no network needed to view it) and print its path.",
    )
    p.add_argument("--html", metavar="FILE", help="where to write it (default: governor's state dir/report.html)")
    p.add_argument("--open", action="store_true", help="open it in the platform's browser")
    p.add_argument("--since", metavar="YYYY-MM-DD", help="first day of the sessions and days (default: this cycle)")
    p.add_argument("--until", metavar="YYYY-MM-DD", help="last day of the sessions and days")
    p.add_argument("--tz", metavar="ZONE", help="IANA zone for --since/--until and the charts' times")
    p.add_argument("--session", metavar="ID", help="the session drawn on its own (an id or prefix; default: "
                   "the largest)")
    add_source_args(p)
    p.set_defaults(func=run)


def open_in_browser(path: str) -> None:
    import webbrowser

    webbrowser.open("file://" + os.path.abspath(path))


def run(args: argparse.Namespace) -> int:
    from governor import paths
    from governor.errors import CliError
    from governor.meter import official
    from governor.reports import report_data, report_html

    report_html.require_plotly()
    tz, start, end = day_range(args)
    if start is not None and end is not None and end <= start:
        raise CliError("--until is before --since")
    now = time.time()
    conn, _stats, config = refreshed(args, since=start)
    official.import_claude_json(conn, now, float(config["calibration"]["claude_json_max_age_minutes"]))
    data = report_data.build(conn, config, now, tz, start, end, args.session)
    path = args.html or os.path.join(paths.ensure_private_dir(paths.state_dir()), "report.html")
    try:
        report_html.write(data, path)
    except OSError as exc:
        raise CliError(f"cannot write {path}: {exc.strerror or exc}") from None
    print(path)
    if args.open:
        open_in_browser(path)
    return 0
