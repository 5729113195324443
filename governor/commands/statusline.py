"""`governor statusline`: the CLI entry of the status line (the work is in governor.statusline.run)."""

from __future__ import annotations

from typing import Any

from governor.statusline.run import run_fast


def register(sub: Any) -> None:
    p = sub.add_parser("statusline", help="one-line status for Claude Code's statusLine (JSON on stdin)",
                       description="Claude Code's statusLine command: captures official usage, "
                                   "prints one line.")
    p.set_defaults(func=lambda _args: run_fast([]))
