"""`governor memory check [PATH...] [--fix] [--json]`: the memory guard's rule for existing files."""

from __future__ import annotations

import argparse
import os
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser(
        "memory",
        help="check and cap the memory index",
        description="Check memory index files against the line cap and Claude Code's load limit.",
    )
    actions = p.add_subparsers(dest="memory_action", metavar="ACTION")
    c = actions.add_parser(
        "check",
        help="report over-long lines and load-limit status",
        description="Report lines over memory.line_cap and how much of each file Claude Code loads "
        "(200 lines or 25,000 UTF-16 units). Default: every MEMORY.md under the Claude config dirs "
        "plus the memory.paths globs.",
    )
    c.add_argument("paths", nargs="*", metavar="PATH", help="files to check (default: every memory index)")
    c.add_argument("--fix", action="store_true", help="cap over-long lines (full text to <name>.overflow.md)")
    c.add_argument("--json", action="store_true", help="machine-readable output")
    c.set_defaults(func=run)
    p.set_defaults(func=lambda _args: p.print_help() or 0)


def _check_one(path: str, cap: int, fix: bool) -> dict[str, Any]:
    from governor.guards import memory_file
    from governor.policy import memory_cap

    real = os.path.realpath(path)  # --fix writes where a symlink leads, and keeps the symlink
    entry: dict[str, Any] = {"path": path, "error": None, "over_cap_lines": [], "fixed": 0, "archive": None}
    try:
        with open(real, "rb") as fh:
            text = fh.read().decode("utf-8")
        _, changes = memory_cap.cap_text(text, cap)
        entry["over_cap_lines"] = [{"line": c.line_no, "chars": len(c.original)} for c in changes]
        load = memory_cap.load_status(text)
        if fix and changes:
            applied = memory_file.apply_cap(real, cap)
            entry["fixed"], entry["archive"] = len(applied.changes), applied.archive
            load = applied.load or load
            with open(real, "rb") as fh:
                _, left = memory_cap.cap_text(fh.read().decode("utf-8"), cap)
            entry["over_cap_lines"] = [{"line": c.line_no, "chars": len(c.original)} for c in left]
    except (OSError, UnicodeDecodeError) as exc:
        entry["error"] = f"cannot read: {exc.strerror if isinstance(exc, OSError) else 'not UTF-8 text'}"
        entry["ok"] = False
        return entry
    entry["lines"], entry["utf16_units"] = load.lines, load.units
    entry["load"] = {"limit_lines": memory_cap.LOAD_MAX_LINES, "limit_units": memory_cap.LOAD_MAX_UNITS,
                     "over": load.over, "loaded_lines": load.loaded_lines,
                     "not_loaded_lines": load.not_loaded_lines, "not_loaded_units": load.not_loaded_units}
    entry["ok"] = not entry["over_cap_lines"] and not load.over
    return entry


def _targets(args: argparse.Namespace, globs: list[str]) -> list[str]:
    from governor.errors import CliError
    from governor.guards.memory_paths import find_memory_files

    if not args.paths:
        return find_memory_files(globs)
    targets = []
    for p in args.paths:
        path = os.path.abspath(os.path.expanduser(p))
        if not os.path.isfile(path):
            raise CliError(f"{p}: no such file")
        targets.append(path)
    return targets


def _status(e: dict[str, Any], color: bool) -> str:
    from governor.fmt import paint

    if e["error"]:
        return paint(e["error"], "red", color)
    bits = []
    if e["fixed"]:
        bits.append(paint(f"fixed {e['fixed']}", "green", color))
    if e["over_cap_lines"]:
        bits.append(paint(f"{len(e['over_cap_lines'])} over cap", "yellow", color))
    if e["load"]["over"]:
        bits.append(paint(f"{e['load']['not_loaded_lines']} lines not loaded", "red", color))
    return ", ".join(bits) or paint("ok", "green", color)


def _short(path: str) -> str:
    home = os.path.expanduser("~")
    return "~" + path[len(home):] if path.startswith(home + os.sep) else path


def run(args: argparse.Namespace) -> int:
    from governor import fmt
    from governor.config import load_config
    from governor.reports import tables

    memory_cfg = load_config()["memory"]
    cap = int(memory_cfg["line_cap"])
    entries = [_check_one(p, cap, args.fix) for p in _targets(args, memory_cfg["paths"])]
    ok = all(e["ok"] for e in entries)
    if args.json:
        tables.print_json({"line_cap": cap, "ok": ok, "files": entries})
        return 0 if ok else 1
    if not entries:
        print("no memory files found (looked for projects/*/memory/MEMORY.md under the Claude config dirs"
              + (" and memory.paths)" if memory_cfg["paths"] else ")"))
        return 0
    color = fmt.use_color()
    rows = [[_short(e["path"]), e.get("lines", "—"), e.get("utf16_units", "—"),
             len(e["over_cap_lines"]) + e["fixed"], _status(e, color)] for e in entries]
    print(tables.table(["file", "lines", "UTF-16", f"> {cap}", "status"], rows, align="lrrrl"))
    if any(e["over_cap_lines"] for e in entries) and not args.fix:
        print(f"\nrun 'governor memory check --fix' to cap lines at {cap} characters "
              "(the full text goes to <name>.overflow.md beside each file)")
    if any(e.get("load", {}).get("over") for e in entries):
        print("\nClaude Code loads only the first 200 lines or 25,000 UTF-16 units of a memory index; "
              "move detail into topic files.")
    return 0 if ok else 1
