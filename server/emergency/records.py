"""Incidents as other features read them (server.events.IncidentRecords): the incident, its checklist, its
timeline without anyone's muster answer, the muster count, and one person's own answer."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.emergency.incidents import muster_count
from server.emergency.models import Incident, IncidentEvent, IncidentStep, MusterEntry
from server.events import IncidentEntry, IncidentFacts, IncidentMusterMark, IncidentStepState


class IncidentRecordsSQL:
    def facts(self, session: Session, incident_id: int, *, person_id: str | None) -> IncidentFacts | None:
        inc = session.get(Incident, incident_id)
        if inc is None:
            return None
        steps = tuple(IncidentStepState(s.idx, s.title, s.owner, s.done_ms, s.done_by) for s in session.execute(
            select(IncidentStep).where(IncidentStep.incident_id == inc.id).order_by(IncidentStep.idx)).scalars())
        own = None
        if person_id is not None:
            own = session.execute(select(MusterEntry).where(MusterEntry.incident_id == inc.id,
                                                            MusterEntry.person_id == person_id)).scalar_one_or_none()
        timeline = tuple(IncidentEntry(ev.ts_ms, ev.actor, ev.kind, ev.text) for ev in session.execute(
            select(IncidentEvent).where(IncidentEvent.incident_id == inc.id)
            .order_by(IncidentEvent.ts_ms, IncidentEvent.id)).scalars())
        return IncidentFacts(
            incident_id=inc.id, plan_id=inc.plan_id, title=inc.title, drill=inc.drill, site=inc.site, zone=inc.zone,
            state=inc.state, trigger=inc.trigger, alert_id=inc.alert_id, opened_ms=inc.opened_ms,
            closed_ms=inc.closed_ms, steps=steps, timeline=timeline, muster_count=muster_count(session, inc.id),
            own_muster=IncidentMusterMark(own.person_id, own.safe_ms, own.via, own.marked_by) if own else None,
        )
