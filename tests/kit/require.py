"""Services and programs the tests need: a missing one fails in CI (CI=true) and skips elsewhere."""

from __future__ import annotations

import os
import shutil
from typing import NoReturn

import pytest

IN_CI = os.environ.get("CI") == "true"


def service_missing(what: str) -> NoReturn:
    """Fail in CI, where a skipped service would hide a missing install step; skip with a reason elsewhere."""
    if IN_CI:
        pytest.fail(f"{what} is not available, and CI must provide it (see scripts/test)")
    pytest.skip(f"{what} is not available here")


def binary(name: str, *, package: str, candidates: tuple[str, ...] = ()) -> str:
    """The path of program `name` (the Debian locations first, then PATH), or `service_missing`."""
    for path in candidates:
        if os.path.exists(path):
            return path
    found = shutil.which(name)
    if found is None:
        service_missing(f"{name} (apt-get install {package})")
    return found
