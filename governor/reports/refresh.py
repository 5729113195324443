"""Bring the ledger up to date before a report: incremental ingest of the Claude transcripts (and
Codex rollouts once that lane is ingested), with a progress bar on a TTY for long first scans."""

from __future__ import annotations

import argparse
import os
import sys
import time

from governor import paths
from governor.config import load_config
from governor.fastsqlite import sqlite3
from governor.meter import ledger, salvage

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing costs ~2 ms per report
    from typing import Any


def add_source_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--claude-dir",
        action="append",
        metavar="DIR",
        help="read transcripts from DIR (a Claude config dir or its projects/); repeatable",
    )


def add_machine_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--machine", metavar="NAME|this|all",
                        help="only one machine's records (sync: README, Several machines); default all")


def machine_filter(conn: sqlite3.Connection, args: argparse.Namespace) -> str | None:
    """--machine as usage's filter: None every machine, "" this one, else an id (CliError when unknown)."""
    value = getattr(args, "machine", None)
    if value is None or value == "all":
        return None
    from governor.meter import sync

    return sync.resolve(conn, value)


def machine_split(conn: sqlite3.Connection, config: dict[str, Any], start: float | None, end: float | None,
                  machine: str | None) -> str:
    """The human reports' per-machine line ("by machine: laptop 61% · desktop 39%"), or "" when the ledger
    holds one machine's records only."""
    if machine is not None or conn.execute("SELECT 1 FROM usage WHERE machine IS NOT NULL LIMIT 1").fetchone() is None:
        return ""
    from governor.meter import sync

    rows = sync.machines(conn, config, time.time(), start, end, units=True)
    total = sum(r["weighted_units"] for r in rows)
    if total <= 0:
        return ""
    parts = [f"{r['name']}{' (this)' if r['this'] else ''} {100 * r['weighted_units'] / total:.0f}%" for r in rows
             if r["weighted_units"] > 0]
    return "by machine: " + " · ".join(parts)


class ProgressBar:
    """A one-line bar on stderr, only on a TTY and only for scans big enough to notice."""

    def __init__(self, min_bytes: int = 64 * 1024 * 1024) -> None:
        self.enabled = sys.stderr.isatty()
        self.min_bytes = min_bytes
        self.shown = False
        self.last = 0.0

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or total < self.min_bytes:
            return
        now = time.monotonic()
        if now - self.last < 0.1 and done < total:
            return
        self.last = now
        width = 30
        filled = int(width * done / max(total, 1))
        sys.stderr.write(
            f"\rgovernor: reading transcripts [{'#' * filled}{'.' * (width - filled)}] "
            f"{done / 1e6:,.0f}/{total / 1e6:,.0f} MB"
        )
        sys.stderr.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            sys.stderr.write("\n")


def day_range(args: argparse.Namespace) -> tuple[Any, float | None, float | None]:
    """(zone, start, end) from --tz/--since/--until: local days in that zone, epoch seconds; CliError on
    a bad date or zone."""
    from governor import timeutil
    from governor.errors import CliError

    try:
        tz = timeutil.zone(args.tz)
        start = timeutil.day_start(timeutil.parse_day(args.since), tz) if args.since else None
        end = timeutil.day_end(timeutil.parse_day(args.until), tz) if args.until else None
    except ValueError as exc:
        raise CliError(str(exc)) from None
    return tz, start, end


def ingest_with_progress(conn: sqlite3.Connection, roots: list[str], since: float | None) -> Any:
    """ledger.ingest with the progress bar (shown on a TTY for a long first scan)."""
    bar = ProgressBar()
    try:
        return ledger.ingest(conn, roots, since=since, progress=bar)
    finally:
        bar.close()


def refreshed(
    args: argparse.Namespace, since: float | None = None
) -> tuple[sqlite3.Connection, Any, dict[str, Any]]:
    """(ledger connection, ingest stats, config) after an incremental ingest."""
    config = load_config()
    conn = salvage.connect()  # a ledger set aside as corrupt is salvaged first
    stats = ingest_with_progress(conn, paths.transcript_roots(getattr(args, "claude_dir", None)), since)
    if os.path.exists(paths.codex_home()):  # no Codex on this machine: nothing to read (nor to import)
        from governor.meter import codex_ingest

        codex_ingest.ingest_codex(conn, time.time(), since=since)
    if (config.get("sync") or {}).get("dir"):  # this machine's records out, the other machines' in
        from governor.meter import sync

        problem = sync.refresh(conn, config)
        if problem:
            print(f"governor: {problem}", file=sys.stderr)
    return conn, stats, config


def nothing_found_message(stats: Any) -> str:
    looked = ", ".join(stats.roots) or "(no directories)"
    return (
        f"No Claude Code transcripts found. Looked in: {looked}\n"
        "Point governor elsewhere with --claude-dir DIR or CLAUDE_CONFIG_DIR=DIR[,DIR2] "
        "(a Claude config dir holding projects/)."
    )


def has_any_usage(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM usage LIMIT 1").fetchone() is not None
