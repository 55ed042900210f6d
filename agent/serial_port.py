"""The serial transport every serial plugin uses: the only module that imports pyserial.

A `SerialPort` reads and writes bytes asynchronously (pyserial-asyncio-fast) on a port URL: a device path
(`/dev/ttyUSB0`, better `/dev/serial/by-id/...`, which survives re-enumeration), or any pyserial URL
(`socket://host:port` for a serial-to-Ethernet converter, `rfc2217://`). When the device disappears (a USB
adapter unplugged, a converter rebooted) the port is closed and reopened with capped exponential backoff, for
as long as it takes; `on_open` runs after every (re)open so a plugin can send its mode commands again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from abc import abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import serial
import serial_asyncio_fast
from pydantic import Field

from agent.backoff import Backoff
from agent.clock import Clock
from agent.probe import SourceCounters
from agent.sources import PolledSourceConfig, Source, SourceConfig
from exposure import Reading

log = logging.getLogger(__name__)


class SerialSourceConfig(PolledSourceConfig):
    """Options of every serial source. `interval_s` is the poll period in query modes."""

    port: str = Field(min_length=1, description="device path or pyserial URL, e.g. /dev/serial/by-id/usb-...")
    baudrate: int = Field(default=9600, gt=0, le=4_000_000)
    bytesize: Literal[7, 8] = 8
    parity: Literal["N", "E", "O"] = "N"
    stopbits: Literal[1, 2] = 1
    response_timeout_s: float = Field(default=3.0, gt=0, le=120, description="query modes: wait this long")
    reopen_max_s: float = Field(default=30.0, gt=0, le=3600, description="longest wait between reopens")


class PortClosed(Exception):
    """The port was closed by its owner; no more reads."""


OnOpen = Callable[["SerialPort"], Awaitable[None]]


class SerialPort:
    """One serial port, reopened whenever it is lost. Not shared between sources."""

    def __init__(
        self,
        config: SerialSourceConfig,
        *,
        counters: SourceCounters,
        on_open: OnOpen | None = None,
        reopen_initial_s: float = 0.5,
    ) -> None:
        self.config = config
        self.counters = counters
        self.on_open = on_open
        self._backoff = Backoff(initial_s=reopen_initial_s, max_s=config.reopen_max_s)
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._opened_once = False
        self._closed = False

    @property
    def is_open(self) -> bool:
        return self._reader is not None

    async def _open(self) -> None:
        while self._reader is None:
            if self._closed:
                raise PortClosed(self.config.port)
            try:
                reader, writer = await serial_asyncio_fast.open_serial_connection(
                    url=self.config.port,
                    baudrate=self.config.baudrate,
                    bytesize=self.config.bytesize,
                    parity=self.config.parity,
                    stopbits=self.config.stopbits,
                )
            except (OSError, serial.SerialException, ValueError) as exc:
                delay = self._backoff.next_delay()
                self.counters.error(f"cannot open {self.config.port}: {exc}")
                log.warning("serial %s: cannot open (%s); retrying in %.1f s", self.config.port, exc, delay)
                await asyncio.sleep(delay)
                continue
            self._reader, self._writer = reader, writer
            if self._opened_once:
                self.counters.reopens += 1
                log.info("serial %s: reopened", self.config.port)
            self._opened_once = True
            self._backoff.reset()
            if self.on_open is not None:
                try:
                    await self.on_open(self)
                except (OSError, serial.SerialException) as exc:
                    self._lost(exc)

    def _lost(self, exc: BaseException | None) -> None:
        if self._reader is None:
            return
        self.counters.error(f"lost {self.config.port}: {exc or 'end of file'}")
        log.warning("serial %s: lost (%s); reopening", self.config.port, exc or "end of file")
        self._drop()

    def _drop(self) -> None:
        writer, self._reader, self._writer = self._writer, None, None
        if writer is not None:
            with contextlib.suppress(Exception):
                writer.close()

    async def read(self, max_bytes: int = 512) -> bytes:
        """The next bytes from the device, waiting (and reopening) as long as needed. Never returns b''."""
        while True:
            await self._open()
            assert self._reader is not None
            try:
                data = await self._reader.read(max_bytes)
            except (OSError, serial.SerialException) as exc:
                self._lost(exc)
                continue
            if data:
                return data
            self._lost(None)

    async def write(self, data: bytes) -> None:
        """Send bytes, opening the port if needed. A failed write marks the port lost and raises OSError."""
        await self._open()
        assert self._writer is not None
        try:
            self._writer.write(data)
            await self._writer.drain()
        except (OSError, serial.SerialException) as exc:
            self._lost(exc)
            raise OSError(f"write to {self.config.port} failed: {exc}") from exc

    async def aclose(self) -> None:
        self._closed = True
        self._drop()


class SerialSource(Source):
    """Base of the serial plugins: a port, frame counters, and the two ways of reading.

    - streaming (`query_command()` returns None): the device pushes frames; every chunk read goes to `feed()`.
    - query (a command): every `interval_s` the command is written and the answer awaited for
      `response_timeout_s`; no answer is a failed read (counted, no reading), never a 0.

    A plugin implements `feed()` (bytes in, readings out, counters updated: pure apart from the counters),
    and optionally `open_commands()` (sent after every open and reopen) and `query_command()`.
    """

    config: SerialSourceConfig

    def __init__(self, config: SourceConfig, *, clock: Clock) -> None:
        super().__init__(config, clock=clock)
        self.counters = SourceCounters()
        self.port: SerialPort | None = None

    @abstractmethod
    def feed(self, data: bytes) -> list[Reading]:
        """Decode the next bytes from the device (any chunking) into readings; count frames good and bad."""

    def open_commands(self) -> list[bytes]:
        """Commands to send after the port opens (set a reporting mode). Default: none."""
        return []

    def query_command(self) -> bytes | None:
        """The command that asks for one measurement, or None for a device that pushes frames."""
        return None

    def _frames_seen(self) -> int:
        c = self.counters
        return c.frames_ok + c.warmup + sum(c.frames_bad.values())

    async def _send_open_commands(self, port: SerialPort) -> None:
        for command in self.open_commands():
            await port.write(command)

    def _make_port(self) -> SerialPort:
        return SerialPort(self.config, counters=self.counters, on_open=self._send_open_commands)

    async def readings(self) -> AsyncIterator[Reading]:
        self.port = self._make_port()
        if self.query_command() is None:
            while True:
                data = await self.port.read()
                for reading in self.feed(data):
                    yield reading
        while True:
            for reading in await self.poll_once():
                yield reading
            await self.clock.sleep(self.config.interval_s)

    async def poll_once(self) -> list[Reading]:
        """One query cycle. Default: send `query_command()` and wait for the answer."""
        command = self.query_command()
        assert command is not None
        return await self._ask(command)

    async def _ask(self, command: bytes) -> list[Reading]:
        assert self.port is not None
        before = self._frames_seen()
        got: list[Reading] = []
        try:
            await self.port.write(command)
            async with asyncio.timeout(self.config.response_timeout_s):
                while self._frames_seen() == before:
                    got.extend(self.feed(await self.port.read()))
        except TimeoutError:
            self.counters.error(f"no answer within {self.config.response_timeout_s:g} s")
        except OSError as exc:
            self.counters.error(str(exc))
        return got

    async def aclose(self) -> None:
        if self.port is not None:
            await self.port.aclose()


@dataclass(frozen=True)
class PortInfo:
    """A serial port as `hazmon agent ports` shows it."""

    device: str
    by_id: tuple[str, ...]
    description: str
    vendor_id: int | None
    product_id: int | None
    manufacturer: str | None
    product: str | None
    serial_number: str | None


def list_serial_ports(by_id_dir: Path = Path("/dev/serial/by-id")) -> list[PortInfo]:
    """The serial ports pyserial finds, each with its stable /dev/serial/by-id/ names (which survive
    re-enumeration: use them in the config) and its USB vendor and product."""
    from serial.tools import list_ports

    links: dict[str, list[str]] = {}
    if by_id_dir.is_dir():
        for link in sorted(by_id_dir.iterdir()):
            with contextlib.suppress(OSError):
                links.setdefault(os.path.realpath(link), []).append(str(link))
    out = []
    for p in sorted(list_ports.comports(), key=lambda p: p.device):
        out.append(PortInfo(
            device=p.device, by_id=tuple(links.get(os.path.realpath(p.device), ())),
            description=p.description or "", vendor_id=p.vid, product_id=p.pid,
            manufacturer=p.manufacturer, product=p.product, serial_number=p.serial_number,
        ))
    return out


def port_missing(port: str) -> str | None:
    """Why a device path cannot be a serial port (it does not exist), or None (a pyserial URL is not checked)."""
    if "://" in port:
        return None
    if not os.path.exists(port):
        return "no such device"
    return None
