"""The governor's own log: one line per event, size-capped, never raises."""

from __future__ import annotations

import os
import time

from governor import paths

MAX_BYTES = 512 * 1024


def log(message: str) -> None:
    """Append one line to governor.log; rotate to governor.log.1 past MAX_BYTES. Swallows every error."""
    try:
        path = paths.log_path()
        paths.ensure_private_dir(os.path.dirname(path))
        try:
            if os.path.getsize(path) > MAX_BYTES:
                os.replace(path, path + ".1")
        except OSError:
            pass
        line = time.strftime("%Y-%m-%dT%H:%M:%S%z") + " " + " ".join(message.split()) + "\n"
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode("utf-8", "replace"))
        finally:
            os.close(fd)
    except Exception:
        pass
