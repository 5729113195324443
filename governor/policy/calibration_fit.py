"""Pure: fit Δofficial = α · Δlocal_units + β · Δhours (α, β >= 0) on this cycle's official captures.

α is the marginal rate of this machine's work (official fraction per local unit), β the background
rate of everything the local meter cannot see (other machines, the web app) per hour. The single-k
model (official ∝ local units, through the origin) is the fallback when the two rates cannot be told
apart: too few intervals, this machine's use proportional to time, or no more signal than rounding.
No I/O, no clock reads; stdlib only (two unknowns: the normal equations are solved by hand).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from governor.record import Record  # a NamedTuple without exec-compiling one per class

MARGINAL, PROPORTIONAL, NONE = "marginal", "proportional", "none"
MIN_INTERVALS = 3  # two unknowns and a residual to judge them by
MIN_SEPARATION = 0.05  # 1 - cos² of (Δunits, Δhours): below it this machine's use tracks the clock
MIN_SIGNAL_STEPS = 3  # the intervals must move the dial by more than a few rounding steps
SAME_RESET_S = 120  # captures whose resets_at differ by less are of the same cycle


class Observation(Record):
    """One official reading: at `at` (epoch s) the dial showed `fraction`, local units were `units`."""

    at: float
    units: float
    fraction: float


class Interval(Record):
    d_fraction: float
    d_units: float
    d_hours: float


class CalibrationFit(Record):
    model: str  # marginal | proportional | none
    alpha: float | None  # official fraction per local unit (k under the proportional model)
    beta: float  # official fraction per hour from the unseen surfaces (0 unless marginal)
    intervals: int  # consecutive capture pairs the fit used
    rms_residual: float | None  # fraction: how far the intervals sit from the fitted rates
    alpha_se: float  # standard errors, for the range
    beta_se: float
    step: float  # the captures' resolution as a fraction (0.01 for whole percents)
    note: str


def resolution(used_pcts: Sequence[float]) -> float:
    """Whole percents (what the status line shows) unless a reading carries a decimal."""
    return 0.01 if all(float(p).is_integer() for p in used_pcts) else 0.001


def observations(
    readings: Sequence[tuple[float, float | None, float, float]], cycle_start: float | None, step: float
) -> list[Observation]:
    """Clean (captured_at, resets_at, fraction, units) readings into a time-ordered series.

    Out of order: sorted. Duplicates (one instant): averaged. A capture of another reset than the
    newest one (a re-anchored cycle) is dropped; a fall of more than one step is a reset nobody
    marked: only what follows it counts. `cycle_start` (the official reset) adds the point (0, 0).
    """
    if not readings:
        return []
    ordered = sorted(readings, key=lambda r: r[0])
    newest_reset = ordered[-1][1]
    same_cycle = [r for r in ordered if r[1] is None or newest_reset is None
                  or abs(r[1] - newest_reset) < SAME_RESET_S]
    merged: list[Observation] = []
    group: list[tuple[float, float | None, float, float]] = []
    for reading in same_cycle + [(math.inf, None, 0.0, 0.0)]:  # a sentinel flushes the last group
        if group and reading[0] != group[0][0]:
            n = len(group)
            merged.append(Observation(group[0][0], sum(g[3] for g in group) / n, sum(g[2] for g in group) / n))
            group = []
        group.append(reading)
    for i in range(len(merged) - 1, 0, -1):
        if merged[i].fraction < merged[i - 1].fraction - step:
            merged = merged[i:]
            break
    else:
        if cycle_start is not None and merged and cycle_start < merged[0].at:
            merged.insert(0, Observation(cycle_start, 0.0, 0.0))
    return merged


def intervals(series: Sequence[Observation]) -> list[Interval]:
    return [Interval(b.fraction - a.fraction, max(0.0, b.units - a.units), (b.at - a.at) / 3600)
            for a, b in zip(series, series[1:], strict=False)]


def nnls2(xs: Sequence[float], hs: Sequence[float], ys: Sequence[float]) -> tuple[float, float]:
    """Least squares y ≈ a·x + b·h with a, b >= 0: the unconstrained solution when it is feasible,
    else the better of the two one-variable fits (the optimum of a convex problem lies on a face)."""
    sxx, shh, sxh = _dot(xs, xs), _dot(hs, hs), _dot(xs, hs)
    sxy, shy = _dot(xs, ys), _dot(hs, ys)
    det = sxx * shh - sxh * sxh
    if det > 0:
        a, b = (sxy * shh - shy * sxh) / det, (shy * sxx - sxy * sxh) / det
        if a >= 0 and b >= 0:
            return a, b
    candidates = [(max(0.0, sxy / sxx) if sxx > 0 else 0.0, 0.0), (0.0, max(0.0, shy / shh) if shh > 0 else 0.0)]
    return min(candidates, key=lambda ab: _rss(xs, hs, ys, *ab))


def _dot(u: Sequence[float], v: Sequence[float]) -> float:
    return math.fsum(a * b for a, b in zip(u, v, strict=True))


def _rss(xs: Sequence[float], hs: Sequence[float], ys: Sequence[float], a: float, b: float) -> float:
    return math.fsum((y - a * x - b * h) ** 2 for x, h, y in zip(xs, hs, ys, strict=True))


def fit(series: Sequence[Observation], step: float) -> CalibrationFit:
    """The marginal model when the series determines it, else the single k (with a note why).

    Whether it is determined is judged on consecutive pairs (does this machine's use vary apart from
    the clock?); the rates are fitted on each reading against the series' first (the official reset's
    0 % when known). Neighbours minutes apart differ mostly by rounding and their errors telescope;
    against one anchor each reading's rounding counts once.
    """
    steps = intervals(series)
    n = len(steps)
    dx, dh = [i.d_units for i in steps], [i.d_hours for i in steps]
    sdx, sdh = _dot(dx, dx), _dot(dh, dh)
    separation = 1 - _dot(dx, dh) ** 2 / (sdx * sdh) if sdx > 0 and sdh > 0 else 0.0
    signal = series[-1].fraction - series[0].fraction if series else 0.0
    why = (f"{n} interval{'s' * (n != 1)}, two rates need {MIN_INTERVALS}" if n < MIN_INTERVALS
           else "no local use between captures" if sdx <= 0
           else "this machine's use tracks the clock, so the two rates cannot be told apart"
           if separation < MIN_SEPARATION
           else f"the dial moved {signal * 100:.0f} points, too little above its rounding"
           if signal < MIN_SIGNAL_STEPS * step else None)
    if why is None:
        anchor = series[0]
        xs = [o.units - anchor.units for o in series[1:]]
        hs = [(o.at - anchor.at) / 3600 for o in series[1:]]
        ys = [o.fraction - anchor.fraction for o in series[1:]]
        alpha, beta = nnls2(xs, hs, ys)
        rss = _rss(xs, hs, ys, alpha, beta)
        rms = math.sqrt(rss / n)
        sigma2 = max(rss / max(1, n - 2), step * step / 12)  # rounding alone: a uniform error of one step
        sxx, shh, sxh = _dot(xs, xs), _dot(hs, hs), _dot(xs, hs)
        det = sxx * shh - sxh * sxh
        alpha_se = math.sqrt(sigma2 * shh / det) if det > 0 else 0.0
        beta_se = math.sqrt(sigma2 * sxx / det) if det > 0 else 0.0
        note = f"two rates fitted on {n} intervals, RMS residual {rms * 100:.1f} points"
        return CalibrationFit(MARGINAL, alpha, beta, n, rms, alpha_se, beta_se, step, note)
    k = proportional_k([(o.units, o.fraction) for o in series])
    if k is None:
        return CalibrationFit(NONE, None, 0.0, n, None, 0.0, 0.0, step,
                              "no capture has seen local use yet: paced by the configured cap")
    residuals = [o.fraction - k * o.units for o in series if o.units > 0]
    rms = math.sqrt(math.fsum(r * r for r in residuals) / len(residuals))
    return CalibrationFit(PROPORTIONAL, k, 0.0, n, rms, 0.0, 0.0, step,
                          f"single k (official ∝ local units): {why}")


def proportional_k(points: Sequence[tuple[float, float]]) -> float | None:
    """Least squares through the origin: official fraction per local unit.

    points = (local units this cycle at capture time, official fraction then). A line through the
    origin because zero local use means zero of *our* share; usage elsewhere scales k up. With one
    point this is official / units. Points without local units carry no information.
    """
    usable = [(x, y) for x, y in points if x > 0 and y >= 0]
    denominator = sum(x * x for x, _ in usable)
    if not denominator > 0:  # also catches vanishing units whose squares underflow to 0
        return None
    return sum(x * y for x, y in usable) / denominator
