"""The once-a-minute scan of every transcript, off the prompt's path.

A hook that finds the full scan due reads its own session's files as always, answers, and then starts this
module as a detached process (its own session, stdio on /dev/null) to read every other transcript for the
next prompt: stat-ing thousands of files costs more than the rest of the hook together, and no person should
wait for it. One scan at a time (an flock); a scan that finds another finished meanwhile does nothing.

Where a detached start is not possible (no posix_spawn, or a hook run inside another process, as tests do)
the caller scans inline, as before.
"""

from __future__ import annotations

import os
import sys

from governor import paths
from governor.log import log

LOCK_NAME = "full-scan.lock"
BUSY_MS = 5000  # nobody waits on this process: it may wait for another writer longer than a hook would
CHUNKS = 30  # a first build goes on chunk after chunk (each ledger_scan.INGEST_BUDGET_S), up to about a minute

_pending: list[str] = []  # events whose hook asked for a scan after its reply


def deferrable() -> bool:
    """A detached scan can replace the inline one: a hook process that exits as soon as it replied."""
    return paths.exits_without_teardown and hasattr(os, "posix_spawn")


def after_reply(event: str) -> None:
    """Ask for a detached scan once this hook has replied (guards.runtime.run_and_exit starts it)."""
    if not _pending:
        _pending.append(event)


def start_pending() -> None:
    """Start the scan asked for, if any: after the reply is flushed, so the hook's own writes are done and it
    never waits on the scan's write lock. The hook takes the scan's lock and hands it to the process it
    starts, so a scan still running means none is started (and no interpreter is spent on finding out).
    Fails open: a scan not started is asked for again by the next prompt."""
    if not _pending:
        return
    event = _pending.pop()
    lock = None
    try:
        lock = take_lock()
        if lock is None:
            return  # a scan is running
        os.set_inheritable(lock, True)
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        code = (f"import sys; sys.path.insert(0, {root!r}); "  # the same governor, installed or a checkout
                f"from governor.guards import background_scan as b; b.main({event!r}, {lock})")
        quiet = [(os.POSIX_SPAWN_OPEN, fd, os.devnull, os.O_RDWR, 0) for fd in (0, 1, 2)]
        flags = ["-S"] if sys.flags.no_site else []  # a hook run with -S: `root` holds governor and its dependencies
        os.posix_spawn(sys.executable, [sys.executable, *flags, "-c", code], os.environ, file_actions=quiet,
                       setsid=True)
    except Exception as exc:  # noqa: BLE001 - fail open: the next prompt asks again
        log(f"{event}: background scan not started: {type(exc).__name__}: {exc}", exc)
    finally:
        if lock is not None:
            os.close(lock)  # the started process holds the lock through its own copy of the descriptor


def lock_path() -> str:
    """In the state dir's locks/, where fsutil keeps governor's other locks. Not fsutil.file_lock itself: the
    scan's lock must pass to the started process as a descriptor, which filelock cannot hand over."""
    return os.path.join(paths.state_dir(), "locks", LOCK_NAME)


def take_lock() -> int | None:
    """An exclusive flock on the scan's lock file, or None when another scan holds it."""
    import fcntl

    paths.ensure_private_dir(os.path.dirname(lock_path()))
    fd = os.open(lock_path(), os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def main(event: str, lock: int | None = None) -> None:
    """The detached process, holding the scan's lock (handed over by the hook, or taken here): one full
    scan unless one finished within the minute. Any failure is a line (with the traceback) in
    governor.log; the process always ends with exit 0."""
    try:
        if not paths.kill_switch_on():
            run_once(event, lock)
    except BaseException as exc:  # noqa: BLE001 - detached: nobody to tell but the log
        log(f"{event}: background scan failed: {type(exc).__name__}: {exc}", exc)
    finally:
        os._exit(0)


def run_once(event: str, lock: int | None = None) -> bool:
    """Scan every transcript now unless another scan holds the lock or one finished within the minute.
    Returns whether it scanned."""
    import time

    from governor.config import load_config
    from governor.guards import ledger_scan
    from governor.meter import db

    lock = take_lock() if lock is None else lock
    if lock is None:
        return False
    try:
        conn = db.connect(busy_ms=BUSY_MS)
        try:
            now = time.time()
            if not ledger_scan.full_scan_due(conn, now):
                return False
            config = load_config()
            for _chunk in range(CHUNKS):  # hooks write between chunks: each chunk's ingest commits as it goes
                if not ledger_scan.scan(conn, config, time.time(), None, event):
                    break
        finally:
            conn.close()  # nobody waits on this process: fold the WAL back in, so the next hook replays little
    finally:
        os.close(lock)
    return True
