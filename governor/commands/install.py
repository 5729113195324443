"""`governor install`: wire governor's hooks and status line into a Claude Code settings file
(and, with --codex, its UserPromptSubmit hook into $CODEX_HOME/hooks.json)."""

from __future__ import annotations

import argparse
import os

from governor.wiring.installer import SCOPES, Outcome

CODEX_TRUST = (
    "Codex runs a new hook only after you trust it: start `codex`, type /hooks, select governor's "
    "UserPromptSubmit hook and press t. Until then (and always in `codex exec`) Codex skips it silently. "
    "Re-trust after every `governor install --codex` that changed the hook (a new path changes its hash)."
)


def add_target_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scope", choices=SCOPES, default="user",
                        help="user: <CLAUDE_CONFIG_DIR or ~/.claude>/settings.json; project: "
                             ".claude/settings.json; local: .claude/settings.local.json (default: user)")
    parser.add_argument("--settings", metavar="PATH", help="this settings file instead of the scope's")
    parser.add_argument("--dry-run", action="store_true", help="print the diff, write nothing")
    parser.add_argument("--codex", action="store_true", help="also $CODEX_HOME/hooks.json")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("install", help="wire governor into Claude Code settings (safe, idempotent)",
                            description="Merge governor's hooks and status line into a Claude Code settings "
                                        "file. Everything else in the file is kept; a backup is taken first.")
    add_target_args(parser)
    parser.add_argument("--plugin", action="store_true",
                        help="for the Claude Code plugin route (/governor:setup): the plugin runs the hooks, so "
                             "write only the status line and budget.json")
    parser.set_defaults(func=run)


def target(args: argparse.Namespace) -> tuple[str, str]:
    from governor.wiring.installer import scope_path

    if args.settings:
        return os.path.abspath(os.path.expanduser(args.settings)), "--settings"
    return scope_path(args.scope), f"{args.scope} scope"


def report(out: Outcome, label: str, dry_run: bool) -> None:
    if dry_run:
        print(out.diff.rstrip("\n") if out.changed else f"{out.path} ({label}): no change needed")
        for note in out.notes:
            print(f"# {note}")
        return
    if out.changed:
        print(f"{out.path} ({label}):")
        for action in out.actions:
            print(f"  {action}")
    else:
        print(f"{out.path} ({label}): " + ("already up to date" if out.actions else "nothing to do"))
    if out.backup:
        print(f"  backup of the previous file: {out.backup}")
    for note in out.notes:
        print(f"  {note}")


def build_ledger() -> None:
    """The first scan of this week's transcripts, here (with a progress bar) rather than inside the
    first prompt's hook. Never fails the install: the hooks warm the ledger up by themselves too."""
    import time

    from governor import config, paths
    from governor.errors import ConfigError
    from governor.fastsqlite import sqlite3
    from governor.meter import budget_state, db, salvage
    from governor.reports.refresh import ingest_with_progress

    started = time.monotonic()
    try:
        conn = salvage.connect()
        since = budget_state.cycle_start_for(config.load_config(), conn, time.time())
        stats = ingest_with_progress(conn, paths.transcript_roots(), since)
    except (OSError, sqlite3.Error, ConfigError) as exc:
        if db.quarantine(exc) is not None:  # corrupt: set aside, salvaged into a new one by the next command
            print(f"Ledger: the old one is corrupt ({exc}) and was set aside; the next governor command"
                  " salvages what it holds, the hooks rebuild it from the transcripts as you work.")
            return
        print(f"Ledger: not built now ({exc}); the hooks will build it as you work.")
        return
    print(f"Ledger: read {stats.files_read} transcript(s) of this week, {stats.records:,} responses "
          f"({time.monotonic() - started:.1f} s).")


def run(args: argparse.Namespace) -> int:
    from governor.errors import CliError, SettingsError
    from governor.wiring import installer

    path, label = target(args)
    try:
        wiring = installer.plugin_wiring() if args.plugin else installer.claude_wiring()
        outcomes = [(installer.install(path, wiring, args.dry_run), label)]
        if args.codex:
            codex = installer.install(installer.codex_hooks_path(), installer.codex_wiring(), args.dry_run)
            outcomes.append((codex, "Codex hooks"))
    except SettingsError as exc:
        raise CliError(str(exc)) from None
    for out, where in outcomes:
        report(out, where, args.dry_run)
    if args.dry_run:
        print("# dry run: nothing was written")
        return 0
    installer.record_interpreter()
    if args.plugin:
        print(f"The plugin's hooks and the status line run {installer.python()}.")
    else:
        print(f"Hooks run {installer.python()} on the scripts in {installer.hooks_dir()}.")
    build_ledger()
    if args.codex and outcomes[-1][0].changed:
        print(CODEX_TRUST)
    undo = f"--settings {path}" if args.settings else f"--scope {args.scope}"
    undo += " --codex" if args.codex else ""
    print(f"Check with `governor doctor`; undo with `governor uninstall {undo}`.")
    return 0
