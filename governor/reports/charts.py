"""`governor report`'s figures: plotly.js figures (plain {"data", "layout"} dicts, drawn by the plotly.js that
report_html inlines) built from report_data, each with the one-line caption that states the number that
matters. Plain dicts, not plotly's Python figure classes: their validation cost ~1 s a report."""

from __future__ import annotations

from typing import Any

from governor import fmt
from governor.reports.report_data import PART_LABELS, PARTS

COLORS = {"input": "#4c78a8", "cache_creation": "#f58518", "cache_read": "#e45756", "output": "#54a24b"}
MAX_BARS = 30  # sessions drawn as bars; the rest are summed in the caption


GRID = {"gridcolor": "#ebebeb", "zerolinecolor": "#ebebeb"}


class Figure:
    def __init__(self, key: str, title: str, caption: str, fig: dict[str, Any]) -> None:
        self.key, self.title, self.caption, self.fig = key, title, caption, fig


class _Fig:
    """Collects traces, shapes and annotations; `done(**layout)` gives the plotly.js figure."""

    def __init__(self) -> None:
        self.data: list[dict[str, Any]] = []
        self.shapes: list[dict[str, Any]] = []
        self.annotations: list[dict[str, Any]] = []

    def add(self, kind: str, **trace: Any) -> None:
        self.data.append({"type": kind, **trace})

    def done(self, **layout: Any) -> dict[str, Any]:
        base: dict[str, Any] = {"margin": {"l": 60, "r": 60, "t": 30, "b": 40}, "height": 420,
                                "plot_bgcolor": "white", "legend": {"orientation": "h", "y": -0.15},
                                "hovermode": "closest", "shapes": self.shapes, "annotations": self.annotations}
        for axis in ("xaxis", "yaxis"):
            layout[axis] = {**GRID, **layout.get(axis, {})}
        return {"data": self.data, "layout": {**base, **layout}}


def _right_axis(**extra: Any) -> dict[str, Any]:
    return {"overlaying": "y", "side": "right", "showgrid": False, **extra}


def week(d: dict[str, Any]) -> Figure:
    w, st = d["week"], d["status"]
    fig = _Fig()
    fig.add("scatter", x=w["times"], y=w["local"], name="local estimate (units / cap)", mode="lines",
                             line={"color": "#9ecae9"})
    fig.add("scatter", x=w["times"], y=w["calibrated"], name=f"spent ({st['spent']['source']})",
                             mode="lines", line={"color": "#1f77b4", "width": 3})
    if w["official"]:
        fig.add("scatter", x=[c["at"] for c in w["official"]], y=[c["fraction"] for c in w["official"]],
                                 mode="markers", name="official /usage", marker={"size": 10, "color": "black"},
                                 text=[f"official, from {c['source']}" for c in w["official"]])
    fig.add("scatter", x=[w["start"], w["reset"]], y=[0, 1], mode="lines", name="pace to the cap",
                             line={"color": "gray", "dash": "dot"})
    for b in w["bands"]:
        fig.add("scatter", x=[w["start"], w["reset"]], y=[0, b["projected_at"]], mode="lines",
                                 name=f"band ≥{fmt.fmt_pct(b['projected_at'])} (/compact > "
                                      f"{fmt.fmt_tokens(b['ceiling_tokens'])})",
                                 line={"color": "#f2b701", "dash": "dash", "width": 1})
    fig.add("scatter", x=[w["start"], w["reset"]], y=[1, 1], mode="lines", name="the cap",
                             line={"color": "red", "width": 2})
    proj = st["projected"]["fraction"]
    basis = "by your weekly rhythm" if st["projected"].get("model") == "rhythm" else "at the recent rate"
    fig.add("scatter", x=[w["now"], w["reset"]], y=[st["spent"]["fraction"], proj], mode="lines+markers",
                             name=f"projection {basis}", line={"color": "#d62728", "dash": "dash"})
    for f in w["five_hour"]:
        fig.shapes.append({"type": "rect", "xref": "x", "yref": "paper", "x0": f["start"], "x1": f["end"],
                           "y0": 0, "y1": 1, "fillcolor": "#bbbbbb", "opacity": 0.18, "line": {"width": 0}})
        fig.annotations.append({"x": f["start"], "y": 0.98, "xref": "x", "yref": "paper", "xanchor": "left",
                                "text": f"5 h: {f['used_pct']:.0f}%", "showarrow": False})
    fig.shapes.append({"type": "line", "xref": "x", "yref": "paper", "x0": w["now"], "x1": w["now"], "y0": 0,
                       "y1": 1, "line": {"color": "#333", "width": 1}})
    for at, text in ((w["now"], "now"), (w["reset"], "reset")):
        fig.annotations.append({"x": at, "y": 1.05, "xref": "x", "yref": "paper", "text": text,
                                "showarrow": False})
    done = fig.done(yaxis={"tickformat": ".0%", "title": {"text": "of the weekly cap"}})
    caption = (f"{fmt.fmt_pct(st['spent']['fraction'])} of the {d['tier']} cap spent ({st['spent']['source']}); "
               f"{basis} {fmt.fmt_pct(proj)} by the reset")
    if st["band"]:
        caption += f" — band ≥{fmt.fmt_pct(st['band']['projected_at'])}: /compact above " \
                   f"{fmt.fmt_tokens(st['ceiling_tokens'])} tokens"
    return Figure("week", "This week", caption + ".", done)


def _label(s: dict[str, Any]) -> str:
    return ("★ " if s["marathon"] else "") + f"{s['session_id'][:8]} {s['project'][-24:]}"


def sessions(d: dict[str, Any]) -> Figure:
    rows = d["sessions"]
    shown = list(reversed(rows[:MAX_BARS]))  # largest at the top
    fig = _Fig()
    for part in PARTS:
        fig.add("bar", y=[_label(s) for s in shown], x=[round(s["parts"]["weighted"][part], 3) for s in shown],
                             name=PART_LABELS[part], orientation="h", marker={"color": COLORS[part]},
                             customdata=[s["session_id"] for s in shown])
    fig.add("scatter", y=[_label(s) for s in shown], x=[s["weighted_units"] for s in shown], mode="text",
                             text=[f" {fmt.fmt_pct(s['share'])}" for s in shown], textposition="middle right",
                             name="share", showlegend=False)
    done = fig.done(barmode="stack", height=max(320, 26 * len(shown) + 120),
                    xaxis={"title": {"text": "weighted units"}}, yaxis={"automargin": True})
    top = rows[:5]
    caption = "No sessions in the range." if not rows else (
        f"The top {len(top)} of {len(rows)} sessions carry {fmt.fmt_pct(sum(s['share'] for s in top))} of the "
        f"weighted spend; the largest, {rows[0]['session_id'][:8]}, {fmt.fmt_pct(rows[0]['share'])} "
        f"(★ = marathon: {sum(s['marathon'] for s in rows)})")
    if len(rows) > MAX_BARS:
        caption += f"; {len(rows) - MAX_BARS} smaller sessions not drawn"
    return Figure("sessions", "Sessions", caption + ".", done)


def one_session(d: dict[str, Any]) -> list[Figure]:
    one = d["one_session"]
    if one is None:
        return []
    s, c = one["session"], one["curve"]
    fig = _Fig()
    fig.add("scatter", x=c["times"], y=c["context"], mode="lines", name="context per response",
                             line={"color": "#1f77b4"})
    for b in d["week"]["bands"]:
        fig.add("scatter", x=[c["times"][0], c["times"][-1]], y=[b["ceiling_tokens"]] * 2, mode="lines",
                                 line={"dash": "dash", "width": 1, "color": "#f2b701"},
                                 name=f"compaction ceiling at ≥{fmt.fmt_pct(b['projected_at'])}")
    if c["compactions"]:
        fig.add("scatter", x=[m["at"] for m in c["compactions"]], y=[m["to"] for m in c["compactions"]],
                                 mode="markers", name="compaction", marker={"symbol": "triangle-down", "size": 11})
    if c["resumes"]:
        fig.add("scatter", x=[m["at"] for m in c["resumes"]], y=[0] * len(c["resumes"]), mode="markers",
                                 name="resume", text=[f"after {m['idle_min']} min idle" for m in c["resumes"]],
                                 marker={"symbol": "star", "size": 11, "color": "#2ca02c"})
    curve = fig.done(yaxis={"title": {"text": "context tokens"}})
    cost = one["parts"]["cost"]
    total = sum(cost.values()) or 1.0
    caption = (f"Session {s['session_id'][:8]} ({s['project'][-32:]}): peak context "
               f"{fmt.fmt_tokens(s['peak_context_tokens'])} tokens over {c['responses']} responses, "
               f"{len(c['compactions'])} compactions, {len(c['resumes'])} resumes.")
    pie = _Fig()
    pie.add("pie", labels=[PART_LABELS[p] for p in PARTS], values=[round(cost[p], 4) for p in PARTS],
            marker={"colors": [COLORS[p] for p in PARTS]}, sort=False, hole=0.4)
    split = (f"{fmt.fmt_usd(s['cost_usd'])} notional; cache reads (the context re-sent every turn) are "
             f"{fmt.fmt_pct(cost['cache_read'] / total)} of it.")
    return [Figure("session", "One session: context over time", caption, curve),
            Figure("session_cost", "One session: what it cost", split, pie.done(height=340))]


def days(d: dict[str, Any]) -> list[Figure]:
    rows = d["days"]["rows"]
    x = [r["date"] for r in rows]
    tok = _Fig()
    tok.add("bar", x=x, y=[r["raw_tokens"] for r in rows], name="raw tokens")
    tok.add("bar", x=x, y=[r["generated_tokens"] for r in rows], name="generated (input + output)")
    tok.add("scatter", x=x, y=[r["cost_usd"] for r in rows], name="notional USD", mode="lines+markers", yaxis="y2")
    tokens = tok.done(barmode="group", xaxis={"type": "category"},
                      yaxis={"title": {"text": "tokens (log)"}, "type": "log"},
                      yaxis2=_right_axis(title={"text": "USD"}))
    totals = d["days"]["daily"]["totals"]
    big = max(rows, key=lambda r: r["raw_tokens"]) if rows else None
    cap1 = "No usage in the range." if big is None else (
        f"{fmt.fmt_usd(totals['cost_usd'])} notional over {len(rows)} days; the biggest day, {big['date']}, "
        f"{fmt.fmt_tokens(big['raw_tokens'])} raw tokens of which {fmt.fmt_tokens(big['generated_tokens'])} "
        "generated.")
    lane = _Fig()
    lane.add("bar", x=x, y=[r["claude_tokens"] for r in rows], name="Claude tokens")
    lane.add("bar", x=x, y=[r["codex_tokens"] for r in rows], name="Codex tokens")
    lane.add("scatter", x=x, y=[r["codex_share"] for r in rows], name="share on Codex",
                              mode="lines+markers",
                              text=[f"{r['handoff']} hand-offs, {r['hold']} holds" for r in rows], yaxis="y2")
    lanes = lane.done(barmode="stack", xaxis={"type": "category"}, yaxis={"title": {"text": "tokens"}},
                      yaxis2=_right_axis(title={"text": "share on Codex"}, tickformat=".0%", range=[0, 1]))
    handoffs, holds = sum(r["handoff"] for r in rows), sum(r["hold"] for r in rows)
    codex, claude = sum(r["codex_tokens"] for r in rows), sum(r["claude_tokens"] for r in rows)
    cap2 = (f"{fmt.fmt_pct(codex / (codex + claude) if codex + claude else 0)} of the tokens ran on Codex; "
            f"{handoffs} hand-offs and {holds} holds.")
    return [Figure("days", "Days: tokens and notional USD", cap1, tokens),
            Figure("lanes", "Days: Claude and Codex", cap2, lanes)]


def figures(d: dict[str, Any]) -> list[Figure]:
    return [week(d), sessions(d), *one_session(d), *days(d)]
