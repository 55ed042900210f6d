"""A child process the test owns: started with its output in a log file, stopped politely or SIGKILLed, started
again the same way."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

from tests.kit import log_leaks


class Proc:
    def __init__(self, name: str, argv: list[str], *, log: Path, env: dict[str, str] | None = None,
                 cwd: Path | None = None) -> None:
        self.name, self.argv, self.log, self.env, self.cwd = name, argv, log, env, cwd
        log_leaks.child_log(log)  # searched for personal data at the end of the run
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        assert not self.running(), f"{self.name} is already running"
        self.starts += 1
        with self.log.open("ab") as out:  # appended across restarts; the child keeps its own descriptor
            self.proc = subprocess.Popen(self.argv, env=self.env, cwd=self.cwd, stdout=out, stderr=subprocess.STDOUT)

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def exited(self) -> int | None:
        """The exit code if the process has ended, else None."""
        return None if self.proc is None else self.proc.poll()

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush, like a power cut for the process."""
        if self.running():
            assert self.proc is not None
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 15 s."""
        if self.running():
            assert self.proc is not None
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    def log_text(self, tail: int = 0) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return text[-tail:] if tail else text

    def alive_or_fail(self) -> None:
        """Raise with the log's tail when the process has died (used inside start-up waits)."""
        code = self.exited()
        if code is not None:
            raise AssertionError(f"{self.name} exited with {code}:\n{self.log_text(3000)}")
