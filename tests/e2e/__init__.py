"""End-to-end tests: the real Claude Code and Codex CLIs against loopback mocks (see conftest.py)."""
