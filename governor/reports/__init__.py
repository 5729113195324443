"""What the CLI shows: tables, status, daily, sessions, the ledger refresh before a report, doctor, demo.

May import every layer below commands."""
