"""The pydantic model of budget.json: every key, its default and its meaning.

Imported only when budget.json changed (pydantic costs ~100 ms to import); hooks read the
validated, defaults-filled dict that config.load_config() caches beside the ledger.
"""

from __future__ import annotations

import re
import zoneinfo
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Tier = Literal["pro", "max5x", "max20x"]
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class _Section(BaseModel):
    # NaN and Infinity compare false with every bound, so they would pass ge/le checks (a `nan%` status line)
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class Weights(_Section):
    """Weight per token type (price ratios relative to input)."""

    input: float = Field(1.0, ge=0)
    cache_creation: float = Field(1.25, ge=0)
    cache_read: float = Field(0.1, ge=0)
    output: float = Field(5.0, ge=0)


class Rates(_Section):
    """USD per million tokens."""

    input: float = Field(ge=0)
    output: float = Field(ge=0)
    cache_write_5m: float = Field(ge=0)
    cache_write_1h: float = Field(ge=0)
    cache_read: float = Field(ge=0)


class Price(Rates):
    """Notional USD per million tokens for models whose id matches `match` (a regex, case-insensitive).
    `long_context` rates apply to a request whose prompt (input + cache write + cache read) exceeds
    200,000 tokens (Sonnet 4/4.5 with the 1M context window)."""

    match: str
    label: str = ""
    long_context: Rates | None = None
    fast: float = Field(1.0, ge=0)  # fast mode (usage.speed == "fast"): token rates x this
    web_search_per_1k: float = Field(10.0, ge=0)  # USD per 1,000 server-side web search requests

    @field_validator("match")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a valid regex: {exc}") from exc
        return value


def _price(
    match: str,
    label: str,
    inp: float,
    w5: float,
    w1: float,
    read: float,
    out: float,
    long: Rates | None = None,
    fast: float = 1.0,
) -> Price:
    return Price(
        match=match,
        label=label,
        input=inp,
        cache_write_5m=w5,
        cache_write_1h=w1,
        cache_read=read,
        output=out,
        long_context=long,
        fast=fast,
    )


# First match wins, so the specific patterns come before the family-wide ones.
DEFAULT_PRICES = [
    _price(r"opus-5-5", "Opus 5.5", 4, 5, 8, 0.20, 20),
    _price(r"opus-4-6", "Opus 4.6", 5, 6.25, 10, 0.50, 25, fast=6),
    _price(r"opus-(4-[5-9]|5)", "Opus 4.5, 4.7, 4.8, 5", 5, 6.25, 10, 0.50, 25),
    _price(r"opus-4|claude-3-opus", "Opus 4/4.1", 15, 18.75, 30, 1.50, 75),
    _price(r"fable-5", "Fable 5", 10, 12.50, 20, 1.00, 50),
    _price(r"sonnet-5", "Sonnet 5.x", 2, 2.50, 4, 0.20, 10),
    _price(
        r"sonnet-4-5|sonnet-4-2|sonnet-4$|sonnet-4@",
        "Sonnet 4/4.5",
        3,
        3.75,
        6,
        0.30,
        15,
        Rates(input=6, cache_write_5m=7.50, cache_write_1h=12, cache_read=0.60, output=22.50),
    ),
    _price(r"sonnet", "Sonnet 3.7/4.x", 3, 3.75, 6, 0.30, 15),
    _price(r"haiku-4|haiku-5", "Haiku 4.5", 1, 1.25, 2, 0.10, 5),
    _price(r"3-5-haiku|haiku-3-5", "Haiku 3.5", 0.80, 1.00, 1.60, 0.08, 4),
    _price(r"3-haiku|haiku-3", "Haiku 3", 0.25, 0.30, 0.50, 0.03, 1.25),
]
# Unknown models are priced like a current Opus (never at $0) and reported as unknown.
DEFAULT_FALLBACK_PRICE = _price(r".*", "unknown model (priced as Opus 4.5+)", 5, 6.25, 10, 0.50, 25)


class WeekReset(_Section):
    """When the weekly cap resets if no official capture says otherwise."""

    weekday: str = "monday"
    time: str = "00:00"
    zone: str = "UTC"

    @field_validator("weekday")
    @classmethod
    def _weekday(cls, value: str) -> str:
        value = value.strip().lower()
        if value not in WEEKDAYS:
            raise ValueError(f"must be one of {', '.join(WEEKDAYS)}")
        return value

    @field_validator("time")
    @classmethod
    def _time(cls, value: str) -> str:
        m = re.fullmatch(r"(\d{1,2}):(\d{2})", value.strip())
        if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
            raise ValueError("must be HH:MM (24-hour)")
        return f"{int(m.group(1)):02d}:{m.group(2)}"

    @field_validator("zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except Exception as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value


class Week(_Section):
    resets: WeekReset = WeekReset()
    # Override the learned hour-of-week rhythm (policy/rhythm.py): the hours and days you work, read in
    # resets.zone; the projection spreads what is left over those hours only.
    active_hours: str | None = None  # "09:00-18:00"; an end before the start wraps past midnight
    active_days: list[str] | None = None  # ["monday", ..., "friday"]

    @field_validator("active_hours")
    @classmethod
    def _active_hours(cls, value: str | None) -> str | None:
        if value is None:
            return None
        m = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", value)
        if not m:
            raise ValueError('must be "HH:MM-HH:MM", e.g. "09:00-18:00"')
        lo, hi = int(m[1]) * 60 + int(m[2]), int(m[3]) * 60 + int(m[4])
        if int(m[2]) > 59 or int(m[4]) > 59 or lo > 24 * 60 or hi > 24 * 60:
            raise ValueError("hours must be 00:00-24:00")
        if lo == hi:
            raise ValueError("start and end are the same: no active hours")
        return f"{lo // 60:02d}:{lo % 60:02d}-{hi // 60:02d}:{hi % 60:02d}"

    @field_validator("active_days")
    @classmethod
    def _active_days(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        days = [d.strip().lower() for d in value]
        bad = [d for d in days if d not in WEEKDAYS]
        if bad or not days:
            raise ValueError(f"must be a non-empty list of {', '.join(WEEKDAYS)}")
        return sorted(set(days), key=WEEKDAYS.index)


class Band(_Section):
    """At or above `projected_at` (fraction of the cap at reset), advise /compact above `ceiling_tokens`."""

    projected_at: float = Field(gt=0)
    ceiling_tokens: int = Field(gt=0)


class FiveHourBand(_Section):
    """The 5-hour window's bands are warn-only: at or above `projected_at` (of that window's limit at its
    reset) the pacing message advises a pause or moving work to Codex; no ceiling, no clamp."""

    projected_at: float = Field(gt=0)


class Pacing(_Section):
    enabled: bool = True
    rate_window_hours: float = Field(24, gt=0, le=168)
    # "rhythm": the rest of the week by your own hour-of-week profile (recent rate until there is
    # history); "recent_rate": the last rate_window_hours stretched over every hour left.
    projection: Literal["rhythm", "recent_rate"] = "rhythm"
    quiet_first_hours: float = Field(12, ge=0, le=168)  # no pacing band this early in a cycle ...
    quiet_unless_spent: float = Field(0.10, gt=0, le=1.5)  # ... unless this much of the cap is spent
    bands: list[Band] = [
        Band(projected_at=1.3, ceiling_tokens=250_000),
        Band(projected_at=1.1, ceiling_tokens=350_000),
        Band(projected_at=1.0, ceiling_tokens=450_000),
    ]
    five_hour_bands: list[FiveHourBand] = [FiveHourBand(projected_at=1.25), FiveHourBand(projected_at=1.0)]
    repeat_minutes: float = Field(60, ge=0)
    hard_clamp_at: float | None = Field(0.95, gt=0, le=1.5)
    long_session_hours: float = Field(4, gt=0)
    long_session_responses: int = Field(300, gt=0)
    resume_warn_tokens: int = Field(100_000, ge=0)
    run_check_seconds: float = Field(120, ge=0, le=86_400)  # PostToolBatch: how often a run is checked
    run_warn_fraction: float = Field(0.05, gt=0, le=1)  # a run's share of the weekly cap worth saying
    stop_runs_at_clamp: bool = False  # at the clamp, stop the agentic loop (exit 2) instead of advising

    @field_validator("five_hour_bands")
    @classmethod
    def _five_hour_sorted(cls, bands: list[FiveHourBand]) -> list[FiveHourBand]:
        return sorted(bands, key=lambda b: b.projected_at, reverse=True)

    @field_validator("bands")
    @classmethod
    def _sorted(cls, bands: list[Band]) -> list[Band]:
        if not bands:
            raise ValueError("needs at least one band")
        return sorted(bands, key=lambda b: b.projected_at, reverse=True)


class Calibration(_Section):
    fresh_minutes: float = Field(10, gt=0)
    k_drift_warn: float = Field(0.25, gt=0)
    fit_warn_points: float = Field(1.5, gt=0)
    claude_json_max_age_minutes: float = Field(60, gt=0)


class Statusline(_Section):
    chain: str | None = None
    chain_timeout_ms: int = Field(2000, ge=50, le=30_000)
    show_codex: bool = True


DEFAULT_IMPL_VERB = r"\b(implement|refactor|migrate|rewrite|build (a|the)|write (the )?tests?|fix the bug)\b"
DEFAULT_BREADTH = (
    r"\b(across|all call sites|multiple files|end-to-end|integration tests?|migrate|module|refactor)\b"
)
DEFAULT_ARCHITECTURE = (
    r"\b(design|architect(ure|ural)?|trade-?offs?|review|why|plan|approach|pros and cons|should (we|i)"
    r"|compare|explain|what do you think|strategy|evaluate)\b"
)


class Router(_Section):
    mode: Literal["always", "when_over_pace", "off"] = "when_over_pace"
    impl_verb: str = DEFAULT_IMPL_VERB
    breadth: str = DEFAULT_BREADTH
    architecture: str = DEFAULT_ARCHITECTURE
    scan_chars: int = Field(4000, ge=100, le=100_000)

    @field_validator("impl_verb", "breadth", "architecture")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a valid regex: {exc}") from exc
        return value


class CodexLane(_Section):
    enabled: bool = True
    hot_at: float = Field(0.85, gt=0, le=1.0)
    command: str = "codex"
    sandbox: Literal["read-only", "workspace-write", "danger-full-access"] = "workspace-write"


class Lanes(_Section):
    codex: CodexLane = CodexLane()


class Memory(_Section):
    enabled: bool = True
    line_cap: int = Field(350, ge=40, le=100_000)
    paths: list[str] = []


class Sync(_Section):
    """Several machines in one ledger (README, Several machines): `dir` is a folder a sync engine replicates."""

    dir: str | None = None
    name: str | None = Field(None, min_length=1, max_length=64)  # this machine's name (default: the host name)
    export: bool = True  # `governor sync off` sets false: this machine neither exports nor merges
    hash_projects: bool = False  # export a hash of each project's name instead of the name
    stale_hours: float = Field(12.0, gt=0, le=24 * 365)
    export_minutes: float = Field(5.0, ge=0, le=24 * 60)  # hooks and the status line export at most this often
    merge_seconds: float = Field(60.0, ge=0, le=86400)  # and merge the other machines' files at most this often

    @field_validator("dir")
    @classmethod
    def _absolute(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("/", "~")) and not re.match(r"^[A-Za-z]:[\\/]", value):
            raise ValueError("must be an absolute path")
        return value


# Weekly caps in weighted units. Anthropic publishes no token figure; these defaults come from the
# seed article's measured week (60 % of Max 20x official ≈ 420 M weighted local units) and the plan
# ratios (Max 5x = a quarter of Max 20x, Pro = a fifth of Max 5x). Calibration replaces them in effect.
DEFAULT_CAPS = {"max20x": 700_000_000.0, "max5x": 175_000_000.0, "pro": 35_000_000.0}
MAX_CAP = 1e13  # ~14,000 times Max 20x: a larger cap is a typo, and pacing would never fire


class Budget(_Section):
    version: int = 1
    tier: Tier = "max20x"
    caps: dict[str, float] = dict(DEFAULT_CAPS)
    week: Week = Week()
    weights: Weights = Weights()
    model_multipliers: dict[str, float] = {"opus": 1.0, "sonnet": 0.6, "haiku": 0.2, "fable": 2.0}
    default_multiplier: float = Field(1.0, ge=0)
    prices: list[Price] = list(DEFAULT_PRICES)
    fallback_price: Price = DEFAULT_FALLBACK_PRICE
    pacing: Pacing = Pacing()
    calibration: Calibration = Calibration()
    statusline: Statusline = Statusline()
    router: Router = Router()
    lanes: Lanes = Lanes()
    memory: Memory = Memory()
    sync: Sync = Sync()

    @model_validator(mode="after")
    def _caps_cover_tiers(self) -> Budget:
        merged = dict(DEFAULT_CAPS)
        merged.update(self.caps)
        for name, value in merged.items():
            if not 0 < value <= MAX_CAP:
                raise ValueError(f"caps.{name} must be positive and at most {MAX_CAP:.0e}")
        self.caps = merged
        return self


def strip_comments(value: Any) -> Any:
    """Drop keys starting with '_' at every level: budget.json's way of carrying comments."""
    if isinstance(value, dict):
        return {
            k: strip_comments(v) for k, v in value.items() if not (isinstance(k, str) and k.startswith("_"))
        }
    if isinstance(value, list):
        return [strip_comments(v) for v in value]
    return value


def validate(raw: Any) -> dict[str, Any]:
    """Validated, defaults-filled plain dict; raises ValueError with one readable line per problem."""
    from pydantic import ValidationError

    if not isinstance(raw, dict):
        raise ValueError("budget.json must hold a JSON object")
    try:
        model = Budget.model_validate(strip_comments(raw))
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"]) or "(top level)"
            lines.append(f"{where}: {err['msg']}")
        raise ValueError("\n".join(lines)) from None
    return model.model_dump(mode="json")


def defaults() -> dict[str, Any]:
    return Budget().model_dump(mode="json")
