"""`hazmon server api-token|agent-token list|revoke` and `hazmon server user list|disable|enable|set-password`
against a running server: a revoked token gets 401 at once, a new agent token leaves the old one valid."""

from __future__ import annotations

import httpx
import pytest

from tests.kit.server import ServerProcess

pytestmark = pytest.mark.slow

BATCH = b'{"schema":"hazmon.batch/1","site":"plant-a","agent":"gw-1","seq":%d,"sent_ms":0,"readings":[]}'


def _id_of(listing: str, label: str) -> str:
    return next(line.split("\t")[0] for line in listing.splitlines() if f"\t{label}\t" in line)


def test_tokens_and_users_are_listed_revoked_and_disabled_from_the_command_line(tmp_path):
    """Two API tokens and two agent tokens are listed by id and label (never the token); revoking one gives 401 on
    its next request while the other keeps working; a disabled user gets 401 until enabled; set-password works."""
    server = ServerProcess(tmp_path)
    server.start()
    try:
        def get(path: str, token: str) -> int:
            return httpx.get(f"{server.url}{path}", headers={"Authorization": f"Bearer {token}"},
                             timeout=10).status_code

        def ingest(token: str, seq: int) -> int:
            return httpx.post(f"{server.url}/api/v1/ingest", headers={"Authorization": f"Bearer {token}"},
                              content=BATCH % seq, timeout=10).status_code

        server.cli("user", "add", "chief", "--role", "admin", stdin="correct horse battery\n")
        first = server.cli("api-token", "create", "--user", "chief", "--label", "laptop").stdout.strip()
        second = server.cli("api-token", "create", "--user", "chief", "--label", "ci",
                            "--expires-days", "30").stdout.strip()
        listing = server.cli("api-token", "list").stdout
        assert first not in listing and second not in listing and "\tci\t" in listing and "never" in listing
        assert server.cli("user", "list").stdout.strip() == "chief\tadmin\tenabled"
        server.cli("api-token", "revoke", _id_of(listing, "laptop"))
        assert (get("/api/v1/auth/me", first), get("/api/v1/auth/me", second)) == (401, 200)

        old = server.cli("agent-token", "create", "--site", "plant-a", "--agent", "gw-1",
                         "--label", "old").stdout.strip()
        new = server.cli("agent-token", "create", "--site", "plant-a", "--agent", "gw-1",
                         "--label", "new").stdout.strip()
        assert (ingest(old, 1), ingest(new, 2)) == (200, 200)  # the new token did not cut the old one off
        agents = server.cli("agent-token", "list").stdout
        assert "plant-a/gw-1\told\t" in agents and "plant-a/gw-1\tnew\t" in agents
        server.cli("agent-token", "revoke", _id_of(agents, "old"))
        assert (ingest(old, 3), ingest(new, 3)) == (401, 200)

        server.cli("user", "disable", "chief")
        assert get("/api/v1/auth/me", second) == 401
        server.cli("user", "enable", "chief")
        assert get("/api/v1/auth/me", second) == 200
        server.cli("user", "set-password", "chief", stdin="a new long password\n")
        login = httpx.post(f"{server.url}/api/v1/auth/login", json={"username": "chief",
                                                                    "password": "a new long password"}, timeout=10)
        assert login.status_code == 200
    finally:
        server.stop()
