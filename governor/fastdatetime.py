"""datetime's C types for the hot paths, without the pure-Python `datetime` module around them.

`import datetime` first executes datetime.py's whole pure-Python implementation (every class, ~1 ms of a
hook's start-up) and then replaces it with the C accelerator's types (`from _datetime import *`). governor
imports those C types directly: the same classes `datetime` exports (`_datetime.datetime is
datetime.datetime`), so values, isinstance checks and pickles are unchanged. An interpreter without the
accelerator gets the module.

    from governor.fastdatetime import datetime, timedelta, timezone
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # the stubs describe `datetime`; the C module holds the same classes
    from datetime import date, datetime, time, timedelta, timezone, tzinfo
else:
    try:
        from _datetime import date, datetime, time, timedelta, timezone, tzinfo
    except ImportError:  # not CPython: the pure-Python module
        from datetime import date, datetime, time, timedelta, timezone, tzinfo

__all__ = ["date", "datetime", "time", "timedelta", "timezone", "tzinfo"]
