"""Shared helpers for the plugin tests: a fixed clock, pseudo-terminal serial devices and the golden case runner
for the serial plugins.

Golden case folders `tests/plugins/<plugin>/cases/<behaviour>/` hold:
- `input.hex` (bytes as hex; whitespace and `#` comments ignored) or `input.txt` (text, sent as is);
- `config.toml` (optional): options merged over the plugin's own sample.toml source table, or a whole
  source table when it has its own `type`;
- `expected.jsonl`: the readings, one JSON object per line (ts is the fixed clock's);
- `counters.json`: the expected frame counters (only the keys given are compared).
Each case is fed twice, in one chunk and one byte at a time: the result must not depend on chunking.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import tomllib
import tty
from pathlib import Path

from tests.kit.clock import Clock

ROOT = Path(__file__).resolve().parents[2]
FIXED_TS = 1_764_410_401_000


def fixed_clock() -> Clock:
    """now_ms() stays at FIXED_TS; sleep() yields to the loop for a moment, so polled loops advance quickly."""
    return Clock(FIXED_TS, yield_s=0.01)


class FakeDevice:
    """The device end of a serial line: a pty master. The code under test opens `path`, a symlink to the
    pty slave, as it would open /dev/serial/by-id/...; `unplug()` and `replug()` recreate the pty."""

    def __init__(self, link: Path) -> None:
        self.link = link
        self.master = -1
        self._slave = -1
        self.replug()

    @property
    def path(self) -> str:
        return str(self.link)

    def replug(self) -> None:
        self.master, self._slave = os.openpty()
        tty.setraw(self._slave)
        tty.setraw(self.master)
        os.set_blocking(self.master, False)
        tmp = self.link.with_suffix(".new")
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(os.ttyname(self._slave))
        tmp.replace(self.link)

    def unplug(self) -> None:
        self.link.unlink(missing_ok=True)
        os.close(self._slave)
        os.close(self.master)
        self.master = self._slave = -1

    def send(self, data: bytes) -> None:
        os.write(self.master, data)

    def received(self) -> bytes:
        """What the code under test wrote so far (non-blocking)."""
        out = b""
        while True:
            try:
                chunk = os.read(self.master, 4096)
            except (BlockingIOError, OSError):
                return out
            if not chunk:
                return out
            out += chunk

    def close(self) -> None:
        if self.master >= 0:
            self.unplug()


def case_dirs(plugin: str) -> list[Path]:
    base = Path(__file__).parent / plugin / "cases"
    return sorted(p for p in base.iterdir() if p.is_dir())


def sample_table(plugin: str) -> dict:
    data = tomllib.loads((ROOT / "plugins" / plugin / "sample.toml").read_text(encoding="utf-8"))
    return dict(data["sources"][0])


def load_input(case: Path) -> bytes:
    if (case / "input.txt").exists():
        return (case / "input.txt").read_bytes()
    text = (case / "input.hex").read_text(encoding="utf-8")
    return bytes.fromhex(re.sub(r"#.*", "", text).replace("\n", " ").replace(" ", ""))


def build_source(plugin: str, source_cls: type, case: Path):
    table = sample_table(plugin)
    if (case / "config.toml").exists():
        given = tomllib.loads((case / "config.toml").read_text(encoding="utf-8"))
        # a config.toml with its own `type` is a whole source table; otherwise it overrides the sample's options
        table = given if "type" in given else {**table, **given}
    cfg = source_cls.config_model.model_validate(table)
    return source_cls(cfg, clock=fixed_clock())


def expected(case: Path) -> tuple[list[dict], dict]:
    lines = (case / "expected.jsonl").read_text(encoding="utf-8").splitlines()
    readings = [json.loads(line) for line in lines if line.strip()]
    counters = json.loads((case / "counters.json").read_text(encoding="utf-8"))
    return readings, counters


def run_case(plugin: str, source_cls: type, case: Path) -> None:
    """Feed the case input through the source's decoder, whole and byte by byte, and compare."""
    want_readings, want_counters = expected(case)
    data = load_input(case)
    for chunking in ("whole", "bytewise"):
        source = build_source(plugin, source_cls, case)
        got = []
        if chunking == "whole":
            got.extend(source.feed(data))
        else:
            for i in range(len(data)):
                got.extend(source.feed(data[i : i + 1]))
        got_dicts = [r.to_dict() for r in got]
        assert got_dicts == want_readings, f"{case.name} ({chunking}): readings differ"
        counters = source.counters.as_dict()
        for key, value in want_counters.items():
            assert counters[key] == value, f"{case.name} ({chunking}): counter {key} {counters[key]} != {value}"


async def stop(task: asyncio.Task, stream, source) -> None:
    """Cancel a pending `anext()` task, close the readings generator and the source."""
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
        await task
    await stream.aclose()
    await source.aclose()
