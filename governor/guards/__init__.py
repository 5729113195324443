"""The hooks: the fail-open runtime, the result type, hook state and one module per guard.

Imports the core, policy, meter and lanes; never statusline, wiring, reports or commands."""
