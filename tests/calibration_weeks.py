"""Synthetic weeks for the calibration tests: this machine's local units, a background the meter cannot
see, and the official dial read the way Claude Code shows it (whole percents, only while a status line is
on screen), stored the way the captures table keeps them (one row per change, its time the last sighting).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from governor.policy import calibrate
from governor.policy.calibrate import Capture, Spent

STEP_S = 600  # the status line refreshes every ten minutes in these weeks
WEEK_S = 7 * 24 * 3600
START = 1_790_000_000.0  # the cycle's official start (resets_at - 7 days)
CFG = {"fresh_minutes": 10, "k_drift_warn": 0.25, "fit_warn_points": 1.5}


@dataclass
class Week:
    alpha: float  # official fraction per local unit
    beta: float  # official fraction per hour from the unseen surfaces
    t: float = START
    units: float = 0.0  # local units so far
    truth: float = 0.0  # the dial's exact value
    rows: list[tuple[Capture, float]] = field(default_factory=list)  # the captures table, with units then

    def tick(self, local_units: float, background: float | None = None, shown: bool = True,
             rounding: Callable[[float], float] = round) -> None:
        """Ten minutes: this machine burns `local_units`, the rest of the account `background`/h
        (β unless said), and a status line on screen (`shown`) captures the rounded dial at the end."""
        self.t += STEP_S
        self.units += local_units
        self.truth += self.alpha * local_units + (self.beta if background is None else background) * STEP_S / 3600
        if shown:
            self.capture(rounding(self.truth * 100))

    def capture(self, pct: float) -> None:
        capture = Capture("seven_day", float(pct), START + WEEK_S, self.t, "statusline")
        if self.rows and self.rows[-1][0].used_pct == capture.used_pct:  # official.record: refresh the time
            self.rows[-1] = (capture, self.units)
        else:
            self.rows.append((capture, self.units))

    def spent(self, local_units: float | None = None) -> Spent:
        units = self.units if local_units is None else local_units
        return calibrate.spent_now(units, 1e8, self.rows, self.t, CFG, START, start_is_reset=True)

    def single_k(self) -> float:
        """What the old model said: the latest official figure plus k x local units since."""
        latest, units_at = self.rows[-1]
        k = calibrate.fit_k([(u, c.fraction) for c, u in self.rows])
        assert k is not None
        return latest.fraction + k * (self.units - units_at)


def active_week(seed: int, alpha: float, beta: float, days: int = 4, unit_rate: float = 1.0) -> Week:
    """`days` days of sessions (1-4 h with captures every ten minutes) separated by idle gaps of 1-14 h
    without any, ending with a session; a session burns ~unit_rate x 6 % of the cap, unevenly."""
    rng = random.Random(seed)
    week = Week(alpha, beta)
    per_tick = unit_rate * 0.10 / (alpha * 24)  # ~10 % of the cap per 4 h session-day at unit_rate 1
    end = START + days * 24 * 3600
    while True:
        for _ in range(rng.randint(6, 24)):  # a session: 1-4 h
            week.tick(per_tick * rng.uniform(0.3, 1.7))
        if week.t >= end:
            return week  # the week so far ends with a capture
        for _ in range(rng.randint(6, 84)):  # idle: 1-14 h, nobody looks at a status line
            week.tick(0.0, shown=False)


def headless(week: Week, hours: float, fraction: float, background: float) -> None:
    """`hours` of `claude -p` on this machine burning `fraction` of the cap: no status line, no capture."""
    ticks = round(hours * 3600 / STEP_S)
    for _ in range(ticks):
        week.tick(fraction / week.alpha / ticks, background=background, shown=False)
