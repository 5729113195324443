"""Reports price from roll-up buckets with each model's price row looked up once (pricing.Prices): the
same floats as pricing.cost_usd per bucket, so `governor daily --json` is unchanged byte for byte; and to
the cent what a plain per-response pricing of the ledger gives, with the long-context rule (a request
whose prompt exceeds 200k tokens is billed whole at the long-context rates) and 1-hour cache writes."""

from __future__ import annotations

import json
import re
import sqlite3
import sys
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

import pytest

from governor import paths
from governor.config import load_config
from governor.meter import usage
from governor.policy import pricing
from tests.helpers import REPO_ROOT, run_cli


@pytest.fixture()
def priced_corpus(tmp_path: Path) -> tuple[Path, dict]:
    sys.path.insert(0, str(REPO_ROOT / "bench"))
    try:
        from gen_corpus import generate
    finally:
        sys.path.pop(0)
    corpus = tmp_path / "corpus"
    # contexts to 600k: long-context requests; 1-hour cache writes; three models (Sonnet has long-context rates)
    generate(str(corpus), size_mb=5, days=4, seed=8, use_1h=True, max_context=600_000)
    proc = run_cli("daily", "--json", "--tz", "UTC", "--claude-dir", str(corpus))
    assert proc.returncode == 0, proc.stderr
    return corpus, json.loads(proc.stdout)


def reference(config: dict) -> dict[tuple[str, str], float]:
    """USD per (UTC day, model), priced response by response from the usage table, without governor's pricing."""
    def row_for(model: str) -> dict:
        for price in config["prices"]:
            if re.search(price["match"], model, re.IGNORECASE):
                return price
        return config["fallback_price"]

    out: dict[tuple[str, str], float] = defaultdict(float)
    conn = sqlite3.connect(paths.ledger_path())
    for ts, model, inp, outp, cw, cr, _c5, c1, ws in conn.execute(
            "SELECT ts, model, input, output, cache_creation, cache_read, cache_5m, cache_1h, web_search FROM usage"):
        row = row_for(model)
        rates = row["long_context"] if inp + cw + cr > 200_000 and row.get("long_context") else row
        one_hour = c1 or 0
        five_min = cw - one_hour  # what is not known to be a 1-hour write is priced as a 5-minute one
        usd = (inp * rates["input"] + outp * rates["output"] + cr * rates["cache_read"]
               + five_min * rates["cache_write_5m"] + one_hour * rates["cache_write_1h"]) / 1e6
        usd += ws * row.get("web_search_per_1k", 10.0) / 1000
        day = datetime.fromtimestamp(ts, timezone.utc).date().isoformat()
        out[(day, model)] += usd
    conn.close()
    return out


def test_daily_costs_equal_a_per_response_pricing_to_the_cent(priced_corpus: tuple[Path, dict]) -> None:
    _corpus, report = priced_corpus
    config = load_config()
    conn = sqlite3.connect(paths.ledger_path())
    long_rows, one_hour_rows = conn.execute(
        f"SELECT SUM({usage.db.LONG_CONTEXT} AND model LIKE '%sonnet%'), SUM(cache_1h > 0) FROM usage").fetchone()
    conn.close()
    assert long_rows > 50 and one_hour_rows > 50  # both rules are exercised
    expected = reference(config)
    got = {(d["date"], m): v["cost_usd"] for d in report["days"] for m, v in d["models"].items()}
    assert set(got) == set(expected)
    for key, usd in expected.items():
        assert abs(got[key] - usd) < 0.005, key
    assert abs(report["totals"]["cost_usd"] - sum(expected.values())) < 0.005


def test_prices_gives_the_same_floats_as_cost_usd(priced_corpus: tuple[Path, dict]) -> None:
    config = load_config()
    conn = sqlite3.connect(paths.ledger_path())
    buckets = usage.buckets(conn, None, None)
    conn.close()
    prices = pricing.Prices(config)
    assert len(buckets) > 100 and any(lc for _b, _m, lc, _t in buckets)
    for _b, model, lc, tokens in buckets:
        assert prices.cost_usd(tokens, model, lc) == pricing.cost_usd(tokens, model, config, lc)
        assert prices.weighted_units(tokens, model) == pricing.weighted_units(tokens, model, config)
        assert prices.price_for(model) == pricing.price_for(model, config)
        assert prices.multiplier(model) == pricing.multiplier(model, config)
    for model in ("claude-opus-4-6+fast", "gpt-unknown", "claude-sonnet-4-5-20250929+fast"):
        t = pricing.Tokens(1000, 2000, 3000, 4000, 1000, 500, 1, 2)
        assert prices.cost_usd(t, model, True) == pricing.cost_usd(t, model, config, True)
        assert prices.weighted_units(t, model) == pricing.weighted_units(t, model, config)
