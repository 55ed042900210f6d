"""The names the pages show for the system's own values (a worker's status, a severity, an alert's state ...),
each marked for the catalogue: `{{ w.status|label }}` prints "on leave" in English and 休假 in Chinese.

One table: a value means the same wherever it is shown, unless keyed "kind:value" (with a context, NP_) for
where it does not ("active": a worker in post, an alert not yet resolved). A value without an entry prints as it is
(with underscores as spaces), so a new one shows up untranslated in the catalogue check rather than disappearing."""

from __future__ import annotations

from server.i18n import N_, NP_, ptranslate, translate

LABELS: dict[str, str | tuple[str, str]] = {
    # people and roles (server/accounts)
    "admin": N_("admin"), "safety_manager": N_("safety manager"), "facilities": N_("facilities"),
    "record_keeper": N_("record-keeper"), "auditor": N_("auditor"), "worker": N_("worker"),
    # a worker's status (server/web/records_views.py STATUSES)
    "worker:active": NP_("worker status", "active"), "on_leave": N_("on leave"), "left": N_("left"),
    # severities (exposure/wire.py SEVERITIES)
    "info": N_("info"), "warning": N_("warning"), "critical": N_("critical"), "emergency": N_("emergency"),
    # an alert's state
    "open": N_("open"), "acknowledged": N_("acknowledged"), "resolved": N_("resolved"),
    # -- g2: incidents, muster, notice boards
    # an incident's state (server/emergency/models.py Incident.state)
    "incident:open": NP_("incident state", "open"), "incident:closed": NP_("incident state", "closed"),
}


def label(value: object, kind: str = "") -> str:
    """The shown name of one of the system's values, in the current language: `{{ w.status|label("worker") }}`
    looks up "worker:active" first, then "active" (a value that means the same everywhere)."""
    text = str(value)
    known = LABELS.get(f"{kind}:{text}") if kind else None
    if known is None:
        known = LABELS.get(text)
    if known is None:
        return text.replace("_", " ")
    return ptranslate(*known) if isinstance(known, tuple) else translate(known)
