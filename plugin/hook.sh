#!/bin/sh
# governor's Claude Code plugin shim. `hook.sh SCRIPT` runs governor's hook SCRIPT (e.g. user_prompt_submit.py)
# with governor's own interpreter; `hook.sh --cli ARGS` runs `governor ARGS` (the /governor:* commands).
# Fails open: whatever goes wrong, a hook exits 0 and prints nothing (SessionStart may say how to finish).
# POSIX sh, not Python: it runs on every prompt and tool call, and sh costs ~1 ms where a Python hop costs ~15.

case "${GOVERNOR_DISABLE:-}" in "" | 0) ;; *) exit 0 ;; esac
data=${CLAUDE_PLUGIN_DATA:-}

cli=""
if [ "${1:-}" = "--cli" ]; then cli=1; shift; script=""; else script=${1:-}; fi
case "$script" in *[!a-z_.]*) exit 0 ;; esac

# No double registration: `governor install` wrote this event's hook into a settings file, and Claude Code
# runs that one; the plugin's copy stands down (`governor doctor` says which is active).
# One grep for the three files (-s: a missing one is no error); no other process on the steady-state path.
if [ -n "$script" ] && grep -qsF "hooks/$script" "${CLAUDE_CONFIG_DIR:-$HOME/.claude}/settings.json" \
     "${CLAUDE_PROJECT_DIR:-.}/.claude/settings.json" "${CLAUDE_PROJECT_DIR:-.}/.claude/settings.local.json"; then
  exit 0
fi

# governor's interpreter and its hook scripts, cached in the plugin's data dir once found.
py="" dir=""
if [ -n "$data" ] && [ -f "$data/python" ]; then
  { read -r py; read -r dir; } < "$data/python" 2>/dev/null
fi
usable() { [ -n "$py" ] && [ -x "$py" ] && [ -n "$dir" ] && [ -f "$dir/session_start.py" ]; }

shebang() {  # the interpreter a pip/pipx/uv console script runs
  [ -f "$1" ] && head -n 1 "$1" 2>/dev/null | sed -n 's/^#![[:space:]]*\([^[:space:]]*python[^[:space:]]*\).*/\1/p'
}

candidates() {
  # 1. the interpreter `governor install` recorded (its state dir, as governor.paths computes it)
  for rec in "${GOVERNOR_HOME:+$GOVERNOR_HOME/interpreter}" \
             "${XDG_STATE_HOME:-$HOME/.local/state}/governor/interpreter" \
             "$HOME/Library/Application Support/governor/interpreter"; do
    [ -n "$rec" ] && [ -f "$rec" ] && head -n 1 "$rec"
  done
  # 2. `governor` on PATH, then pipx's and uv tool's default bin dir
  shebang "$(command -v governor 2>/dev/null)"
  shebang "$HOME/.local/bin/governor"
  # 3. the venv the plugin bootstrapped from its own source
  [ -n "$data" ] && [ -f "$data/venv/.ready" ] && echo "$data/venv/bin/python"
}

if ! usable; then
  py="" dir=""
  nl='
'
  IFS=$nl  # one candidate per line: paths may hold spaces
  for cand in $(candidates | head -n 8); do
    [ -x "$cand" ] || continue
    found=$("$cand" -I -c 'import os, governor._hooks as h; print(os.path.dirname(h.__file__))' 2>/dev/null) || continue
    py=$cand dir=$found
    if usable; then
      [ -n "$data" ] && mkdir -p "$data" 2>/dev/null &&
        printf '%s\n%s\n' "$py" "$dir" > "$data/python.$$" 2>/dev/null && mv -f "$data/python.$$" "$data/python"
      break
    fi
    py="" dir=""
  done
  unset IFS
fi

if usable; then
  if [ -n "$cli" ]; then exec "$py" -I -m governor "$@"; fi
  [ -f "$dir/$script" ] || exit 0
  exec "$py" "$dir/$script"
fi

# governor is not installed (yet): the hooks stay silent; SessionStart and the commands say how to finish.
if [ -n "$cli" ] || [ "$script" = "session_start.py" ]; then
  boot=$(command -v python3 2>/dev/null) || boot=""
  if [ -n "$boot" ]; then
    mode=session-start
    [ -n "$cli" ] && mode=cli
    case "$0" in */*) here=${0%/*} ;; *) here=. ;; esac
    exec "$boot" -I "$here/bootstrap.py" "$mode"
  fi
  [ -n "$cli" ] && echo "governor is not installed and there is no python3 on PATH: install Python 3.10+, then pipx install token-budget-governor"
fi
exit 0
