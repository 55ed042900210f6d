"""What the operations pages show, read from the stores in one place: the site's zones as dashboard tiles (worst
state, hazards, live values against their alert levels, open alerts and watchdogs, people present), one zone,
the alert inbox and one alert with its timeline. Frozen records for the templates; no health data."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from exposure.wire import SEVERITIES
from server.accounts.models import AuditEntry
from server.alerts.models import Alert
from server.alerts.rules import Rule, RuleSet
from server.alerts.subject_name import select_alerts
from server.notify.models import NotificationJob
from server.org.models import Assignment, Hazard, Post, Zone, ZoneSensor
from server.series.models import Latest, Sensor
from server.series.rows import flags_of

STALE_MS = 5 * 60 * 1000
#: worst first: a tile takes the worst state of what it holds
STATES = ("emergency", "critical", "warning", "stale", "ok", "empty")
Kind = Literal["measurement", "edge", "watchdog"]
KINDS: tuple[Kind, ...] = ("measurement", "edge", "watchdog")
_ORIGIN = {"measurement": "server", "edge": "edge", "watchdog": "watchdog"}


def worst(states: Iterable[str], default: str = "ok") -> str:
    ranked = [s for s in states if s in STATES]
    return min(ranked, key=STATES.index) if ranked else default


@dataclass(frozen=True)
class Level:
    severity: str
    threshold: float
    label: str
    direction: str


@dataclass(frozen=True)
class LiveValue:
    sensor: str
    quantity: str
    value: float
    unit: str
    ts: int
    flags: tuple[str, ...]
    levels: tuple[Level, ...]
    state: str  # a severity whose level the value reaches, "stale" or "ok"

    @property
    def action(self) -> Level | None:
        """The first level (the action level); None without a value rule."""
        return self.levels[0] if self.levels else None

    @property
    def limit(self) -> Level | None:
        """The level after the action level (the limit), or the only one."""
        return self.levels[1] if len(self.levels) > 1 else (self.levels[0] if self.levels else None)


@dataclass(frozen=True)
class AlertLine:
    id: int
    severity: str
    state: str
    kind: str
    subject: str
    zone: str | None
    site: str | None
    rule: str
    message: str
    value: float
    threshold: float
    unit: str
    opened_ts: int
    acknowledged_by: str | None


@dataclass(frozen=True)
class ZoneTile:
    code: str
    name: str
    site: str
    state: str
    hazards: tuple[str, ...]
    values: tuple[LiveValue, ...]
    silent: tuple[str, ...]  # zone sensors without any value yet
    alerts: tuple[AlertLine, ...]
    watchdogs: tuple[AlertLine, ...]
    present: int


@dataclass(frozen=True)
class Dashboard:
    tiles: tuple[ZoneTile, ...]
    site_watchdogs: tuple[AlertLine, ...]  # watchdog alerts on no zone's sensor (an agent offline ...)


def kind_of(origin: str) -> str:
    return {"server": "measurement", "edge": "edge", "watchdog": "watchdog"}.get(origin, origin)


def _line(a: Alert, subject: str) -> AlertLine:
    return AlertLine(id=a.id, severity=a.current_severity or a.severity, state=a.state, kind=kind_of(a.origin),
                     subject=subject, zone=a.zone, site=a.site, rule=a.rule_id, message=a.message,
                     value=a.worst_value, threshold=a.threshold, unit=a.unit, opened_ts=a.opened_ts,
                     acknowledged_by=a.acknowledged_by)


def value_levels(rules: RuleSet, *, sensor: str, site: str, quantity: str, unit: str,
                 zone_sensors: frozenset[str]) -> tuple[Level, ...]:
    """The levels of the instantaneous-value rules that watch this sensor's quantity in its unit, lowest first."""
    out: list[Level] = []
    for rule in rules.rules:
        if rule.metric != "value" or rule.workers is not None or rule.unit != unit:
            continue
        if not rule.applies_to(sensor, quantity, site=site, zone_sensors=zone_sensors):
            continue
        out.extend(Level(lv.severity, lv.threshold, lv.label, rule.direction) for lv in rule.levels)
    return tuple(sorted(out, key=lambda lv: (lv.direction, lv.threshold if lv.direction == "above"
                                             else -lv.threshold)))


def _value_state(value: float, levels: Sequence[Level], *, stale: bool) -> str:
    if stale:
        return "stale"
    reached = [lv.severity for lv in levels
               if (value >= lv.threshold if lv.direction == "above" else value <= lv.threshold)]
    return worst(reached)


def _rule_of(rules: RuleSet) -> dict[str, Rule]:
    return {r.id: r for r in rules.rules}


def dashboard(session: Session, rules: RuleSet, *, now_ms: int, only: str | None = None) -> Dashboard:
    """Every zone as a tile (and one for sensors in no zone), worst first, then by code; with `only`, that zone's
    tile alone (a notice board)."""
    zones_q = select(Zone).order_by(Zone.code)
    zones = session.execute(zones_q.where(Zone.code == only) if only else zones_q).scalars().all()
    active = session.execute(
        select(ZoneSensor.zone_id, Sensor.id, Sensor.name, Sensor.site).join(Sensor, Sensor.id == ZoneSensor.sensor_id)
        .where(ZoneSensor.start_ms <= now_ms, or_(ZoneSensor.end_ms.is_(None), ZoneSensor.end_ms > now_ms))
        .order_by(Sensor.name)).all()
    sensors_of: dict[int | None, list[tuple[int, str, str]]] = {}
    zoned: set[int] = set()
    for zone_id, sid, name, site in active:
        sensors_of.setdefault(zone_id, []).append((sid, name, site))
        zoned.add(sid)
    unzoned = session.execute(select(Sensor.id, Sensor.name, Sensor.site).order_by(Sensor.name)).all()
    sensors_of[None] = [(sid, name, site) for sid, name, site in unzoned if sid not in zoned]
    latest: dict[int, list[Latest]] = {}
    for row in session.execute(select(Latest).order_by(Latest.quantity)).scalars():
        latest.setdefault(row.sensor_id, []).append(row)
    hazards: dict[int, list[str]] = {}
    for zone_id, substance in session.execute(
            select(Hazard.zone_id, Hazard.substance).distinct().order_by(Hazard.substance)).all():
        hazards.setdefault(zone_id, []).append(substance)
    present = dict(session.execute(
        select(Assignment.zone_id, func.count(func.distinct(Assignment.worker_id)))
        .where(Assignment.start_ms <= now_ms, Assignment.end_ms > now_ms).group_by(Assignment.zone_id)).all())
    open_alerts = session.execute(select_alerts().where(Alert.state != "resolved")
                                  .order_by(Alert.opened_ts.desc(), Alert.id.desc())).all()

    tiles: list[ZoneTile] = []
    claimed: set[int] = set()
    for zone in [*zones, *([] if only else [None])]:
        members = sensors_of.get(zone.id if zone else None, [])
        if zone is None and not members:
            continue
        ids = {sid for sid, _, _ in members}
        names = frozenset(name for _, name, _ in members)
        values: list[LiveValue] = []
        silent: list[str] = []
        for sid, name, site in members:
            rows = latest.get(sid, [])
            if not rows:
                silent.append(name)
            for r in rows:
                levels = value_levels(rules, sensor=name, site=site, quantity=r.quantity, unit=r.unit,
                                      zone_sensors=names)
                values.append(LiveValue(sensor=name, quantity=r.quantity, value=r.value, unit=r.unit, ts=r.ts,
                                        flags=tuple(flags_of(r.flags)), levels=levels,
                                        state=_value_state(r.value, levels, stale=now_ms - r.ts > STALE_MS)))
        mine = [(a, s) for a, s in open_alerts
                if (zone is not None and a.zone == zone.code) or (a.sensor_id is not None and a.sensor_id in ids)]
        claimed.update(a.id for a, _ in mine)
        lines = [_line(a, s) for a, s in mine]
        alerts = tuple(x for x in lines if x.kind != "watchdog")
        watchdogs = tuple(x for x in lines if x.kind == "watchdog")
        states = [x.severity for x in lines] + [v.state for v in values] + (["stale"] if silent else [])
        tiles.append(ZoneTile(
            code=zone.code if zone else "", name=zone.name if zone else "Sensors in no zone",
            site=zone.site if zone else "", state=worst(states, default="ok" if members else "empty"),
            hazards=tuple(hazards.get(zone.id, ())) if zone else (), values=tuple(values), silent=tuple(silent),
            alerts=alerts, watchdogs=watchdogs, present=int(present.get(zone.id, 0)) if zone else 0))
    tiles.sort(key=lambda t: (STATES.index(t.state), t.code == "", t.code))
    site_watchdogs = tuple(_line(a, s) for a, s in open_alerts if a.id not in claimed)
    return Dashboard(tiles=tuple(tiles), site_watchdogs=site_watchdogs)


# -- one zone --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChartSpec:
    sensor: str
    quantity: str
    unit: str
    levels: tuple[Level, ...]


@dataclass(frozen=True)
class HazardLine:
    substance: str
    quantity: str
    post: str | None
    variant: str | None
    ppe: str | None = None  # the site's requirement; None: the general guidance applies (board_view.note_for)


@dataclass(frozen=True)
class ZonePage:
    code: str
    name: str
    site: str
    hazards: tuple[HazardLine, ...]
    charts: tuple[ChartSpec, ...]
    present: int
    alerts: tuple[AlertLine, ...]


def zone_page(session: Session, rules: RuleSet, code: str, *, now_ms: int, alerts: int = 30) -> ZonePage | None:
    zone = session.execute(select(Zone).where(Zone.code == code)).scalar_one_or_none()
    if zone is None:
        return None
    posts = dict(session.execute(select(Post.id, Post.code).where(Post.zone_id == zone.id)).all())
    hazards = tuple(HazardLine(h.substance, h.quantity, posts.get(h.post_id) if h.post_id else None, h.variant,
                               h.ppe)
                    for h in session.execute(select(Hazard).where(Hazard.zone_id == zone.id)
                                             .order_by(Hazard.substance, Hazard.id)).scalars())
    members = session.execute(
        select(Sensor.id, Sensor.name, Sensor.site).join(ZoneSensor, ZoneSensor.sensor_id == Sensor.id)
        .where(ZoneSensor.zone_id == zone.id, ZoneSensor.start_ms <= now_ms,
               or_(ZoneSensor.end_ms.is_(None), ZoneSensor.end_ms > now_ms)).order_by(Sensor.name)).all()
    names = frozenset(m.name for m in members)
    charts: list[ChartSpec] = []
    for m in members:
        for r in session.execute(select(Latest).where(Latest.sensor_id == m.id).order_by(Latest.quantity)).scalars():
            charts.append(ChartSpec(m.name, r.quantity, r.unit, value_levels(
                rules, sensor=m.name, site=m.site, quantity=r.quantity, unit=r.unit, zone_sensors=names)))
    present = int(session.execute(
        select(func.count(func.distinct(Assignment.worker_id)))
        .where(Assignment.zone_id == zone.id, Assignment.start_ms <= now_ms, Assignment.end_ms > now_ms))
        .scalar_one())
    ids = [m.id for m in members]
    q = select_alerts().where(or_(Alert.zone == zone.code, Alert.sensor_id.in_(ids)))
    recent = tuple(_line(a, s) for a, s in session.execute(
        q.order_by(Alert.opened_ts.desc(), Alert.id.desc()).limit(alerts)).all())
    return ZonePage(code=zone.code, name=zone.name, site=zone.site, hazards=hazards, charts=tuple(charts),
                    present=present, alerts=recent)


# -- the inbox and one alert -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class InboxFilter:
    state: Literal["active", "open", "acknowledged", "resolved", "all"] = "active"
    severity: str = ""
    zone: str = ""
    kind: str = ""


def inbox(session: Session, f: InboxFilter, *, limit: int = 200) -> tuple[AlertLine, ...]:
    q = select_alerts()
    if f.state == "active":
        q = q.where(Alert.state != "resolved")
    elif f.state != "all":
        q = q.where(Alert.state == f.state)
    if f.severity in SEVERITIES:
        q = q.where(Alert.severity.in_(SEVERITIES[SEVERITIES.index(f.severity):]))
    if f.zone:
        zone_sensors = select(ZoneSensor.sensor_id).join(Zone, Zone.id == ZoneSensor.zone_id).where(Zone.code == f.zone)
        q = q.where(or_(Alert.zone == f.zone, Alert.sensor_id.in_(zone_sensors)))
    if f.kind in _ORIGIN:
        q = q.where(Alert.origin == _ORIGIN[f.kind])
    rows = session.execute(q.order_by(Alert.opened_ts.desc(), Alert.id.desc()).limit(limit)).all()
    return tuple(_line(a, s) for a, s in rows)


@dataclass(frozen=True)
class Event:
    ts_ms: int
    actor: str
    what: str
    detail: str


@dataclass(frozen=True)
class Delivery:
    kind: str
    recipient: str
    group: str
    state: str
    attempts: int
    sent_ms: int | None
    last_error: str


@dataclass(frozen=True)
class AlertPage:
    line: AlertLine
    sensor: str | None  # the sensor whose series the chart shows (None: an agent's watchdog)
    quantity: str
    metric: str
    trigger_value: float
    last_ts: int
    resolved_ts: int | None
    late: bool
    detail: str | None
    ack_note: str | None
    acknowledged_ms: int | None
    resolved_by: str | None
    resolve_reason: str | None
    source: str
    levels: tuple[Level, ...]
    timeline: tuple[Event, ...]
    deliveries: tuple[Delivery, ...]


def alert_page(session: Session, rules: RuleSet, alert_id: int) -> AlertPage | None:
    row = session.execute(select_alerts(Sensor.site).where(Alert.id == alert_id)).first()
    if row is None:
        return None
    a, subject, _site = row
    rule = _rule_of(rules).get(a.rule_id)
    levels = tuple(Level(lv.severity, lv.threshold, lv.label, rule.direction)
                   for lv in rule.levels) if rule is not None and rule.unit == a.unit else ()
    timeline = [Event(e.ts_ms, e.actor, e.action.removeprefix("alert_").replace("_", " "), e.detail)
                for e in session.execute(select(AuditEntry).where(AuditEntry.target == f"alert:{alert_id}")
                                         .order_by(AuditEntry.ts_ms, AuditEntry.id)).scalars()]
    if not any(ev.what == "opened" for ev in timeline):  # an alert from before the audit trail recorded openings
        timeline.insert(0, Event(a.opened_ts, "hazmon", "opened", f"{a.message}: {a.trigger_value:g} {a.unit}"))
    if a.resolved_ts is not None and not any(ev.what == "resolved" for ev in timeline):
        timeline.append(Event(a.resolved_ts, a.resolved_by or "hazmon", "resolved", a.resolve_reason or ""))
    deliveries = tuple(Delivery(j.kind, j.recipient, j.group_name, j.state, j.attempts, j.sent_ms, j.last_error)
                       for j in session.execute(select(NotificationJob).where(NotificationJob.alert_id == alert_id)
                                                .order_by(NotificationJob.id)).scalars())
    return AlertPage(line=_line(a, subject), sensor=subject if a.sensor_id is not None else None,
                     quantity=a.quantity, metric=a.metric, trigger_value=a.trigger_value, last_ts=a.last_ts,
                     resolved_ts=a.resolved_ts, late=a.late, detail=a.detail, ack_note=a.ack_note,
                     acknowledged_ms=a.acknowledged_ms, resolved_by=a.resolved_by, resolve_reason=a.resolve_reason,
                     source=rule.source if rule else "", levels=levels,
                     timeline=tuple(sorted(timeline, key=lambda ev: ev.ts_ms)), deliveries=deliveries)


def zone_codes(session: Session) -> tuple[str, ...]:
    return tuple(session.execute(select(Zone.code).order_by(Zone.code)).scalars())


__all__ = ["AlertPage", "Dashboard", "InboxFilter", "ZonePage", "alert_page", "dashboard", "inbox",
           "zone_codes", "zone_page"]
