"""`governor demo --report`: the report of the SAMPLE week at its last moment, drawn by the same code as
`governor report`, in the demo's sandbox (the user's ledger, budget.json and transcripts are never read)."""

from __future__ import annotations

import time
from typing import Any


def sample_report(path: str, now: float | None = None) -> dict[str, Any]:
    """Write the sample week's report to `path`; returns its data."""
    from governor import timeutil
    from governor.config import load_config
    from governor.reports import demo_week, report_data, report_html
    from governor.reports.demo_moments import DemoWeek

    now = time.time() if now is None else now
    meta = demo_week.read_meta()
    with demo_week.sandbox(meta["tier"]):
        config = load_config()
        week = demo_week.load(now, config["week"], meta)
        demo = DemoWeek(week, config)
        try:
            at = week.at(week.meta["moments"][-1]["at"])
            conn = demo.ledger_at(at)
            data = report_data.build(conn, config, at, timeutil.local_zone(), sample=week.meta["label"])
        finally:
            demo.close()
    report_html.write(data, path)
    return data
