"""Linking a worker to a sign-in account: an unknown, out-of-range or already linked `user_id` is a one-line 4xx
naming the problem, never a 500, on create and on update."""

from __future__ import annotations

import pytest

from .conftest import Env


@pytest.mark.parametrize("user_id", [999_999, 2**31, 2**62, -1, 0])
def test_updating_a_worker_with_an_unknown_user_is_a_clear_4xx(env: Env, user_id: int) -> None:
    wid = env.worker("U1")
    r = env.call("record_keeper", "PATCH", f"/workers/{wid}", json={"user_id": user_id})
    assert 400 <= r.status_code < 500, (r.status_code, r.text)
    detail = r.json()["detail"]
    text = detail if isinstance(detail, str) else "; ".join(f"{d['loc'][-1]}: {d['msg']}" for d in detail)
    assert "\n" not in text and "user" in text.lower(), text
    r = env.call("record_keeper", "POST", "/workers", json={"employee_no": "U2", "name": "x", "user_id": user_id})
    assert 400 <= r.status_code < 500, (r.status_code, r.text)
    assert env.ok("GET", f"/workers/{wid}")["user_id"] is None


def test_a_user_linked_to_another_worker_is_a_conflict(env: Env) -> None:
    env.worker("U1", user="worker")
    wid = env.worker("U2")
    r = env.call("record_keeper", "PATCH", f"/workers/{wid}", json={"user_id": env.user_ids["worker"]})
    assert r.status_code == 409 and "linked to worker" in r.json()["detail"]
    r = env.call("record_keeper", "PATCH", f"/workers/{wid}", json={"user_id": env.user_ids["worker2"]})
    assert r.status_code == 200 and r.json()["user_id"] == env.user_ids["worker2"]
    assert env.ok("PATCH", f"/workers/{wid}", json={"user_id": None})["user_id"] is None
