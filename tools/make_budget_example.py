"""Regenerate budget.example.json (and its packaged copy) from the schema defaults, keeping the
'_' comment keys already in the file. Run after adding a key to governor/config_schema.py."""

from __future__ import annotations

import json
from pathlib import Path

from governor.config_schema import defaults

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    current = json.loads((ROOT / "budget.example.json").read_text())
    fresh = defaults()
    out: dict = {}
    for key, value in current.items():  # keep comment placement and order
        if key.startswith("_") or key in fresh:
            out[key] = fresh.get(key, value) if not key.startswith("_") else value
    for key, value in fresh.items():
        out.setdefault(key, value)
    text = json.dumps(out, indent=2, ensure_ascii=False) + "\n"
    for path in (ROOT / "budget.example.json", ROOT / "governor" / "data" / "budget.example.json"):
        path.write_text(text)


if __name__ == "__main__":
    main()
