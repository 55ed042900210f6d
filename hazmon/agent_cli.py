"""`hazmon agent ...`: run a site agent, check its config, list its plugins."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from hazmon.errors import CliError
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
def check(
    config: ConfigOpt,
    online: Annotated[bool, typer.Option("--online", help="also ask the server: reachable, token accepted, "
                                                           "clock within tolerance")] = False,
    clock_tolerance: Annotated[float, typer.Option(help="seconds the clocks may differ (--online)", min=0)] = 5.0,
) -> None:
    """Validate the config file and every source table in it; connect to nothing unless --online."""
    cfg, _ = load(config)
    typer.echo(f"{config}: ok ({len(cfg.sources)} sources, uplink {cfg.uplink.type})")
    if online:
        _check_online(cfg, clock_tolerance)


def _check_online(cfg: AgentConfig, clock_tolerance: float) -> None:
    from agent.config import HttpUplinkConfig
    from agent.enrolment import EnrolmentError, check_online

    uplink = cfg.uplink
    if not isinstance(uplink, HttpUplinkConfig):
        raise CliError(uplink.url, "--online checks HTTP uplinks only (for MQTT: mosquitto_sub against the broker)")
    try:
        found = check_online(uplink.url, token=uplink.token, site=cfg.site, agent=cfg.agent,
                             clock_tolerance_s=clock_tolerance)
    except EnrolmentError as exc:
        url, _, why = str(exc).partition(": ")
        raise CliError(url, why) from None
    typer.echo(f"{uplink.url}: ok (token of {found.site}/{found.agent}, clock offset {found.clock_offset_s:+.1f} s)")


def _host_agent_name() -> str:
    import re
    import socket

    name = re.sub(r"[^A-Za-z0-9._-]", "-", socket.gethostname().split(".")[0])[:64].strip("-._")
    return name or "gw-1"


@agent_app.command("enroll")
def enroll(
    server: Annotated[str, typer.Option(help="the server's base URL, e.g. https://hazmon.example:8600")],
    code: Annotated[str, typer.Option(help="the one-time code (hazmon server agent enroll-code)")],
    config: Annotated[Path | None, typer.Option("--config", "-c",
                                                help="the config to write [DATA_DIR/agent.toml or ./agent.toml]")]
    = None,
    data_dir: Annotated[Path | None, typer.Option(help="where the agent keeps its outbox")] = None,
    agent: Annotated[str | None, typer.Option(help="this agent's id if the code names none [host name]")] = None,
) -> None:
    """Exchange a one-time enrolment code for this box's token, write a working agent config (mode 0600: it
    holds the token) and check the connection."""
    import os

    from agent.enrolment import EnrolmentError, check_online, enrol, render_config

    if not server.startswith(("http://", "https://")):
        raise CliError("--server", f"{server!r} is not an http:// or https:// URL")
    if data_dir is not None:
        data_dir = data_dir.expanduser().resolve()
    path = config or ((data_dir / "agent.toml") if data_dir is not None else Path("agent.toml"))
    if path.exists():
        raise CliError(str(path), "exists already: move it away or give another --config")
    # the directories first: a code is used up by the exchange, so nothing may fail after it but the network
    path.parent.mkdir(parents=True, exist_ok=True)
    if data_dir is not None:
        data_dir.mkdir(parents=True, exist_ok=True)
    if not os.access(path.parent, os.W_OK):
        raise CliError(str(path.parent), "not writable by this user")
    try:
        done = enrol(server, code=code, agent=agent or _host_agent_name())
    except EnrolmentError as exc:
        url, _, why = str(exc).partition(": ")
        raise CliError(url, why) from None
    text = render_config(server=server, enrolment=done, data_dir=str(data_dir) if data_dir else None)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    typer.echo(f"enrolled as {done.site}/{done.agent}; config written to {path} (mode 0600)")
    try:
        found = check_online(server, token=done.token, site=done.site, agent=done.agent)
    except EnrolmentError as exc:
        url, _, why = str(exc).partition(": ")
        raise CliError(url, why) from None
    typer.echo(f"{server}: connection ok (clock offset {found.clock_offset_s:+.1f} s). Add [[sources]] to {path}, "
               f"then: hazmon agent run -c {path}")


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
