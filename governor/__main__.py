import sys

if sys.argv[1:2] == ["statusline"]:  # hot path: no argparse
    from governor.statusline.run import run_fast

    raise SystemExit(run_fast(sys.argv[2:]))
from governor.main import main  # noqa: E402

raise SystemExit(main())
