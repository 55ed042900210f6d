"""The notification settings (read with secrets hidden, replaced as TOML) and the notification queue."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, HTTPException, Query
from pydantic import BaseModel, Field
from sqlalchemy import select

from server.accounts.audit import audit
from server.accounts.auth import Principal, StaffDep, require_user
from server.accounts.documents import save_document
from server.notify.models import NotificationJob
from server.notify.policies import NotifyConfigError, parse_notify_config
from server.notify.redaction import mask, mask_text
from server.notify.trial import UnknownGroup, send_test_messages
from server.services import ServicesDep, SessionDep

router = APIRouter(tags=["alerts"])

ManagerDep = Annotated[Principal, Depends(require_user("safety_manager"))]


class DeliveryOut(BaseModel):
    key: str
    kind: str
    recipient: str
    group: str
    stage: int
    repeat: int
    state: str
    due_ms: int
    attempts: int
    sent_ms: int | None
    last_error: str


def delivery_out(j: NotificationJob) -> DeliveryOut:
    return DeliveryOut(key=j.key, kind=j.kind, recipient=mask_text(j.recipient), group=j.group_name, stage=j.stage,
                       repeat=j.repeat, state=j.state, due_ms=j.due_ms, attempts=j.attempts, sent_ms=j.sent_ms,
                       last_error=mask_text(j.last_error))


@router.get("/notify/config", summary="The notification settings (secrets hidden: URL passwords, tokens, keys)")
def get_notify_config(services: ServicesDep, _: ManagerDep) -> dict[str, object]:
    data: dict[str, object] = mask(services.notifier.config.model_dump())
    return data


@router.put("/notify/config", summary="Replace the notification settings (TOML, as in HAZMON_NOTIFY_FILE)")
def put_notify_config(services: ServicesDep, session: SessionDep, user: ManagerDep,
                      text: Annotated[str, Body(media_type="text/plain")]) -> dict[str, object]:
    try:
        config = parse_notify_config(text, name="notify settings (API)")
    except NotifyConfigError as exc:
        raise HTTPException(422, str(exc)) from None
    save_document(session, "notify", text, actor=user.name, now_ms=services.now_ms())
    session.commit()
    services.notifier.config = config
    return get_notify_config(services, user)


@router.get("/notify/jobs", summary="The notification queue, newest first")
def list_jobs(session: SessionDep, _: StaffDep,
              state: Annotated[str | None, Query(max_length=16)] = None,
              limit: Annotated[int, Query(ge=1, le=10_000)] = 200) -> list[DeliveryOut]:
    q = select(NotificationJob)
    if state:
        q = q.where(NotificationJob.state == state)
    jobs = session.execute(q.order_by(NotificationJob.id.desc()).limit(limit)).scalars()
    return [delivery_out(j) for j in jobs]




class NotifyTestIn(BaseModel):
    group: str | None = Field(default=None, max_length=64, description="one group; default: every group")


class NotifyTestOut(BaseModel):
    group: str
    member: str
    channel: str
    delivered: bool
    error: str | None


@router.post("/notify/test", summary="Send a marked test message to every recipient (of one group) now")
def notify_test(services: ServicesDep, session: SessionDep, user: ManagerDep,
                body: Annotated[NotifyTestIn | None, Body()] = None) -> list[NotifyTestOut]:
    group = body.group if body else None
    try:
        results = send_test_messages(services.notifier.config, channel_for=services.notifier.channel_for,
                                     now_ms=services.now_ms(), group=group, sender=f"user {user.name}")
    except UnknownGroup as exc:
        raise HTTPException(404, str(exc)) from None
    audit(session, ts_ms=services.now_ms(), actor=user.name, action="notify_test", target=f"group:{group or '*'}",
          detail=f"delivered={sum(r.delivered for r in results)} failed={sum(not r.delivered for r in results)}")
    session.commit()
    return [NotifyTestOut(**vars(r)) for r in results]
