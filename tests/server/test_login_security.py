"""Logins: argon2id with the OWASP parameters and a transparent rehash of older hashes, the same time for an
unknown user as for a wrong password, throttling per account and per address (429 with how long to wait), and an
audit trail that never keeps what was typed into the user-name box."""

from __future__ import annotations

import base64
import hashlib
import statistics
import time

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from server.accounts.credentials import hash_password, needs_rehash, verify_password
from server.accounts.models import AuditEntry, User
from tests.kit.server import PASSWORD, build_app, session
from tests.server.api_kit import user_token


def _scrypt(password: str) -> str:
    """A hash as the server stored them before argon2id."""
    salt = b"0123456789abcdef"
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    enc = [base64.urlsafe_b64encode(x).decode().rstrip("=") for x in (salt, digest)]
    return f"scrypt${2**14}$8$1${enc[0]}${enc[1]}"


def _login(client: TestClient, user: str, password: str):
    return client.post("/api/v1/auth/login", json={"username": user, "password": password})


def test_new_passwords_are_argon2id_with_owasp_parameters():
    """m=19 MiB, t=2, p=1; a scrypt hash still verifies and is marked for rehashing."""
    h = hash_password("correct horse battery")
    assert h.startswith("$argon2id$v=19$m=19456,t=2,p=1$") and not needs_rehash(h)
    assert verify_password("correct horse battery", h) and not verify_password("wrong", h)
    old = _scrypt("correct horse battery")
    assert verify_password("correct horse battery", old) and needs_rehash(old)


def test_an_old_hash_is_replaced_by_argon2id_at_login(app, client):
    """A user with a scrypt hash logs in as before, and from then on has an argon2id hash."""
    user_token(app, "chief", "safety_manager")
    with session(app) as s:
        s.execute(update(User).where(User.name == "chief").values(password_hash=_scrypt(PASSWORD)))
        s.commit()
    assert _login(client, "chief", PASSWORD).status_code == 200
    with session(app) as s:
        stored = s.execute(select(User.password_hash).where(User.name == "chief")).scalar_one()
        actions = s.execute(select(AuditEntry.action)).scalars().all()
    assert stored.startswith("$argon2id$") and "password_rehash" in actions
    assert _login(client, "chief", PASSWORD).status_code == 200


def test_an_unknown_user_takes_as_long_as_a_wrong_password(tmp_path, database_url):
    """The time of a refused login does not tell whether the user exists (medians within a factor of 2)."""
    app = build_app(tmp_path, database_url, login_max_failures=1000, login_max_failures_per_address=1000)
    with TestClient(app) as client:
        user_token(app, "chief", "safety_manager")
        _login(client, "nobody", "x" * 12)  # warm both paths
        _login(client, "chief", "x" * 12)

        def median(user: str) -> float:
            times = []
            for _ in range(7):
                t = time.perf_counter()
                assert _login(client, user, "wrong password").status_code == 401
                times.append(time.perf_counter() - t)
            return statistics.median(times)

        known, unknown = median("chief"), median("nobody")
    assert 0.5 < unknown / known < 2.0, (known, unknown)


def test_repeated_failures_are_throttled_per_account_and_per_address(tmp_path, database_url):
    """After 5 failures for one user name the next attempt (even with the right password) is a 429 saying how long
    to wait; after the per-address limit, any user name from that address is a 429 too."""
    app = build_app(tmp_path, database_url, login_max_failures=5, login_max_failures_per_address=8)
    with TestClient(app) as client:
        user_token(app, "chief", "safety_manager")
        user_token(app, "other", "auditor")
        assert [_login(client, "chief", "wrong password").status_code for _ in range(5)] == [401] * 5
        r = _login(client, "chief", PASSWORD)
        assert r.status_code == 429 and "try again in" in r.json()["detail"] and int(r.headers["retry-after"]) > 0
        assert _login(client, "other", PASSWORD).status_code == 200  # another account is not locked
        assert [_login(client, f"ghost{i}", "wrong password").status_code for i in range(3)] == [401] * 3
        assert _login(client, "other", PASSWORD).status_code == 429  # 8 failures from this address
        status = client.get("/api/v1/status", headers={"Authorization": f"Bearer {user_token(app, 'a', 'admin')}"})
        assert status.json()["counters"]["login_throttled"] == 2


def test_what_was_typed_as_a_user_name_is_not_kept(app, client):
    """A password typed into the user-name box is audited as `unknown user`, nowhere as typed."""
    typed = "Tr0ub4dor&3-typed-in-the-wrong-box"
    assert _login(client, typed, "whatever").status_code == 401
    with session(app) as s:
        rows = s.execute(select(AuditEntry)).scalars().all()
    failed = [r for r in rows if r.action == "login_failed"]
    assert failed and failed[0].actor == "unknown user"
    assert all(typed not in f"{r.actor} {r.target} {r.detail}" for r in rows)
