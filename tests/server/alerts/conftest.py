from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.server.alerts.alert_kit import Server, running_server


@pytest.fixture
def server(tmp_path: Path, database_url: str) -> Iterator[Server]:
    with running_server(tmp_path, database_url) as s:
        yield s
