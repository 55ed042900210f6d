"""One-line errors for every `hazmon` command: `error: <what>: <why>`, exit code 2.

Commands raise `CliError` (or let a configuration, database, network or file error through); `run()` at the
entry point prints it on one line. Nothing here imports a framework: the agent's install has no SQLAlchemy.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

EXIT_CODE = 2


class CliError(Exception):
    """A mistake a user can meet: `what` (a file with its line and key, a port, a URL) and `why`. Raised in a
    command; `run()` at the entry point prints it as one line and exits 2."""

    def __init__(self, what: str, why: str) -> None:
        super().__init__(f"{what}: {one_line(why)}")
        self.what, self.why = what, why


def one_line(text: str) -> str:
    """The text with its lines joined and runs of blanks collapsed."""
    return " ".join(text.split())


def describe(exc: BaseException) -> str | None:
    """The one line for an error a user can meet, or None for a bug (which keeps its traceback)."""
    if isinstance(exc, CliError):
        return f"{exc.what}: {one_line(exc.why)}"
    module = type(exc).__module__.split(".")[0]
    if module == "sqlalchemy":
        orig = getattr(exc, "orig", None)
        why = str(orig) if orig is not None else str(exc)
        return f"database: {one_line(why.split('(Background on this error')[0])}"
    if module == "httpx":
        request = getattr(exc, "_request", None)
        where = f"{request.url}" if request is not None else "server"
        return f"{where}: {one_line(str(exc) or type(exc).__name__)}"
    if isinstance(exc, OSError):
        where = exc.filename if exc.filename else type(exc).__name__
        return f"{where}: {one_line(exc.strerror or str(exc))}"
    return None


def run(main: Callable[[], object]) -> None:
    """Run `main`; a user's error is printed as `error: <what>: <why>` and exits 2."""
    try:
        main()
    except Exception as exc:
        line = describe(exc)
        if line is None:
            raise
        print(f"error: {line}", file=sys.stderr)
        sys.exit(EXIT_CODE)


def with_line(message: str) -> str:
    """`file: key.path: why` -> `file:LINE: key.path: why` when the file is there and the key found in it (the
    server's config errors name the file and key; the line is found here, the way `hazmon agent check` finds it).
    Any other message is returned as it is."""
    from pathlib import Path

    from agent.config import KeyLocator

    parts = message.split(": ", 2)
    if len(parts) != 3 or not parts[1] or " " in parts[1]:
        return message
    name, dotted, why = parts
    path = Path(name)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, ValueError):
        return message
    loc = tuple(int(p) if p.isdigit() else p for p in dotted.split("."))
    return f"{name}:{KeyLocator(text)(loc)}: {dotted}: {why}"
