#!/usr/bin/env bash
# Install the pinned Claude Code (2.1.328) and Codex (0.169.0) CLIs for tests/e2e into
# ${GOVERNOR_E2E_CACHE:-~/.cache/governor-e2e/npm}. Idempotent; prints both versions.
# Without npm, or when npm fails, it says so and exits 0 (1 with --strict): the e2e tests then
# skip with that reason.
set -uo pipefail
here="${BASH_SOURCE[0]%/*}"; [ "$here" = "${BASH_SOURCE[0]}" ] && here=.
root="$(cd "$here/.." && pwd)"
if ! command -v npm >/dev/null 2>&1; then
    echo "install-clis: npm not found; the e2e tests will skip"
    exit 0
fi
exec "${PYTHON:-python3}" "$root/tests/e2e/clis.py" "$@"  # --strict: exit 1 when an install fails
