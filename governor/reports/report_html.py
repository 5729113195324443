"""`governor report`'s page: one self-contained HTML file. plotly.js is inlined once, every figure's JSON
and the report's data sit in <script type="application/json"> blocks (tests parse them back out), and
nothing is fetched at view time: no CDN, no web fonts, no MathJax."""

from __future__ import annotations

import html
import json
from typing import Any

from governor.reports.charts import Figure, figures

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:1100px;padding:16px;
color:#222}
header{border-bottom:1px solid #ddd;margin-bottom:12px}
.sample{background:#fff3cd;border:1px solid #e0c060;padding:8px 12px;font-weight:600}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;font-size:14px}
dt{color:#666}
.caption{font-size:16px;margin:4px 0 8px}
section{margin:24px 0}
#governor-errors:empty{display:none}
#governor-errors{color:#b00;white-space:pre-wrap}
"""

# A script error anywhere lands in #governor-errors (the browser test reads it); then every figure is drawn.
CATCH = """
function governorError(text) { document.getElementById('governor-errors').textContent += text + '\\n'; }
window.addEventListener('error', function (e) { governorError('error: ' + e.message); });
window.addEventListener('unhandledrejection', function (e) { governorError('error: ' + e.reason); });
"""
RENDER = """
document.querySelectorAll('script.governor-figure').forEach(function (node) {
  try {
    var fig = JSON.parse(node.textContent);
    var div = document.getElementById('fig-' + node.dataset.key);
    Plotly.newPlot(div, fig.data, fig.layout, {responsive: true, displaylogo: false}).then(function () {
      div.dataset.rendered = String(div.querySelectorAll('.trace').length);
    });
  } catch (err) {
    governorError('error: ' + node.dataset.key + ': ' + err);
  }
});
"""


NEEDS_PLOTLY = "governor report needs plotly: pip install 'token-budget-governor[report]'"


def plotly_js_path() -> str:
    """plotly.min.js as the plotly package ships it (found without importing plotly, which costs ~0.5 s);
    CliError (exit 2, one line) when plotly, an optional extra, is not installed."""
    import importlib.util
    import os

    from governor.errors import CliError

    try:
        spec = importlib.util.find_spec("plotly")
    except (ImportError, ValueError):
        spec = None
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = os.path.join(folder, "package_data", "plotly.min.js")
        if os.path.isfile(path):
            return path
    raise CliError(NEEDS_PLOTLY)


def require_plotly() -> None:
    plotly_js_path()


def _json_block(text: str) -> str:
    return text.replace("</", "<\\/")  # a project name holding "</script>" cannot end the block


def _header(d: dict[str, Any]) -> str:
    p, st = d["provenance"], d["status"]
    rows = [
        ("plan tier", d["tier"]),
        ("made", d["made_at"]),
        ("cycle", f"{st['window']['start']} → {st['window']['reset']} (reset from {p['reset']})"),
        ("spent", f"{p['spent']}" + (f"; official captures from {', '.join(p['official_captures'])}"
                                     if p["official_captures"] else "; no official capture this cycle")),
        ("projection", "the recent rate carried to the reset, shaped by your hour-of-week rhythm once the ledger"
                       " has whole past weeks (docs/projection.md), as governor status computes it"),
        ("sessions, days", p["sessions_and_days"]),
        ("Codex", p["codex"]),
        ("range", f"{d['range']['start'] or 'the start'} → {d['range']['end'] or 'now'}"),
    ]
    sample = f"<p class=\"sample\">{html.escape(d['sample'])}</p>" if d["sample"] else ""
    items = "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(str(v))}</dd>" for k, v in rows)
    return f"<header><h1>governor report</h1>{sample}<dl>{items}</dl></header>"


def _section(f: Figure) -> str:
    return (f'<section id="section-{f.key}"><h2>{html.escape(f.title)}</h2>'
            f'<p class="caption" id="caption-{f.key}">{html.escape(f.caption)}</p>'
            f'<div class="figure" id="fig-{f.key}"></div>'
            f'<script type="application/json" class="governor-figure" data-key="{f.key}">'
            f"{_json_block(json.dumps(f.fig, ensure_ascii=False))}</script></section>")


def page(d: dict[str, Any]) -> str:
    with open(plotly_js_path(), encoding="utf-8") as fh:
        plotly_js = fh.read()
    title = "governor report" + (" (sample data)" if d["sample"] else "")
    body = "".join(_section(f) for f in figures(d))
    data = _json_block(json.dumps(d, ensure_ascii=False, default=str))
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
            f"<style>{STYLE}</style></head><body>{_header(d)}<pre id=\"governor-errors\"></pre>{body}"
            f'<script type="application/json" id="governor-data">{data}</script>'
            f"<script>{CATCH}</script><script>{plotly_js}</script><script>{RENDER}</script></body></html>")


def write(d: dict[str, Any], path: str) -> str:
    """Write the page to `path` atomically (never through a symlink); returns the path."""
    from governor import fsutil

    fsutil.atomic_write_text(path, page(d), lock=False)
    return path
