"""The plugin's hook shim (plugin/hook.sh) vs the hook `governor install` registers, interleaved in one run.

    python bench/bench_plugin_shim.py --python VENV/bin/python [--runs 30]

VENV is a clean venv with governor installed non-editable (`pip install <checkout>`), VENV/bin on PATH for
the shim. Both sides run governor's installed post_tool_use.py on a non-memory Edit payload (the hook that
fires on every edit); the shim adds sh, the stand-down greps and the cached-interpreter read. Also reports
the shim's first call (no cache: it asks each candidate interpreter where governor's hooks are).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import tempfile
from pathlib import Path

from common import REPO, machine, median_ms, timed

SHIM = str(REPO / "plugin" / "hook.sh")


def payload(path: str) -> bytes:
    return json.dumps({
        "session_id": "bench", "transcript_path": "/dev/null", "cwd": os.path.dirname(path),
        "hook_event_name": "PostToolUse", "tool_name": "Edit",
        "tool_input": {"file_path": path, "old_string": "a", "new_string": "b"},
        "tool_response": {"filePath": path}, "tool_use_id": "toolu_bench",
    }).encode()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--python", required=True, help="a clean venv's python with governor installed")
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    hooks = subprocess.run([args.python, "-I", "-c", "import os, governor._hooks as h; "
                            "print(os.path.dirname(h.__file__))"], capture_output=True, text=True,
                           check=True).stdout.strip()
    with tempfile.TemporaryDirectory() as tmp:
        env = {"PATH": f"{os.path.dirname(args.python)}:/usr/bin:/bin", "HOME": tmp, "GOVERNOR_HOME": tmp,
               "CLAUDE_CONFIG_DIR": os.path.join(tmp, "claude"), "CLAUDE_PROJECT_DIR": tmp,
               "CLAUDE_PLUGIN_DATA": os.path.join(tmp, "data")}
        data = payload(os.path.join(tmp, "src", "app.py"))
        direct = [args.python, os.path.join(hooks, "post_tool_use.py")]
        shim = ["sh", SHIM, "post_tool_use.py"]
        first: list[float] = []
        for _ in range(max(3, args.runs // 5)):
            Path(env["CLAUDE_PLUGIN_DATA"], "python").unlink(missing_ok=True)
            first.append(timed(shim, env, data)[0])
        samples: dict[str, list[float]] = {"settings hook (direct)": [], "plugin shim": []}
        for _ in range(args.runs):
            order = list(samples)
            random.shuffle(order)
            for name in order:
                samples[name].append(timed(direct if name.startswith("settings") else shim, env, data)[0])
    base = median_ms(samples["settings hook (direct)"])
    print(f"machine: {machine()}; {args.runs} interleaved runs; interpreter {args.python}")
    print("| path | median | vs direct |\n|---|---|---|")
    for name, values in samples.items():
        print(f"| {name} | {median_ms(values):.1f} ms | {median_ms(values) / base:.2f}× |")
    print(f"| plugin shim, first call (no cache) | {median_ms(first):.1f} ms | {median_ms(first) / base:.2f}× |")


if __name__ == "__main__":
    main()
