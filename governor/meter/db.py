"""The ledger database: one SQLite file (WAL) holding every table governor keeps.

The usage tables are a cache of the transcripts and rollouts: when the file is missing, corrupt or of
an older schema it is moved aside and rebuilt by the next ingest; nothing of the user's is lost.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from governor import paths
from governor.fastsqlite import sqlite3
from governor.log import log
from governor.policy import pricing

SCHEMA_VERSION = 12
MIGRATABLE = (6, 7, 8, 9, 10, 11)  # older versions whose usage rows are kept (see _migrate)

# Roll-ups kept exact by triggers (table, bucket column, seconds): a hook sums a week from ~170 hourly rows
# per model, the edge hours from 5-minute rows, and only the last few minutes from raw responses. Rows are
# apart per long-context flag and carry the cache-write split, so reports price from them exactly too.
ROLLUPS = (("usage_hourly", "hour", 3600), ("usage_rollup", "bucket", 300))
# Reports fold days from quarter hours (every zone offset in use is a multiple of 15 minutes): a roll-up of
# their own, clustered by its key (WITHOUT ROWID: read in order, no sort), spares a month's `daily` grouping
# ~50,000 five-minute rows into ~17,000 quarters (~35 of its ~50 ms of SQL). Hooks sum from ROLLUPS alone.
QUARTERS = ("usage_quarter", "quarter", 900)
ALL_ROLLUPS = ROLLUPS + (QUARTERS,)
ROLLUP_TRIGGERS = ("usage_rollup_insert", "usage_rollup_update", "usage_rollup_delete")
_SUMS = ("input", "output", "cache_creation", "cache_read", "cache_5m", "cache_1h", "web_search")


def _long_context(row: str = "") -> str:
    """SQL: 1 when a request's prompt exceeded the long-context threshold (priced apart for some models);
    `row` prefixes the columns ("new." in a trigger)."""
    return f"({row}input + {row}cache_creation + {row}cache_read > {pricing.LONG_CONTEXT_TOKENS})"


LONG_CONTEXT = _long_context()


def _rollup_table(table: str, column: str) -> str:
    clustered = " WITHOUT ROWID" if table == QUARTERS[0] else ""
    return (f"CREATE TABLE IF NOT EXISTS {table}(\n    {column} INTEGER NOT NULL, model TEXT NOT NULL,\n    "
            "long_context INTEGER NOT NULL, "
            + ", ".join(f"{c} INTEGER NOT NULL" for c in _SUMS)
            + f", responses INTEGER NOT NULL,\n    PRIMARY KEY({column}, model, long_context)\n){clustered};\n")


def _values(row: str) -> tuple[str, str, list[str]]:
    """A usage row's (model, long-context flag, summed values) as SQL over `row` (new or old) in a trigger."""
    sums = [f"COALESCE({row}.{c}, 0)" if c in ("cache_5m", "cache_1h") else f"{row}.{c}" for c in _SUMS]
    return f"COALESCE({row}.model, '')", _long_context(f"{row}."), sums


def _rollup_add(table: str, column: str, seconds: int) -> str:
    model, long_context, sums = _values("new")
    added = ", ".join(f"{c} = {c} + excluded.{c}" for c in _SUMS)
    return (f"    INSERT INTO {table} VALUES(CAST(new.ts / {seconds} AS INTEGER), {model}, {long_context}, "
            + ", ".join(sums)
            + f", 1)\n    ON CONFLICT({column}, model, long_context) DO UPDATE SET {added},"
            " responses = responses + 1;\n")


def _rollup_remove(table: str, column: str, seconds: int) -> str:
    model, long_context, sums = _values("old")
    removed = ", ".join(f"{c} = {c} - {v}" for c, v in zip(_SUMS, sums, strict=True))
    return (f"    UPDATE {table} SET {removed}, responses = responses - 1\n"
            f"    WHERE {column} = CAST(old.ts / {seconds} AS INTEGER) AND model = {model}"
            f" AND long_context = {long_context};\n")


ACCOUNT_SCHEMA = """
CREATE TABLE IF NOT EXISTS cost_state(  -- Claude Code's own cumulative account of a session, per line read
    path TEXT NOT NULL, offset INTEGER NOT NULL, session_id TEXT NOT NULL, ts REAL NOT NULL,
    project TEXT, model TEXT NOT NULL, input INTEGER NOT NULL, output INTEGER NOT NULL, cache_creation INTEGER NOT NULL,
    cache_read INTEGER NOT NULL, cache_5m INTEGER NOT NULL, cache_1h INTEGER NOT NULL,
    web_search INTEGER NOT NULL,
    PRIMARY KEY(path, offset, model)
);
CREATE INDEX IF NOT EXISTS cost_state_session ON cost_state(session_id, ts);
CREATE TABLE IF NOT EXISTS lineage(     -- a fork and the session it was forked from
    session_id TEXT PRIMARY KEY, parent TEXT NOT NULL, forked_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS lineage_parent ON lineage(parent);
CREATE INDEX IF NOT EXISTS usage_client_account ON usage(ts) WHERE source = 'client-account';
"""

WINDOW_SCHEMA = """
CREATE TABLE IF NOT EXISTS window_labels(  -- a model-scoped weekly window's name as the server sent it
    window TEXT PRIMARY KEY, display_name TEXT NOT NULL, seen_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS extra_usage(    -- extra-usage (overage) readings, one row per change
    id INTEGER PRIMARY KEY, captured_at REAL NOT NULL, source TEXT NOT NULL, is_enabled INTEGER NOT NULL,
    monthly_limit REAL, used_credits REAL, utilization REAL, currency TEXT  -- minor units (cents)
);
"""
ROLLUP_SCHEMA = (
    "".join(_rollup_table(t, c) for t, c, _s in ALL_ROLLUPS)
    + "CREATE TRIGGER IF NOT EXISTS usage_rollup_insert AFTER INSERT ON usage BEGIN\n"
    + "".join(_rollup_add(*r) for r in ALL_ROLLUPS)
    + "END;\nCREATE TRIGGER IF NOT EXISTS usage_rollup_update AFTER UPDATE ON usage BEGIN\n"
    + "".join(_rollup_remove(*r) for r in ALL_ROLLUPS)
    + "".join(_rollup_add(*r) for r in ALL_ROLLUPS)
    + "END;\nCREATE TRIGGER IF NOT EXISTS usage_rollup_delete AFTER DELETE ON usage BEGIN\n"
    + "".join(_rollup_remove(*r) for r in ALL_ROLLUPS)
    + "END;\n"
)

SCHEMA = (
    """
CREATE TABLE IF NOT EXISTS files(
    path TEXT PRIMARY KEY,
    kind TEXT NOT NULL,                 -- 'claude' | 'codex'
    dev INTEGER, ino INTEGER,
    offset INTEGER NOT NULL DEFAULT 0,  -- bytes consumed (complete lines only)
    size INTEGER, mtime_ns INTEGER,
    bad_lines INTEGER NOT NULL DEFAULT 0,
    state TEXT,                         -- per-file parser state (JSON), e.g. Codex running totals
    updated_at REAL
);
CREATE TABLE IF NOT EXISTS usage(       -- one row per de-duplicated Claude API response
    key TEXT PRIMARY KEY,
    ts REAL NOT NULL, session_id TEXT, project TEXT, model TEXT,
    input INTEGER NOT NULL, output INTEGER NOT NULL,
    cache_creation INTEGER NOT NULL, cache_read INTEGER NOT NULL,
    cache_5m INTEGER, cache_1h INTEGER,
    sidechain INTEGER NOT NULL DEFAULT 0,
    web_search INTEGER NOT NULL DEFAULT 0,  -- server-side web search requests
    source TEXT NOT NULL DEFAULT 'transcript'  -- 'transcript' | 'client-account' (cost-state, see account.py)
);
CREATE INDEX IF NOT EXISTS usage_ts ON usage(ts);
CREATE INDEX IF NOT EXISTS usage_session ON usage(session_id, ts);
"""
    + ACCOUNT_SCHEMA
    + ROLLUP_SCHEMA
    + WINDOW_SCHEMA
    + """
CREATE TABLE IF NOT EXISTS captures(    -- official (or manually copied) /usage figures
    id INTEGER PRIMARY KEY,
    window TEXT NOT NULL,               -- five_hour | seven_day | seven_day_sonnet | ...
    used_pct REAL NOT NULL, resets_at REAL, captured_at REAL NOT NULL,
    source TEXT NOT NULL, session_id TEXT
);
CREATE INDEX IF NOT EXISTS captures_window ON captures(window, captured_at);
CREATE TABLE IF NOT EXISTS hook_state(  -- what a guard last said, for hysteresis
    session_id TEXT NOT NULL, guard TEXT NOT NULL, value TEXT, updated_at REAL,
    PRIMARY KEY(session_id, guard)
);
CREATE TABLE IF NOT EXISTS router_events(
    id INTEGER PRIMARY KEY, ts REAL NOT NULL, session_id TEXT,
    decision TEXT NOT NULL,             -- handoff | hold | pass | skipped
    prompt_head TEXT, brief_path TEXT, reason TEXT
);
CREATE INDEX IF NOT EXISTS router_events_ts ON router_events(ts);
CREATE TABLE IF NOT EXISTS handoff_runs(
    id INTEGER PRIMARY KEY, ts REAL NOT NULL, brief_path TEXT, exit_code INTEGER,
    thread_id TEXT, input INTEGER, cached_input INTEGER, output INTEGER, reasoning INTEGER
);
CREATE TABLE IF NOT EXISTS codex_usage( -- one row per de-duplicated Codex model response
    key TEXT PRIMARY KEY, ts REAL NOT NULL, model TEXT, thread_id TEXT, source TEXT,
    input INTEGER NOT NULL, cached_input INTEGER NOT NULL, output INTEGER NOT NULL,
    reasoning INTEGER NOT NULL, total INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS codex_usage_ts ON codex_usage(ts);
CREATE TABLE IF NOT EXISTS codex_limits(-- latest rate-limit snapshot per (limit_id, window)
    limit_id TEXT NOT NULL, window TEXT NOT NULL,   -- five_hour | weekly | monthly | minutes:<n>
    used_pct REAL NOT NULL, window_minutes INTEGER, resets_at REAL, observed_at REAL NOT NULL,
    limit_name TEXT, plan_type TEXT,
    PRIMARY KEY(limit_id, window)
);
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);
"""
)

# Several machines (meter/sync*.py): a usage row or capture merged from another machine's export carries
# that machine's id in `machine` (NULL: this machine's own). While export is on, this machine's rows that
# change queue their key in sync_outbox for the next export, by SYNC_TRIGGERS (created by export's enable,
# dropped by disable: a ledger without sync pays nothing per row). Schema 9 -> 10 adds only this (see
# _add_sync), so the migration from 9 reads nothing again.
SYNC_COLUMNS = (("usage", "machine TEXT"), ("captures", "machine TEXT"), ("captures", "sync_key TEXT"))
CAPTURE_KEY = "capture\t"  # an outbox key for a capture row: this prefix and its id (no response key has a tab)
SYNC_SCHEMA = """
CREATE UNIQUE INDEX IF NOT EXISTS captures_sync_key ON captures(sync_key) WHERE sync_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS usage_machine ON usage(machine, ts) WHERE machine IS NOT NULL;
CREATE TABLE IF NOT EXISTS sync_outbox(key TEXT PRIMARY KEY);  -- this machine's rows/captures to export
CREATE TABLE IF NOT EXISTS sync_versions(  -- replaceable foreign records (client-account, removals): last seq
    key TEXT PRIMARY KEY, machine TEXT NOT NULL, seq INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS sync_machines(  -- the machines seen in the sync dir (their machine.json)
    id TEXT PRIMARY KEY, name TEXT, last_export REAL, version INTEGER, updated_at REAL
);
"""


SYNC_TRIGGERS = f"""
CREATE TRIGGER IF NOT EXISTS sync_outbox_insert AFTER INSERT ON usage
WHEN new.machine IS NULL BEGIN
    INSERT INTO sync_outbox(key) SELECT new.key WHERE NOT EXISTS (SELECT 1 FROM sync_outbox WHERE key = new.key);
END;
CREATE TRIGGER IF NOT EXISTS sync_outbox_update AFTER UPDATE ON usage
WHEN new.machine IS NULL BEGIN
    INSERT INTO sync_outbox(key) SELECT new.key WHERE NOT EXISTS (SELECT 1 FROM sync_outbox WHERE key = new.key);
END;
CREATE TRIGGER IF NOT EXISTS sync_outbox_delete AFTER DELETE ON usage
WHEN old.machine IS NULL BEGIN
    INSERT INTO sync_outbox(key) SELECT old.key WHERE NOT EXISTS (SELECT 1 FROM sync_outbox WHERE key = old.key);
END;
CREATE TRIGGER IF NOT EXISTS sync_capture_insert AFTER INSERT ON captures
WHEN new.machine IS NULL BEGIN
    INSERT INTO sync_outbox(key) SELECT '{CAPTURE_KEY}' || new.id
    WHERE NOT EXISTS (SELECT 1 FROM sync_outbox WHERE key = '{CAPTURE_KEY}' || new.id);
END;
CREATE TRIGGER IF NOT EXISTS sync_capture_update AFTER UPDATE ON captures
WHEN new.machine IS NULL BEGIN
    INSERT INTO sync_outbox(key) SELECT '{CAPTURE_KEY}' || new.id
    WHERE NOT EXISTS (SELECT 1 FROM sync_outbox WHERE key = '{CAPTURE_KEY}' || new.id);
END;
"""
SYNC_TRIGGER_NAMES = ("sync_outbox_insert", "sync_outbox_update", "sync_outbox_delete", "sync_capture_insert",
                      "sync_capture_update")


def set_sync_triggers(conn: sqlite3.Connection, on: bool) -> None:
    """Inside a write transaction: create (or drop) the triggers that queue this machine's changes. (Not
    INSERT OR IGNORE: the outer statement's conflict handling, the ledger's upsert, would override it.)"""
    if on:
        for statement in _statements(SYNC_TRIGGERS):
            conn.execute(statement)
    else:
        for name in SYNC_TRIGGER_NAMES:
            conn.execute(f"DROP TRIGGER IF EXISTS {name}")


def _add_sync(conn: sqlite3.Connection) -> None:
    """Inside a write transaction: the sync columns, tables and triggers (idempotent)."""
    for table, column in SYNC_COLUMNS:
        if column.split()[0] not in {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {column}")
    for statement in _statements(SYNC_SCHEMA):
        conn.execute(statement)


_INODES: dict[str, tuple[int, int]] = {}  # path -> the (dev, ino) this process opened there
CORRUPT_CODES = (11, 26)  # SQLITE_CORRUPT, SQLITE_NOTADB (the primary code: the low byte)
CORRUPT_TAG = ".corrupt-"  # ledger.sqlite3.corrupt-<UTC stamp>: waiting for salvage.salvage_pending
SALVAGED = ".salvaged"  # ...corrupt-<stamp>.salvaged: read into a new ledger, kept for inspection

# When set (the CLI sets it), a salvage's one-line summary is also given to this (stderr).
on_recovery: Callable[[str], None] | None = None


def _open(path: str, busy_ms: int) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=busy_ms / 1000, isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout={int(busy_ms)}")
    # Takes effect only when the file is created: 16 KB pages make a first scan's million-row load and
    # its commit ~25% cheaper than the default 4 KB; an existing ledger keeps its page size.
    conn.execute("PRAGMA page_size=16384")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    if paths.exits_without_teardown:  # the WAL outlives this process (release): keep it short to replay
        conn.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
    return conn


def _ensure_schema(conn: sqlite3.Connection) -> None:
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version == SCHEMA_VERSION:
        return
    if version in MIGRATABLE:
        with transaction(conn):  # re-read inside the lock: a concurrent process may have migrated it
            if (current := conn.execute("PRAGMA user_version").fetchone()[0]) in MIGRATABLE:
                if current < 9:
                    _migrate(conn, current)
                _add_sync(conn)  # 9 -> 10: several machines (SYNC_SCHEMA)
                for statement in _statements(WINDOW_SCHEMA):  # 10 -> 11: the limit windows' tables
                    conn.execute(statement)
                _add_quarters(conn)  # 11 -> 12: the reports' quarter-hour roll-up
                conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
                log(f"ledger migrated from schema {version} to {SCHEMA_VERSION}")
        return
    if version != 0:  # an older cache: rebuilt from the transcripts
        raise sqlite3.DatabaseError(f"ledger schema {version}, expected {SCHEMA_VERSION}")
    with transaction(conn):
        if conn.execute("PRAGMA user_version").fetchone()[0] == 0:
            for statement in _statements(SCHEMA):
                conn.execute(statement)
            _add_sync(conn)
            conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")


def is_corrupt(exc: BaseException) -> bool:
    """The error SQLite gives for a damaged file ("database disk image is malformed", "file is not a
    database"), as opposed to a busy ledger, a constraint or a bug."""
    if not isinstance(exc, sqlite3.DatabaseError):
        return False
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF in CORRUPT_CODES
    text = str(exc)
    return "malformed" in text or "not a database" in text


def _move_aside(path: str, reason: str, tag: str = ".broken-") -> str:
    """Rename the ledger and its -wal/-shm to `<path><tag><UTC stamp>` (the same names SQLite gives a
    database's companions, so the copy opens with its WAL); returns the new name."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    target, n = f"{path}{tag}{stamp}", 1
    while os.path.lexists(target):
        n += 1
        target = f"{path}{tag}{stamp}-{n}"
    # Connections still open on the old file (here or in other processes) are safe to leave: SQLite sees
    # that their database was moved and, closing, neither checkpoints nor deletes `<path>-wal` (which is
    # then the new ledger's); tests/test_corrupt_ledger.py pins that.
    for suffix in ("", "-wal", "-shm"):
        try:
            os.replace(path + suffix, target + suffix)
        except OSError:
            pass
    _INODES.pop(path, None)
    rebuilt = "salvaged and rebuilt" if tag == CORRUPT_TAG else "rebuilt from the transcripts"
    log(f"ledger {path} moved aside to {target} ({reason}); it will be {rebuilt}")
    return target


def quarantine(exc: BaseException, path: str | None = None) -> str | None:
    """When `exc` says the ledger is corrupt: move it aside for salvage (a few renames, no reading: a hook
    can afford it) and return where it went. None when `exc` is another error, or when the file there is
    no longer the one this process opened (another process already moved it aside)."""
    if not is_corrupt(exc):
        return None
    path = path or paths.ledger_path()
    try:
        st = os.stat(path)
    except OSError:
        return None
    opened = _INODES.get(path)
    if opened is not None and opened != (st.st_dev, st.st_ino):
        return None
    return _move_aside(path, str(exc), CORRUPT_TAG)


def set_aside_if_corrupt(exc: BaseException, where: str) -> None:
    """For the hooks and the status line, which fail open: a corrupt ledger is moved aside (a few renames),
    the next run builds a new one from the transcripts within its ingest budget, and the next governor
    command salvages the old file into it (salvage reads the whole file: too slow for a prompt)."""
    try:
        quarantine(exc)
    except Exception as again:  # noqa: BLE001 - fail open: the next run tries again
        log(f"{where}: corrupt ledger not moved aside: {again}", again)


def connect(path: str | None = None, busy_ms: int = 5000) -> sqlite3.Connection:
    """Open (creating or rebuilding as needed) the ledger. Autocommit mode: use `transaction()`.
    A ledger found corrupt here is moved aside for salvage.connect (the CLI's way in) to read."""
    path = path or paths.ledger_path()
    paths.ensure_private_dir(os.path.dirname(path))
    fresh = not os.path.exists(path)
    try:
        conn = _open(path, busy_ms)
        if not fresh:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        _ensure_schema(conn)
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise
        _move_aside(path, str(exc), CORRUPT_TAG if is_corrupt(exc) else ".broken-")
        conn = _open(path, busy_ms)
        _ensure_schema(conn)
    except sqlite3.DatabaseError as exc:
        _move_aside(path, str(exc), CORRUPT_TAG if is_corrupt(exc) else ".broken-")
        conn = _open(path, busy_ms)
        _ensure_schema(conn)
    try:
        st = os.stat(path)
        _INODES[path] = (st.st_dev, st.st_ino)
    except OSError:
        pass
    for name in (path, path + "-wal", path + "-shm"):  # 0600 whatever the umask; older files fixed too
        try:
            if os.stat(name).st_mode & 0o077:
                os.chmod(name, 0o600)
        except OSError:
            pass
    return conn


def pending_salvage(path: str) -> list[str]:
    """Ledgers moved aside as corrupt beside `path` and not yet salvaged, oldest first."""
    directory, base = os.path.split(path)
    prefix = base + CORRUPT_TAG
    try:
        names = os.listdir(directory or ".")
    except OSError:
        return []
    return sorted(os.path.join(directory, n) for n in names if n.startswith(prefix)
                  and not n.endswith(("-wal", "-shm", "-journal")) and SALVAGED not in n)


_LEFT_OPEN: list[sqlite3.Connection] = []
# A hook's WAL is checkpointed once it holds this many pages (1 MB at 16 KB pages; a prompt writes ~7):
# the next process to open the ledger replays the whole WAL, ~0.4 ms per MB measured, so SQLite's default
# of 1,000 pages (16 MB) would cost a prompt up to ~6 ms; this costs two fsyncs every ~9 prompts.
WAL_AUTOCHECKPOINT_PAGES = 64


def release(conn: sqlite3.Connection) -> None:
    """Done with `conn`. Closing the last connection to a WAL ledger checkpoints it and deletes the WAL:
    two fsyncs at the close and two more when the next process re-creates the WAL (measured with strace:
    four per prompt). A process that ends with os._exit right after its work is committed
    (`paths.exits_without_teardown`: the hooks, the status line) keeps the connection referenced so that
    nothing closes it; the WAL then stays, SQLite's automatic checkpoint copies it back into the database
    on a later commit (every `WAL_AUTOCHECKPOINT_PAGES`), and the next process to open the ledger replays
    its committed frames, which is WAL's crash rule anyway: a hook killed mid-transaction leaves no partial
    write either way. Every other process closes normally."""
    if paths.exits_without_teardown:
        _LEFT_OPEN.append(conn)
    else:
        conn.close()


class transaction:  # noqa: N801 - used like a function: `with transaction(conn):`
    """BEGIN IMMEDIATE … COMMIT, rolled back on any exception (a killed process leaves no partial ingest).
    A class rather than @contextmanager: contextlib is one import fewer on every hook run."""

    def __init__(self, conn: sqlite3.Connection, immediate: bool = True) -> None:
        self.conn = conn
        self.immediate = immediate

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN IMMEDIATE" if self.immediate else "BEGIN")
        return self.conn

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self.conn.execute("COMMIT" if exc_type is None else "ROLLBACK")


def get_meta(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
    return row[0] if row else None


def set_meta(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute(
        "INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
        (key, value),
    )



def drop_usage_derivatives(conn: sqlite3.Connection) -> list[str]:
    """Inside a transaction, before a bulk load: drop the usage table's secondary indexes and roll-up
    triggers (a first scan inserts a million rows several times faster without them). Returns their SQL
    for restore_usage_derivatives; a rollback restores them by itself (SQLite DDL is transactional)."""
    # Sync's export queue must see a bulk load's rows: into an empty ledger its triggers go too (the queue is
    # then every own row, filled once by restore_usage_derivatives); otherwise they stay.
    empty = conn.execute("SELECT 1 FROM usage LIMIT 1").fetchone() is None
    rows = conn.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE tbl_name='usage' AND type IN ('index', 'trigger')"
        " AND sql IS NOT NULL" + ("" if empty else " AND name NOT LIKE 'sync_outbox_%'")
    ).fetchall()
    for kind, name, _sql in rows:
        conn.execute(f'DROP {kind.upper()} "{name}"')
    return [sql for _kind, _name, sql in rows]


def restore_usage_derivatives(conn: sqlite3.Connection, saved: list[str]) -> None:
    """Rebuild the roll-ups from the usage table and recreate what drop_usage_derivatives removed. The
    finest roll-up is summed from the responses, each coarser one from it (its buckets nest: seconds are
    multiples), which on a first scan of a million responses halves the work."""
    finest_table, finest_column, finest_seconds = min(ALL_ROLLUPS, key=lambda r: r[2])
    for table, _column, seconds in sorted(ALL_ROLLUPS, key=lambda r: r[2]):
        conn.execute(f"DELETE FROM {table}")
        if table == finest_table:
            sums = ", ".join(f"SUM(COALESCE({c}, 0))" for c in _SUMS)
            source = (f"SELECT CAST(ts / {seconds} AS INTEGER), COALESCE(model, ''), {LONG_CONTEXT}, {sums},"
                      " COUNT(*) FROM usage")
        else:
            source = _from_finer(seconds, (finest_table, finest_column, finest_seconds))
        conn.execute(f"INSERT INTO {table} {source} GROUP BY 1, 2, 3")
    for sql in saved:
        conn.execute(sql)
    if any("sync_outbox_insert" in sql for sql in saved):
        conn.execute("INSERT INTO sync_outbox(key) SELECT key FROM usage WHERE machine IS NULL"
                     " AND key NOT IN (SELECT key FROM sync_outbox)")


def _from_finer(seconds: int, finer: tuple[str, str, int]) -> str:
    """SQL summing the roll-up `finer` into buckets of `seconds` (GROUP BY 1, 2, 3 to follow): integer
    division truncates like CAST does, so the buckets nest for any ts."""
    table, column, step = finer
    assert seconds % step == 0, (seconds, step)
    sums = ", ".join(f"SUM({c})" for c in _SUMS)
    return f"SELECT {column} * {step} / {seconds}, model, long_context, {sums}, SUM(responses) FROM {table}"


def _rollup_schema_anew(conn: sqlite3.Connection) -> None:
    """The roll-up tables (IF NOT EXISTS) and the roll-up triggers as ROLLUP_SCHEMA has them now."""
    for trigger in ROLLUP_TRIGGERS:
        conn.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    for statement in _statements(ROLLUP_SCHEMA):
        conn.execute(statement)


def _migrate(conn: sqlite3.Connection, version: int) -> None:
    """Inside a write transaction: bring a MIGRATABLE ledger to SCHEMA_VERSION, keeping every row of
    usage, captures, router events and hook state. 6 -> 7 changed only the roll-ups (a long-context flag
    and the cache-write split); 7 -> 8 adds web searches, the row source and Claude Code's cost-state
    account. The roll-ups are dropped and summed anew from the responses, and the Claude transcripts are
    read again from the start (the upserts are idempotent) so the cost-state lines, web searches and
    fork attribution already on disk are metered; rows whose transcript is gone keep what they had.
    8 -> 9 keys Codex delta rows by their counter's thread instead of their timestamp ("t:<thread>:<total
    tuple>", meter/codex.py): the "t:" rows of every rollout on record are dropped and those rollouts
    read again (a rollout read anew under the new keys would otherwise count them twice); the rows of
    rollouts no longer on record keep what they had."""
    if version < 8:
        _migrate_to_8(conn)
    threads = "SELECT json_extract(state, '$.thread') FROM files WHERE kind = 'codex' AND json_valid(state)"
    conn.execute(f"DELETE FROM codex_usage WHERE key LIKE 't:%' AND thread_id IN ({threads})")
    conn.execute("UPDATE files SET offset = 0, dev = NULL, ino = NULL, state = NULL WHERE kind = 'codex'")
    conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")


def _migrate_to_8(conn: sqlite3.Connection) -> None:
    columns = {row[1] for row in conn.execute("PRAGMA table_info(usage)")}
    if "web_search" not in columns:
        conn.execute("ALTER TABLE usage ADD COLUMN web_search INTEGER NOT NULL DEFAULT 0")
    if "source" not in columns:
        conn.execute("ALTER TABLE usage ADD COLUMN source TEXT NOT NULL DEFAULT 'transcript'")
    for statement in _statements(ACCOUNT_SCHEMA):
        conn.execute(statement)
    conn.execute("UPDATE files SET offset = 0, dev = NULL, ino = NULL WHERE kind = 'claude'")
    for table, _column, _seconds in ALL_ROLLUPS:
        conn.execute(f"DROP TABLE IF EXISTS {table}")
    _rollup_schema_anew(conn)
    restore_usage_derivatives(conn, [])


def _add_quarters(conn: sqlite3.Connection) -> None:
    """11 -> 12, inside the migration's transaction: the quarter-hour roll-up, summed from the 5-minute one
    (nothing is read again), and the roll-up triggers anew so they keep it too. Idempotent."""
    table, _column, seconds = QUARTERS
    have = conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (table,)).fetchone()
    _rollup_schema_anew(conn)
    if not have:
        conn.execute(f"INSERT INTO {table} {_from_finer(seconds, ROLLUPS[-1])} GROUP BY 1, 2, 3")


def _statements(script: str) -> list[str]:
    """A schema script's statements, one each (a trigger's body keeps its inner semicolons)."""
    statements, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    return statements
