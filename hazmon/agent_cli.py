"""`hazmon agent ...`: run a site agent, check its config, list its plugins."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from hazmon.plugins_cli import report_plugins
from hazmon.probe_cli import identify, ports, probe

if TYPE_CHECKING:
    from agent.config import AgentConfig
    from agent.plugin_manager import PluginHost

agent_app = typer.Typer(help="The site agent: sensors in, batches out.", no_args_is_help=True)
agent_app.command("probe")(probe)
agent_app.command("ports")(ports)
agent_app.command("identify")(identify)

ConfigOpt = Annotated[Path, typer.Option("--config", "-c", help="the agent's TOML config file")]


def load(config: Path) -> tuple[AgentConfig, PluginHost]:
    """Plugins, then the config validated against them. Exit code 2 naming the bad key on error."""
    from agent.config import ConfigError, load_config
    from agent.plugin_manager import build_plugin_manager

    host = build_plugin_manager()
    for failure in host.failures:
        typer.echo(f"warning: plugin {failure.plugin} skipped: {failure.error}", err=True)
    try:
        cfg = load_config(config, source_types=host.source_types())
    except ConfigError as exc:
        for problem in exc.problems:
            typer.echo(f"error: {problem}", err=True)
        raise typer.Exit(2) from None
    return cfg, host


@agent_app.command("check")
def check(config: ConfigOpt) -> None:
    """Validate the config file and every source table in it; connect to nothing."""
    cfg, _ = load(config)
    typer.echo(f"{config}: ok ({len(cfg.sources)} sources, uplink {cfg.uplink.type})")


@agent_app.command("run")
def run(config: ConfigOpt) -> None:
    """Run the agent until interrupted (exit code 2 when `[metrics] listen` cannot be bound)."""
    from agent.config import ConfigError
    from agent.runtime import Agent

    cfg, host = load(config)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    agent = Agent(cfg, host=host, config_path=config)

    async def main() -> None:
        await agent.run()

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
    except ConfigError as exc:
        for problem in exc.problems:
            typer.echo(f"error: {config}: {problem}", err=True)
        raise typer.Exit(2) from None
    finally:
        agent.close()


@agent_app.command("plugins")
def plugins() -> None:
    """List the loaded plugins with the source and alarm output types they declare, then every plugin that failed
    to load or declare (exit code 1 if one did)."""
    from agent.plugin_manager import build_plugin_manager

    report_plugins(build_plugin_manager())
