"""The governor's own log: one line per event, size-capped, never raises."""

from __future__ import annotations

import os
import time

from governor import paths

MAX_BYTES = 512 * 1024


def log(message: str, exc: BaseException | None = None) -> None:
    """Append one line to governor.log (and, with `exc`, its traceback indented below it); rotate to
    governor.log.1 past MAX_BYTES. Swallows every error."""
    try:
        path = paths.log_path()
        paths.ensure_private_dir(os.path.dirname(path))
        try:
            if os.path.getsize(path) > MAX_BYTES:
                os.replace(path, path + ".1")
        except OSError:
            pass
        line = time.strftime("%Y-%m-%dT%H:%M:%S%z") + " " + " ".join(message.split()) + "\n"
        if exc is not None:
            import traceback  # only on a failure: the hooks' steady state never pays for it

            trace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
            line += "".join(f"    {t}\n" for t in trace.rstrip("\n").splitlines())
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode("utf-8", "replace"))
        finally:
            os.close(fd)
    except Exception:
        pass
