"""The delivery side's long-running tasks, started and stopped with the app: MQTT ingest and the InfluxDB
forwarder, each only when configured."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI

from server.settings import Settings


@contextlib.asynccontextmanager
async def background_tasks(app: FastAPI, settings: Settings) -> AsyncIterator[None]:
    tasks: list[asyncio.Task[None]] = []
    state = app.state
    if settings.mqtt_url:
        from server.delivery.mqtt_ingest import MqttIngest

        state.mqtt_ingest = MqttIngest(
            settings, sessions=state.sessionmaker, rules=state.rules, counters=state.counters, clock=state.clock
        )
        tasks.append(asyncio.create_task(state.mqtt_ingest.run(), name="mqtt-ingest"))
    if settings.influx_url:
        from server.delivery.influx import InfluxForwarder

        state.influx = InfluxForwarder(
            settings.influx_url, sessions=state.sessionmaker, counters=state.counters, clock=state.clock
        )
        tasks.append(asyncio.create_task(state.influx.run(), name="influx-forwarder"))
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
