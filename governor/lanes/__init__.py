"""The second lane: the Codex hand-off brief, its event log and running it.

Imports the core, policy and meter."""
