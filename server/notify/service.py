"""The notifier as the app holds it: the current settings, the channels from the plugins, the event subscribers
(alert transitions, incidents) and the worker loop that runs one delivery step per tick on the app's clock.

The worker does not wait for its tick when there is something to send: a subscriber that queues a message marks
its session, and once that session's transaction commits (the publisher's: the ingest of the batch that opened
the alert) the worker is woken at once (`_after_commit`). The tick remains for retries, escalations and
messages queued by another replica."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session, sessionmaker

from server.accounts.documents import stored_document
from server.errors import safe_traceback
from server.events import AlertEvent, IncidentCall, IncidentOpened
from server.notify.channels import AppriseChannel, Channel, WebhookChannel
from server.notify.delivery import RunStats, run_due, schedule_alert
from server.notify.incidents import queue_call, queue_incident
from server.notify.policies import NotifyConfig, parse_notify_config

log = logging.getLogger(__name__)

#: session.info key: this transaction queued notifications (set by the subscribers, read after the commit)
_QUEUED = "hazmon.notify.queued"


def load_notify_config(path: Path | None) -> NotifyConfig:
    if path is None:
        return NotifyConfig()
    return parse_notify_config(path.read_text(encoding="utf-8"), name=str(path))


class Notifier:
    def __init__(self, config: NotifyConfig, *, channels: dict[str, type[Channel]], clock: Callable[[], int]) -> None:
        self.config = config
        self.clock = clock
        self.channels = channels
        self._instances: dict[str, Channel] = {}
        self.last_stats = RunStats()
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- settings --------------------------------------------------------------------------------------------
    def load_stored(self, session: Session) -> None:
        """Settings saved through the API replace the file's."""
        text = stored_document(session, "notify")
        if text is not None:
            self.config = parse_notify_config(text, name="notify settings (API)")

    # -- channels --------------------------------------------------------------------------------------------
    def channel_for(self, target: str, is_webhook: bool) -> Channel:
        if is_webhook:
            return self._instance(WebhookChannel)
        scheme = urlsplit(target).scheme.lower()
        for cls in self.channels.values():
            if scheme in cls.schemes:
                return self._instance(cls)
        return self._instance(self.channels.get("apprise", AppriseChannel))

    def _instance(self, cls: type[Channel]) -> Channel:
        inst = self._instances.get(cls.name)
        if inst is None:
            inst = self._instances[cls.name] = cls()
        return inst

    # -- the event subscribers and the delivery step ----------------------------------------------------------
    def on_alert(self, session: Session, event: AlertEvent) -> int:
        return self._queued(session, schedule_alert(session, self.config, event, self.clock()))

    def on_incident(self, session: Session, event: IncidentOpened) -> int:
        return self._queued(session, queue_incident(session, event, self.config))

    def on_incident_call(self, session: Session, event: IncidentCall) -> int:
        return self._queued(session, queue_call(session, event, self.config))

    @staticmethod
    def _queued(session: Session, n: int) -> int:
        if n:
            session.info[_QUEUED] = True
        return n

    def _after_commit(self, session: Session) -> None:
        """After a commit of a session from the worker's sessionmaker: wake the worker when the transaction that
        just ended (not a savepoint inside it) queued messages."""
        if session.in_nested_transaction() or not session.info.pop(_QUEUED, False):
            return
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None and not loop.is_closed():
            loop.call_soon_threadsafe(wake.set)

    def run_due(self, session: Session, now_ms: int) -> RunStats:
        self.last_stats = run_due(session, now_ms, config=self.config, channel_for=self.channel_for)
        return self.last_stats

    async def run(self, sessions: sessionmaker[Session], *, interval_s: float = 1.0) -> None:
        """The worker loop: one step per tick, or at once when a commit queued messages; a failing step is
        logged and the loop goes on."""
        self._loop, self._wake = asyncio.get_running_loop(), asyncio.Event()
        sa_event.listen(sessions, "after_commit", self._after_commit)
        try:
            while True:
                self._wake.clear()
                try:
                    await asyncio.to_thread(self._step, sessions)
                except Exception as exc:
                    log.error("notification step failed: %s", safe_traceback(exc))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=interval_s)
        finally:
            sa_event.remove(sessions, "after_commit", self._after_commit)
            self._loop = self._wake = None

    def _step(self, sessions: sessionmaker[Session]) -> None:
        with sessions() as session:
            self.run_due(session, self.clock())
