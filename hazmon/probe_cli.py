"""`hazmon agent probe|ports|identify`: commission a sensor. Registered by hazmon/agent_cli.py.

Two forms of probe:
- `--config FILE --source NAME`: the source named in the agent config, read for a few seconds; the decoded
  readings and the frame counters (good, bad by reason, warm-up, port reopens). Exit code 0 when at least one
  reading was decoded, 1 otherwise, 2 for a config problem.
- `--plugin NAME --port DEV [--option KEY=VALUE ...]`: the plugin's defaults plus the options, no config file;
  each reading printed as it arrives (`--json`: one object per line), each rejected frame on stderr with its
  reason, until `--count` readings or `--duration` seconds. A port that does not exist or a device that gives no
  reading within the duration: exit code 2 with one line.
"""

from __future__ import annotations

import asyncio
import json
import tomllib
from pathlib import Path
from typing import Annotated

import typer

from hazmon.errors import CliError


def load_source_table(config: Path, source: str) -> dict:
    """The `[[sources]]` table named `source` in the agent config file. Raises ValueError."""
    try:
        data = tomllib.loads(config.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"{config}: cannot read: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{config}: not valid TOML: {exc}") from None
    tables = data.get("sources", [])
    for table in tables if isinstance(tables, list) else []:
        if isinstance(table, dict) and table.get("name") == source:
            return table
    names = ", ".join(str(t.get("name")) for t in tables if isinstance(t, dict)) or "none"
    raise ValueError(f"{config}: no source named {source!r} (sources: {names})")


def parse_options(options: list[str]) -> dict[str, object]:
    """`KEY=VALUE` pairs; a VALUE is read as a TOML value (`9600`, `true`, `"x"`), else kept as a string."""
    out: dict[str, object] = {}
    for option in options:
        key, sep, value = option.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--option {option!r}: expected KEY=VALUE")
        try:
            out[key.strip()] = tomllib.loads(f"v = {value.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            out[key.strip()] = value.strip()
    return out


def build_source(table: dict):
    """Validate the table against its plugin's config model and build the source (nothing connects yet)."""
    from pydantic import ValidationError

    from agent.clock import SystemClock
    from agent.plugin_manager import build_plugin_manager

    types = build_plugin_manager().source_types()
    cls = types.get(table.get("type"))
    if cls is None:
        raise ValueError(f"unknown source type {table.get('type')!r} (known: {', '.join(sorted(types))})")
    try:
        cfg = cls.config_model.model_validate(table)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'options'}: "
            f"{'unknown option (a typo?)' if e['type'] == 'extra_forbidden' else e['msg']}"
            for e in exc.errors()
        )
        raise ValueError(f"source {table.get('name')!r} ({table.get('type')}): {problems}") from None
    return cls(cfg, clock=SystemClock())


def probe(
    config: Annotated[Path | None, typer.Option("--config", "-c", help="the agent config file (TOML)")] = None,
    source: Annotated[str | None, typer.Option("--source", "-s", help="the [[sources]] entry to probe")] = None,
    plugin: Annotated[str | None, typer.Option("--plugin", "-p", help="a source type, e.g. plantower")] = None,
    port: Annotated[str | None, typer.Option("--port", help="the device, e.g. /dev/serial/by-id/usb-...")] = None,
    option: Annotated[list[str] | None, typer.Option("--option", "-o",
                                                     help="KEY=VALUE over the plugin's defaults")] = None,
    count: Annotated[int | None, typer.Option("--count", "-n", min=1, help="stop after this many readings")] = None,
    duration: Annotated[float, typer.Option("--duration", "-d", min=0.1, help="seconds to read")] = 10.0,
    json_out: Annotated[bool, typer.Option("--json", help="JSON output")] = False,
) -> None:
    """Read one source: configured (--config, --source) or given on the command line (--plugin, --port)."""
    if plugin is not None:
        if config is not None or source is not None:
            raise CliError("probe", "give either --plugin (with --port) or --config with --source, not both")
        raise typer.Exit(_probe_live(plugin, port, option or [], count=count, duration=duration,
                                     json_out=json_out))
    if config is None or source is None:
        raise CliError("probe", "give --plugin NAME --port DEV, or --config FILE --source NAME")
    from agent.probe import format_report
    from agent.probe import probe as run_probe

    try:
        src = build_source(load_source_table(config, source))
    except ValueError as exc:
        raise CliError("probe", str(exc)) from None
    report = asyncio.run(run_probe(src, duration_s=duration))
    typer.echo(json.dumps(report.to_dict(), indent=2) if json_out else format_report(report))
    raise typer.Exit(0 if report.ok else 1)


def _probe_live(plugin: str, port: str | None, options: list[str], *, count: int | None, duration: float,
                json_out: bool) -> int:
    from agent.probe import Rejected, watch
    from agent.serial_port import port_missing
    from exposure import Reading

    try:
        table: dict[str, object] = {"type": plugin, "name": plugin, **parse_options(options)}
        if port is not None:
            table["port"] = port
        src = build_source(table)
    except ValueError as exc:
        raise CliError("probe", str(exc)) from None
    if port is not None and (why := port_missing(port)):
        raise CliError(f"port {port}", why)

    def on_reading(r: Reading) -> None:
        if json_out:
            typer.echo(json.dumps(r.to_dict(), separators=(",", ":")))
        else:
            flags = f"  [{', '.join(r.flags)}]" if r.flags else ""
            typer.echo(f"{r.ts}  {r.quantity:<12} {r.value:>10g} {r.unit}{flags}")

    def on_rejected(rej: Rejected) -> None:
        times = f" (x{rej.count})" if rej.count > 1 else ""
        typer.echo(f"rejected frame: {rej.reason}{times}", err=True)

    try:
        got = asyncio.run(watch(src, count=count, duration_s=duration, on_reading=on_reading,
                                on_rejected=on_rejected))
    except Exception as exc:  # the source failed: one line naming it
        raise CliError(f"{plugin} on {port or 'its connection'}", f"{type(exc).__name__}: {exc}") from None
    if got == 0:
        counters = getattr(src, "counters", None)
        last = getattr(counters, "last_error", None)
        why = f"no reading within {duration:g} s" + (f" ({last})" if last else "")
        raise CliError(f"{plugin} on {port or 'its connection'}", why)
    return 0


def ports(json_out: Annotated[bool, typer.Option("--json", help="one JSON object per port")] = False) -> None:
    """List the serial ports with their stable /dev/serial/by-id/ names and USB vendor and product."""
    from dataclasses import asdict

    from agent.serial_port import list_serial_ports

    found = list_serial_ports()
    for p in found:
        if json_out:
            typer.echo(json.dumps(asdict(p)))
            continue
        usb = f"  USB {p.vendor_id:04x}:{p.product_id:04x}" if p.vendor_id is not None and p.product_id is not None \
            else ""
        maker = " ".join(x for x in (p.manufacturer, p.product) if x)
        typer.echo(f"{p.device}{usb}  {maker or p.description}")
        for link in p.by_id:
            typer.echo(f"  {link}")
    if not found and not json_out:
        typer.echo("no serial ports found")


def identify(
    port: Annotated[str, typer.Option("--port", help="the device, e.g. /dev/ttyUSB0")],
    duration: Annotated[float, typer.Option("--duration", "-d", min=0.5, help="seconds to listen")] = 5.0,
) -> None:
    """Listen on a port (nothing is sent) and name the built-in serial protocol that answers: plantower,
    sds011 or winsen at 9600 baud. Exit code 2 when none does."""
    from agent.identify import identify as run_identify
    from agent.plugin_manager import build_plugin_manager
    from agent.serial_port import port_missing

    if why := port_missing(port):
        raise CliError(f"port {port}", why)
    found = asyncio.run(run_identify(port, source_types=build_plugin_manager().source_types(),
                                     duration_s=duration))
    if found.protocol is None:
        heard = f"{found.bytes_read} bytes, no valid frame" if found.bytes_read else "silence"
        raise CliError(f"port {port}", f"no known protocol answers within {duration:g} s ({heard}; tried "
                       f"{', '.join(found.frames_ok) or 'none'} at 9600 baud)")
    opts = "".join(f"\n{k} = {json.dumps(v)}" for k, v in found.options.items())
    typer.echo(f"{port}: {found.protocol} ({found.frames_ok[found.protocol]} valid frames at 9600 baud)")
    typer.echo(f'[[sources]]\ntype = "{found.protocol}"\nname = "..."\nport = "{port}"{opts}')
