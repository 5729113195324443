#!/usr/bin/env python3
"""governor's PostToolUse hook: memory-index line cap. Fails open; costs ~nothing for other files."""
import os
import sys

if os.environ.get("GOVERNOR_DISABLE", "") not in ("", "0"):  # kill switch: before any import
    raise SystemExit(0)
import gc

gc.disable()  # a hook lives tens of ms: cyclic collections over its fresh imports cost ~1 ms, free nothing
_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if os.path.exists(os.path.join(_root, "governor", "__init__.py")):  # a checkout without install
    sys.path.insert(0, _root)
elif sys.flags.no_site:  # `python -S`: installed so when governor and its dependencies share one directory
    sys.path.append(os.path.dirname(_root))  # that site-packages, without site's .pth files (~2 ms a run)
data = sys.stdin.buffer.read(8 * 1024 * 1024 + 1)  # runtime.MAX_PAYLOAD_CHARS: larger is not parsed
try:  # "certainly not a memory file", decided from the raw bytes with os alone (no json, no re)
    from governor.guards.memory_paths import quick_skip

    if quick_skip(data):
        os._exit(0)
except Exception:  # noqa: BLE001 - any doubt goes to the full, fail-open hook
    pass
import io  # noqa: E402

sys.stdin = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8")
from governor.guards.runtime import run_and_exit  # noqa: E402

run_and_exit("PostToolUse")
