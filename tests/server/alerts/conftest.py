from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from alert_kit import Server, running_server


@pytest.fixture
def server(tmp_path: Path, database_url: str) -> Iterator[Server]:
    with running_server(tmp_path, database_url) as s:
        yield s
