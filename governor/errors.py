"""The errors a person can be shown: one base class, a few kinds, each printed as one line by
main.error_handler() with its own exit code. Anything else is a bug: logged with its traceback."""

from __future__ import annotations


class GovernorError(Exception):
    """An expected, user-facing error: `governor: <message>` on stderr (one line per message line)."""

    exit_code = 2


class CliError(GovernorError):
    """What was asked cannot be done as asked: a bad argument, date, path or value (exit 2)."""


class ConfigError(GovernorError):
    """budget.json is unreadable or invalid; the message has one line per problem (exit 2)."""


class SettingsError(GovernorError):
    """A settings file cannot be changed safely; the message says why and that nothing was changed."""


class LedgerBusy(GovernorError):
    """Another governor process holds the ledger's write lock longer than we wait (exit 1)."""

    exit_code = 1

    def __init__(self, detail: str = "") -> None:
        super().__init__("another governor process is updating the ledger; try again in a moment"
                         + (f" ({detail})" if detail else ""))
