"""Salvage of a corrupt ledger: what can still be read from a file moved aside by db.quarantine.

The usage tables are a cache of the transcripts, but not all of it: Claude Code deletes transcripts after
`cleanupPeriodDays`, and the official captures, router events, hook state and hand-off runs exist only
here. Before the new ledger is rebuilt from the transcripts, every table worth keeping is read from the
old file table by table: a plain SELECT first, and where SQLite reports a damaged page, rowid ranges,
halved down to single rows, so one bad page costs only its own rows. Rows are merged with the rules
the ingest uses (usage by its UPSERT, events and captures only when not already there), so salvaging
into a ledger that hooks have begun rebuilding, or salvaging twice, gives the same result.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator, Sequence

from governor import paths
from governor.fastsqlite import sqlite3
from governor.log import log
from governor.meter import db

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing costs ~2 ms per report
    from typing import Any

CHUNK = 512  # rowids per range query once a plain scan hit a damaged page
PROBE = 16  # a failing range this small is read one rowid at a time
EMPTY_CHUNKS = 64  # with no readable max(rowid): stop after this many empty ranges past the last row

_INT, _NUM, _TEXT = (int,), (int, float), (str,)
_OPT_INT, _OPT_NUM, _OPT_TEXT = (int, type(None)), (int, float, type(None)), (str, type(None))


class Table:
    """A table to salvage: its columns (name, accepted types, and what an old file without that column
    gives: a value, "" for NULL, None when the table cannot be salvaged without it) and the statement
    that merges one row (parameters in column order)."""

    def __init__(self, name: str, label: str, columns: Sequence[tuple[str, tuple[type, ...], Any]],
                 merge: str) -> None:
        self.name, self.label, self.columns, self.merge = name, label, columns, merge


def _insert_new(table: str, columns: list[str], same: str) -> str:
    """INSERT of one row unless a row with the same natural key (`same`, over ?N parameters) exists."""
    params = ", ".join(f"?{i}" for i in range(1, len(columns) + 1))
    return (f"INSERT INTO {table}({', '.join(columns)}) SELECT {params}"
            f" WHERE NOT EXISTS(SELECT 1 FROM {table} WHERE {same})")


def _ignore(table: str, columns: list[str]) -> str:
    return f"INSERT OR IGNORE INTO {table}({', '.join(columns)}) VALUES({', '.join('?' * len(columns))})"


_CAPTURES = ["window", "used_pct", "resets_at", "captured_at", "source", "session_id"]
_EVENTS = ["ts", "session_id", "decision", "prompt_head", "brief_path", "reason"]
_RUNS = ["ts", "brief_path", "exit_code", "thread_id", "input", "cached_input", "output", "reasoning"]
_LIMITS = ["limit_id", "window", "used_pct", "window_minutes", "resets_at", "observed_at", "limit_name", "plan_type"]
_CODEX = ["key", "ts", "model", "thread_id", "source", "input", "cached_input", "output", "reasoning", "total"]
_COST = ["path", "offset", "session_id", "ts", "project", "model", "input", "output", "cache_creation",
         "cache_read", "cache_5m", "cache_1h", "web_search"]
_USAGE = ["key", "ts", "session_id", "project", "model", "input", "output", "cache_creation", "cache_read",
          "cache_5m", "cache_1h", "sidechain", "web_search", "source"]

# Several machines: a row merged from another machine's export (machine set) is not copied, it is read
# again from the sync folder, which keeps its machine; this machine's own rows have machine NULL.
MACHINE: tuple[str, tuple[type, ...], Any] = ("machine", _OPT_TEXT, "")


def _columns(names: list[str], kinds: tuple[tuple[type, ...], ...], defaults: list[Any]
             ) -> list[tuple[str, tuple[type, ...], Any]]:
    return list(zip(names, kinds, defaults, strict=True))

TABLES = (  # the small tables that exist nowhere else first: a slow usage table cannot starve them
    Table("captures", "official captures",
          [*_columns(_CAPTURES, (_TEXT, _NUM, _OPT_NUM, _NUM, _TEXT, _OPT_TEXT), [None] * 5 + [""]), MACHINE],
          _insert_new("captures", _CAPTURES, "window=?1 AND captured_at=?4 AND source=?5 AND used_pct=?2")),
    Table("router_events", "router events",
          list(zip(_EVENTS, (_NUM, _OPT_TEXT, _TEXT, _OPT_TEXT, _OPT_TEXT, _OPT_TEXT), [None, "", None, "", "", ""],
                   strict=True)),
          _insert_new("router_events", _EVENTS, "ts=?1 AND decision=?3 AND session_id IS ?2")),
    Table("hook_state", "hook states",
          [("session_id", _TEXT, None), ("guard", _TEXT, None), ("value", _OPT_TEXT, ""),
           ("updated_at", _OPT_NUM, "")],
          "INSERT INTO hook_state(session_id, guard, value, updated_at) VALUES(?,?,?,?)"
          " ON CONFLICT(session_id, guard) DO UPDATE SET value=excluded.value, updated_at=excluded.updated_at"
          " WHERE COALESCE(excluded.updated_at, 0) > COALESCE(hook_state.updated_at, 0)"),
    Table("handoff_runs", "hand-off runs",
          list(zip(_RUNS, (_NUM, _OPT_TEXT, _OPT_INT, _OPT_TEXT, _OPT_INT, _OPT_INT, _OPT_INT, _OPT_INT),
                   [None] + [""] * 7, strict=True)),
          _insert_new("handoff_runs", _RUNS, "ts=?1 AND brief_path IS ?2")),
    Table("codex_limits", "Codex limit readings",
          list(zip(_LIMITS, (_TEXT, _TEXT, _NUM, _OPT_INT, _OPT_NUM, _NUM, _OPT_TEXT, _OPT_TEXT),
                   [None] * 6 + [""] * 2, strict=True)),
          _ignore("codex_limits", _LIMITS)),
    Table("lineage", "fork links",
          [("session_id", _TEXT, None), ("parent", _TEXT, None), ("forked_at", _NUM, None)],
          _ignore("lineage", ["session_id", "parent", "forked_at"])),
    Table("cost_state", "cost-state checkpoints",
          [(c, _TEXT if c in ("path", "session_id", "model") else _OPT_TEXT if c == "project"
            else _NUM if c == "ts" else _INT, None) for c in _COST],
          _ignore("cost_state", _COST)),
    Table("codex_usage", "Codex usage rows",
          [(c, _TEXT if c == "key" else _NUM if c == "ts" else _OPT_TEXT if c in ("model", "thread_id", "source")
            else _INT, None) for c in _CODEX],
          _ignore("codex_usage", _CODEX)),
    Table("usage", "usage rows",
          [(c, _TEXT if c == "key" else _NUM if c == "ts" else _OPT_TEXT if c in ("session_id", "project", "model")
            else _OPT_INT if c in ("cache_5m", "cache_1h") else _TEXT if c == "source" else _INT,
            {"web_search": 0, "source": "transcript", "sidechain": 0, "cache_5m": "", "cache_1h": ""}.get(c))
           for c in _USAGE] + [MACHINE],
          ""),  # merged in _merge_usage: the ingest's UPSERT for transcript rows
)
USAGE_LIKE = {"usage", "cost_state", "lineage", "codex_usage"}  # kept only from a ledger of a known schema


class Result:
    def __init__(self, table: Table) -> None:
        self.table = table
        self.saved = 0
        self.lost: int | None = 0  # rows that could not be read; None: unknown how many
        self.error = ""  # why the table could not be read at all


def _open_old(old: str) -> sqlite3.Connection:
    from urllib.parse import quote

    conn = sqlite3.connect(f"file:{quote(old)}?mode=ro", uri=True, timeout=5)
    conn.execute("PRAGMA busy_timeout=5000")
    return conn


def _scalar(conn: sqlite3.Connection, sql: str) -> Any:
    try:
        row = conn.execute(sql).fetchone()
    except sqlite3.DatabaseError:
        return None
    return row[0] if row else None


Batch = list[tuple["Any", ...]]  # rows of one table, rowid first ("Any": no typing import)


class Reader:
    """The readable rows of a table, in batches (a million-row usage table is never held whole); after
    iterating, `damaged` says whether any page could not be read. A plain scan first; from the first
    damaged page on, rowid ranges of CHUNK, halved where SQLite refuses them, single rowids (by equality)
    at the bottom. The ranges end at max(rowid) when the table's right edge is readable, else after
    EMPTY_CHUNKS ranges without a row."""

    def __init__(self, conn: sqlite3.Connection, table: str, columns: list[str]) -> None:
        self.conn, self.table = conn, table
        self.select = f"SELECT rowid, {', '.join(columns)} FROM {table}"
        self.damaged = False

    def __iter__(self) -> Iterator[Batch]:
        last: int | None = None
        try:
            cursor = self.conn.execute(self.select + " ORDER BY rowid")
            while batch := cursor.fetchmany(2048):  # a batch cut short by a damaged page is read again below
                last = batch[-1][0]
                yield batch
            return
        except sqlite3.DatabaseError as exc:
            if not db.is_corrupt(exc):
                raise
        self.damaged = True
        top = _scalar(self.conn, f"SELECT max(rowid) FROM {self.table}")
        low = _scalar(self.conn, f"SELECT min(rowid) FROM {self.table}")
        lo = last + 1 if last is not None else low if isinstance(low, int) else 1
        empty = 0
        while (lo <= top) if isinstance(top, int) else (empty < EMPTY_CHUNKS):
            hi = min(lo + CHUNK - 1, top) if isinstance(top, int) else lo + CHUNK - 1
            got = self._range(lo, hi)
            empty = 0 if got else empty + 1
            if got:
                yield got
            lo = hi + 1

    def _range(self, lo: int, hi: int) -> Batch:
        try:  # one rowid by equality: a range would step on into the next (maybe damaged) page
            if lo == hi:
                return self.conn.execute(self.select + " WHERE rowid = ?", (lo,)).fetchall()
            return self.conn.execute(self.select + " WHERE rowid BETWEEN ? AND ?", (lo, hi)).fetchall()
        except sqlite3.DatabaseError as exc:
            if not db.is_corrupt(exc):
                raise
        if lo == hi:
            return []
        if hi - lo < PROBE:
            return [row for i in range(lo, hi + 1) for row in self._range(i, i)]
        mid = (lo + hi) // 2
        return self._range(lo, mid) + self._range(mid + 1, hi)


def _valid(row: tuple[Any, ...], kinds: list[tuple[type, ...]]) -> bool:
    return all(isinstance(v, k) and not isinstance(v, bool) for v, k in zip(row, kinds, strict=True))


def _salvage_table(old: sqlite3.Connection, conn: sqlite3.Connection, table: Table, known_schema: bool) -> Result:
    """Inside the new ledger's transaction: merge what `old` still holds of `table`, batch by batch."""
    result = Result(table)
    if table.name in USAGE_LIKE and not known_schema:
        result.error, result.lost = "schema unknown", None
        return result
    try:
        present = {r[1] for r in old.execute(f"PRAGMA table_info({table.name})")}
    except sqlite3.DatabaseError as exc:
        result.error, result.lost = str(exc), None
        return result
    if not present:
        return result  # an older ledger without this table: nothing to save
    wanted = [c for c, _k, _d in table.columns if c in present]
    missing = {c: d for c, _k, d in table.columns if c not in present}
    if any(d is None for d in missing.values()):
        result.error, result.lost = "columns missing", None
        return result
    kinds = [k for _c, k, _d in table.columns]
    at = {c: i + 1 for i, c in enumerate(wanted)}  # 0 is the rowid
    defaults = {c: (None if d == "" else d) for c, d in missing.items()}
    names = [c for c, _k, _d in table.columns]
    saved = db.drop_usage_derivatives(conn) if table.name == "usage" else None  # a million rows load faster
    reader, invalid = Reader(old, table.name, wanted), 0
    try:
        for batch in reader:
            rows = [tuple(r[at[c]] if c in at else defaults[c] for c in names) for r in batch]
            valid = [r for r in rows if _valid(r, kinds)]
            invalid += len(rows) - len(valid)
            result.saved += len(valid)
            if names[-1] == MACHINE[0]:
                valid = [r[:-1] for r in valid if r[-1] is None]
            if table.name == "usage":
                _merge_usage(conn, valid)
            else:
                conn.executemany(table.merge, valid)
    except sqlite3.DatabaseError as exc:  # the table cannot be read past this point at all
        if not db.is_corrupt(exc):
            raise
        reader.damaged, result.error = True, str(exc)
    if saved is not None:
        db.restore_usage_derivatives(conn, saved)
    if reader.damaged or invalid:
        expected = _scalar(old, f"SELECT count(*) FROM {table.name}")
        result.lost = max(0, int(expected) - result.saved) if isinstance(expected, int) else None
    return result


def _merge_usage(conn: sqlite3.Connection, rows: Batch) -> None:
    from governor.meter.ledger import UPSERT

    conn.executemany(UPSERT, [r[:13] for r in rows if r[13] == "transcript"])
    conn.executemany(_ignore("usage", _USAGE), [r for r in rows if r[13] != "transcript"])


def salvage_file(conn: sqlite3.Connection, old: str) -> list[Result]:
    """Read what `old` still holds and merge it into the ledger `conn`, in one transaction (none when
    another process salvaged `old` meanwhile: []). Returns each table's result."""
    source: sqlite3.Connection | None = None
    version, failure = None, ""
    try:
        source = _open_old(old)
        version = source.execute("PRAGMA user_version").fetchone()[0]
        source.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as exc:  # not a database, or its schema unreadable: nothing to save
        if source is not None:
            source.close()
        if "locked" in str(exc) or "busy" in str(exc):
            raise
        source, failure = None, str(exc)
    try:
        with db.transaction(conn):
            if not os.path.exists(old):  # another process salvaged it before we had the lock
                return []
            if source is None:
                results = [_unreadable(t, failure) for t in TABLES]
            else:
                known = version == db.SCHEMA_VERSION or version in db.MIGRATABLE
                results = [_salvage_table(source, conn, t, known) for t in TABLES]
            db.set_meta(conn, "last_recovery", json.dumps({"at": time.time(), "file": old + db.SALVAGED,
                                                           "summary": summary(old + db.SALVAGED, results)}))
    finally:
        if source is not None:
            source.close()
    return results


def _unreadable(table: Table, error: str) -> Result:
    result = Result(table)
    result.error, result.lost = error, None
    return result


def _count(n: int, label: str) -> str:
    return f"{n:,} {label[:-1] if n == 1 else label}"  # every label is a plural in -s


def summary(old: str, results: list[Result]) -> str:
    """One line: where the old file is, what was saved, what could not be."""
    errors = {r.error for r in results}
    if results and not any(r.saved for r in results) and len(errors) == 1 and "" not in errors:
        return (f"the ledger was corrupt and is rebuilt from the transcripts; nothing could be read from the"
                f" old file ({errors.pop()}); kept as {old}")
    saved = [_count(r.saved, r.table.label) for r in results if r.saved]
    lost = []
    for r in results:
        if r.lost is None:
            lost.append(f"the {r.table.label}" + (f" ({r.error})" if r.error else "") if not r.saved
                        else f"an unknown number of {r.table.label}")
        elif r.lost:
            lost.append(_count(r.lost, r.table.label))
    said = f"saved {', '.join(saved)}" if saved else "nothing could be saved"
    unsaved = f"; could not read {', '.join(lost)}" if lost else "; nothing unreadable"
    return (f"the ledger was corrupt and is rebuilt from the transcripts; {said} from the old file{unsaved}"
            f" (usage of transcripts that still exist, and other machines' records, are read again from their"
            f" sources); old file kept as {old}")


def connect(path: str | None = None) -> sqlite3.Connection:
    """db.connect for the CLI: a ledger moved aside as corrupt (by a hook, the status line or a command)
    is salvaged into the new one first. Hooks use db.connect: salvage reads the whole old file."""
    path = path or paths.ledger_path()
    conn = db.connect(path)
    if db.pending_salvage(path):
        salvage_pending(conn, path)
    return conn


def salvage_pending(conn: sqlite3.Connection, path: str) -> None:
    """Salvage every ledger moved aside as corrupt beside `path` into `conn`, then rename each (and its
    -wal/-shm) to `<name>.salvaged`, kept for inspection. A busy ledger leaves them for the next time."""
    for old in db.pending_salvage(path):
        try:
            results = salvage_file(conn, old)
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                log(f"ledger salvage of {old} deferred: {exc}")
                return
            raise
        if not results:
            continue
        for suffix in ("", "-wal", "-shm"):
            try:
                os.replace(old + suffix, old + db.SALVAGED + suffix)
            except OSError:
                pass
        line = summary(old + db.SALVAGED, results)
        log(line)
        if db.on_recovery is not None:
            db.on_recovery(line)
