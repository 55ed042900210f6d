"""The one way a health route reaches a worker's file: the role check first (a `worker` reaches only their own file;
others get 403, not 404), then a 404 for a worker that does not exist, each refusal audited."""

from __future__ import annotations

from fastapi import HTTPException

from server.accounts.access import Action, HealthAccess
from server.org.models import Worker


def worker_for(acc: HealthAccess, worker_id: int, action: Action) -> Worker:
    w = acc.session.get(Worker, worker_id)
    acc.require(action, f"worker:{worker_id}", owner_user_id=w.user_id if w else None)
    if w is None:
        acc.refuse_missing(action, f"worker:{worker_id}")
        raise HTTPException(404, f"no worker {worker_id}")
    return w
