"""`governor` command line: argparse wiring only. Each command module registers its subparser and
returns an int exit code; heavy imports happen inside the commands."""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import NoReturn

from governor import __version__

# One module per command under governor/commands/, each with register(subparsers).
COMMAND_MODULES = (
    "install",
    "uninstall",
    "doctor",
    "status",
    "daily",
    "sessions",
    "tier",
    "calibrate",
    "feasibility",
    "statusline",
    "memory",
    "handoff",
    "router",
    "demo",
)


class CliError(Exception):
    """A user-facing error: printed as one line, exit code 2."""


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


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["statusline"]:  # hot path: skip building every subparser
        from governor.commands import statusline

        return statusline.run_fast(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    from governor.config import ConfigError

    try:
        return int(args.func(args))
    except (CliError, ConfigError) as exc:
        for line in str(exc).splitlines() or ["error"]:
            print(f"governor: {line}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("governor: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
