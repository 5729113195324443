"""Several machines, one ledger: export this machine's records to a folder a sync engine replicates and
merge what the other machines wrote (sync_export, sync_merge, sync_files has the layout).

Runs where it costs nothing: after a report's ingest (`refresh`, every time), and from the hooks and the
status line (`tick`) at most every `sync.merge_seconds` for the merge (a stat per file when nothing
changed) and every `sync.export_minutes` for the export, bounded; both fail open there.
"""

from __future__ import annotations

import os
import time

from governor.fastsqlite import sqlite3
from governor.log import log
from governor.meter import db

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing costs ~3 ms (it imports re) per hook run
    from typing import Any

MERGE_KEY = "sync_last_merge"  # meta: when a hook or the status line last merged
EXPORT_TRY_KEY = "sync_last_export_try"  # meta: when a hook or the status line last tried to export
ERROR_KEY = "sync_error"  # meta: the last export/merge problem (said once in the log, shown by sync status)
HOOK_BUDGET_S = 0.5


def directory(config: dict[str, Any]) -> str:
    return os.path.abspath(os.path.expanduser(str(config["sync"]["dir"])))


def enabled(config: dict[str, Any]) -> bool:
    sync = config.get("sync") or {}
    return bool(sync.get("dir")) and bool(sync.get("export", True))


def _me(conn: sqlite3.Connection, config: dict[str, Any]) -> Any:
    """This machine; when another machine exports under the same id (a copied state dir), a new one."""
    from governor.meter import machine, sync_export, sync_files

    me = machine.current(name=config["sync"].get("name"))
    assert me is not None
    owner = sync_export.owner_of(os.path.join(sync_files.root(directory(config)), me.id))
    theirs = owner.get("fingerprint") if owner is not None else None
    if isinstance(theirs, dict) and theirs != machine.fingerprint():
        me = machine.renew(f"another machine ({theirs.get('host')!r}) exports under machine id {me.id}")
    return me


def _note_error(conn: sqlite3.Connection, message: str | None) -> None:
    try:
        if db.get_meta(conn, ERROR_KEY) != (message or None):
            if message:
                log(f"sync: {message}")
            with db.transaction(conn):
                if message:
                    db.set_meta(conn, ERROR_KEY, message)
                else:
                    conn.execute("DELETE FROM meta WHERE key=?", (ERROR_KEY,))
    except sqlite3.Error:
        pass


def refresh(conn: sqlite3.Connection, config: dict[str, Any], now: float | None = None) -> str | None:
    """Export and merge in full (a CLI report). Returns a one-line problem to show, else None."""
    if not enabled(config):
        return None
    from governor.meter import sync_export, sync_merge

    now = time.time() if now is None else now
    problem = None
    try:
        me = _me(conn, config)
        sync_export.export(conn, config, me, now)
    except sync_export.SyncError as exc:
        problem = f"sync: {exc}"
    except OSError as exc:
        problem = f"sync: {exc}"
    else:
        stats = sync_merge.merge(conn, directory(config), me, now)
        if stats.newer:
            problem = (f"sync: {len(stats.newer)} file(s) in {directory(config)} come from a newer governor;"
                       " upgrade governor here to count them (nothing is lost meanwhile)")
    _note_error(conn, problem)
    return problem


def tick(conn: sqlite3.Connection, config: dict[str, Any], now: float) -> None:
    """From a hook or the status line: merge at most every merge_seconds, export at most every
    export_minutes, bounded in time and rows; never raises (logged once per distinct problem)."""
    if not enabled(config):
        return
    sync = config["sync"]
    try:
        merge_due = not 0 <= now - float(db.get_meta(conn, MERGE_KEY) or 0) < float(sync["merge_seconds"])
        export_due = not 0 <= now - float(db.get_meta(conn, EXPORT_TRY_KEY) or 0) < 60 * float(sync["export_minutes"])
        if not merge_due and not export_due:
            return
        from governor.meter import sync_export, sync_merge

        with db.transaction(conn):
            if merge_due:
                db.set_meta(conn, MERGE_KEY, f"{now:.3f}")
            if export_due:
                db.set_meta(conn, EXPORT_TRY_KEY, f"{now:.3f}")
        me = _me(conn, config)
        problem = None
        if export_due:
            try:
                sync_export.export(conn, config, me, now, limit=sync_export.HOOK_ROWS)
            except sync_export.SyncError as exc:
                problem = str(exc)
        if merge_due and os.path.isdir(directory(config)):
            sync_merge.merge(conn, directory(config), me, now, read_limit=sync_merge.HOOK_READ_BYTES,
                             budget_s=HOOK_BUDGET_S)
        if problem or export_due:
            _note_error(conn, problem)
    except sqlite3.OperationalError as exc:  # locked by a long ingest elsewhere: the next call goes on
        log(f"sync: skipped ({exc})")
    except Exception as exc:  # noqa: BLE001 - fail open: a hook or the status line never breaks on sync
        log(f"sync: failed: {type(exc).__name__}: {exc}", exc)


def machines(conn: sqlite3.Connection, config: dict[str, Any], now: float, start: float | None = None,
             end: float | None = None, units: bool = False) -> list[dict[str, Any]]:
    """Every machine the ledger knows, this one first: name, id, last export, lag, stale, records, and
    with `units` its weighted units in [start, end)."""
    from governor.meter import machine, usage

    me = machine.current(create=False)
    stale_s = 3600 * float((config.get("sync") or {}).get("stale_hours", 12))
    counts = {r[0]: int(r[1]) for r in conn.execute("SELECT machine, COUNT(*) FROM usage GROUP BY machine")}
    known = {r[0]: r[1:] for r in conn.execute("SELECT id, name, last_export FROM sync_machines")}
    ids = sorted(set(known) | {m for m in counts if m is not None})
    last_here = db.get_meta(conn, "sync_last_export")
    rows: list[dict[str, Any]] = [{
        "id": me.id if me else None, "name": me.name if me else machine.host(), "this": True,
        "last_export": float(last_here) if last_here else None, "records": counts.get(None, 0)}]
    for mid in ids:
        if me is not None and mid == me.id:
            continue
        name, last = known.get(mid, (None, None))
        rows.append({"id": mid, "name": name or mid, "this": False, "last_export": last,
                     "records": counts.get(mid, 0)})
    for row in rows:
        last = row["last_export"]
        row["lag_hours"] = None if last is None else round(max(0.0, now - last) / 3600, 2)
        row["stale"] = bool(enabled(config)) and (last is None or now - last > stale_s) and (
            not row["this"] or last is not None)
        if units:
            totals = usage.model_totals(conn, start, end, machine="" if row["this"] else row["id"])
            row["weighted_units"] = round(usage.weighted(totals, config), 3)
    return rows


def resolve(conn: sqlite3.Connection, value: str | None) -> str | None:
    """`--machine NAME|this|all` -> None (all), "" (this machine) or a machine id; CliError when unknown."""
    if value is None or value == "all":
        return None
    if value == "this":
        return ""
    from governor.errors import CliError
    from governor.meter import machine

    me = machine.current(create=False)
    if me is not None and value in (me.id, me.name):
        return ""
    rows = conn.execute("SELECT id, name FROM sync_machines").fetchall()
    rows += [(r[0], None) for r in conn.execute("SELECT DISTINCT machine FROM usage WHERE machine IS NOT NULL")]
    matches = {mid for mid, name in rows if value in (mid, name) or (len(value) >= 4 and mid.startswith(value))}
    if len(matches) == 1:
        return str(matches.pop())
    named: dict[str, str] = {}
    for mid, name in rows:
        named[mid] = named.get(mid) or name or mid
    names = sorted(set(named.values()) | ({me.name} if me else set()))
    if matches:
        raise CliError(f"--machine {value!r} matches {len(matches)} machines; give the id")
    raise CliError(f"no machine {value!r}; known: this, all" + "".join(f", {n}" for n in names))
