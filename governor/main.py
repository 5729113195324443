"""`governor` command line: argparse wiring only. Each command module registers its subparser and
returns an int exit code; heavy imports happen inside the commands."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import sys
from collections.abc import Iterator
from typing import NoReturn

from governor import __version__
from governor.errors import GovernorError, LedgerBusy

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
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one clear line instead of argparse's usage dump
        self.exit(2, f"governor: {message} (see 'governor {self._sub_name()}--help')\n")

    def _sub_name(self) -> str:
        parts = self.prog.split()[1:]
        return (" ".join(parts) + " ") if parts else ""


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="governor", description="Meter, pace and route a Claude Code subscription's budget."
    )
    parser.add_argument("--version", action="version", version=f"governor {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMAND_MODULES:
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
        import sqlite3

        from governor.log import log
        from governor.paths import log_path

        log(f"governor {' '.join(sys.argv[1:2])} failed: {type(exc).__name__}: {exc}", exc)
        if isinstance(exc, sqlite3.OperationalError) and ("locked" in str(exc) or "busy" in str(exc)):
            _fail(str(LedgerBusy()), LedgerBusy.exit_code)
        _fail(f"unexpected error ({type(exc).__name__}: {exc}); the traceback is in {log_path()}", 3)


def _fail(message: str, code: int) -> NoReturn:
    for line in message.splitlines() or ["error"]:
        print(f"governor: {line}", file=sys.stderr)
    raise SystemExit(code)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["statusline"]:  # hot path: skip building every subparser
        from governor.statusline.run import run_fast

        return run_fast(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    with error_handler():
        return int(args.func(args))
    raise AssertionError("unreachable: error_handler() raises SystemExit on every error")
