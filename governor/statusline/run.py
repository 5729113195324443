"""`governor statusline`: Claude Code's statusLine command.

Reads the status-line JSON on stdin, records the official `rate_limits` (and a fresh
`cachedUsageUtilization` from .claude.json) as captures, brings this session's transcripts into the
ledger (appended bytes only, bounded), and prints one line. A configured `statusline.chain` command
runs concurrently with the same stdin; its lines come first. Fail-open like the hooks: on any error
the chained output (or nothing) is printed, one line goes to governor.log, and the exit code is 0.

Hot path: main.py calls run_fast() before building the argparse tree; only light modules load here.
"""

from __future__ import annotations

import os
import sys
import time

from governor.fastsqlite import sqlite3
from governor.log import log
from governor.paths import kill_switch_on

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing costs ~3 ms (it imports re) per hook run
    from typing import Any

BUSY_MS = 250  # wait this long for another writer (a long ingest), then render from the ledger as it is
MAX_INGEST_BYTES = 8 * 1024 * 1024  # more unread transcript than this is left to the hooks and the CLI
CODEX_FRESH_S = 6 * 3600  # an older Codex reading is not shown
MAX_PAYLOAD_BYTES = 1024 * 1024  # a real status-line payload is ~2 KB
HELP = """usage: governor statusline

Claude Code's statusLine command: reads the status-line JSON on stdin, records the official
rate_limits, prints one line (week spent with provenance, projection at reset, 5 h window,
context vs the pacing ceiling, Codex weekly). budget.json `statusline.chain` runs your previous
status-line command too. Never fails: errors go to governor.log.
"""


def run_fast(argv: list[str]) -> int:
    """Entry point (hot path). Always returns 0."""
    if any(a in ("-h", "--help") for a in argv):
        sys.stdout.write(HELP)
        return 0
    lines: list[str] = []
    chain = None
    try:
        data = b"" if sys.stdin is None or sys.stdin.isatty() else sys.stdin.buffer.read(MAX_PAYLOAD_BYTES + 1)
        config, chain_cfg = load()
        if isinstance(chain_cfg.get("chain"), str) and chain_cfg["chain"].strip():
            from governor.statusline.chain import Chain

            timeout_ms = chain_cfg.get("chain_timeout_ms")
            timeout_ms = timeout_ms if isinstance(timeout_ms, int) and 50 <= timeout_ms <= 30_000 else 2000
            chain = Chain(chain_cfg["chain"], data, timeout_ms / 1000)
        if config is not None and not kill_switch_on():
            lines.append(governor_line(data, config, time.time()))
            remember(lines[-1])
    except BaseException as exc:  # noqa: BLE001 - fail open on anything
        if not isinstance(exc, SystemExit) or exc.code not in (0, None):
            log(f"statusline failed open: {type(exc).__name__}: {exc}", exc)
            if isinstance(exc, sqlite3.Error) and not lines:  # a busy ledger: the last line, not a blank
                from governor.meter.db import set_aside_if_corrupt

                set_aside_if_corrupt(exc, "statusline")  # a corrupt one: moved aside, rebuilt by the next run
                lines.extend(last_line())
    if chain is not None:
        lines[:0] = chain.result()
    _write(lines)
    return 0


LAST_MAX_AGE_S = 15 * 60  # an older remembered line is not shown in place of a fresh one


def _last_path() -> str:
    from governor import paths

    return os.path.join(paths.state_dir(), "statusline.last")


def remember(line: str) -> None:
    """Keep the line just shown, so a status line that cannot be computed shows it instead of nothing.
    Written only when it changed: a rename of a few bytes, no lock (the last writer wins, any is fine)."""
    path = _last_path()
    data = line.encode("utf-8", "replace")
    try:
        with open(path, "rb") as fh:
            if fh.read(len(data) + 1) == data:
                os.utime(path)
                return
    except OSError:
        pass
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except OSError:
        pass


def last_line() -> list[str]:
    """The remembered line when it is recent, else nothing."""
    from governor.fsutil import read_regular

    path = _last_path()
    try:
        if time.time() - os.stat(path).st_mtime > LAST_MAX_AGE_S:
            return []
        text = read_regular(path, 4096).decode("utf-8", "replace")
    except (OSError, ValueError):
        return []
    return [text] if text.strip() else []


def load() -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """(validated config, its statusline section). With an invalid budget.json the config is None (logged)
    but the chain is still taken from the raw file: the person's previous status line keeps showing."""
    from governor.config import load_config, read_raw
    from governor.errors import ConfigError

    try:
        config = load_config()
        return config, config["statusline"]
    except ConfigError as exc:
        log(f"statusline: governor's line skipped: {' '.join(str(exc).splitlines())}")
    from governor.paths import budget_path

    try:
        section = read_raw(budget_path()).get("statusline")
    except (ConfigError, AttributeError):
        return None, {}
    return None, section if isinstance(section, dict) else {}


def _write(lines: list[str]) -> None:
    if not lines:
        return
    try:
        sys.stdout.write("\n".join(lines) + "\n")
        sys.stdout.flush()
    except OSError as exc:
        log(f"statusline: cannot write stdout: {exc}")


def parse_payload(data: bytes) -> dict[str, Any]:
    """{} when blank (run by hand in a terminal: the line without new captures)."""
    from governor.payload import parse

    return parse(data, MAX_PAYLOAD_BYTES)


def governor_line(data: bytes, config: dict[str, Any], now: float) -> str:
    from governor.meter import budget_state, db
    from governor.statusline import render

    payload = parse_payload(data)
    conn = db.connect(busy_ms=BUSY_MS)  # WAL readers never wait; the writes give up quickly
    try:
        update_ledger(conn, payload, config, now)
        state = budget_state.compute(conn, config, now)
        codex_pct = codex_weekly(conn, config, now)
        kept = kept_on_claude(conn, payload, now)
        run = run_share(conn, payload, config, state)
    finally:
        db.release(conn)
    return state_line(state, config, render.context_tokens(payload), codex_weekly_pct=codex_pct,
                      color=not os.environ.get("NO_COLOR"), kept_on_claude=kept, run_share=run)


def state_line(state: Any, config: dict[str, Any], context: int | None, codex_weekly_pct: float | None = None,
               color: bool = False, kept_on_claude: str | None = None, run_share: float | None = None) -> str:
    """The line for a budget state (the status line's, and the demo's at its moments)."""
    from governor.meter import budget_state
    from governor.statusline import render

    pace = state.pace
    binding = None
    if pace.spec.name != budget_state.WEEKLY:
        bands = config["pacing"]["five_hour_bands" if pace.spec.name == budget_state.FIVE_HOUR else "bands"]
        binding = render.Binding(pace.spec.short, pace.spent.fraction, pace.spent.source, pace.projected,
                                 bands or [{"projected_at": 1.0}])
    five = next((w for w in state.windows if w.spec.name == budget_state.FIVE_HOUR), None)
    scoped = [(w.spec.short, w.spent.fraction * 100) for w in state.windows
              if w.spec.kind == "weekly_scoped" and w is not pace]
    return render.render(
        state.spent.fraction, state.spent.source, state.projected, config["pacing"]["bands"],
        five_hour_pct=five.spent.fraction * 100 if five else None,
        context=context, ceiling=budget_state.ceiling_for(state),
        codex_weekly_pct=codex_weekly_pct, color=color, kept_on_claude=kept_on_claude,
        spent_range=(state.spent.low, state.spent.high),
        run_share=run_share, binding=binding, scoped=scoped, extra=extra_short(state.extra),
    )


def extra_short(extra: Any) -> str | None:
    """'extra $12.40/$50.00' while extra usage is enabled and a reading says what it spent."""
    from governor.policy import windows

    if extra is None or not extra.is_enabled or extra.used_credits is None:
        return None
    used = windows.money(extra.used_credits, extra.currency)
    return f"extra {used}" + (f"/{windows.money(extra.monthly_limit, extra.currency)}" if extra.monthly_limit else "")


def run_share(conn: sqlite3.Connection, payload: dict[str, Any], config: dict[str, Any], state: Any) -> float | None:
    """This session's run share of the weekly cap, once it passes pacing.run_warn_fraction."""
    from governor.guards import run_state

    session = payload.get("session_id")
    if not isinstance(session, str) or not session:
        return None
    try:
        facts = run_state.run_share(conn, config, session, state)
    except sqlite3.Error:
        return None
    if facts is None or facts.share < float(config["pacing"]["run_warn_fraction"]):
        return None
    return facts.share


KEPT_NOTE_SECONDS = 3600  # how long the line says why a hand-off stayed on Claude


def kept_on_claude(conn: sqlite3.Connection, payload: dict[str, Any], now: float) -> str | None:
    """Why this session's last hand-off-class prompt stayed on Claude (Codex hot, missing, disabled)."""
    from governor.lanes.router_events import latest_reason

    session = payload.get("session_id")
    if not isinstance(session, str) or not session:
        return None
    try:
        return latest_reason(conn, session, now - KEPT_NOTE_SECONDS)
    except sqlite3.Error:
        return None


def update_ledger(conn: sqlite3.Connection, payload: dict[str, Any], config: dict[str, Any],
                  now: float) -> None:
    """Captures (status line, .claude.json) in one transaction, then this session's new transcript bytes;
    skipped (logged) when another process holds the write lock longer than BUSY_MS."""
    from governor.meter import db, official

    session = payload.get("session_id")
    session = session if isinstance(session, str) and session else None
    try:
        with db.transaction(conn):
            fresh_s = float(config["calibration"]["fresh_minutes"]) * 60
            official.record_rate_limits(conn, payload.get("rate_limits"), now, session,
                                        refresh_after_s=min(official.REFRESH_S, fresh_s / 4))
            max_age = float(config["calibration"]["claude_json_max_age_minutes"])
            official.import_claude_json(conn, now, max_age)
        ingest_session(conn, payload.get("transcript_path"))
        if (config.get("sync") or {}).get("dir"):  # other machines' records in, this one's out, throttled
            from governor.meter import sync

            sync.tick(conn, config, now)
    except sqlite3.OperationalError as exc:
        log(f"statusline: ledger update skipped: {exc}")


def ingest_session(conn: sqlite3.Connection, transcript_path: Any) -> None:
    """This session's transcript and subagent files, appended bytes only (ledger.ingest `only=`), so the
    cost is independent of the corpus; other sessions are left to the hooks and the CLI. Bounded: a
    backlog over MAX_INGEST_BYTES (a long session never ingested) is left to them too."""
    from governor import paths
    from governor.meter import ledger, tail, transcript_files

    roots = paths.transcript_roots()
    files = transcript_files.session_files(transcript_path, roots)
    pending = 0
    for file_path, _project, st in files:
        start = tail.start_offset(st, tail.load_cursor(conn, file_path))
        pending += 0 if start is None else st.st_size - start
    if 0 < pending <= MAX_INGEST_BYTES:
        ledger.ingest(conn, roots, parallel=False, only=files)


def codex_weekly(conn: sqlite3.Connection, config: dict[str, Any], now: float) -> float | None:
    """Codex's account-wide weekly % when the lane is on, shown, and read within CODEX_FRESH_S."""
    if not (config["lanes"]["codex"]["enabled"] and config["statusline"]["show_codex"]):
        return None
    from governor import paths

    if not os.path.isdir(paths.codex_home()):  # no Codex on this machine: no mirror to refresh or show
        return None
    from governor.meter import codex_limits, codex_refresh

    codex_refresh.refresh(conn, now, event="statusline", read_bytes=MAX_INGEST_BYTES)
    weekly = codex_limits.account_window(conn, "weekly", now)
    if not weekly or weekly["used_pct"] is None or weekly["age_s"] > CODEX_FRESH_S:
        return None
    return float(weekly["used_pct"])
