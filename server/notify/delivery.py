"""The persistent notification queue: scheduling in the caller's transaction, and `run_due`, one delivery step.

Jobs are rows (`notification_jobs`), written in the same transaction as the alert transition that causes them,
so a committed alert always has its notifications and escalation timers, and a restart loses none. Each job has
a unique key (alert, step, stage, recipient, repeat): scheduling twice inserts once.

`run_due(session, now_ms)`:
1. jobs claimed (`sending`) longer than the lease ago are due again (the server died mid-send);
2. each due job is claimed and committed, then sent outside any transaction, then marked `sent` or retried with
   exponential backoff (`failed` after `max_attempts`); every attempt is logged (`notification_log`);
3. escalation and repeat jobs of an alert that is no longer open (acknowledged, resolved) are cancelled instead.
A sent repeat schedules the next one while the alert stays unacknowledged.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from server.alerts.models import Alert
from server.errors import safe_traceback
from server.events import AlertEvent
from server.notify.channels import Channel, DeliveryError, Message
from server.notify.models import DeliveryAttempt, NotificationJob
from server.notify.policies import Group, NotifyConfig

log = logging.getLogger(__name__)

LEASE_MS = 5 * 60 * 1000
BATCH = 100


@dataclass(frozen=True)
class Draft:
    """One job to be scheduled."""

    key: str
    kind: str
    recipient: str
    group: str
    target: str
    subject: str
    body: str
    severity: str
    due_ms: int
    payload: dict[str, Any]
    alert_id: int | None = None
    incident_id: int | None = None
    step: int = 0
    stage: int = 1
    repeat: int = 0
    policy: str = ""


def insert_jobs(session: Session, drafts: list[Draft], now_ms: int) -> int:
    """Insert the drafts, skipping keys already present. Returns how many were new."""
    if not drafts:
        return 0
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    rows = [
        {"key": d.key[:255], "kind": d.kind, "alert_id": d.alert_id, "incident_id": d.incident_id, "step": d.step,
         "stage": d.stage, "repeat": d.repeat, "policy": d.policy, "group_name": d.group, "recipient": d.recipient,
         "target": d.target, "severity": d.severity, "subject": d.subject, "body": d.body,
         "payload": json.dumps(d.payload, sort_keys=True), "due_ms": d.due_ms, "created_ms": now_ms,
         "state": "pending", "attempts": 0, "last_error": ""}
        for d in drafts
    ]
    result = session.execute(insert(NotificationJob.__table__).on_conflict_do_nothing(index_elements=["key"]), rows)
    return int(result.rowcount or 0)


def fmt_time(ms: int, tz: str) -> str:
    from zoneinfo import ZoneInfo

    return dt.datetime.fromtimestamp(ms / 1000, ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M:%S %Z")


def alert_message(config: NotifyConfig, event: AlertEvent, *, kind: str, repeat: int = 0,
                  stage: int = 1) -> tuple[str, str, dict[str, Any]]:
    """Subject, body and webhook payload of an alert notification."""
    tags = []
    if event.late:
        tags.append("LATE DATA")
    if kind == "resolved":
        tags.append("RESOLVED")
    elif kind == "repeat":
        tags.append(f"REPEAT {repeat}, NOT ACKNOWLEDGED")
    elif stage > 1:
        tags.append(f"ESCALATION stage {stage}")
    if event.previous_severity:
        tags.append(f"RAISED from {event.previous_severity}")
    prefix = "".join(f"[{t}] " for t in tags)
    where = f"{event.site}/{event.sensor}" + (f" in {event.zone}" if event.zone else "")
    subject = f"{prefix}[{event.severity.upper()}] {event.message}: {event.value:g} {event.unit} at {where}"
    lines = [
        f"{event.message} ({event.rule_id}): {event.quantity} {event.value:g} {event.unit}, "
        f"level {event.threshold:g} {event.unit}",
        f"Where: {where}",
        f"Measured at: {fmt_time(event.ts, config.timezone)}",
        f"Severity: {event.severity}"
        + (f" (raised from {event.previous_severity})" if event.previous_severity else ""),
    ]
    if event.late:
        lines.append("LATE DATA: these readings arrived long after they were measured; this is not a live alarm. "
                     "Check the current values before acting.")
    if event.origin == "edge":
        lines.append("Raised by the site agent's local alarm.")
    if kind == "resolved":
        lines.append(f"Resolved by {event.actor}" + (f": {event.note}" if event.note else ""))
    else:
        lines.append(f"Acknowledge: {config.public_url}/alerts?alert={event.alert_id}")
    payload = {
        "schema": "hazmon.notification/1", "kind": kind, "drill": False, "late": event.late,
        "alert": {"id": event.alert_id, "rule": event.rule_id, "site": event.site, "sensor": event.sensor,
                  "zone": event.zone, "quantity": event.quantity, "severity": event.severity,
                  "previous_severity": event.previous_severity, "step": event.step, "value": event.value,
                  "unit": event.unit, "threshold": event.threshold, "ts": event.ts, "origin": event.origin},
    }
    return subject, "\n".join(lines), payload


def schedule_alert(session: Session, config: NotifyConfig, event: AlertEvent, now_ms: int) -> int:
    """Jobs for an alert transition, in the caller's transaction. Returns the number of new jobs."""
    if event.kind in ("acknowledged", "resolved", "escalated"):
        _cancel_timers(session, event.alert_id, before_step=event.step if event.kind == "escalated" else None)
    drafts: list[Draft] = []
    for policy in config.policies:
        if not policy.matches(site=event.site, zone=event.zone, quantity=event.quantity, rule_id=event.rule_id,
                              severity=event.severity):
            continue
        if event.kind == "resolved":
            if policy.notify_resolved:
                group = config.group(policy.stages[0].group)
                subject, body, payload = alert_message(config, event, kind="resolved")
                drafts += _for_group(config, group, policy.id, event, "resolved", 1, 0, now_ms, subject, body,
                                     payload)
            continue
        if event.kind not in ("opened", "escalated"):
            continue
        for n, stage in enumerate(policy.stages, start=1):
            group = config.group(stage.group)
            due = now_ms + round(stage.after_min * 60_000)
            subject, body, payload = alert_message(config, event, kind="notify", stage=n)
            drafts += _for_group(config, group, policy.id, event, "notify" if n == 1 else "escalate", n, 0, due,
                                 subject, body, payload)
        if policy.repeat_every_min > 0 and policy.max_repeats > 0:
            group = config.group(policy.stages[0].group)
            subject, body, payload = alert_message(config, event, kind="repeat", repeat=1)
            drafts += _for_group(config, group, policy.id, event, "repeat", 1, 1,
                                 now_ms + round(policy.repeat_every_min * 60_000), subject, body, payload)
    return insert_jobs(session, drafts, now_ms)


def _for_group(config: NotifyConfig, group: Group | None, policy: str, event: AlertEvent, kind: str, stage: int,
               repeat: int, due_ms: int, subject: str, body: str, payload: dict[str, Any]) -> list[Draft]:
    if group is None:
        return []
    release = config.release_ms(group, event.severity, due_ms)
    return [
        Draft(key=f"alert:{event.alert_id}:step:{event.step}:{kind}:stage:{stage}:rep:{repeat}:{policy}:"
                  f"{group.name}:{m.name}",
              kind=kind, recipient=m.name, group=group.name, target=m.target, subject=subject, body=body,
              severity=event.severity, due_ms=release, payload={**payload, "kind": kind, "stage": stage},
              alert_id=event.alert_id, step=event.step, stage=stage, repeat=repeat, policy=policy)
        for m in group.members
    ]


def _cancel_timers(session: Session, alert_id: int, *, before_step: int | None) -> None:
    """Pending escalations and repeats of the alert stop (acknowledged, resolved, or superseded by a higher step)."""
    q = update(NotificationJob).where(
        NotificationJob.alert_id == alert_id, NotificationJob.state == "pending",
        NotificationJob.kind.in_(("escalate", "repeat")),
    )
    if before_step is not None:
        q = q.where(NotificationJob.step < before_step)
    session.execute(q.values(state="cancelled", last_error="alert acknowledged, resolved or raised"))


@dataclass
class RunStats:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    cancelled: int = 0


ChannelFor = Callable[[str, bool], Channel]


def run_due(session: Session, now_ms: int, *, config: NotifyConfig, channel_for: ChannelFor) -> RunStats:
    """Deliver every job due at `now_ms`. Commits the session (claims before sending, outcomes after)."""
    stats = RunStats()
    session.execute(
        update(NotificationJob)
        .where(NotificationJob.state == "sending", NotificationJob.claimed_ms < now_ms - LEASE_MS)
        .values(state="pending", last_error="claim expired (server stopped while sending); sent again")
    )
    q = (select(NotificationJob).where(NotificationJob.state == "pending", NotificationJob.due_ms <= now_ms)
         .order_by(NotificationJob.due_ms, NotificationJob.id).limit(BATCH))
    if session.get_bind().dialect.name == "postgresql":
        q = q.with_for_update(skip_locked=True)
    jobs = list(session.execute(q).scalars())
    claimed: list[NotificationJob] = []
    for job in jobs:
        if job.kind in ("escalate", "repeat") and job.alert_id is not None:
            state = session.execute(select(Alert.state).where(Alert.id == job.alert_id)).scalar()
            if state != "open":
                job.state, job.last_error = "cancelled", f"alert is {state}"
                stats.cancelled += 1
                continue
        job.state, job.claimed_ms, job.attempts = "sending", now_ms, job.attempts + 1
        claimed.append(job)
    session.commit()
    for job in claimed:
        error = _send(job, config, channel_for)
        session.add(DeliveryAttempt(job_id=job.id, ts_ms=now_ms, attempt=job.attempts, ok=error is None,
                                    error=error or ""))
        if error is None:
            job.state, job.sent_ms, job.last_error = "sent", now_ms, ""
            stats.sent += 1
            if job.kind == "repeat":
                _next_repeat(session, job, config, now_ms)
        elif job.attempts >= config.max_attempts:
            job.state, job.last_error = "failed", error
            stats.failed += 1
            log.error("notification %s failed for good after %d attempts: %s", job.key, job.attempts, error)
        else:
            delay = min(config.retry_max_s, config.retry_initial_s * 2 ** (job.attempts - 1))
            job.state, job.last_error, job.due_ms = "pending", error, now_ms + round(delay * 1000)
            stats.retried += 1
        session.commit()
    return stats


def _send(job: NotificationJob, config: NotifyConfig, channel_for: ChannelFor) -> str | None:
    member = config.member(job.group_name, job.recipient) if job.group_name else None
    secret = member.secret if member is not None else None
    is_webhook = member is not None and member.webhook is not None
    try:
        channel = channel_for(job.target, is_webhook)
        channel.send(Message(key=job.key, subject=job.subject, body=job.body, severity=job.severity,
                             payload=json.loads(job.payload), secret=secret, ts_ms=job.claimed_ms or 0), job.target)
    except DeliveryError as exc:
        return str(exc)
    except Exception as exc:  # a broken channel fails its job alone
        log.error("channel failed for %s: %s", job.key, safe_traceback(exc))
        return f"{type(exc).__name__}: {exc}"
    return None


def _next_repeat(session: Session, job: NotificationJob, config: NotifyConfig, now_ms: int) -> None:
    policy = next((p for p in config.policies if p.id == job.policy), None)
    if policy is None or job.repeat >= policy.max_repeats or policy.repeat_every_min <= 0:
        return
    n = job.repeat + 1
    subject = job.subject.replace(f"[REPEAT {job.repeat}, ", f"[REPEAT {n}, ")
    payload = json.loads(job.payload)
    insert_jobs(session, [Draft(
        key=job.key.replace(f":rep:{job.repeat}:", f":rep:{n}:"), kind="repeat", recipient=job.recipient,
        group=job.group_name, target=job.target, subject=subject, body=job.body, severity=job.severity,
        due_ms=now_ms + round(policy.repeat_every_min * 60_000), payload=payload, alert_id=job.alert_id,
        step=job.step, stage=job.stage, repeat=n, policy=job.policy,
    )], now_ms)
