"""`governor sync init DIR [--name NAME]` / `sync status [--json]` / `sync off`: several machines, one ledger,
through a folder a sync engine (Syncthing, Dropbox, iCloud Drive, OneDrive, a git repo) replicates."""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

from governor import config, paths
from governor.errors import CliError


def register(sub: Any) -> None:
    p = sub.add_parser("sync", help="several machines in one ledger, through a synced folder",
                       description="Exchange this machine's records with the others' through a folder a sync"
                       " engine replicates (README: Several machines).")
    verbs = p.add_subparsers(dest="verb", metavar="VERB")
    init = verbs.add_parser("init", help="export to DIR and merge what the other machines wrote there")
    init.add_argument("dir", metavar="DIR", help="a folder a sync engine replicates (it must exist)")
    init.add_argument("--name", help="this machine's name (default: the host name)")
    init.add_argument("--hash-projects", action="store_true", help="export a hash of project names, not the names")
    init.set_defaults(func=run_init)
    status = verbs.add_parser("status", help="the machines seen, their last export, lag and records")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.set_defaults(func=run_status)
    off = verbs.add_parser("off", help="stop exporting and merging (the records merged so far stay)")
    off.set_defaults(func=run_off)
    p.set_defaults(func=lambda args: run_status(args) if args.verb is None else 0, json=False)


def set_sync(path: str, changes: dict[str, Any]) -> None:
    """Rewrite budget.json's `sync` section with `changes` (None removes a key), keeping everything else."""

    def edit(doc: dict[str, Any]) -> None:
        old = doc.get("sync")
        section: dict[str, Any] = {**(old if isinstance(old, dict) else {}), **changes}
        doc["sync"] = {k: v for k, v in section.items() if v is not None}

    config.update_budget(path, edit)


def _check_dir(directory: str) -> None:
    from governor.meter.sync_export import describe

    if not os.path.exists(directory):
        raise CliError(f"{directory} does not exist; create it (or let the sync engine create it) first")
    if not os.path.isdir(directory):
        raise CliError(f"{directory} is not a directory")
    probe = os.path.join(directory, f".governor-probe-{os.getpid()}")
    try:
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        os.unlink(probe)
    except OSError as exc:
        raise CliError(describe(exc, directory)) from None


def run_init(args: argparse.Namespace) -> int:
    from governor.meter import machine, sync

    directory = os.path.abspath(os.path.expanduser(args.dir))
    _check_dir(directory)
    if args.name is not None and not 1 <= len(args.name) <= 64:
        raise CliError("--name must be 1 to 64 characters")
    path = paths.budget_path()
    set_sync(path, {"dir": directory, "export": True, **({"name": args.name} if args.name else {}),
                    **({"hash_projects": True} if args.hash_projects else {})})
    cfg = config.load_config()
    me = machine.current(name=cfg["sync"].get("name"))
    assert me is not None
    from governor.reports.refresh import refreshed

    args.claude_dir = None
    conn, _stats, cfg = refreshed(args)  # ingest, export and merge now
    others = [m for m in sync.machines(conn, cfg, time.time()) if not m["this"]]
    conn.close()
    seen = f"; {len(others)} other machine(s) seen" if others else "; no other machine has exported yet"
    print(f"sync on: this machine is {me.name!r} (id {me.id}); it exports to "
          f"{os.path.join(directory, 'governor', me.id)}{seen}; written to {path}")
    return 0


def run_off(args: argparse.Namespace) -> int:
    from governor.meter import db, sync_export

    path = paths.budget_path()
    cfg = config.load_config()
    if not cfg["sync"].get("dir"):
        print("sync is not set up (governor sync init DIR)")
        return 0
    set_sync(path, {"export": False})
    conn = db.connect()
    sync_export.disable(conn)
    (foreign,) = conn.execute("SELECT COUNT(*) FROM usage WHERE machine IS NOT NULL").fetchone()
    conn.close()
    print(f"sync off: this machine no longer exports to or merges from {cfg['sync']['dir']};"
          f" the {foreign:,} record(s) merged from other machines stay in the ledger (written to {path})")
    return 0


def build(conn: Any, cfg: dict[str, Any], now: float) -> dict[str, Any]:
    from governor.meter import db, sync, sync_export
    from governor.meter.budget_state import current_window

    window = current_window(conn, cfg, now)
    start, end = window.start.timestamp(), now + 1
    machines = sync.machines(conn, cfg, now, start, end, units=True)
    total = sum(m["weighted_units"] for m in machines) or 0.0
    for m in machines:
        m["cycle_share"] = round(m["weighted_units"] / total, 4) if total else 0.0
    return {"dir": cfg["sync"].get("dir"), "on": sync.enabled(cfg), "stale_hours": cfg["sync"]["stale_hours"],
            "pending_records": sync_export.pending(conn) if sync.enabled(cfg) else 0,
            "problem": db.get_meta(conn, sync.ERROR_KEY), "machines": machines}


def _ago(hours: float | None) -> str:
    if hours is None:
        return "never"
    if hours < 1:
        return f"{hours * 60:.0f} min ago"
    return f"{hours:.1f} h ago" if hours < 48 else f"{hours / 24:.0f} days ago"


def render(data: dict[str, Any]) -> str:
    from governor import fmt
    from governor.reports import tables

    if not data["dir"]:
        return "sync is not set up: governor sync init DIR (a folder a sync engine replicates)"
    color = fmt.use_color()
    head = f"sync {'on' if data['on'] else 'off'}: {data['dir']}"
    if data["pending_records"]:
        head += f" ({data['pending_records']:,} record(s) wait for the next export)"
    rows = []
    for m in data["machines"]:
        name = m["name"] + (" (this)" if m["this"] else "")
        flag = fmt.paint(f"stale: no export for over {data['stale_hours']:g} h", "yellow", color) if m["stale"] else ""
        rows.append([name, (m["id"] or "-")[:8], _ago(m["lag_hours"]), f"{m['records']:,}",
                     fmt.fmt_tokens(m["weighted_units"]), f"{100 * m['cycle_share']:.0f}%", flag])
    headers = ["machine", "id", "last export", "records", "this cycle", "share"]
    if any(row[-1] for row in rows):
        headers.append("")
    else:
        rows = [row[:-1] for row in rows]
    out = head + "\n" + tables.table(headers, rows)
    if data["problem"]:
        out += "\n" + fmt.paint("problem:", "yellow", color) + " " + data["problem"]
    return out


def run_status(args: argparse.Namespace) -> int:
    from governor.reports import tables
    from governor.reports.refresh import refreshed

    cfg = config.load_config()
    if not cfg["sync"].get("dir"):
        if getattr(args, "json", False):
            tables.print_json({"dir": None, "on": False, "machines": []})
        else:
            print(render({"dir": None}))
        return 0
    args.claude_dir = None
    conn, _stats, cfg = refreshed(args)
    data = build(conn, cfg, time.time())
    conn.close()
    if getattr(args, "json", False):
        tables.print_json(data)
    else:
        print(render(data))
    return 0
