"""The `hazmon` command. Each sub-command lives in its own module and imports its package lazily, so
`pip install hazmon[agent]` runs `hazmon agent ...` without the server's dependencies."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="hazmon",
    help="Occupational hazard monitoring: site agents, exposure against legal limits, alerts, health files.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _register() -> None:
    from hazmon.agent_cli import agent_app
    from hazmon.calc_cli import calc_app, limits_app
    from hazmon.demo_cli import demo
    from hazmon.server_cli import server_app

    app.add_typer(server_app, name="server")
    app.add_typer(agent_app, name="agent")
    app.command("demo")(demo)
    app.add_typer(calc_app, name="calc")
    app.add_typer(limits_app, name="limits")


def main() -> None:
    from hazmon.errors import run

    _register()
    run(app)
