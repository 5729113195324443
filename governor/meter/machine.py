"""This machine's identity for the sync folder: a random id and a name, kept in `<state>/machine.json`.

The id is what another machine files this machine's records under (`<sync dir>/governor/<id>/`); it is
made once and kept. A state dir copied to a second machine (a backup restored elsewhere, a cloned home)
would carry the same id: the file also records the host and the state dir's inode it was made for, and
when either differs the id is made anew (the records stay exact: de-duplication is by response key, so
the old id's files count nothing twice).
"""

from __future__ import annotations

import json
import os

from governor import paths
from governor.log import log

FILE = "machine.json"


class Machine:
    def __init__(self, id: str, name: str, renewed: str | None = None) -> None:
        self.id, self.name = id, name
        self.renewed = renewed  # why the id was made anew this time (a copied state dir), else None

    def __repr__(self) -> str:
        return f"Machine({self.id!r}, {self.name!r})"


def path() -> str:
    return os.path.join(paths.state_dir(), FILE)


def host() -> str:
    """The host name (os.uname: `socket` costs a hook ~2 ms to import)."""
    try:
        return os.uname().nodename or "machine"
    except AttributeError:  # Windows
        import socket

        return socket.gethostname() or "machine"


def fingerprint() -> dict[str, object]:
    """What a copy of the state dir cannot keep: the host name and the state dir's device and inode."""
    st = os.stat(paths.state_dir())
    return {"host": host(), "dev": st.st_dev, "ino": st.st_ino}


def _new_id() -> str:
    return os.urandom(8).hex()


def read() -> dict[str, object] | None:
    """machine.json as stored, or None when absent or unreadable."""
    from governor.fsutil import read_regular

    try:
        doc = json.loads(read_regular(path(), 64 * 1024))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) and isinstance(doc.get("id"), str) else None


def _write(doc: dict[str, object]) -> None:
    from governor.fsutil import atomic_write_text

    atomic_write_text(path(), json.dumps(doc, indent=2) + "\n", mode=0o600)


def current(name: str | None = None, create: bool = True) -> Machine | None:
    """This machine's identity (made on first use with `create`; `name` renames it). A copied state dir
    (another host or another directory) gets a new id, logged, with `renewed` saying why."""
    paths.ensure_private_dir(paths.state_dir())
    doc = read()
    mine = fingerprint()
    renewed = None
    if doc is not None:
        made_for = doc.get("fingerprint")
        if isinstance(made_for, dict) and made_for != mine:
            was = "another host" if made_for.get("host") != mine["host"] else "another directory"
            renewed = f"the state dir was copied from {was}; machine id {doc['id']} renewed"
            log(f"sync: {renewed}")
            doc = {"id": _new_id(), "name": doc.get("name") if name is None else name, "fingerprint": mine}
            _write(doc)
        elif name is not None and doc.get("name") != name:
            doc = {**doc, "name": name}
            _write(doc)
    elif not create:
        return None
    else:
        doc = {"id": _new_id(), "name": name or host(), "fingerprint": mine}
        _write(doc)
    return Machine(str(doc["id"]), str(doc.get("name") or host()), renewed)


def renew(reason: str) -> Machine:
    """Make a new id (another machine exports under ours), keeping the name."""
    doc = read() or {}
    log(f"sync: {reason}; machine id {doc.get('id')} renewed")
    new = {"id": _new_id(), "name": doc.get("name") or host(), "fingerprint": fingerprint()}
    _write(new)
    return Machine(str(new["id"]), str(new["name"]), reason)
