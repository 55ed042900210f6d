"""Local alarm evaluation: a pipeline observer that sees every calibrated reading, raises and clears alarms with
hysteresis, drives the outputs and keeps each event (an `exposure.wire.AlarmEvent`) in the alarm store until the
server has it. Works the same while the uplink is down; the uplink in use (HTTP or MQTT) carries the stored events
to the server once it is reachable and deletes those the server acknowledges.

STEL alarms use exposure's streaming ChemicalEvaluator over the last 15 minutes, re-evaluated at most every
`STEL_STEP_MS` of reading time (detectors recompute STEL about once a minute; research notes §5.3).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.alarms.outputs import AlarmOutput, AlarmSignal
from agent.alarms.rules import AlarmLevel, AlarmRule
from agent.alarms.store import AlarmStore
from agent.clock import Clock
from exposure import Reading
from exposure.chemical import STEL_WINDOW_S
from exposure.segments import DEFAULT_MAX_GAP_S
from exposure.streaming import ChemicalEvaluator
from exposure.wire import AlarmEvent, AlarmKind, is_unreliable

log = logging.getLogger(__name__)

STEL_STEP_MS = 15_000
WINDOW_MS = round(STEL_WINDOW_S * 1000)
GAP_MS = round(DEFAULT_MAX_GAP_S * 1000)


@dataclass
class _Series:
    level: int = -1  # index into the sorted levels, -1 = no alarm
    recent: deque[Reading] = field(default_factory=deque)
    stel_at: int = -STEL_STEP_MS


class EdgeAlarms:
    def __init__(self, rules: list[AlarmRule], *, outputs: dict[str, list[AlarmOutput]], store: AlarmStore,
                 clock: Clock) -> None:
        self.rules = rules
        self.outputs = outputs
        self.store = store
        self.clock = clock
        self._series: dict[tuple[str, str], _Series] = {}
        self._signals: asyncio.Queue[tuple[AlarmOutput, AlarmSignal]] | None = None
        self._backlog: list[tuple[AlarmOutput, AlarmSignal]] = []
        self.output_failures = 0

    @classmethod
    def from_config(cls, config: Any, *, output_types: Mapping[str, type[AlarmOutput]], config_path: Path | None,
                    clock: Clock) -> EdgeAlarms:
        """Build from AgentConfig: output tables validated against their plugin's model (errors stop start-up)."""
        outputs: dict[str, list[AlarmOutput]] = {}
        for rule in config.alarms:
            built = []
            for i, table in enumerate(rule.outputs):
                kind = table.get("type")
                if kind not in output_types:
                    raise ValueError(f"alarms.{rule.id}.outputs[{i}]: unknown output type {kind!r} "
                                     f"(known: {', '.join(sorted(output_types)) or 'none'})")
                output_cls = output_types[kind]
                built.append(output_cls(output_cls.config_model.model_validate(table)))
            outputs[rule.id] = built
        base = config.data_dir or (config_path.parent if config_path else Path.cwd())
        return cls(list(config.alarms), outputs=outputs, store=AlarmStore(base / f"alarms-{config.agent}.db"),
                   clock=clock)

    # -- the observer (synchronous, called for every reading) -----------------------------------------------
    def observe(self, reading: Reading) -> None:
        if is_unreliable(reading.flags):
            return
        for rule in self.rules:
            if not rule.applies_to(reading.sensor, reading.quantity, reading.unit):
                continue
            series = self._series.setdefault((rule.id, reading.sensor), _Series())
            value = self._value(rule, series, reading)
            if value is not None:
                self._step(rule, series, reading, value)

    def _value(self, rule: AlarmRule, series: _Series, reading: Reading) -> float | None:
        if rule.metric == "value":
            return reading.value
        series.recent.append(reading)
        while series.recent and series.recent[0].ts < reading.ts - WINDOW_MS - GAP_MS:
            series.recent.popleft()
        if reading.ts - series.stel_at < STEL_STEP_MS:
            return None
        series.stel_at = reading.ts
        ev = ChemicalEvaluator(start_ms=reading.ts - WINDOW_MS, end_ms=reading.ts, unit=rule.unit)
        ev.add_all(r for r in series.recent if r.ts <= reading.ts)
        return ev.stel().value

    def _step(self, rule: AlarmRule, series: _Series, reading: Reading, value: float) -> None:
        levels = rule.sorted_levels()

        def breached(lv: AlarmLevel) -> bool:
            return value >= lv.threshold if rule.above else value <= lv.threshold

        def cleared(lv: AlarmLevel) -> bool:
            return value < lv.clear if rule.above else value > lv.clear

        top = max((i for i, lv in enumerate(levels) if breached(lv)), default=-1)
        if top > series.level:
            series.level = top
            self._event(rule, reading, value, "raised", levels[top])
        elif series.level >= 0 and cleared(levels[0]):
            series.level = -1
            self._event(rule, reading, value, "cleared", levels[0])

    def _event(self, rule: AlarmRule, reading: Reading, value: float, kind: AlarmKind, level: AlarmLevel) -> None:
        active = kind == "raised"
        self.store.add(AlarmEvent(
            id=uuid.uuid4().hex, rule=rule.id, kind=kind, sensor=reading.sensor, quantity=reading.quantity,
            metric=rule.metric, severity=level.severity, value=value, unit=rule.unit, threshold=level.threshold,
            ts=reading.ts, message=rule.message,
        ))
        signal = AlarmSignal(rule.id, reading.sensor, active, level.severity if active else None, value, rule.unit,
                             reading.ts, rule.message)
        for output in self.outputs.get(rule.id, []):
            self._backlog.append((output, signal))

    def system_alarm(self, name: str, *, active: bool, message: str, ts: int) -> None:
        """An alarm about the agent itself (e.g. `outbox-full`): every configured output is driven once."""
        signal = AlarmSignal(f"agent.{name}", "agent", active, "critical" if active else None, 0.0, "", ts, message)
        unique = {id(o): o for outs in self.outputs.values() for o in outs}
        for output in unique.values():
            self._backlog.append((output, signal))

    # -- outputs (one task in the agent's TaskGroup) ---------------------------------------------------------
    def drive_outputs(self) -> None:
        """Drive every queued signal, each output alone (blocking; the task runs it in a thread)."""
        backlog, self._backlog = self._backlog, []
        for output, signal in backlog:
            try:
                output.set(signal)
            except Exception as exc:
                self.output_failures += 1
                log.error("alarm output %s failed for %s: %s", output.type_name, signal.rule, exc)

    async def run(self, *, interval_s: float = 0.5) -> None:
        """Drive queued signals every `interval_s` until cancelled; outputs never wait for the uplink. Closes the
        outputs when it stops (the store stays open for the uplink until `close()`)."""
        try:
            while True:
                if self._backlog:
                    await asyncio.to_thread(self.drive_outputs)
                await self.clock.sleep(interval_s)
        finally:
            for outs in self.outputs.values():
                for o in outs:
                    o.close()

    def close(self) -> None:
        self.store.close()
