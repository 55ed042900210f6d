"""A pytest plugin (registered from tests/conftest.py): no personal data in any log line written during the run.

Every log record of the whole session, at every level, is captured by a handler on the root logger (the root is
set to DEBUG for the session; SQLAlchemy's own statement echo stays at WARNING, see below), and so is the output of
every child process the kit starts (tests/kit/processes.py registers their log files). At the end of the session
each captured line is searched for the "sensitive" strings the tests created: worker names, employee numbers and
exam text. Fixtures register what they create with `sensitive("Zhang Wei")`; the names used across the server
tests are seeded below. Any hit fails the session with the line that leaked.

With pytest-xdist each worker checks its own records and writes what it found to a directory the controller
gave it; the controller fails the run.

SQLAlchemy logs every statement at INFO when its logger is enabled for INFO; that echo is not the server's logging
(the server keeps it at WARNING, server/log_config.py), and with `hide_parameters` it holds no values anyway.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import traceback
from pathlib import Path

import pytest

#: names, employee numbers and exam text the tests create (fixtures add theirs with `sensitive`)
SENSITIVE: set[str] = {"Zhang Wei", "Wang Fang", "Test Worker", "SECRET-FINDING", "mild loss", "e-77"}

#: log files of child processes (servers, agents) started by the kit
CHILD_LOGS: list[Path] = []

#: held at these levels: SQLAlchemy's statement echo (above), the wire chatter of pymodbus and httpcore, and the
#: test client's own request log (httpx at INFO: the URLs the *tests* call, not a server log)
_QUIET = {"sqlalchemy": logging.WARNING, "pymodbus": logging.INFO, "httpcore": logging.INFO, "hpack": logging.INFO,
          "httpx": logging.WARNING}


def sensitive(*values: str) -> str:
    """Register personal data a test creates (no log line may contain it); returns the first value."""
    for v in values:
        if v and len(v) >= 3:
            SENSITIVE.add(v)
    return values[0]


def child_log(path: Path) -> None:
    CHILD_LOGS.append(path)


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.NOTSET)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:  # a bad format string: keep the raw parts
            text = f"{record.msg!r} {record.args!r}"
        if record.exc_info and record.exc_info[1] is not None:
            text += "\n" + "".join(traceback.format_exception(*record.exc_info))
        if record.stack_info:
            text += "\n" + record.stack_info
        self.lines.append(f"{record.name}:{record.levelname}: {text}")


def find_leaks(lines: list[str], secrets: set[str]) -> list[str]:
    hits = []
    for line in lines:
        for s in secrets:
            if s in line:
                hits.append(f"{s!r} in: {line[:300]}")
                break
    return hits


class LogLeaks:
    def __init__(self) -> None:
        self.capture = _Capture()
        self._saved: dict[str, int] = {}
        self.report_dir: Path | None = None

    @pytest.hookimpl(tryfirst=True)
    def pytest_configure(self, config: pytest.Config) -> None:
        root = logging.getLogger()
        self._saved[""] = root.level
        root.setLevel(logging.DEBUG)
        root.addHandler(self.capture)
        for name, level in _QUIET.items():
            logger = logging.getLogger(name)
            self._saved[name] = logger.level
            logger.setLevel(max(level, logger.level))
        workerinput = getattr(config, "workerinput", None)
        if workerinput is not None:
            self.report_dir = Path(workerinput["log_leaks_dir"])
        elif os.environ.get("PYTEST_XDIST_WORKER") is None:
            self.report_dir = Path(tempfile.mkdtemp(prefix="hazmon-log-leaks-"))

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: object) -> None:  # xdist controller: tell each worker where to report
        node.workerinput["log_leaks_dir"] = str(self.report_dir)  # type: ignore[attr-defined]

    def leaks(self) -> list[str]:
        lines = list(self.capture.lines)
        for path in CHILD_LOGS:
            if path.exists():
                lines.extend(path.read_text(errors="replace").splitlines())
        return find_leaks(lines, set(SENSITIVE))

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        hits = self.leaks()
        logging.getLogger().removeHandler(self.capture)
        for name, level in self._saved.items():
            logging.getLogger(name or None).setLevel(level)
        if self.report_dir is None:
            return
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        if hits:
            (self.report_dir / f"{worker}.json").write_text(json.dumps(hits))
        if getattr(session.config, "workerinput", None) is not None:
            return  # the controller reports
        found = [h for f in sorted(self.report_dir.glob("*.json")) for h in json.loads(f.read_text())]
        if found:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
            tr = session.config.pluginmanager.get_plugin("terminalreporter")
            if tr is not None:
                tr.write_sep("=", "personal data in the logs (tests/kit/log_leaks.py)", red=True)
                for hit in found[:50]:
                    tr.write_line(hit)
