"""The dependency rules of DESIGN §2 hold: import-linter's contracts pass, and the agent side imports no
server framework (so `pip install hazmon[agent]` works without FastAPI or SQLAlchemy)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _lint_imports() -> list[str]:
    beside = Path(sys.executable).parent / "lint-imports"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("lint-imports")
    return [found] if found else [sys.executable, "-m", "importlinter.cli"]


def test_import_contracts_hold():
    """`lint-imports` from the repository root: exposure is pure, agent/plugins never import the server,
    the server never imports the agent."""
    done = subprocess.run([*_lint_imports()], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert " 0 broken." in done.stdout


def test_agent_and_simulator_import_no_server_framework():
    """In a fresh interpreter, importing the agent and the simulator plugin loads no FastAPI, SQLAlchemy,
    Alembic, uvicorn or server module."""
    code = (
        "import json, sys\n"
        "import agent, agent.runtime, agent.config, agent.plugin_manager, plugins.simulator\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout)
    forbidden = ("fastapi", "sqlalchemy", "alembic", "uvicorn", "starlette", "server")
    assert [m for m in loaded if m.split(".")[0] in forbidden] == []


def test_exposure_imports_no_framework():
    """The science package loads without pydantic, httpx or any other framework."""
    code = "import json, sys\nimport exposure\nprint(json.dumps(sorted(sys.modules)))\n"
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout)
    forbidden = ("fastapi", "sqlalchemy", "pydantic", "httpx", "pluggy", "agent", "server", "plugins", "hazmon")
    assert [m for m in loaded if m.split(".")[0] in forbidden] == []
