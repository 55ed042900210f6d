"""The role matrix: every route of the app and the principals it admits, generated from the routes themselves.

Who a route admits is read from its dependencies: `require_user(...)` (the roles it names, admin always),
`current_user` (anyone signed in), `AgentDep` (an agent token), the health files' `AccessDep` (the action the
route checks first, looked up in server.accounts.access.RULES; a `worker` only on their own file), or nothing
(public). `python -m tests.server.role_matrix --write` writes the table into docs/api.md between its markers;
tests/server/test_role_matrix.py fails when docs/api.md is stale and checks each route x principal.
"""

from __future__ import annotations

import inspect
import re
import sys
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

from server.accounts.access import OWN_FILE, RULES
from server.accounts.auth import current_user
from server.app import create_app
from server.ingest.agents import current_agent
from server.settings import Settings

ROLES = ("admin", "safety_manager", "facilities", "record_keeper", "worker", "auditor")
PRINCIPALS = (*ROLES, "agent", "anonymous")
DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"
START, END = "<!-- role-matrix:start (python -m tests.server.role_matrix --write) -->", "<!-- role-matrix:end -->"


@dataclass(frozen=True)
class Entry:
    method: str
    path: str
    #: principal -> "yes", "own" (a worker, on their own file or themselves only) or "" (refused)
    access: dict[str, str]
    how: str  # how the route decides: require_user, signed in, agent token, health action ..., public

    def cell(self, who: str) -> str:
        return {"yes": "yes", "own": "own", "": "-"}[self.access[who]]


def routes(app: FastAPI) -> Iterator[tuple[str, APIRoute]]:
    """Every APIRoute with its full path (routers included at any depth)."""
    def walk(items: Iterable[Any], prefix: str) -> Iterator[tuple[str, APIRoute]]:
        for r in items:
            if isinstance(r, APIRoute):
                yield prefix + r.path, r
            elif hasattr(r, "original_router"):  # FastAPI >= 0.160 keeps included routers as they are
                yield from walk(r.original_router.routes, prefix + r.include_context.prefix)
    yield from walk(app.routes, "")


def _calls(dependant: Any) -> Iterator[Any]:
    for d in dependant.dependencies:
        yield d.call
        yield from _calls(d)


def _health_action(endpoint: Any, depth: int = 0) -> str | None:
    """The first action of RULES the route's code names (in the route, else in the module's helpers it calls)."""
    source = inspect.getsource(endpoint)
    for literal in re.findall(r'"([a-z_]+\.[a-z_]+)"', source):
        if literal in RULES:
            return literal
    if depth < 2:
        module = sys.modules[endpoint.__module__]
        for name in re.findall(r"\b(_[a-z_]+)\(", source):
            helper = getattr(module, name, None)
            if inspect.isfunction(helper):
                found = _health_action(helper, depth + 1)
                if found:
                    return found
    return None


def entry(method: str, path: str, route: APIRoute) -> Entry:
    calls = list(_calls(route.dependant))
    names = {getattr(c, "__qualname__", "") for c in calls}
    yes = dict.fromkeys(PRINCIPALS, "")
    checks = [c for c in calls if getattr(c, "__qualname__", "").startswith("require_user.")]
    if checks:
        cell = dict(zip(checks[0].__code__.co_freevars, checks[0].__closure__ or (), strict=True))["allowed"]
        roles = sorted(cell.cell_contents)
        yes.update(dict.fromkeys(roles, "yes"))
        how = "roles " + ", ".join(r for r in ROLES if r in roles)
        if "worker" in roles and 'user.role == "worker"' in inspect.getsource(route.endpoint):
            yes["worker"] = "own"  # the route narrows a worker to themselves (e.g. marking themselves safe)
    elif current_agent in calls:
        yes["agent"] = "yes"
        how = "agent token"
    elif "_access" in names:
        action = _health_action(route.endpoint)
        if action is None:
            raise AssertionError(f"{method} {path}: a health route that checks no action")
        for role in RULES[action]:  # type: ignore[index]
            yes[role] = "own" if role == "worker" else "yes"
        if "worker" in RULES[action] and action not in OWN_FILE:  # type: ignore[index]
            yes["worker"] = ""
        how = f"health action {action}"
    elif current_user in calls:
        yes.update(dict.fromkeys(ROLES, "yes"))
        how = "signed in"
    else:
        yes = dict.fromkeys(PRINCIPALS, "yes")
        how = "public"
    return Entry(method, path, yes, how)


def matrix(app: FastAPI | None = None) -> list[Entry]:
    app = app or create_app(Settings(data_dir=Path(tempfile.mkdtemp(prefix="hazmon-matrix-"))))
    out = [entry(m, p, r) for p, r in routes(app) if r.include_in_schema for m in sorted(r.methods)]
    return sorted(out, key=lambda e: (e.path, e.method))


def table(entries: list[Entry]) -> str:
    head = "| route | " + " | ".join(PRINCIPALS) + " | decided by |"
    rule = "| --- |" + " --- |" * (len(PRINCIPALS) + 1)
    rows = [f"| `{e.method} {e.path}` | " + " | ".join(e.cell(p) for p in PRINCIPALS) + f" | {e.how} |"
            for e in entries]
    return "\n".join([head, rule, *rows])


def section(entries: list[Entry]) -> str:
    return (f"{START}\n{len(entries)} operations. `yes`: admitted; `own`: a worker, on their own health file only; "
            "`-`: refused (401 without a person's token, 403 for a role without the right).\n\n"
            f"{table(entries)}\n{END}")


def doc_with(text: str, entries: list[Entry]) -> str:
    if START in text:
        before, rest = text.split(START, 1)
        after = rest.split(END, 1)[1]
        return before + section(entries) + after
    return text.rstrip("\n") + "\n\n## Role matrix\n\n" + section(entries) + "\n"


def main(argv: list[str]) -> int:
    entries = matrix()
    if argv[1:] == ["--write"]:
        DOC.write_text(doc_with(DOC.read_text(encoding="utf-8"), entries), encoding="utf-8")
        print(f"{DOC}: {len(entries)} operations")
        return 0
    print(table(entries))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
