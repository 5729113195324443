#!/usr/bin/env python3
"""Write plugin/hooks.json from the wiring table `governor install` uses (governor.wiring.settings_merge).

Run after changing CLAUDE_HOOKS; tests/test_plugin.py fails while the file and the table disagree."""

from __future__ import annotations

import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from governor.wiring.settings_merge import plugin_hooks_doc  # noqa: E402

TARGET = os.path.join(ROOT, "plugin", "hooks.json")


def render() -> str:
    return json.dumps(plugin_hooks_doc(), indent=2) + "\n"


if __name__ == "__main__":
    with open(TARGET, "w", encoding="utf-8") as fh:
        fh.write(render())
    print(f"wrote {TARGET}")
