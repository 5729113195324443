"""Weights, model multipliers and notional USD prices (all from budget.json).

Weighted units = Σ tokens × weight × model multiplier. USD is notional (what the API would bill);
on a subscription the marginal cost is ~0, so the cap fraction is what matters.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing costs ~3 ms (it imports re) per hook run
    from typing import Any

Config = dict[str, "Any"]  # Any for type checkers only (no typing import)

_REGEX_CACHE: dict[str, Any] = {}  # pattern -> compiled regex (re is imported on first use)


class Tokens:
    """Summed token counts of one group of responses (a plain class: `dataclasses` costs the hook ~10 ms)."""

    __slots__ = ("input", "output", "cache_creation", "cache_read", "cache_5m", "cache_1h", "responses",
                 "web_search")

    def __init__(self, input: int = 0, output: int = 0, cache_creation: int = 0, cache_read: int = 0,
                 cache_5m: int = 0, cache_1h: int = 0, responses: int = 0, web_search: int = 0) -> None:
        self.input = input
        self.output = output
        self.cache_creation = cache_creation
        self.cache_read = cache_read
        self.cache_5m = cache_5m  # of cache_creation, the part known to be 5-minute writes
        self.cache_1h = cache_1h  # ... and 1-hour writes; the rest has no split and is priced as 5-minute
        self.responses = responses
        self.web_search = web_search  # server-side web search requests, billed per request

    def _values(self) -> tuple[int, ...]:
        return tuple(getattr(self, f) for f in self.__slots__)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Tokens) and self._values() == other._values()

    def __repr__(self) -> str:
        return "Tokens(" + ", ".join(f"{f}={getattr(self, f)}" for f in self.__slots__) + ")"

    def add(self, other: Tokens) -> None:
        # spelled out: a report adds tens of thousands of buckets, a getattr/setattr loop costs 4x as much
        self.input += other.input
        self.output += other.output
        self.cache_creation += other.cache_creation
        self.cache_read += other.cache_read
        self.cache_5m += other.cache_5m
        self.cache_1h += other.cache_1h
        self.responses += other.responses
        self.web_search += other.web_search

    @property
    def total(self) -> int:
        return self.input + self.output + self.cache_creation + self.cache_read


def _pattern(text: str) -> Any:
    compiled = _REGEX_CACHE.get(text)
    if compiled is None:
        import re

        compiled = _REGEX_CACHE[text] = re.compile(text, re.IGNORECASE)
    return compiled


FAST = "+fast"  # suffix the meter gives the model of a fast-mode response (usage.speed == "fast")


def base_model(model: str) -> tuple[str, bool]:
    """(the model id without the fast-mode suffix, fast?)."""
    if model.endswith(FAST):
        return model[: -len(FAST)], True
    return model, False


def fast_factor(model: str, config: Config) -> float:
    """The fast-mode price multiplier of a '+fast' model (its price row's `fast`), else 1."""
    base, fast = base_model(model)
    if not fast:
        return 1.0
    return float(price_for(base, config)[0].get("fast", 1.0))


def multiplier(model: str, config: Config) -> tuple[float, bool]:
    """(model multiplier, known?). Family names match anywhere in the id: 'sonnet' in
    'claude-sonnet-4-5-20250929'. Longer family names win, so 'opus-4' could override 'opus'.
    A fast-mode model's multiplier is its family's times the price row's fast-mode multiplier."""
    model, fast = base_model(model)
    if fast:
        value, known = multiplier(model, config)
        return value * fast_factor(model + FAST, config), known
    lowered = model.lower()
    families = sorted(config["model_multipliers"].items(), key=lambda kv: len(kv[0]), reverse=True)
    for family, value in families:
        if family.lower() in lowered:
            return float(value), True
    return float(config["default_multiplier"]), False


def weighted_units(tokens: Tokens, model: str, config: Config) -> float:
    return _weighted(tokens, config["weights"], multiplier(model, config)[0])


def _weighted(tokens: Tokens, w: dict[str, Any], model_multiplier: float) -> float:
    raw = (
        tokens.input * w["input"]
        + tokens.output * w["output"]
        + tokens.cache_creation * w["cache_creation"]
        + tokens.cache_read * w["cache_read"]
    )
    return float(raw * model_multiplier)


def price_for(model: str, config: Config) -> tuple[dict[str, Any], bool]:
    """(USD-per-MTok price row, known?) — the first `prices` entry whose regex matches the model id
    (a fast-mode model: its base model's row)."""
    model = base_model(model)[0]
    for price in config["prices"]:
        if _pattern(price["match"]).search(model):
            return price, True
    return config["fallback_price"], False


LONG_CONTEXT_TOKENS = (
    200_000  # a prompt above this is billed at the model's long-context rates, if it has them
)


def cost_usd(tokens: Tokens, model: str, config: Config, long_context: bool = False) -> float:
    """Notional USD of `tokens`; `long_context` when they are requests whose prompt exceeded 200k tokens.
    Fast mode multiplies the token rates; web searches are billed per request on top."""
    row, _known = price_for(model, config)
    return _cost(tokens, row, fast_factor(model, config), long_context)


def _cost(tokens: Tokens, row: dict[str, Any], fast: float, long_context: bool) -> float:
    """cost_usd's arithmetic once the price row and the fast-mode factor are known."""
    return cost_at(_rates(row, fast, long_context), tokens.input, tokens.output, tokens.cache_creation,
                   tokens.cache_read, tokens.cache_5m, tokens.cache_1h, tokens.web_search)


# (input, output, cache read, 5-minute write, 1-hour write rates, fast-mode factor, USD per 1,000 web searches)
Rates = tuple["Any", ...]


def _rates(row: dict[str, Any], fast: float, long_context: bool) -> Rates:
    price = row["long_context"] if long_context and row.get("long_context") else row
    return (price["input"], price["output"], price["cache_read"], price["cache_write_5m"], price["cache_write_1h"],
            fast, float(row.get("web_search_per_1k", WEB_SEARCH_PER_1K)))


def cost_at(rates: Rates, input: int, output: int, cache_creation: int, cache_read: int, cache_5m: int,
            cache_1h: int, web_search: int) -> float:
    """Notional USD of these token counts at `rates` (Prices.rates): the one place cost is computed."""
    unsplit = max(0, cache_creation - cache_5m - cache_1h)  # writes without a split are priced as 5-minute
    total = (
        input * rates[0]
        + output * rates[1]
        + cache_read * rates[2]
        + (cache_5m + unsplit) * rates[3]
        + cache_1h * rates[4]
    )
    searches = web_search * rates[6] / 1000
    return float(total / 1_000_000 * rates[5] + searches)


class Prices:
    """cost_usd, weighted_units, price_for and multiplier for one config, each model looked up once: a
    report prices thousands of buckets of a handful of models, and a lookup is a search through every
    price row's regex. The arithmetic is cost_usd's and weighted_units' own, so the results are the same
    floats. The config must not change while a Prices is in use."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._price: dict[str, tuple[dict[str, Any], bool, float]] = {}
        self._multiplier: dict[str, tuple[float, bool]] = {}

    def price_for(self, model: str) -> tuple[dict[str, Any], bool]:
        row, known, _fast = self._lookup(model)
        return row, known

    def _lookup(self, model: str) -> tuple[dict[str, Any], bool, float]:
        found = self._price.get(model)
        if found is None:
            row, known = price_for(model, self.config)
            found = self._price[model] = (row, known, fast_factor(model, self.config))
        return found

    def multiplier(self, model: str) -> tuple[float, bool]:
        found = self._multiplier.get(model)
        if found is None:
            found = self._multiplier[model] = multiplier(model, self.config)
        return found

    def cost_usd(self, tokens: Tokens, model: str, long_context: bool = False) -> float:
        row, _known, fast = self._lookup(model)
        return _cost(tokens, row, fast, long_context)

    def rates(self, model: str, long_context: bool = False) -> Rates:
        """What cost_at prices `model`'s tokens at: a report prices thousands of buckets from a few of these."""
        row, _known, fast = self._lookup(model)
        return _rates(row, fast, long_context)

    def weighted_units(self, tokens: Tokens, model: str) -> float:
        return _weighted(tokens, self.config["weights"], self.multiplier(model)[0])


WEB_SEARCH_PER_1K = 10.0  # USD per 1,000 web search requests (Anthropic's list price)
