"""`governor doctor`: one line per check, ✓ / ✗ (· for information), exit 1 if any check fails."""

from __future__ import annotations

import argparse
from dataclasses import asdict
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from governor.reports.doctor_checks import Check


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("doctor", help="check the installation, wiring, hooks, ledger and config",
                            description="Check everything governor depends on; exit 1 if any check fails.")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--no-run", action="store_true", help="do not run the hook commands")
    parser.set_defaults(func=run)


def collect(run_hooks: bool = True) -> list[Check]:
    from governor.reports import doctor_checks as dc
    from governor.reports import doctor_ledger as dl
    from governor.reports import doctor_plugin as dp

    checks = [dc.check_python(), dc.check_config()]
    wiring, wired = dc.check_wiring(dp.plugin_active())
    checks += wiring + [dp.check_plugin(wired)]
    if run_hooks:
        checks += dc.check_commands(wired)
    checks += [dc.check_transcripts(), dc.check_transcript_retention(), dl.check_ledger()]
    recovery = dl.check_recovery()
    checks += [recovery] if recovery else []
    checks += [dl.check_captures(), dc.check_codex(), dc.check_router(), dc.check_kill_switch()]
    return checks


def run(args: argparse.Namespace) -> int:
    from governor.fmt import paint, use_color
    from governor.reports.tables import print_json

    checks = collect(run_hooks=not args.no_run)
    failed = any(c.status == "fail" for c in checks)
    if args.json:
        print_json({"ok": not failed, "checks": [asdict(c) for c in checks]})
        return 1 if failed else 0
    color = use_color()
    marks = {"ok": paint("✓", "green", color), "fail": paint("✗", "red", color),
             "info": paint("·", "dim", color)}
    for check in checks:
        print(f"{marks[check.status]} {check.name}: {check.detail}")
        for line in check.lines:
            print(f"    {line}")
    print(paint("some checks failed" if failed else "all checks passed", "red" if failed else "green", color))
    return 1 if failed else 0
