"""The log-leak check (tests/kit/log_leaks.py) sees every log record of the run and finds registered strings."""

from __future__ import annotations

import logging

from tests.kit import log_leaks


def test_every_record_at_every_level_is_captured() -> None:
    """A DEBUG record of any logger reaches the session's capture handler."""
    logging.getLogger("server.some.module").debug("marker %s", "qv-7781-unregistered")
    captures = [h for h in logging.getLogger().handlers if isinstance(h, log_leaks._Capture)]
    assert captures and any("qv-7781-unregistered" in line for line in captures[0].lines)


def test_registered_strings_are_found_in_lines_and_tracebacks() -> None:
    """`find_leaks` reports each line holding a registered string (once per line)."""
    lines = ["ok line", "worker Li Lei failed", "Traceback ...\nValueError: (Li Lei, W-9)"]
    assert len(log_leaks.find_leaks(lines, {"Li Lei", "W-9"})) == 2
    assert log_leaks.sensitive("x") == "x" and "x" not in log_leaks.SENSITIVE  # too short to search for
