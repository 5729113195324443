"""Sources -> ledger: transcripts, Codex rollouts, official captures, the SQLite ledger and its read-side queries.

Imports only the flat core and governor.policy."""
