#!/usr/bin/env python3
"""governor's UserPromptSubmit hook: pacing advice, the hard clamp and the Codex router. Fails open."""

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
from governor.guards.runtime import run_and_exit  # noqa: E402

run_and_exit("UserPromptSubmit")
