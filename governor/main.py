"""`governor` command line: argparse wiring only. Each command module registers its subparser and
returns an int exit code; heavy imports happen inside the commands."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
from collections.abc import Iterator

from governor import __version__
from governor.errors import GovernorError, LedgerBusy

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing costs ~2 ms per report
    from typing import NoReturn

# One module per command under governor/commands/, each with register(subparsers).
COMMAND_MODULES = (
    "install",
    "uninstall",
    "doctor",
    "status",
    "daily",
    "sessions",
    "blocks",
    "backtest",
    "report",
    "tier",
    "calibrate",
    "feasibility",
    "statusline",
    "memory",
    "handoff",
    "router",
    "demo",
    "sync",
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one clear line instead of argparse's usage dump
        self.exit(2, f"governor: {message} (see 'governor {self._sub_name()}--help')\n")

    def _sub_name(self) -> str:
        parts = self.prog.split()[1:]
        return (" ".join(parts) + " ") if parts else ""

    def _get_formatter(self) -> argparse.HelpFormatter:
        # argparse's own asks shutil for the terminal width, on every add_argument too, and shutil imports
        # ~2 ms of compression modules into every command: the same width, found as shutil finds it
        return self.formatter_class(prog=self.prog, width=_columns() - 2)  # type: ignore[call-arg]


def _columns() -> int:
    """shutil.get_terminal_size().columns: $COLUMNS, else the terminal's, else 80."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns if columns > 0 else 80


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole command line, or with `only` (a command name) just that command's subparser: parsing
    `governor daily --json` need not import the fourteen other command modules (~0.1 s)."""
    parser = _Parser(
        prog="governor", description="Meter, pace and route a Claude Code subscription's budget."
    )
    parser.add_argument("--version", action="version", version=f"governor {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMAND_MODULES if only is None else (only,):
        importlib.import_module(f"governor.commands.{name}").register(sub)
    return parser


@contextlib.contextmanager
def error_handler() -> Iterator[None]:
    """Every command runs inside this: an expected error is one line and its exit code; a busy ledger says
    so; anything else is one line naming the log, with the traceback in governor.log, and exit 3."""
    try:
        yield
    except GovernorError as exc:
        _fail(str(exc), exc.exit_code)
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except BrokenPipeError:  # `governor daily | head`: the reader left, nothing to say
        raise SystemExit(0) from None
    except Exception as exc:  # noqa: BLE001 - the one place that turns a bug into one line
        from governor.fastsqlite import sqlite3
        from governor.log import log
        from governor.paths import log_path

        log(f"governor {' '.join(sys.argv[1:2])} failed: {type(exc).__name__}: {exc}", exc)
        if _set_aside(exc):
            _fail(f"the ledger was corrupt ({exc}); it was set aside, salvaged and is rebuilt from the transcripts:"
                  f" run 'governor {' '.join(sys.argv[1:2])}' again", 1)
        if isinstance(exc, sqlite3.OperationalError) and ("locked" in str(exc) or "busy" in str(exc)):
            _fail(str(LedgerBusy()), LedgerBusy.exit_code)
        _fail(f"unexpected error ({type(exc).__name__}: {exc}); the traceback is in {log_path()}", 3)


# Commands that only read and report: when the ledger turns out corrupt mid-way they run once more on the
# salvaged, rebuilt one. Others (install, hand-off runs) say so and stop: a second run may repeat an effect.
RERUN_AFTER_REBUILD = frozenset(
    ("status", "daily", "sessions", "report", "tier", "calibrate", "feasibility", "router", "doctor"))


def _set_aside(exc: BaseException) -> bool:
    """A corrupt ledger (db.is_corrupt): moved aside, and salvaged into a new one now (its summary goes to
    stderr through db.on_recovery). False for any other error."""
    from governor.fastsqlite import sqlite3
    from governor.meter import db

    if not isinstance(exc, sqlite3.DatabaseError) or not db.is_corrupt(exc):
        return False
    from governor.meter import salvage

    db.quarantine(exc)  # a no-op when another process set this file aside first
    try:
        salvage.connect().close()  # reads what the old file still holds into a new ledger
    except sqlite3.Error as again:  # busy: the next command salvages it
        from governor.log import log

        log(f"ledger salvage deferred: {again}", again)
    return True


def _run(args: argparse.Namespace) -> int:
    try:
        return int(args.func(args))
    except Exception as exc:  # noqa: BLE001 - re-raised unless it was a corrupt ledger, now rebuilt
        if args.command not in RERUN_AFTER_REBUILD or not _set_aside(exc):
            raise
        from governor.log import log

        log(f"governor {args.command}: the ledger was corrupt ({exc}); run again on the salvaged one", exc)
    return int(args.func(args))


def _report_recovery(line: str) -> None:
    print(f"governor: {line}", file=sys.stderr)


def _fail(message: str, code: int) -> NoReturn:
    for line in message.splitlines() or ["error"]:
        print(f"governor: {line}", file=sys.stderr)
    raise SystemExit(code)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["statusline"]:  # hot path: skip building every subparser
        from governor.statusline.run import run_fast

        return run_fast(argv[1:])
    # A command named first parses the same with its own subparser alone (help and errors included).
    parser = build_parser(argv[0] if argv[:1] and argv[0] in COMMAND_MODULES else None)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    with error_handler():
        from governor.meter import db

        db.on_recovery = _report_recovery
        return _run(args)
    raise AssertionError("unreachable: error_handler() raises SystemExit on every error")
