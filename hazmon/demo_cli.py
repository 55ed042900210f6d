"""`hazmon demo`: watch hazmon work in a minute, on embedded defaults."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Annotated

import typer


def _default_data_dir() -> Path:
    from platformdirs import user_data_path

    return user_data_path("hazmon", appauthor=False) / "demo"


def demo(
    duration: Annotated[float | None, typer.Option(help="stop after this many seconds (default: until Ctrl-C)",
                                                   min=1)] = None,
    port: Annotated[int, typer.Option(help="the server's port on 127.0.0.1", min=1, max=65535)] = 8600,
    data_dir: Annotated[Path | None, typer.Option(help="where the data lives [per-user data dir]/demo")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="print a one-line JSON summary as the last line")] = False,
) -> None:
    """Run a server, an agent and simulated sensors (with a gas leak that raises an alert)."""
    from hazmon.demo import run_demo, summary_dict
    from hazmon.preflight import check_port_free

    check_port_free("127.0.0.1", port)

    directory = (data_dir or _default_data_dir()).expanduser().resolve()
    directory.mkdir(parents=True, exist_ok=True)
    tty = sys.stdout.isatty()

    def status_line(text: str) -> None:
        if tty:
            sys.stdout.write("\r" + text.ljust(100))
            sys.stdout.flush()
        else:
            print(text, flush=True)

    def say(text: str) -> None:
        print(text, flush=True)

    try:
        summary = asyncio.run(run_demo(data_dir=directory, port=port, duration_s=duration, say=say,
                                       status_line=status_line))
    except OSError as exc:
        typer.echo(("\n" if tty else "") + f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    if tty:
        print()
    print(f"stopped: {summary.readings_stored} readings stored this run ({summary.readings_total} in all), "
          f"{summary.alerts_raised} alerts raised, {summary.incidents_started} emergency incidents started, "
          f"{summary.outbox_pending} readings left in the outbox")
    if json_out:
        print(json.dumps(summary_dict(summary), separators=(",", ":")))
