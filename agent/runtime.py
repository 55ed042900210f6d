"""The running agent: sources -> batcher -> outbox -> uplink.

Readings are gathered for at most `flush_interval_s` (or `max_batch_readings`), then written to the outbox as
one batch in one transaction. When the outbox is full, emitting blocks: sources stop reading (their devices
buffer or drop frames at the device, never silently in the agent) until the server acknowledges batches.

When the outbox cannot write at all (its disk is full), the agent does not stop: local alarms still see every
reading, the readings are held in memory up to `outbox.memory_readings`, and beyond that they are dropped and
recorded per sensor (interval, count, reason) in the `DropLedger`. The flusher retries every flush interval;
the first batch written afterwards carries the gaps to the server. The state is reported (`disk_full`), logged
once and driven to the alarm outputs as `agent.disk-full`.

Held readings (a source whose broker keeps each message until it is acknowledged, `agent.sources.Held`) are
released only after the batch that holds them is written, and the batch is written as soon as
`HELD_FLUSH_MESSAGES` messages wait (a broker sends only so many unacknowledged messages at a time). While the
outbox cannot write, held readings are never dropped: their source waits and the broker keeps the rest.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING

from agent.alarms.evaluator import EdgeAlarms
from agent.calibration import register_entry
from agent.clock import Clock, SystemClock
from agent.config import AgentConfig, MqttUplinkConfig
from agent.drops import DropLedger
from agent.metrics import serve_metrics
from agent.outbox import Outbox, OutboxDiskFull, OutboxStats
from agent.pipeline import Pipeline
from agent.plugin_manager import PluginHost
from agent.source_status import SourceStatusBook
from agent.sources import Source
from agent.supervisor import Supervisor
from agent.uplink.http import HttpUplink

if TYPE_CHECKING:
    from agent.uplink.mqtt import MqttUplink
from exposure import Reading
from exposure.wire import SensorCalibration, SourceStatus, StatusReport

log = logging.getLogger(__name__)

#: write a batch once this many held messages wait for it (Mosquitto sends 20 unacknowledged ones at most)
HELD_FLUSH_MESSAGES = 10

try:
    _VERSION = version("hazmon")
except PackageNotFoundError:  # running from a source tree
    _VERSION = "dev"


@dataclass(frozen=True)
class AgentStatus:
    readings_read: int
    batches_written: int
    outbox: OutboxStats
    uplink_connected: bool
    outbox_full: bool
    disk_full: bool
    dropped_readings: int


class Agent:
    def __init__(
        self, config: AgentConfig, *, host: PluginHost, config_path: Path | None = None, clock: Clock | None = None
    ) -> None:
        self.config = config
        self.clock = clock or SystemClock()
        types = host.source_types()
        self.sources: list[Source] = [types[cfg.type](cfg, clock=self.clock) for cfg in config.sources if cfg.enabled]
        self.outbox = Outbox(config.outbox_path(config_path), max_readings=config.outbox.max_readings)
        self.alarms = EdgeAlarms.from_config(config, output_types=host.alarm_output_types(),
                                             config_path=config_path, clock=self.clock)
        self.uplink = self._make_uplink()
        self.pipeline = Pipeline(config.sources, clock=self.clock)
        # the calibration register entries of its sensors: by source name, the sensor id the pipeline calibrates
        self.calibration: dict[str, SensorCalibration] = {
            cfg.name: entry for cfg in config.sources
            if cfg.calibration is not None and (entry := register_entry(cfg.calibration)) is not None
        }
        self.pipeline.add_observer(self.alarms.observe)
        self._source_book = SourceStatusBook()
        self.supervisor = Supervisor(self.sources, emit=self._emit, hold=self._hold, clock=self.clock)
        self._pending: list[Reading] = []
        self._held: list[Reading] = []  # readings whose source waits for them to be written
        self._releases: list[Callable[[], None]] = []
        self.release_failures = 0
        self._flush_now = asyncio.Event()
        self._lock = asyncio.Lock()
        self.readings_read = 0
        self.batches_written = 0
        self.outbox_full = False
        self.drops = DropLedger()
        self.write_error: str | None = None  # why the outbox cannot write, while it cannot
        self.uplink_lost = False  # nothing acknowledged for `uplink.lost_alarm_after_s` while batches wait

    def _make_uplink(self) -> HttpUplink | MqttUplink:
        up, cfg = self.config.uplink, self.config
        if isinstance(up, MqttUplinkConfig):
            from agent.uplink.mqtt import MqttUplink  # aiomqtt only where MQTT is used

            return MqttUplink(
                up,
                site=cfg.site,
                agent=cfg.agent,
                outbox=self.outbox,
                clock=self.clock,
                status=self.status_report,
                alarms=self.alarms.store,
            )
        return HttpUplink(
            url=up.url,
            token=up.token,
            site=cfg.site,
            agent=cfg.agent,
            outbox=self.outbox,
            clock=self.clock,
            timeout_s=up.timeout_s,
            status=self.status_report,
            status_interval_s=up.status_interval_s,
            retry_max_s=up.retry_max_s,
            alarms=self.alarms.store,
        )

    def status_report(self) -> StatusReport:
        """What the agent tells the server about itself while it runs: version, outbox depth and age, whether it
        is full, the calibration of its sensors (from the config), and each source's state, frame counters and
        last error."""
        stats = self.outbox.stats()
        return StatusReport(
            state="online",
            version=_VERSION,
            ts=self.clock.now_ms(),
            outbox_batches=stats.batches,
            outbox_readings=stats.readings,
            oldest_unsent_ms=stats.oldest_created_ms,
            outbox_full=self.outbox_full,
            disk_full=self.write_error is not None,
            dropped_readings=self.drops.total,
            calibration=self.calibration or None,
            sources=self.source_statuses(),
        )

    def source_statuses(self) -> tuple[SourceStatus, ...]:
        """Each source's state, frame counters and last error (agent.source_status)."""
        now = self.clock.now_ms()
        health = self.supervisor.health
        return tuple(self._source_book.report(health[s.name], getattr(s, "counters", None), now_ms=now)
                     for s in self.sources)

    @property
    def disk_full(self) -> bool:
        return self.write_error is not None

    async def _emit(self, reading: Reading) -> None:
        reading = self.pipeline.process(reading)  # local alarms see it, whatever happens to it next
        self.readings_read += 1
        if self.write_error is not None:  # the flusher retries; holding or dropping here costs no disk
            if len(self._pending) < self.config.outbox.memory_readings:
                self._pending.append(reading)
            else:
                self.drops.drop(reading, reason="disk_full" if "full" in self.write_error else "write_failed")
            return
        self._pending.append(reading)
        if len(self._pending) >= self.config.outbox.max_batch_readings:
            await self.flush()

    async def _hold(self, readings: Sequence[Reading], release: Callable[[], None]) -> None:
        """Readings the broker keeps until `release()`: never dropped; while the outbox cannot write, the
        source waits here (the broker holds what comes next)."""
        while self.write_error is not None:
            await self.outbox.wait_changed(0.5)
            await self.flush()
        for reading in readings:
            self._held.append(self.pipeline.process(reading))
            self.readings_read += 1
        self._releases.append(release)
        if len(self._releases) >= HELD_FLUSH_MESSAGES or len(self._pending) + len(self._held) >= \
                self.config.outbox.max_batch_readings:
            await self.flush()

    async def flush(self, *, final: bool = False) -> None:
        """Write what has been gathered as one batch. Waits (backpressure) while the outbox is full, except for
        the `final` flush at shutdown, which writes past the bound rather than lose what was read.

        The readings stay in memory until the batch is on disk: a cancellation while waiting loses nothing, and
        one during the write lets the write finish (it cannot be interrupted), so no batch is written twice."""
        async with self._lock:
            if not self._pending and not self._held and not self.drops.pending():
                return
            while not final and not self.outbox.has_room(len(self._pending) + len(self._held)):
                if not self.outbox_full:
                    message = (f"outbox full ({self.outbox.max_readings} readings): reading paused until the "
                               "server catches up")
                    log.error(message)
                    self.alarms.system_alarm("outbox-full", active=True, message=message, ts=self.clock.now_ms())
                self.outbox_full = True
                await self.outbox.wait_changed(1.0)
            if self.outbox_full:
                log.warning("outbox has room again: reading resumes")
                self.alarms.system_alarm("outbox-full", active=False, message="outbox has room again",
                                         ts=self.clock.now_ms())
            self.outbox_full = False
            batch, self._pending = self._pending, []
            held, self._held = self._held, []
            releases, self._releases = self._releases, []
            gaps = self.drops.take()
            write = asyncio.ensure_future(self.outbox.append_async(
                batch, now_ms=self.clock.now_ms(), past_bound=final, gaps=gaps, held=held))
            try:
                await asyncio.shield(write)
            except asyncio.CancelledError:
                with contextlib.suppress(Exception):
                    await write
                raise
            except Exception as exc:
                self._write_failed(exc)
                return
            finally:
                if write.done() and not write.cancelled() and write.exception() is not None:
                    self._pending[:0] = batch  # not written: keep it for the next flush
                    self._held[:0] = held
                    self._releases[:0] = releases
                    self.drops.restore(gaps)
            if write.result() is not None:
                self.batches_written += 1
            self._release(releases)
            if self.write_error is not None:
                self._write_recovered()

    def _release(self, releases: list[Callable[[], None]]) -> None:
        """The held readings are on disk: tell their sources (each alone: one failing never stops another)."""
        for release in releases:
            try:
                release()
            except Exception as exc:
                self.release_failures += 1
                log.warning("releasing held readings failed: %s", exc)

    def _write_failed(self, exc: Exception) -> None:
        """The outbox could not write the batch (kept in memory): say so once, drive the alarm outputs."""
        first = self.write_error is None
        self.write_error = "disk full" if isinstance(exc, OutboxDiskFull) else f"{type(exc).__name__}: {exc}"
        if first:
            message = (f"outbox cannot write ({self.write_error}): readings held in memory, up to "
                       f"{self.config.outbox.memory_readings}, then dropped and recorded as gaps")
            log.error(message)
            self.alarms.system_alarm("disk-full", active=True, message=message, ts=self.clock.now_ms())

    def _write_recovered(self) -> None:
        log.warning("outbox writes again after %s; %d readings were dropped in all", self.write_error,
                    self.drops.total)
        self.write_error = None
        self.alarms.system_alarm("disk-full", active=False, message="the outbox writes again",
                                 ts=self.clock.now_ms())

    def check_uplink(self, oldest: int | None) -> bool:
        """Whether the server has acknowledged nothing for `uplink.lost_alarm_after_s` while a batch waits (the
        oldest unacknowledged batch, created at `oldest`, is that old); on each change, log once and drive
        `agent.uplink-lost`. The outbox keeps batches across restarts, so a restart does not hide a lost uplink."""
        limit_s = self.config.uplink.lost_alarm_after_s
        now = self.clock.now_ms()
        lost = oldest is not None and now - oldest >= limit_s * 1000
        if lost != self.uplink_lost:
            self.uplink_lost = lost
            if lost:
                message = f"the server has acknowledged nothing for {limit_s:.0f} s: readings wait in the outbox"
                log.error("uplink lost: %s", message)
            else:
                message = "the server acknowledges again"
                log.warning("uplink back: %s", message)
            self.alarms.system_alarm("uplink-lost", active=lost, message=message, ts=now)
        return lost

    async def _uplink_watch(self) -> None:
        while True:
            await self.clock.sleep(1.0)
            stats = await asyncio.to_thread(self.outbox.stats)
            self.check_uplink(stats.oldest_created_ms)

    async def _flusher(self) -> None:
        while True:
            await self.clock.sleep(self.config.outbox.flush_interval_s)
            await self.flush()

    async def run(self) -> None:
        """Run until cancelled; on cancel, write what was gathered before stopping. Raises ConfigError before
        anything starts when `[metrics] listen` cannot be bound."""
        metrics = serve_metrics(self)
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(self.supervisor.run(), name="sources")
                group.create_task(self._flusher(), name="flusher")
                group.create_task(self.uplink.run(), name="uplink")
                group.create_task(self.alarms.run(), name="alarms")
                group.create_task(self._uplink_watch(), name="uplink-watch")
        finally:
            metrics.close()
            await asyncio.shield(self.flush(final=True))

    async def drain(self, timeout_s: float) -> bool:
        """Flush and wait until the server has acknowledged everything, or the timeout passes."""
        await self.flush()
        deadline = asyncio.get_running_loop().time() + timeout_s
        while self.outbox.stats().batches and asyncio.get_running_loop().time() < deadline:
            await self.outbox.wait_changed(0.2)
        return self.outbox.stats().batches == 0

    def status(self) -> AgentStatus:
        return AgentStatus(
            self.readings_read, self.batches_written, self.outbox.stats(), self.uplink.connected, self.outbox_full,
            self.disk_full, self.drops.total,
        )

    def close(self) -> None:
        self.outbox.close()
        self.alarms.close()
