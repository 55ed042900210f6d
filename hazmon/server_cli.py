"""`hazmon server ...`: run the server and manage its database, users and tokens."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer

from hazmon.plugins_cli import report_plugins

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sqlalchemy.orm import Session

    from server.settings import Settings

server_app = typer.Typer(help="Run the hazmon server and manage its database, users and tokens.",
                         no_args_is_help=True)
db_app = typer.Typer(help="The database schema.", no_args_is_help=True)
user_app = typer.Typer(help="People's accounts.", no_args_is_help=True)
api_token_app = typer.Typer(help="Bearer tokens for people and automation.", no_args_is_help=True)
agent_token_app = typer.Typer(help="Bearer tokens for site agents.", no_args_is_help=True)
server_app.add_typer(db_app, name="db")
server_app.add_typer(user_app, name="user")
server_app.add_typer(api_token_app, name="api-token")
server_app.add_typer(agent_token_app, name="agent-token")


def _settings(**overrides: object) -> Settings:
    from pydantic import ValidationError

    from server.settings import Settings

    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})  # type: ignore[arg-type]
    except ValidationError as exc:
        typer.echo(f"error: bad HAZMON_* setting: {exc}", err=True)
        raise typer.Exit(2) from None


@contextmanager
def _session() -> Iterator[Session]:
    from server.db.session import make_engine, make_sessionmaker, upgrade

    settings = _settings()
    engine = make_engine(settings)
    if settings.is_sqlite:
        upgrade(engine)
    try:
        with make_sessionmaker(engine)() as session, session.begin():
            yield session
    finally:
        engine.dispose()


def _now() -> int:
    from server.clock import wall_clock_ms

    return wall_clock_ms()


def _fail(exc: Exception) -> typer.Exit:
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(2)


@server_app.command("run")
def run(
    host: Annotated[str | None, typer.Option(help="address to listen on [HAZMON_HOST, 127.0.0.1]")] = None,
    port: Annotated[int | None, typer.Option(help="port [HAZMON_PORT, 8600]")] = None,
) -> None:
    """Serve the API and the web page. An SQLite database is created and upgraded by itself."""
    import uvicorn

    from server.alerts.rules import RulesError
    from server.app import create_app
    from server.emergency.plans import PlanError
    from server.log_config import uvicorn_log_config
    from server.notify.policies import NotifyConfigError

    settings = _settings(host=host, port=port)
    try:
        app = create_app(settings)
    except (RulesError, NotifyConfigError, PlanError) as exc:  # a config file a person wrote: one clear line
        raise _fail(exc) from None
    typer.echo(f"hazmon server on http://{settings.host}:{settings.port}  (data: {settings.database_url})")
    uvicorn.run(app, host=settings.host, port=settings.port, log_level=settings.log_level,
                log_config=uvicorn_log_config(settings.log_level))


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Bring the database schema to the newest version (Alembic)."""
    from server.db.session import make_engine, upgrade

    settings = _settings()
    engine = make_engine(settings)
    upgrade(engine)
    engine.dispose()
    typer.echo(f"database at the newest schema: {engine.url.render_as_string(hide_password=True)}")


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="the user name")],
    role: Annotated[str, typer.Option(help="admin, safety_manager, facilities, record_keeper, worker, auditor")],
) -> None:
    """Create an account. The password is asked for, or read from standard input when it is not a terminal."""
    from server.accounts.service import AccountError, add_user

    if sys.stdin.isatty():
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    try:
        with _session() as session:
            add_user(session, name=name, role=role, password=password, now_ms=_now())
    except AccountError as exc:
        raise _fail(exc) from None
    typer.echo(f"user {name} added with role {role}")


@api_token_app.command("create")
def api_token_create(
    user: Annotated[str, typer.Option(help="the user the token acts as")],
    label: Annotated[str, typer.Option(help="what the token is for")] = "",
) -> None:
    """Print a new bearer token for a user (shown once; store it safely)."""
    from server.accounts.service import AccountError, create_api_token

    try:
        with _session() as session:
            token = create_api_token(session, user_name=user, label=label, now_ms=_now())
    except AccountError as exc:
        raise _fail(exc) from None
    typer.echo(token)


@agent_token_app.command("create")
def agent_token_create(
    site: Annotated[str, typer.Option(help="the site the agent belongs to")],
    agent: Annotated[str, typer.Option(help="the agent's id")],
) -> None:
    """Register an agent and print its bearer token (a new token replaces the old one)."""
    from server.accounts.service import AccountError
    from server.ingest.agents import create_agent_token

    try:
        with _session() as session:
            token = create_agent_token(session, site=site, agent=agent, now_ms=_now())
    except AccountError as exc:
        raise _fail(exc) from None
    typer.echo(token)


@server_app.command("plugins")
def plugins() -> None:
    """List the server's plugins with the notification channels they declare, then every plugin that failed to
    load or declare (exit code 1 if one did)."""
    from server.plugin_manager import build_server_plugins

    report_plugins(build_server_plugins())


notify_app = typer.Typer(help="Notifications.", no_args_is_help=True)
server_app.add_typer(notify_app, name="notify")


@notify_app.command("test")
def notify_test(
    group: Annotated[str | None, typer.Option(help="only this group's members (default: every group)")] = None,
) -> None:
    """Send a message marked TEST to every recipient now (the settings saved through the API, else
    HAZMON_NOTIFY_FILE) and print what happened to each; exit code 1 if one was not delivered."""
    from server.accounts.documents import stored_document
    from server.notify.policies import NotifyConfigError, parse_notify_config
    from server.notify.service import Notifier, load_notify_config
    from server.notify.trial import UnknownGroup, send_test_messages
    from server.plugin_manager import build_server_plugins

    settings = _settings()
    try:
        with _session() as session:
            text = stored_document(session, "notify")
        config = parse_notify_config(text, name="notify settings (API)") if text else \
            load_notify_config(settings.notify_file)
    except NotifyConfigError as exc:
        raise _fail(exc) from None
    unreachable = config.unreachable()
    if unreachable and not config.groups:
        raise _fail(Exception(unreachable))
    notifier = Notifier(config, channels=build_server_plugins().notification_channels(), clock=_now)
    try:
        results = send_test_messages(config, channel_for=notifier.channel_for, now_ms=_now(), group=group,
                                     sender="hazmon server notify test")
    except UnknownGroup as exc:
        raise _fail(exc) from None
    for r in results:
        outcome = "delivered" if r.delivered else f"FAILED: {r.error}"
        typer.echo(f"{r.group}/{r.member} ({r.channel}): {outcome}")
    if unreachable:
        typer.echo(f"warning: {unreachable}", err=True)
    if not all(r.delivered for r in results):
        raise typer.Exit(1)
