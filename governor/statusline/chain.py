"""Run the person's previous status-line command alongside governor's own work.

Started first, with the same stdin, in its own process group; its output is collected at the end,
so the status line costs max(chain, governor), not the sum. A chain that outlives its timeout is
killed (the whole group: `sh -c` children too) and contributes nothing; a failing one contributes
whatever it printed. When governor itself is terminated (Claude Code cancels a status line that a new
refresh overtakes), the chain goes with it. Never raises.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time

from governor.log import log


class Chain:
    def __init__(self, command: str, stdin: bytes, timeout_s: float) -> None:
        self.command = command
        self.deadline = time.monotonic() + timeout_s
        self.timeout_s = timeout_s
        self.output: bytes | None = None
        self.proc: subprocess.Popen[bytes] | None = None
        try:
            self.proc = subprocess.Popen(command, shell=True, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=subprocess.DEVNULL, start_new_session=True)
        except OSError as exc:
            log(f"statusline chain {command!r} did not start: {exc}")
            return
        self.thread = threading.Thread(target=self._talk, args=(stdin,), daemon=True)
        self.thread.start()
        try:  # Claude Code cancels a running status line when a new refresh starts: take the chain along
            signal.signal(signal.SIGTERM, self._on_term)
        except ValueError:
            pass  # not the main thread

    def _on_term(self, signum: int, _frame: object) -> None:
        self._kill()
        os._exit(128 + signum)

    def _talk(self, stdin: bytes) -> None:
        assert self.proc is not None
        try:
            self.output, _ = self.proc.communicate(stdin)
        except (OSError, ValueError):
            pass  # killed at the deadline, or it closed stdin early

    def result(self) -> list[str]:
        """The chain's stdout lines, waiting at most until the deadline."""
        if self.proc is None:
            return []
        self.thread.join(max(0.0, self.deadline - time.monotonic()))
        if self.thread.is_alive():
            self._kill()
            log(f"statusline chain {self.command!r} timed out after {self.timeout_s * 1000:.0f} ms")
            return []
        if self.proc.returncode:
            log(f"statusline chain {self.command!r} exited {self.proc.returncode}")
        text = (self.output or b"").decode("utf-8", "replace")
        return text.rstrip("\n").split("\n") if text.strip() else []

    def _kill(self) -> None:
        assert self.proc is not None
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except OSError:
            pass
        try:
            self.proc.wait(0.5)
        except subprocess.TimeoutExpired:
            pass
