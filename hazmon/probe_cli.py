"""`hazmon agent probe`: commission one configured source. Registered by hazmon/agent_cli.py.

Opens the source named in the agent config, reads for a few seconds and prints the decoded readings and the
frame counters (good, bad by reason, warm-up, port reopens), so a technician sees that the wiring works.
Exit code 0 when at least one reading was decoded, 1 otherwise, 2 for a config problem.
"""

from __future__ import annotations

import asyncio
import json
import tomllib
from pathlib import Path
from typing import Annotated

import typer


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
        raise ValueError(f"source {table.get('name')!r}: {exc}") from None
    return cls(cfg, clock=SystemClock())


def probe(
    config: Annotated[Path, typer.Option("--config", "-c", help="the agent config file (TOML)")],
    source: Annotated[str, typer.Option("--source", "-s", help="the name of the [[sources]] entry to probe")],
    duration: Annotated[float, typer.Option("--duration", "-d", min=0.1, help="seconds to read")] = 10.0,
    json_out: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
) -> None:
    """Read one configured source for a few seconds; print its readings and frame counters."""
    from agent.probe import format_report
    from agent.probe import probe as run_probe

    try:
        src = build_source(load_source_table(config, source))
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    report = asyncio.run(run_probe(src, duration_s=duration))
    typer.echo(json.dumps(report.to_dict(), indent=2) if json_out else format_report(report))
    raise typer.Exit(0 if report.ok else 1)
