"""Test messages: prove that every recipient can be reached before an alert has to (`hazmon server notify test`,
POST /api/v1/notify/test). Each member of the chosen groups (all by default) gets a message marked TEST through
its own channel, at once and outside the queue; the answer says per recipient what happened."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from server.notify.channels import Channel, DeliveryError, Message
from server.notify.policies import NotifyConfig


@dataclass(frozen=True)
class TrialResult:
    group: str
    member: str
    channel: str
    delivered: bool
    error: str | None


class UnknownGroup(LookupError):
    pass


def send_test_messages(config: NotifyConfig, *, channel_for: Callable[[str, bool], Channel], now_ms: int,
                       group: str | None = None, sender: str = "hazmon") -> list[TrialResult]:
    """Send one marked test message to each member of `group` (or of every group). Never raises for a failed
    delivery: that is the answer. Raises UnknownGroup for a group that does not exist."""
    groups = config.groups if group is None else [g for g in config.groups if g.name == group]
    if group is not None and not groups:
        raise UnknownGroup(f"no group {group!r} (groups: {', '.join(g.name for g in config.groups) or 'none'})")
    out = []
    for g in groups:
        for m in g.members:
            channel = channel_for(m.target, m.webhook is not None)
            message = Message(
                key=f"test:{g.name}:{m.name}:{now_ms}", subject=f"[hazmon TEST] notification test for {g.name}",
                body=f"TEST ONLY, no alert: {sender} checks that {m.name} in group {g.name} can be reached.",
                severity="info", payload={"test": True, "group": g.name, "member": m.name}, secret=m.secret,
                ts_ms=now_ms,
            )
            try:
                channel.send(message, m.target)
                out.append(TrialResult(g.name, m.name, channel.name, True, None))
            except DeliveryError as exc:
                out.append(TrialResult(g.name, m.name, channel.name, False, str(exc)))
            except Exception as exc:  # a broken channel plugin: reported, never stops the others
                out.append(TrialResult(g.name, m.name, channel.name, False, f"{type(exc).__name__}: {exc}"))
    return out
