"""Each source's state in the status report (agent.source_status): ok while good frames come, failing when its
latest event is an error, unavailable while it does not run; the last error is one line with the time it was
seen; the counters come from the source's own counters where it keeps them."""

from __future__ import annotations

from agent.probe import SourceCounters
from agent.source_status import SourceStatusBook
from agent.supervisor import SourceHealth
from exposure import wire


def test_a_running_source_with_good_frames_is_ok() -> None:
    """Frames decoded and no error: ok, the counters as the source counts them."""
    book, health, counters = SourceStatusBook(), SourceHealth("gas", state="running"), SourceCounters(frames_ok=5)
    s = book.report(health, counters, now_ms=1000)
    assert (s.name, s.state, s.frames_ok, s.frames_bad, s.last_error, s.last_error_ts) == ("gas", "ok", 5, 0,
                                                                                          None, None)


def test_a_failed_read_after_the_last_good_frame_is_failing_until_a_frame_comes() -> None:
    """A read error with no good frame since: failing, with its first line and the time a report first saw it;
    the next good frame makes it ok again and keeps the last error to read."""
    book, health, counters = SourceStatusBook(), SourceHealth("gas", state="running"), SourceCounters(frames_ok=5)
    book.report(health, counters, now_ms=1000)
    counters.error("read timeout after 2.0 s\nTraceback ...")
    counters.bad("checksum")
    s = book.report(health, counters, now_ms=2000)
    assert (s.state, s.frames_bad, s.last_error, s.last_error_ts) == ("failing", 1, "read timeout after 2.0 s",
                                                                      2000)
    counters.frames_ok += 1
    s = book.report(health, counters, now_ms=3000)
    assert (s.state, s.last_error, s.last_error_ts) == ("ok", "read timeout after 2.0 s", 2000)


def test_a_crashed_source_waiting_to_restart_is_unavailable_with_its_crash() -> None:
    """The supervisor's backoff: unavailable, the crash's message and time (stamped by the supervisor)."""
    health = SourceHealth("noise", state="backoff", failures=1, last_error="SerialException: no such port",
                          last_error_ms=1500)
    s = SourceStatusBook().report(health, None, now_ms=2000)
    assert (s.state, s.last_error, s.last_error_ts, s.frames_ok) == ("unavailable", "SerialException: no such port",
                                                                     1500, 0)


def test_a_long_error_is_cut_to_one_line() -> None:
    """At most SOURCE_ERROR_MAX characters, the first line only."""
    assert wire.one_line("x" * 1000 + "\nmore") == "x" * wire.SOURCE_ERROR_MAX
    assert wire.one_line("  \n") is None


def test_the_report_sends_sources_only_when_known() -> None:
    """`sources` is optional on the wire: left out when None, a list of the SourceStatus fields otherwise."""
    assert "sources" not in wire.StatusReport(state="online").to_json()
    body = wire.StatusReport(state="online", sources=(wire.SourceStatus("gas", "ok", 3),)).to_json()
    assert body["sources"] == [{"name": "gas", "state": "ok", "frames_ok": 3, "frames_bad": 0, "last_error": None,
                                "last_error_ts": None}]
