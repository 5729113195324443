"""sqlite3's C module for the hot paths, without the `sqlite3` package around it.

`import sqlite3` runs sqlite3/dbapi2.py, which imports `datetime` (and `collections.abc`) only to
register adapters and converters for date and datetime values, deprecated since Python 3.12, that
governor never passes or asks for: ~1.2 ms of every hook's start-up. Everything governor uses
(`connect`, `Connection`, the exceptions, `complete_statement`) lives in the C module `_sqlite3`, and
the package re-exports those same objects, so `except sqlite3.Error` here catches what either raises.
An interpreter without a module of that name gets the package.

    from governor.fastsqlite import sqlite3
"""

from __future__ import annotations

try:
    import _sqlite3 as sqlite3
except ImportError:  # not CPython's layout: the package, which brings its own C core
    import sqlite3  # type: ignore[no-redef]

__all__ = ["sqlite3"]
