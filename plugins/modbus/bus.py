"""One pymodbus client per physical bus, shared by every source on it, one request at a time.

Several transmitters on one RS-485 line (or behind one TCP gateway) are several sources with the same `port`
(or `host`/`tcp_port`). They share one client and one lock, so their requests never overlap on the wire; each
source holds the lock for its whole poll. The registry lives in the plugin (one per process), counted by users,
and a bus is closed when its last source closes.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient

log = logging.getLogger(__name__)

BusKey = tuple[str, ...]


@dataclass
class Bus:
    key: BusKey
    client: AsyncModbusSerialClient | AsyncModbusTcpClient
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0

    async def ensure_connected(self) -> bool:
        if self.client.connected:
            return True
        return bool(await self.client.connect())

    def drop_connection(self) -> None:
        """Close the transport after a failure; the next poll connects again (however long the outage)."""
        self.client.close()


class BusRegistry:
    def __init__(self) -> None:
        self._buses: dict[BusKey, Bus] = {}

    def acquire(self, key: BusKey, make_client) -> Bus:  # type: ignore[no-untyped-def]
        bus = self._buses.get(key)
        if bus is None:
            bus = Bus(key, make_client())
            self._buses[key] = bus
        bus.users += 1
        return bus

    def release(self, bus: Bus) -> None:
        bus.users -= 1
        if bus.users <= 0 and self._buses.get(bus.key) is bus:
            del self._buses[bus.key]
            bus.client.close()


REGISTRY = BusRegistry()
