"""The Codex hand-off: the brief file, the pasteable command and the hook's messages (the router's event
log is lanes/router_events.py).

Briefs live in `<state>/handoffs/<UTC time>-<slug>.md` (dir 0700, files 0600). The first line is a
machine-readable header (`<!-- governor-handoff {json} -->`) so `governor handoff` can rebuild the
command (the working directory) from the file alone. Running Codex on a brief: handoff_run.py (CLI only).
"""

from __future__ import annotations

import os
import time

from governor import fastjson as json  # json without importing json (re, enum): hot path
from governor import paths

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing costs ~3 ms (it imports re) per hook run
    from typing import Any

HEADER_PREFIX = "<!-- governor-handoff "
MAX_PROMPT_CHARS = 200_000  # a brief is a task, not an archive
STATUS_LINES = 20
STATUS_LINE_CHARS = 200
GIT_TIMEOUT_S = 1.0

INSTRUCTIONS = """\
- Implement the task above in this working directory. Keep the change bounded to what it asks for; \
do not refactor unrelated code.
- Do not commit, push, rebase or rewrite history: leave the changes in the working tree for review.
- Run the project's relevant tests if it has them. Never delete, skip or weaken a test to make it pass.
- If the task is ambiguous or needs a design decision, stop and say so instead of guessing.
- Finish with a short report: the files you changed (one line each, what and why), the tests you ran \
and their result, and anything left undone."""


def slug(prompt: str, limit: int = 32) -> str:
    import re  # a brief's name: the status line, which reads the last hand-off, need not import re

    words = re.findall(r"[a-z0-9]+", prompt[:400].lower())
    out = ""
    for word in words:
        candidate = f"{out}-{word}" if out else word
        if len(candidate) > limit:
            break
        out = candidate
    return out or "task"


def git_summary(cwd: str) -> tuple[str | None, list[str]]:
    """(branch, bounded `git status --porcelain` lines); (None, []) when unavailable. Never raises."""
    import subprocess

    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"}  # never take the index lock
    try:
        proc = subprocess.run(
            ["git", "-C", cwd, "status", "--porcelain=v1", "--branch", "--untracked-files=normal"],
            stdin=subprocess.DEVNULL, capture_output=True, timeout=GIT_TIMEOUT_S, env=env, check=False,
        )
    except (OSError, subprocess.SubprocessError, ValueError):
        return None, []
    if proc.returncode != 0:
        return None, []
    lines = proc.stdout.decode("utf-8", "replace").splitlines()
    branch = None
    if lines and lines[0].startswith("## "):
        head = lines.pop(0)[3:]
        branch = head.split("...")[0].replace("No commits yet on ", "").strip() or None
    return branch, lines


def _fence(text: str) -> str:
    import re

    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def render_brief(prompt: str, cwd: str, session_id: str | None, now: float,
                 branch: str | None, status: list[str]) -> str:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
    meta = {"cwd": cwd, "session_id": session_id, "created": stamp, "branch": branch}
    header = HEADER_PREFIX + json.dumps(meta, ensure_ascii=False).replace(">", "\\u003e") + " -->"
    if len(prompt) > MAX_PROMPT_CHARS:
        prompt = prompt[:MAX_PROMPT_CHARS] + f"\n[… {len(prompt) - MAX_PROMPT_CHARS} more characters cut]"
    fence = _fence(prompt)
    shown = [line[:STATUS_LINE_CHARS] for line in status[:STATUS_LINES]]
    more = f"\n… and {len(status) - STATUS_LINES} more" if len(status) > STATUS_LINES else ""
    state = "clean" if not status else f"{len(status)} changed or untracked path(s)"
    git = (f"Git branch: {branch or 'unknown (not a git repository?)'}\n"
           f"Git status: {state}\n")
    status_block = "\n```\n" + "\n".join(shown) + more + "\n```\n" if shown else ""
    return (
        f"{header}\n# Hand-off brief\n\n"
        f"Written by governor at {stamp} from a Claude Code prompt.\n\n"
        f"Working directory: {cwd}\n{git}{status_block}\n"
        f"## Task (the person's request, verbatim)\n\n{fence}text\n{prompt}\n{fence}\n\n"
        f"## Instructions\n\n{INSTRUCTIONS}\n"
    )


def write_brief(prompt: str, cwd: str, session_id: str | None = None, now: float | None = None,
                directory: str | None = None) -> str:
    """Write a new brief (0600, never overwriting another) and return its absolute path."""
    now = time.time() if now is None else now
    directory = directory or paths.handoffs_dir()
    paths.ensure_private_dir(directory)
    os.chmod(directory, 0o700)
    branch, status = git_summary(cwd)
    data = render_brief(prompt, cwd, session_id, now, branch, status).encode("utf-8", "replace")
    base = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now)) + "-" + slug(prompt)
    for n in range(1, 1000):
        path = os.path.join(directory, f"{base}.md" if n == 1 else f"{base}-{n}.md")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(path, 0o600)
        return os.path.abspath(path)
    raise FileExistsError(f"no free brief name for {base}")


def read_meta(brief: str) -> dict[str, Any]:
    """The header a governor brief starts with ({} for a hand-written file)."""
    with open(brief, encoding="utf-8", errors="replace") as fh:
        first = fh.readline(64 * 1024).strip()
    if first.startswith(HEADER_PREFIX) and first.endswith("-->"):
        try:
            meta = json.loads(first[len(HEADER_PREFIX):-3])
        except ValueError:
            return {}
        return meta if isinstance(meta, dict) else {}
    return {}


def latest_brief(directory: str | None = None) -> str | None:
    directory = directory or paths.handoffs_dir()
    try:
        entries = [e for e in os.scandir(directory) if e.name.endswith(".md") and e.is_file()]
    except OSError:
        return None
    if not entries:
        return None
    return max(entries, key=lambda e: (e.stat().st_mtime_ns, e.name)).path


def handoff_command(brief: str, cwd: str, codex_cmd: str = "codex", sandbox: str = "workspace-write") -> str:
    """`codex exec --sandbox S --skip-git-repo-check -C CWD - < BRIEF`, every part shell-quoted (codex_cmd is
    one program). Without --skip-git-repo-check Codex refuses to run outside a trusted git repo."""
    parts = [codex_cmd, "exec", "--sandbox", sandbox, "--skip-git-repo-check", "-C", os.path.abspath(cwd), "-"]
    import shlex  # only when a hand-off is shown: keeps the prompt hook's imports light

    return " ".join(shlex.quote(p) for p in parts) + " < " + shlex.quote(os.path.abspath(brief))
