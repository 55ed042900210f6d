"""The only place where the test kit reaches into the server's internals.

When the server's modules move, repoint the names below and nothing else in the kit:
server.app.create_app, server.settings.Settings, server.db.session.upgrade,
server.accounts.credentials.hash_password, server.accounts.service.add_user / create_api_token,
server.ingest.agents.create_agent_token, server.alerts.watchdogs.check (and the module global
server.accounts.service.hash_password, replaced
while the kit adds a user), and on the app: app.state.services (its sessions, notifier (run_due, and its run loop,
held by hold_notification_worker) and health).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import Any
from unittest import mock

from fastapi import FastAPI
from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

import server.accounts.service
from server.accounts.credentials import hash_password
from server.alerts import watchdogs
from server.app import create_app
from server.db.session import upgrade
from server.ingest import agents
from server.settings import Settings


def migrate(url: str) -> None:
    """Bring the database at `url` to the newest schema (Alembic, as `hazmon server db upgrade` does)."""
    engine = create_engine(url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()


def build_app(*, clock: Callable[[], int] | None, migrate: bool, **settings: Any) -> FastAPI:
    kwargs: dict[str, Any] = {"migrate": migrate}
    if clock is not None:
        kwargs["clock"] = clock
    return create_app(Settings(**settings), **kwargs)


def sessions(app: FastAPI) -> sessionmaker[Session]:
    """The app's sessionmaker."""
    return app.state.services.sessions  # type: ignore[no-any-return]


def notifier(app: FastAPI) -> Any:
    return app.state.services.notifier


def hold_notification_worker(app: FastAPI) -> None:
    """Keep the notification worker loop from ticking (call before the app starts): the test steps delivery
    itself with `notifier(app).run_due(session, now)`, one tick at a time on its own clock. A loop ticking on the
    same clock would race it: it claims the due jobs, and the test finds half of them sent."""
    async def idle(*args: Any, **kwargs: Any) -> None:
        await asyncio.Event().wait()

    notifier(app).run = idle


def check_watchdogs(app: FastAPI, now_ms: int) -> tuple[int, int]:
    """One watchdog check at `now_ms`, as the server's loop runs it: (opened, resolved)."""
    services = app.state.services
    with services.sessions() as s:
        return watchdogs.check(s, services.alerting, now_ms=now_ms, config=watchdogs.config_of(services.settings))


def health_config(app: FastAPI) -> Any:
    """The app's health-file configuration (from its Settings: `health_*` and `profile`)."""
    return app.state.services.health


@functools.cache
def password_hash(password: str) -> str:
    """The real (argon2id) hash of `password`, computed once per session (the hash is slow on purpose)."""
    return hash_password(password)


def add_user(session: Session, **kwargs: Any) -> Any:
    """server.accounts.service.add_user with the session's precomputed hash of the password. Logging in still runs the
    real verify_password against a real argon2id hash; only the salt is shared between users of one password."""
    with mock.patch.object(server.accounts.service, "hash_password", password_hash):
        return server.accounts.service.add_user(session, **kwargs)


def create_api_token(session: Session, **kwargs: Any) -> str:
    return server.accounts.service.create_api_token(session, **kwargs)


def create_agent_token(session: Session, **kwargs: Any) -> str:
    return agents.create_agent_token(session, **kwargs)
