"""`governor handoff [--last | FILE] [--run] [--json]`: the ready Codex command for a brief, or run it."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from governor import fmt
from governor.reports import tables


def register(sub: Any) -> None:
    p = sub.add_parser("handoff", help="hand a brief to Codex",
                       description="Print the ready `codex exec` command for the latest hand-off brief "
                                   "(or FILE); with --run, run it and record its exit code and tokens.")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--last", action="store_true", help="the most recent brief (the default)")
    which.add_argument("file", nargs="?", metavar="FILE", help="a brief file")
    p.add_argument("--run", action="store_true", help="run Codex on the brief now")
    p.add_argument("--timeout", type=float, metavar="SECONDS", help="with --run: stop Codex after this long")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--for-claude", action="store_true",
                   help="for /governor:handoff: the brief and its command, as the Codex plugin's /codex:rescue "
                        "when that plugin is enabled")
    p.set_defaults(func=run)


def _brief(args: argparse.Namespace) -> str:
    from governor import paths
    from governor.errors import CliError
    from governor.lanes import handoff

    if args.file:
        if not os.path.isfile(args.file):
            raise CliError(f"{args.file}: no such brief file")
        return os.path.abspath(str(args.file))
    latest = handoff.latest_brief()
    if latest is None:
        raise CliError(f"no hand-off brief yet in {paths.handoffs_dir()} "
                       "(the router writes one when it hands a prompt off)")
    return latest


def _tokens_line(result: dict[str, Any]) -> str:
    u = result["usage"]

    def n(key: str) -> str:
        return fmt.fmt_int(u.get(key, 0))

    tokens = (f"{n('input_tokens')} in ({n('cached_input_tokens')} cached), {n('output_tokens')} out "
              f"({n('reasoning_output_tokens')} reasoning)") if u else "no usage reported"
    return f"codex: exit {result['exit_code']} · thread {result['thread_id'] or '?'} · {tokens}"


def run(args: argparse.Namespace) -> int:
    from governor.config import load_config
    from governor.errors import CliError
    from governor.lanes import handoff

    lane = load_config()["lanes"]["codex"]
    brief = _brief(args)
    try:
        cwd = str(handoff.read_meta(brief).get("cwd") or os.getcwd())
    except OSError as exc:
        raise CliError(f"{brief}: cannot read: {exc.strerror}") from None
    command = handoff.handoff_command(brief, cwd, lane["command"], lane["sandbox"])
    if not args.run:
        if args.for_claude:
            print(_for_claude(brief, command, cwd))
        elif args.json:
            tables.print_json({"brief": brief, "cwd": cwd, "command": command})
        else:
            print(command)
        return 0
    return _run(args, brief, cwd, lane)


def _for_claude(brief: str, command: str, cwd: str) -> str:
    """What /governor:handoff shows: the brief, then the one thing to run (in Claude Code when it can be)."""
    from governor.wiring import plugins

    codex_plugin = plugins.named(plugins.CODEX_PLUGIN, cwd)
    lines = [f"Hand-off brief: {brief}"]
    if codex_plugin:
        lines.append(f"With the Codex plugin ({', '.join(sorted(codex_plugin))}), type:")
        lines.append(f"/codex:rescue --fresh Carry out the hand-off brief in {brief} (working directory {cwd}).")
        lines.append(f"Or in a shell: {command}")
    else:
        lines.append(f"Run it in a shell (or `governor handoff --last --run`): {command}")
    return "\n".join(lines)


def _run(args: argparse.Namespace, brief: str, cwd: str, lane: dict[str, Any]) -> int:
    from governor.errors import CliError
    from governor.guards.route import codex_path
    from governor.lanes import handoff_run
    from governor.meter import db

    path = codex_path(lane["command"])
    if path is None:
        raise CliError(f"codex not found: {lane['command']!r} is not on PATH "
                       "(lanes.codex.command in budget.json)")
    if not os.path.isdir(cwd):
        raise CliError(f"the brief's working directory no longer exists: {cwd}")
    conn = db.connect()
    try:
        def progress(note: str) -> None:
            print(note, file=sys.stderr, flush=True)

        result = handoff_run.run_handoff(brief, path, cwd, lane["sandbox"], conn, args.timeout,
                                         None if args.json else progress)
    except OSError as exc:
        raise CliError(f"cannot run {path}: {exc.strerror or exc}") from None
    finally:
        conn.close()
    if args.json:
        tables.print_json(result)
    else:
        if result["message"]:
            print(result["message"])
        if result["error"]:
            print(f"codex: {result['error']}", file=sys.stderr)
        print(_tokens_line(dict(result)), file=sys.stderr)
    code = result["exit_code"]
    return code if 0 <= code < 256 else 1
