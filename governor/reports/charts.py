"""`governor report`'s figures: plotly figures built from report_data, each with the one-line caption that
states the number that matters. plotly is imported here only (never on a hook's or the status line's path)."""

from __future__ import annotations

from typing import Any

from governor import fmt
from governor.reports.report_data import PART_LABELS, PARTS

COLORS = {"input": "#4c78a8", "cache_creation": "#f58518", "cache_read": "#e45756", "output": "#54a24b"}
MAX_BARS = 30  # sessions drawn as bars; the rest are summed in the caption


class Figure:
    def __init__(self, key: str, title: str, caption: str, fig: Any) -> None:
        self.key, self.title, self.caption, self.fig = key, title, caption, fig


def _go() -> Any:
    import plotly.graph_objects as go

    return go


def _layout(fig: Any, **extra: Any) -> Any:
    base: dict[str, Any] = {"margin": {"l": 60, "r": 20, "t": 30, "b": 40}, "height": 420,
                            "template": "plotly_white", "legend": {"orientation": "h", "y": -0.15},
                            "hovermode": "closest"}
    fig.update_layout(**{**base, **extra})
    return fig


def week(d: dict[str, Any]) -> Figure:
    go, w, st = _go(), d["week"], d["status"]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=w["times"], y=w["local"], name="local estimate (units / cap)", mode="lines",
                             line={"color": "#9ecae9"}))
    fig.add_trace(go.Scatter(x=w["times"], y=w["calibrated"], name=f"spent ({st['spent']['source']})",
                             mode="lines", line={"color": "#1f77b4", "width": 3}))
    if w["official"]:
        fig.add_trace(go.Scatter(x=[c["at"] for c in w["official"]], y=[c["fraction"] for c in w["official"]],
                                 mode="markers", name="official /usage", marker={"size": 10, "color": "black"},
                                 text=[f"official, from {c['source']}" for c in w["official"]]))
    fig.add_trace(go.Scatter(x=[w["start"], w["reset"]], y=[0, 1], mode="lines", name="pace to the cap",
                             line={"color": "gray", "dash": "dot"}))
    for b in w["bands"]:
        fig.add_trace(go.Scatter(x=[w["start"], w["reset"]], y=[0, b["projected_at"]], mode="lines",
                                 name=f"band ≥{fmt.fmt_pct(b['projected_at'])} (/compact > "
                                      f"{fmt.fmt_tokens(b['ceiling_tokens'])})",
                                 line={"color": "#f2b701", "dash": "dash", "width": 1}))
    fig.add_trace(go.Scatter(x=[w["start"], w["reset"]], y=[1, 1], mode="lines", name="the cap",
                             line={"color": "red", "width": 2}))
    proj = st["projected"]["fraction"]
    fig.add_trace(go.Scatter(x=[w["now"], w["reset"]], y=[st["spent"]["fraction"], proj], mode="lines+markers",
                             name="projection at the recent rate", line={"color": "#d62728", "dash": "dash"}))
    for f in w["five_hour"]:
        fig.add_vrect(x0=f["start"], x1=f["end"], fillcolor="#bbbbbb", opacity=0.18, line_width=0,
                      annotation_text=f"5 h: {f['used_pct']:.0f}%", annotation_position="top left")
    fig.add_vline(x=w["now"], line={"color": "#333", "width": 1})
    fig.add_annotation(x=w["now"], y=1.05, text="now", showarrow=False, yref="paper")
    fig.add_annotation(x=w["reset"], y=1.05, text="reset", showarrow=False, yref="paper")
    _layout(fig, yaxis={"tickformat": ".0%", "title": "of the weekly cap"})
    caption = (f"{fmt.fmt_pct(st['spent']['fraction'])} of the {d['tier']} cap spent ({st['spent']['source']}); "
               f"at the recent rate {fmt.fmt_pct(proj)} by the reset")
    if st["band"]:
        caption += f" — band ≥{fmt.fmt_pct(st['band']['projected_at'])}: /compact above " \
                   f"{fmt.fmt_tokens(st['ceiling_tokens'])} tokens"
    return Figure("week", "This week", caption + ".", fig)


def _label(s: dict[str, Any]) -> str:
    return ("★ " if s["marathon"] else "") + f"{s['session_id'][:8]} {s['project'][-24:]}"


def sessions(d: dict[str, Any]) -> Figure:
    go, rows = _go(), d["sessions"]
    shown = list(reversed(rows[:MAX_BARS]))  # largest at the top
    fig = go.Figure()
    for part in PARTS:
        fig.add_trace(go.Bar(y=[_label(s) for s in shown], x=[round(s["parts"]["weighted"][part], 3) for s in shown],
                             name=PART_LABELS[part], orientation="h", marker={"color": COLORS[part]},
                             customdata=[s["session_id"] for s in shown]))
    fig.add_trace(go.Scatter(y=[_label(s) for s in shown], x=[s["weighted_units"] for s in shown], mode="text",
                             text=[f" {fmt.fmt_pct(s['share'])}" for s in shown], textposition="middle right",
                             name="share", showlegend=False))
    _layout(fig, barmode="stack", height=max(320, 26 * len(shown) + 120),
            xaxis={"title": "weighted units"}, yaxis={"automargin": True})
    top = rows[:5]
    caption = "No sessions in the range." if not rows else (
        f"The top {len(top)} of {len(rows)} sessions carry {fmt.fmt_pct(sum(s['share'] for s in top))} of the "
        f"weighted spend; the largest, {rows[0]['session_id'][:8]}, {fmt.fmt_pct(rows[0]['share'])} "
        f"(★ = marathon: {sum(s['marathon'] for s in rows)})")
    if len(rows) > MAX_BARS:
        caption += f"; {len(rows) - MAX_BARS} smaller sessions not drawn"
    return Figure("sessions", "Sessions", caption + ".", fig)


def one_session(d: dict[str, Any]) -> list[Figure]:
    go, one = _go(), d["one_session"]
    if one is None:
        return []
    s, c = one["session"], one["curve"]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=c["times"], y=c["context"], mode="lines", name="context per response",
                             line={"color": "#1f77b4"}))
    for b in d["week"]["bands"]:
        fig.add_trace(go.Scatter(x=[c["times"][0], c["times"][-1]], y=[b["ceiling_tokens"]] * 2, mode="lines",
                                 line={"dash": "dash", "width": 1, "color": "#f2b701"},
                                 name=f"compaction ceiling at ≥{fmt.fmt_pct(b['projected_at'])}"))
    if c["compactions"]:
        fig.add_trace(go.Scatter(x=[m["at"] for m in c["compactions"]], y=[m["to"] for m in c["compactions"]],
                                 mode="markers", name="compaction", marker={"symbol": "triangle-down", "size": 11}))
    if c["resumes"]:
        fig.add_trace(go.Scatter(x=[m["at"] for m in c["resumes"]], y=[0] * len(c["resumes"]), mode="markers",
                                 name="resume", text=[f"after {m['idle_min']} min idle" for m in c["resumes"]],
                                 marker={"symbol": "star", "size": 11, "color": "#2ca02c"}))
    _layout(fig, yaxis={"title": "context tokens"})
    cost = one["parts"]["cost"]
    total = sum(cost.values()) or 1.0
    caption = (f"Session {s['session_id'][:8]} ({s['project'][-32:]}): peak context "
               f"{fmt.fmt_tokens(s['peak_context_tokens'])} tokens over {c['responses']} responses, "
               f"{len(c['compactions'])} compactions, {len(c['resumes'])} resumes.")
    pie = go.Figure(go.Pie(labels=[PART_LABELS[p] for p in PARTS], values=[round(cost[p], 4) for p in PARTS],
                           marker={"colors": [COLORS[p] for p in PARTS]}, sort=False, hole=0.4))
    _layout(pie, height=340)
    split = (f"{fmt.fmt_usd(s['cost_usd'])} notional; cache reads (the context re-sent every turn) are "
             f"{fmt.fmt_pct(cost['cache_read'] / total)} of it.")
    return [Figure("session", "One session: context over time", caption, fig),
            Figure("session_cost", "One session: what it cost", split, pie)]


def days(d: dict[str, Any]) -> list[Figure]:
    go, rows = _go(), d["days"]["rows"]
    from plotly.subplots import make_subplots

    x = [r["date"] for r in rows]
    tok = make_subplots(specs=[[{"secondary_y": True}]])
    tok.add_trace(go.Bar(x=x, y=[r["raw_tokens"] for r in rows], name="raw tokens"))
    tok.add_trace(go.Bar(x=x, y=[r["generated_tokens"] for r in rows], name="generated (input + output)"))
    tok.add_trace(go.Scatter(x=x, y=[r["cost_usd"] for r in rows], name="notional USD", mode="lines+markers"),
                  secondary_y=True)
    _layout(tok, barmode="group", xaxis={"type": "category"})
    tok.update_yaxes(title_text="tokens (log)", type="log", secondary_y=False)
    tok.update_yaxes(title_text="USD", secondary_y=True)
    totals = d["days"]["daily"]["totals"]
    big = max(rows, key=lambda r: r["raw_tokens"]) if rows else None
    cap1 = "No usage in the range." if big is None else (
        f"{fmt.fmt_usd(totals['cost_usd'])} notional over {len(rows)} days; the biggest day, {big['date']}, "
        f"{fmt.fmt_tokens(big['raw_tokens'])} raw tokens of which {fmt.fmt_tokens(big['generated_tokens'])} "
        "generated.")
    lane = make_subplots(specs=[[{"secondary_y": True}]])
    lane.add_trace(go.Bar(x=x, y=[r["claude_tokens"] for r in rows], name="Claude tokens"))
    lane.add_trace(go.Bar(x=x, y=[r["codex_tokens"] for r in rows], name="Codex tokens"))
    lane.add_trace(go.Scatter(x=x, y=[r["codex_share"] for r in rows], name="share on Codex",
                              mode="lines+markers",
                              text=[f"{r['handoff']} hand-offs, {r['hold']} holds" for r in rows]),
                   secondary_y=True)
    _layout(lane, barmode="stack", xaxis={"type": "category"})
    lane.update_yaxes(title_text="tokens", secondary_y=False)
    lane.update_yaxes(title_text="share on Codex", tickformat=".0%", range=[0, 1], secondary_y=True)
    handoffs, holds = sum(r["handoff"] for r in rows), sum(r["hold"] for r in rows)
    codex, claude = sum(r["codex_tokens"] for r in rows), sum(r["claude_tokens"] for r in rows)
    cap2 = (f"{fmt.fmt_pct(codex / (codex + claude) if codex + claude else 0)} of the tokens ran on Codex; "
            f"{handoffs} hand-offs and {holds} holds.")
    return [Figure("days", "Days: tokens and notional USD", cap1, tok),
            Figure("lanes", "Days: Claude and Codex", cap2, lane)]


def figures(d: dict[str, Any]) -> list[Figure]:
    return [week(d), sessions(d), *one_session(d), *days(d)]
