"""Install and locate the pinned Claude Code and Codex CLIs for the e2e tests.

Each CLI goes into its own npm prefix under the cache dir ($GOVERNOR_E2E_CACHE, default
~/.cache/governor-e2e/npm): `claude-code-<v>/` and `codex-<v>/`. Installing is idempotent and
serialised with a lock file, so parallel test runs and `.ci/install-clis.sh` can share the cache.
The native binaries are run directly (no Node process in between): Claude Code's platform package
ships `claude`, Codex's ships `vendor/<triple>/bin/codex`.

Run as a script (`python tests/e2e/clis.py [--strict]`) it installs both and prints their versions.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

CLAUDE_VERSION = "2.1.328"
CODEX_VERSION = "0.169.0"
DEFAULT_CACHE = Path(os.environ.get("GOVERNOR_E2E_CACHE") or Path.home() / ".cache" / "governor-e2e" / "npm")


@dataclass(frozen=True)
class Cli:
    name: str  # "claude" or "codex"
    package: str
    version: str
    candidates: tuple[str, ...]  # globs relative to the prefix, best first
    version_text: str  # what `--version` must print

    def prefix(self, cache: Path) -> Path:
        return cache / f"{self.package.rsplit('/', 1)[-1]}-{self.version}"


CLAUDE = Cli(
    "claude",
    "@anthropic-ai/claude-code",
    CLAUDE_VERSION,
    (
        "node_modules/@anthropic-ai/claude-code-*/claude",
        "node_modules/@anthropic-ai/claude-code/bin/claude.exe",
    ),
    f"{CLAUDE_VERSION} (Claude Code)",
)
CODEX = Cli(
    "codex",
    "@openai/codex",
    CODEX_VERSION,
    ("node_modules/@openai/codex-*/vendor/*/bin/codex", "node_modules/.bin/codex"),
    f"codex-cli {CODEX_VERSION}",
)


def version_of(binary: Path) -> str:
    try:
        proc = subprocess.run(
            [str(binary), "--version"], capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"<{type(exc).__name__}: {exc}>"
    return (proc.stdout or proc.stderr).strip()


def locate(cli: Cli, cache: Path = DEFAULT_CACHE) -> Path | None:
    """The installed binary that reports the pinned version, or None."""
    prefix = cli.prefix(cache)
    for pattern in cli.candidates:
        for path in sorted(prefix.glob(pattern)):
            if path.is_file() and os.access(path, os.X_OK) and cli.version_text in version_of(path):
                return path
    return None


def install(cli: Cli, cache: Path = DEFAULT_CACHE) -> tuple[Path | None, str]:
    """Install `cli` unless already there. Returns (binary, "") or (None, why it cannot be had)."""
    npm = shutil.which("npm")
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        found = locate(cli, cache)
        if found:
            return found, ""
        if npm is None:
            return None, f"npm not found on PATH; cannot install {cli.package}@{cli.version}"
        if os.environ.get("GOVERNOR_E2E_NO_INSTALL"):
            return None, f"{cli.package}@{cli.version} not in {cache} and GOVERNOR_E2E_NO_INSTALL is set"
        prefix = cli.prefix(cache)
        shutil.rmtree(prefix, ignore_errors=True)
        prefix.mkdir(parents=True)
        (prefix / "package.json").write_text('{"name": "governor-e2e-cli", "private": true}\n')
        # Claude Code declares engines node>=22 but runs as a native binary: don't let npm refuse on engines.
        cmd = [
            npm,
            "install",
            "--prefix",
            str(prefix),
            "--no-save",
            "--no-audit",
            "--no-fund",
            "--engine-strict=false",
            f"{cli.package}@{cli.version}",
        ]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return None, f"npm install {cli.package}@{cli.version} failed: {exc}"
        (prefix / "npm-install.log").write_text(proc.stdout + proc.stderr)
        found = locate(cli, cache)
        if found:
            return found, ""
        lines = (proc.stdout + proc.stderr).strip().splitlines()
        tail = " | ".join([ln for ln in lines if ln.startswith("npm error")][:3] or lines[-3:])
        return (
            None,
            f"npm install {cli.package}@{cli.version} gave no working binary (rc {proc.returncode}): {tail}",
        )


def main(argv: list[str]) -> int:
    """Exit 0 unless --strict and a CLI could not be had: the e2e tests skip with the reason instead."""
    if shutil.which("npm") is None:
        print("install-clis: npm not found; the e2e tests will skip")
        return 0
    failed = False
    for cli in (CLAUDE, CODEX):
        binary, why = install(cli, DEFAULT_CACHE)
        if binary is None:
            print(f"install-clis: FAILED, the e2e tests needing {cli.name} will skip: {why}", flush=True)
            failed = True
        else:
            print(f"install-clis: {cli.name}: {version_of(binary)} at {binary}", flush=True)
    return 1 if failed and "--strict" in argv else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
