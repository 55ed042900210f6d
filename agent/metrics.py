"""The agent's own state for Prometheus (`[metrics] listen = "127.0.0.1:9108"`): one collector reads the running
`Agent` at scrape time (nothing in the pipeline is instrumented for it), served by prometheus_client's HTTP
server in a thread of its own from a private registry.

Metrics (prefix `hazmon_agent_`): `info{site,agent}` (always 1), `readings_total`, `batches_written_total`,
`rejected_frames_total{source,reason}` (the source's own frame checks and the supervisor's poison guard),
`source_readings_total{source}`, `source_failures_total{source}` (restarts), `source_up{source}` (1 while
running), `outbox_batches`, `outbox_readings`, `outbox_oldest_age_seconds` (0 when empty), `uplink_connected`,
`outbox_full`, `disk_full`, `dropped_readings_total` (recorded as gaps while the disk was full),
`alarm_output_failures_total`.

Scrapes run in the server's thread while the agent's loop mutates its counters: every dict is copied with
`dict()` (one step under the GIL) before it is iterated.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from agent.config import ConfigError
from agent.probe import SourceCounters

if TYPE_CHECKING:
    from agent.runtime import Agent

log = logging.getLogger(__name__)

PREFIX = "hazmon_agent_"


class AgentCollector:
    """Every `hazmon_agent_*` metric of one running agent."""

    def __init__(self, agent: Agent) -> None:
        self.agent = agent

    def collect(self) -> Iterator[Metric]:
        agent = self.agent
        status = agent.status()
        info = GaugeMetricFamily(f"{PREFIX}info", "This agent's site and id", labels=["site", "agent"])
        info.add_metric([agent.config.site, agent.config.agent], 1)
        yield info
        yield _counter("readings", "Readings read from every source", status.readings_read)
        yield _counter("batches_written", "Batches written to the outbox", status.batches_written)
        rejected = CounterMetricFamily(f"{PREFIX}rejected_frames", "Frames, lines or values rejected at a source, "
                                       "by reason", labels=["source", "reason"])
        readings = CounterMetricFamily(f"{PREFIX}source_readings", "Readings from the source", labels=["source"])
        failures = CounterMetricFamily(f"{PREFIX}source_failures", "Times the source failed and was restarted",
                                       labels=["source"])
        up = GaugeMetricFamily(f"{PREFIX}source_up", "1 while the source runs", labels=["source"])
        health = agent.supervisor.health
        for source in agent.sources:
            h = health[source.name]
            counters = getattr(source, "counters", None)
            # a source with counters also holds the supervisor's rejections of it (Supervisor._reject)
            by_reason = dict(counters.frames_bad if isinstance(counters, SourceCounters) else h.rejected)
            for reason, n in sorted(by_reason.items()):
                rejected.add_metric([source.name, reason], n)
            readings.add_metric([source.name], h.readings)
            failures.add_metric([source.name], h.failures)
            up.add_metric([source.name], int(h.state == "running"))
        yield from (rejected, readings, failures, up)
        outbox = status.outbox
        yield _gauge("outbox_batches", "Batches in the outbox, not yet acknowledged by the server", outbox.batches)
        yield _gauge("outbox_readings", "Readings in the outbox, not yet acknowledged by the server", outbox.readings)
        age_s = 0.0 if outbox.oldest_created_ms is None else (agent.clock.now_ms() - outbox.oldest_created_ms) / 1000
        yield _gauge("outbox_oldest_age_seconds", "Age of the oldest unacknowledged batch (0: the outbox is empty)",
                     max(age_s, 0.0))
        yield _gauge("uplink_connected", "1 while the uplink reaches the server", int(status.uplink_connected))
        yield _gauge("outbox_full", "1 while the outbox is full (reading paused)", int(status.outbox_full))
        yield _gauge("disk_full", "1 while the outbox cannot write (readings held in memory, then dropped)",
                     int(status.disk_full))
        yield _counter("dropped_readings", "Readings dropped and recorded as gaps while the outbox could not write",
                       status.dropped_readings)
        yield _counter("alarm_output_failures", "Local alarm outputs that failed to drive",
                       agent.alarms.output_failures)


def _counter(name: str, documentation: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(f"{PREFIX}{name}", documentation, value=value)


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(f"{PREFIX}{name}", documentation, value=value)


class MetricsEndpoint:
    """The running `/metrics` server of an agent (or none, when `[metrics] listen` is not set)."""

    def __init__(self, server: WSGIServer | None = None, thread: threading.Thread | None = None) -> None:
        self._server = server
        self._thread = thread

    def close(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join()
            self._server = self._thread = None


def serve_metrics(agent: Agent) -> MetricsEndpoint:
    """Start the endpoint `[metrics] listen` asks for. Raises ConfigError (one line, naming the key) when the
    address cannot be bound: the port is in use, or the host is not this machine's."""
    listen, address = agent.config.metrics.listen, agent.config.metrics.address
    if address is None:
        return MetricsEndpoint()
    registry = CollectorRegistry()
    registry.register(AgentCollector(agent))
    host, port = address
    try:
        server, thread = start_http_server(port, addr=host, registry=registry)
    except OSError as exc:
        raise ConfigError([f"metrics.listen: cannot listen on {listen}: {exc.strerror or exc}"]) from None
    log.info("metrics: serving http://%s/metrics", listen)
    return MetricsEndpoint(server, thread)
