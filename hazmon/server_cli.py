"""`hazmon server ...`: run the server and manage its database, users and tokens."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer

from hazmon.errors import CliError, one_line, with_line
from hazmon.plugins_cli import report_plugins

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sqlalchemy.orm import Session

    from server.settings import Settings

#: on SIGTERM, how long open requests (a page's live stream: server/web/live_events.py) may take before they are cut
SHUTDOWN_GRACE_S = 3

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
server_agent_app = typer.Typer(help="Site agents: enrolment codes.", no_args_is_help=True)
server_app.add_typer(server_agent_app, name="agent")


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
    from hazmon.preflight import open_database
    from server.db.session import make_sessionmaker, upgrade

    settings = _settings()
    engine = open_database(settings, need_current_schema=not settings.is_sqlite)
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

    from hazmon.preflight import check_port_free, open_database
    from server.alerts.rules import RulesError
    from server.app import create_app
    from server.emergency.plans import PlanError
    from server.log_config import uvicorn_log_config
    from server.notify.policies import NotifyConfigError

    settings = _settings(host=host, port=port)
    # SQLite is upgraded at start-up; any other database must already be at the newest schema
    open_database(settings, need_current_schema=not settings.is_sqlite).dispose()
    check_port_free(settings.host, settings.port)
    try:
        app = create_app(settings)
    except (RulesError, NotifyConfigError, PlanError) as exc:  # a config file a person wrote: one clear line
        raise _fail(Exception(with_line(one_line(str(exc))))) from None
    typer.echo(f"hazmon server on http://{settings.host}:{settings.port}  (data: {settings.database_url})")
    uvicorn.run(app, host=settings.host, port=settings.port, log_level=settings.log_level,
                log_config=uvicorn_log_config(settings.log_level),
                timeout_graceful_shutdown=SHUTDOWN_GRACE_S)  # the pages' live streams never end by themselves


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Bring the database schema to the newest version (Alembic)."""
    from hazmon.preflight import open_database
    from server.db.session import upgrade

    settings = _settings()
    engine = open_database(settings, need_current_schema=False)
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

    password = _read_password()
    try:
        with _session() as session:
            add_user(session, name=name, role=role, password=password, now_ms=_now())
    except AccountError as exc:
        raise _fail(exc) from None
    typer.echo(f"user {name} added with role {role}")


def _read_password() -> str:
    if sys.stdin.isatty():
        return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))
    return sys.stdin.readline().rstrip("\r\n")


def _expiry(days: float | None) -> int | None:
    if days is None:
        return None
    if not 0 < days <= 36_500:
        raise _fail(ValueError("--expires-days: more than 0 and at most 36500"))
    return _now() + int(days * 86_400_000)


def _when(ms: int | None) -> str:
    import datetime as dt

    if ms is None:
        return "never"
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


@user_app.command("list")
def user_list() -> None:
    """Every account: name, role, enabled or disabled."""
    from server.accounts.service import list_users

    with _session() as session:
        users = list_users(session)
    for u in users:
        typer.echo(f"{u.name}\t{u.role}\t{'disabled' if u.disabled else 'enabled'}")


def _set_disabled(name: str, disabled: bool) -> None:
    from server.accounts.service import AccountError, set_disabled

    try:
        with _session() as session:
            set_disabled(session, name, disabled=disabled, now_ms=_now())
    except AccountError as exc:
        raise _fail(exc) from None
    typer.echo(f"user {name} {'disabled' if disabled else 'enabled'}")


@user_app.command("disable")
def user_disable(name: Annotated[str, typer.Argument(help="the user name")]) -> None:
    """Disable an account: every token and session of it gets 401 at once."""
    _set_disabled(name, True)


@user_app.command("enable")
def user_enable(name: Annotated[str, typer.Argument(help="the user name")]) -> None:
    """Enable a disabled account again."""
    _set_disabled(name, False)


@user_app.command("set-password")
def user_set_password(name: Annotated[str, typer.Argument(help="the user name")]) -> None:
    """Set a new password (asked for, or read from standard input); the user's browser sessions end."""
    from server.accounts.service import AccountError, set_password

    password = _read_password()
    try:
        with _session() as session:
            set_password(session, name, password, now_ms=_now())
    except AccountError as exc:
        raise _fail(exc) from None
    typer.echo(f"password of {name} set")


@api_token_app.command("create")
def api_token_create(
    user: Annotated[str, typer.Option(help="the user the token acts as")],
    label: Annotated[str, typer.Option(help="what the token is for")] = "",
    expires_days: Annotated[float | None, typer.Option(help="the token expires after this many days")] = None,
) -> None:
    """Print a new bearer token for a user (shown once; store it safely)."""
    from server.accounts.service import AccountError, create_api_token

    try:
        with _session() as session:
            token = create_api_token(session, user_name=user, label=label, now_ms=_now(),
                                     expires_ms=_expiry(expires_days))
    except AccountError as exc:
        raise _fail(exc) from None
    typer.echo(token)


@api_token_app.command("list")
def api_token_list(user: Annotated[str | None, typer.Option(help="only this user's tokens")] = None) -> None:
    """People's tokens (API tokens and browser sessions): id, user, kind, label, created, expires. The tokens
    themselves are never stored, so never shown."""
    from server.accounts.service import list_api_tokens

    with _session() as session:
        tokens = list_api_tokens(session, user=user)
    for t in tokens:
        typer.echo(f"{t.id}\t{t.user}\t{t.kind}\t{t.label}\t{_when(t.created_ms)}\t{_when(t.expires_ms)}")


@api_token_app.command("revoke")
def api_token_revoke(token_id: Annotated[int, typer.Argument(help="the token's id (api-token list)")]) -> None:
    """Revoke a token: the next request with it gets 401."""
    from server.accounts.service import AccountError, revoke_api_token

    try:
        with _session() as session:
            info = revoke_api_token(session, token_id, now_ms=_now())
    except AccountError as exc:
        raise _fail(exc) from None
    typer.echo(f"token {info.id} of {info.user} revoked")


@agent_token_app.command("create")
def agent_token_create(
    site: Annotated[str, typer.Option(help="the site the agent belongs to")],
    agent: Annotated[str, typer.Option(help="the agent's id")],
    label: Annotated[str, typer.Option(help="what the token is for")] = "",
    expires_days: Annotated[float | None, typer.Option(help="the token expires after this many days")] = None,
) -> None:
    """Register an agent (when new) and print a new bearer token for it. The agent's other tokens stay valid
    until revoked (`agent-token revoke`), so a running agent is not cut off."""
    from server.accounts.service import AccountError
    from server.ingest.agents import create_agent_token

    try:
        with _session() as session:
            token = create_agent_token(session, site=site, agent=agent, now_ms=_now(), label=label,
                                       expires_ms=_expiry(expires_days))
    except AccountError as exc:
        raise _fail(exc) from None
    typer.echo(token)


@server_agent_app.command("enroll-code")
def agent_enroll_code(
    site: Annotated[str, typer.Option(help="the site the new agent belongs to")],
    agent: Annotated[str | None, typer.Option(help="the agent's id (default: the box's host name)")] = None,
    expires: Annotated[str, typer.Option(help="how long the code works: 30m, 1h, 2d")] = "1h",
) -> None:
    """Print a one-time enrolment code for a site box (`hazmon agent enroll --server URL --code CODE`)."""
    from server.ingest.enrolment import create_enrolment_code, parse_duration

    try:
        seconds = parse_duration(expires)
    except ValueError as exc:
        raise CliError("--expires", str(exc)) from None
    try:
        with _session() as session:
            code = create_enrolment_code(session, site=site, agent=agent, expires_s=seconds, now_ms=_now(),
                                         actor="cli")
    except ValueError as exc:
        raise _fail(exc) from None
    typer.echo(code)
    typer.echo(f"one-time code for site {site}" + (f", agent {agent}" if agent else "") +
               f", valid for {expires}: hazmon agent enroll --server URL --code {code}", err=True)


@agent_token_app.command("list")
def agent_token_list(site: Annotated[str | None, typer.Option(help="only this site's agents")] = None) -> None:
    """Agents' tokens: id, site/agent, label, created, expires (never the tokens themselves)."""
    from server.ingest.agents import list_agent_tokens

    with _session() as session:
        tokens = list_agent_tokens(session, site=site)
    for t in tokens:
        typer.echo(f"{t.id}\t{t.site}/{t.agent}\t{t.label}\t{_when(t.created_ms)}\t{_when(t.expires_ms)}")


@agent_token_app.command("revoke")
def agent_token_revoke(token_id: Annotated[int, typer.Argument(help="the token's id (agent-token list)")]) -> None:
    """Revoke an agent token: the next request with it gets 401."""
    from server.accounts.service import AccountError
    from server.ingest.agents import revoke_agent_token

    try:
        with _session() as session:
            info = revoke_agent_token(session, token_id, now_ms=_now())
    except AccountError as exc:
        raise _fail(exc) from None
    typer.echo(f"token {info.id} of {info.site}/{info.agent} revoked")


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
