"""policy.router_literals: the literals it finds only ever rule out prompts the pattern cannot match, so
skipping the regex for them never changes a routing decision; and the prompt hook remembers them."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from governor import paths
from governor.config import load_config
from governor.guards import pattern_time
from governor.meter import db
from governor.policy import router, router_literals

DEFAULTS = json.loads((Path(paths.__file__).parent / "data" / "budget.example.json").read_text())
WORDS = ["implement", "refactor", "across", "module", "why", "plan", "build", "the", "a", "tests", "Design",
         "ſ", "K", "review", "x", "1", " ", "-", "end-to-end", "all call sites"]
ATOMS = st.sampled_from(["implement", "re(view|ad)", "a", "build (a|the)", "x?", "[ab]", "k", "\\d+", "(foo|)",
                         "tests?", "\\bwhy\\b", ".", "(ab)+", "(?:plan|design)", "s{2,}", "(?i:Q)", "z*"])


def pattern_strategy() -> st.SearchStrategy[str]:
    seq = st.lists(ATOMS, min_size=1, max_size=4).map("".join)
    return st.lists(seq, min_size=1, max_size=3).map("|".join)


@settings(max_examples=400, deadline=None)
@given(pattern_strategy(), st.lists(st.sampled_from(WORDS), max_size=12).map(" ".join))
def test_a_text_the_literals_rule_out_never_matches(pattern: str, text: str) -> None:
    literals = router_literals.required(pattern)
    if re.search(pattern, text, re.IGNORECASE):
        assert router_literals.may_match(literals, text), (pattern, text, literals)


def test_the_default_patterns_literals() -> None:
    cfg = DEFAULTS["router"]
    assert router_literals.required(cfg["impl_verb"]) == [
        "build ", "fix the bug", "implement", "migrate", "refactor", "rewrite", "write "]
    assert router_literals.required(cfg["architecture"]) == [
        "approach", "architect", "compare", "design", "evaluate", "explain", "plan", "pros and cons", "review",
        "should ", "strategy", "trade", "what do you think", "why"]
    assert router_literals.required("[ab]c?") is None  # no literal every match contains
    assert router_literals.required("ſtrategy") is None  # a non-ASCII literal: re's case folding decides
    assert router_literals.may_match(["strategy"], "ſtrategy please")  # non-ASCII text: the regex decides


def test_the_hook_classifies_as_the_regexes_do_and_remembers_the_literals() -> None:
    cfg = load_config()["router"]
    conn = db.connect()
    prompts = ["add a docstring to utils.py", "refactor the auth module across all call sites",
               "why is this slow?", "WRITE THE TESTS for every module", "explain ſtrategy", "implement it here"]
    for prompt in prompts:
        assert pattern_time.classify(prompt, cfg, conn) == router.classify(prompt, cfg), prompt
    stored = json.loads(db.get_meta(conn, pattern_time.LITERALS_KEY) or "{}")
    assert stored == {cfg[k]: router_literals.required(cfg[k]) for k in ("impl_verb", "breadth", "architecture")}
    conn.close()
    edited = sqlite3.connect(paths.ledger_path())
    edited.execute("UPDATE meta SET value=? WHERE key=?", (json.dumps({cfg["impl_verb"]: ["nothing-like-it"]}),
                                                            pattern_time.LITERALS_KEY))
    edited.commit()
    edited.close()
    conn = db.connect()  # the remembered literals are what the hook goes by: "implement" is ruled out now
    assert pattern_time.classify("implement it across the module", cfg, conn) == "none"
    conn.close()
