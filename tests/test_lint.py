"""The code stays as the project's settings say: ruff clean everywhere, mypy --strict on the pure exposure package
and the shared plugin host core."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _tool(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    assert found, f"{name} is not installed (pip install -e '.[test]')"
    return found


def test_ruff_finds_nothing() -> None:
    """`ruff check .` passes on the whole tree."""
    result = subprocess.run([_tool("ruff"), "check", "."], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_passes_on_exposure_and_pluginhost() -> None:
    """The exposure and pluginhost packages type-check under mypy --strict ([tool.mypy] in pyproject.toml)."""
    result = subprocess.run([_tool("mypy")], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
