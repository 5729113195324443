"""Claude Code's status line: run (the hot path), render (the text, pure) and chain (the previous command).

Imports the core, policy, meter and lanes."""
