"""`hazmon agent plugins` and `hazmon server plugins` print the same report: one line per loaded plugin with what
it declares, then one `FAILED <plugin>: <error>` line per plugin that failed to load or declare."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:  # pluggy is in the agent and server extras, not in a calc-only install
    from pluginhost import PluginHost


def report_plugins(host: PluginHost) -> None:
    """Print `host.report()`; exit code 1 when a plugin failed, so a commissioning script notices."""
    for line in host.report():
        typer.echo(line)
    if host.failures:
        raise typer.Exit(1)
