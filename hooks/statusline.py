#!/usr/bin/env python3
"""governor's status line (Claude Code's statusLine command). Fails open; a chained command still shows."""
import gc
import os
import sys

gc.disable()  # a hook lives tens of ms: cyclic collections over its fresh imports cost ~1 ms, free nothing
_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if os.path.exists(os.path.join(_root, "governor", "__init__.py")):  # a checkout without install
    sys.path.insert(0, _root)
elif sys.flags.no_site:  # `python -S`: installed so when governor and its dependencies share one directory
    sys.path.append(os.path.dirname(_root))  # that site-packages, without site's .pth files (~2 ms a run)
from governor import paths  # noqa: E402
from governor.statusline.run import run_fast  # noqa: E402

paths.exits_without_teardown = True  # the ledger connection is left open: see meter.db.release
code = run_fast(sys.argv[1:])
sys.stdout.flush()
os._exit(code)  # skip interpreter teardown: the status line is redrawn often
