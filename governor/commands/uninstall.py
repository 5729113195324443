"""`governor uninstall`: remove governor's entries (only those) and give back the chained status line."""

from __future__ import annotations

import argparse

from governor.commands.install import add_target_args, report, target


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("uninstall", help="remove governor's entries from Claude Code settings",
                            description="Remove only governor's hooks and status line from a settings "
                                        "file and restore the status line governor was chaining. A backup is "
                                        "taken first.")
    add_target_args(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from governor.errors import CliError, SettingsError
    from governor.wiring import installer

    path, label = target(args)
    try:
        outcomes = [(installer.uninstall(path, dry_run=args.dry_run), label)]
        if args.codex:
            codex = installer.uninstall(installer.codex_hooks_path(), status_line=False, dry_run=args.dry_run)
            outcomes.append((codex, "Codex hooks"))
    except SettingsError as exc:
        raise CliError(str(exc)) from None
    for out, where in outcomes:
        report(out, where, args.dry_run)
    if args.dry_run:
        print("# dry run: nothing was written")
    elif args.codex and outcomes[-1][0].changed:
        print("Codex may still list a trust entry for the removed hook under [hooks.state] in "
              "$CODEX_HOME/config.toml; it is harmless and can be deleted.")
    return 0
