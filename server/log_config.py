"""The server's logging: uvicorn's configuration with the access log stripped of query strings (they can hold
attachment file names or employee numbers), a root handler for the server's own loggers, and SQLAlchemy held at
WARNING (at INFO it would log every statement). `hazmon server run` passes `uvicorn_log_config(level)` to uvicorn."""

from __future__ import annotations

import copy
import logging
from typing import Any


def without_query(path: str) -> str:
    return path.split("?", 1)[0]


class QuerylessAccessLog(logging.Filter):
    """uvicorn.access records carry (client, method, full path, http version, status): drop the query string."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], without_query(args[2]), *args[3:])
        return True


def uvicorn_log_config(level: str) -> dict[str, Any]:
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["queryless"] = {"()": f"{__name__}.QuerylessAccessLog"}
    config["handlers"]["access"]["filters"] = ["queryless"]
    config["root"] = {"handlers": ["default"], "level": level.upper()}
    config["loggers"]["sqlalchemy"] = {"level": "WARNING"}
    return config
