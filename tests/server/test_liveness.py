"""The one online/offline rule for agents (server.ingest.liveness), shared by GET /api/v1/agents, /metrics and the
agents page."""

from __future__ import annotations

from server.ingest.liveness import SILENT_MS, agent_state

NOW = 10_000_000


def test_heard_within_silent_time_is_online() -> None:
    """A batch or a status within SILENT_MS: online, whether or not the agent ever reported a state."""
    assert agent_state(None, last_seen_ms=NOW - SILENT_MS, reported_ms=None, now_ms=NOW) == "online"
    assert agent_state("online", last_seen_ms=None, reported_ms=NOW - 1000, now_ms=NOW) == "online"
    assert agent_state("unknown", last_seen_ms=NOW - 1000, reported_ms=None, now_ms=NOW) == "online"


def test_silent_or_gone_or_never_heard_is_offline() -> None:
    """Nothing for longer than SILENT_MS, a reported `offline` (the Last Will), or never heard: offline."""
    assert agent_state("online", last_seen_ms=NOW - SILENT_MS - 1, reported_ms=None, now_ms=NOW) == "offline"
    assert agent_state("offline", last_seen_ms=NOW, reported_ms=NOW, now_ms=NOW) == "offline"
    assert agent_state(None, last_seen_ms=None, reported_ms=None, now_ms=NOW) == "offline"


def test_the_latest_of_batch_and_status_counts() -> None:
    """An old batch but a fresh status report (an idle agent) is online."""
    assert agent_state("online", last_seen_ms=NOW - 10 * SILENT_MS, reported_ms=NOW - 5, now_ms=NOW) == "online"
