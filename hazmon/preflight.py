"""Checks a command makes before it starts a server, so a mistake is one line (hazmon/errors.py) instead of a
traceback from inside uvicorn's start-up: the port is free, the database URL works and its schema is current."""

from __future__ import annotations

import errno
import socket
from typing import TYPE_CHECKING

from hazmon.errors import CliError, one_line

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from server.settings import Settings


def check_port_free(host: str, port: int, *, option: str = "--port") -> None:
    """CliError naming the port and suggesting `option` when nothing may listen on host:port."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            why = "in use by another program" if exc.errno == errno.EADDRINUSE else (exc.strerror or str(exc))
            raise CliError(f"port {port} on {host}", f"{why}; choose another with {option} N") from None


def open_database(settings: Settings, *, need_current_schema: bool) -> Engine:
    """The engine for HAZMON_DATABASE_URL, connected once. CliError for a URL SQLAlchemy cannot use, a database
    it cannot reach, or (when `need_current_schema`) a schema that needs `hazmon server db upgrade`."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

    from server.db.session import SchemaOutdated, check_schema, make_engine

    try:
        shown = make_url(settings.database_url).render_as_string(hide_password=True)
    except ArgumentError:
        raise CliError("HAZMON_DATABASE_URL", f"{settings.database_url!r} is not a database URL (e.g. "
                       "postgresql+psycopg://user:password@host/db or sqlite:///path/hazmon.db)") from None
    try:
        engine = make_engine(settings)
    except (NoSuchModuleError, ArgumentError) as exc:
        raise CliError(f"HAZMON_DATABASE_URL {shown}", one_line(str(exc))) from None
    except ModuleNotFoundError as exc:
        raise CliError(f"HAZMON_DATABASE_URL {shown}", f"its driver is not installed ({exc.name})") from None
    try:
        if need_current_schema:
            check_schema(engine)
        else:
            with engine.connect():
                pass
    except SchemaOutdated as exc:
        engine.dispose()
        raise CliError(f"database {shown}", f"needs `hazmon server db upgrade` ({exc})") from None
    except SQLAlchemyError as exc:
        engine.dispose()
        orig = getattr(exc, "orig", None)
        raise CliError(f"database {shown}", one_line(str(orig if orig is not None else exc))) from None
    return engine
