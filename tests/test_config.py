"""budget.json: the shipped example is the full documented config; errors are readable; hooks get the
validated form without importing pydantic."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from governor import config, config_schema
from tests.helpers import REPO_ROOT


def test_example_is_valid_and_documents_every_default() -> None:
    raw = json.loads((REPO_ROOT / "budget.example.json").read_text())
    assert config_schema.validate(raw) == config_schema.defaults()
    assert set(k for k in raw if not k.startswith("_")) == set(config_schema.defaults())


def test_without_budget_json_the_defaults_come_from_the_packaged_example(tmp_path: Path) -> None:
    """No pydantic on a first run without budget.json: the packaged example minus its comments must be
    exactly the schema's defaults."""
    assert config.validate_file(str(tmp_path / "absent.json")) == config_schema.defaults()


def test_packaged_example_is_identical() -> None:
    assert (REPO_ROOT / "budget.example.json").read_bytes() == (
        REPO_ROOT / "governor" / "data" / "budget.example.json"
    ).read_bytes()


def write_budget(doc: object) -> Path:
    path = Path(os.environ["GOVERNOR_HOME"]) / "budget.json"
    path.write_text(json.dumps(doc) if not isinstance(doc, str) else doc)
    return path


def test_invalid_values_give_one_readable_line_each() -> None:
    write_budget({"tier": "max100x", "pacing": {"bands": [], "rate_window_hours": -1}, "pacng": {}})
    with pytest.raises(config.ConfigError) as err:
        config.load_config()
    lines = str(err.value).splitlines()
    assert any("tier" in line for line in lines)
    assert any("pacing.bands" in line for line in lines)
    assert any("pacing.rate_window_hours" in line for line in lines)
    assert any("pacng" in line and "not permitted" in line for line in lines)
    assert all(line.startswith(str(Path(os.environ["GOVERNOR_HOME"]) / "budget.json")) for line in lines)


def test_invalid_json_names_the_position() -> None:
    write_budget('{"tier": "pro",,}')
    with pytest.raises(config.ConfigError, match="invalid JSON at line 1"):
        config.load_config()


def test_comment_keys_are_ignored_and_partial_config_is_filled() -> None:
    write_budget({"_note": "mine", "tier": "max5x", "pacing": {"_why": "x", "repeat_minutes": 30}})
    cfg = config.load_config()
    assert cfg["tier"] == "max5x" and cfg["pacing"]["repeat_minutes"] == 30
    assert cfg["pacing"]["rate_window_hours"] == 24
    assert config.cap_units(cfg) == cfg["caps"]["max5x"] == cfg["caps"]["max20x"] / 4


def test_unchanged_budget_loads_without_pydantic_and_changes_are_seen() -> None:
    path = write_budget({"tier": "pro"})
    config.load_config()  # validates and caches
    probe = (
        "import sys, json; from governor.config import load_config; c = load_config();"
        "print(json.dumps([c['tier'], 'pydantic' in sys.modules]))"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True)
    assert json.loads(out.stdout) == ["pro", False]
    path.write_text(json.dumps({"tier": "max20x", "memory": {"line_cap": 200}}))
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True)
    assert json.loads(out.stdout) == ["max20x", True]
