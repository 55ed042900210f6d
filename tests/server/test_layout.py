"""The server's layout stays as docs/architecture.md draws it: the same HTTP API as before the move into feature
packages, no project import hidden inside a function, no module too long to read, one entry point for services."""

from __future__ import annotations

import ast
from pathlib import Path

from server.app import create_app
from server.settings import Settings

REPO = Path(__file__).resolve().parents[2]
SERVER = REPO / "server"
PROJECT = ("server", "agent", "exposure", "plugins", "hazmon")


def _modules() -> list[Path]:
    return sorted(p for p in SERVER.rglob("*.py") if "migrations" not in p.parts)


def test_the_openapi_operations_are_the_ones_checked_in(tmp_path: Path) -> None:
    """Every method and path of the OpenAPI spec matches tests/openapi_paths.txt (recorded before the server was
    split into feature packages): routes kept their URLs."""
    spec = create_app(Settings(data_dir=tmp_path)).openapi()
    ops = sorted(f"{m.upper()} {p}" for p, item in spec["paths"].items() for m in item)
    checked_in = [line for line in (REPO / "tests" / "openapi_paths.txt").read_text().splitlines() if line]
    assert ops == checked_in


def _type_checking_block(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            return True
    return False


def test_no_project_import_hides_in_a_function() -> None:
    """An import of a project module that is not at module level is only ever an `if TYPE_CHECKING:` import (for
    the type checker, never executed): no function-level import hides a cycle."""
    hidden = []
    for path in _modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        for node in ast.walk(tree):
            if not isinstance(node, ast.Import | ast.ImportFrom) or node in tree.body:
                continue
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            if any(n.split(".")[0] in PROJECT for n in names) and not _type_checking_block(node, parents):
                hidden.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert hidden == []


def test_no_server_module_is_over_400_lines() -> None:
    """A module that needs a table of contents is split (migrations excepted)."""
    long = {str(p.relative_to(REPO)): n for p in _modules() if (n := len(p.read_text().splitlines())) > 400}
    assert long == {}


def test_routes_reach_services_through_the_one_dependency() -> None:
    """No server module reads `app.state` but the composition (app.py sets it, services.py reads it): routes
    use `ServicesDep`."""
    readers = [str(p.relative_to(REPO)) for p in _modules()
               if "app.state" in p.read_text() and p.name not in ("app.py", "services.py")]
    assert readers == []
