"""HTTP uplink: POST each pending batch to /api/v1/ingest, oldest first, and delete it on the server's
`{"acked_seq": N}`; POST stored edge alarm events to /api/v1/edge-alarms and delete those the server names in
`{"acked_alarms": [ids]}`; POST the status report to /api/v1/agent-status. Paths and messages: `exposure.wire`.
While the server does not accept connections, the next attempt is made as soon as it does again, whatever the
backoff has grown to (`agent.backoff.wait_to_retry`)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import httpx

from agent.alarms.store import AlarmStore
from agent.backoff import Backoff, wait_to_retry
from agent.clock import Clock
from agent.outbox import Outbox, StoredBatch
from agent.uplink.backlog import LinkLog, log_backlog, quiet_http_client_logs
from exposure import wire
from exposure.batch import encode_envelope

log = logging.getLogger(__name__)


class RejectedBatch(Exception):
    """The server refused a batch as invalid (4xx other than 401/429): it will never be accepted as is."""


class HttpUplink:
    def __init__(
        self,
        *,
        url: str,
        token: str,
        site: str,
        agent: str,
        outbox: Outbox,
        clock: Clock,
        timeout_s: float = 10.0,
        status: Callable[[], wire.StatusReport] | None = None,
        status_interval_s: float = 15.0,
        retry_max_s: float = 30.0,
        alarms: AlarmStore | None = None,
        alarm_interval_s: float = 0.5,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        base = url.rstrip("/")
        parsed = httpx.URL(base)
        self.host = parsed.host or "127.0.0.1"
        self.port = parsed.port or (443 if parsed.scheme == "https" else 80)
        self.endpoint = base + wire.INGEST_PATH
        self.status_endpoint = base + wire.STATUS_PATH
        self.alarms_endpoint = base + wire.EDGE_ALARMS_PATH
        self.status = status
        self.status_interval_s = status_interval_s
        self.retry_max_s = retry_max_s
        self.alarms = alarms
        self.alarm_interval_s = alarm_interval_s
        self.site, self.agent = site, agent
        self.outbox = outbox
        self.clock = clock
        self._client = httpx.AsyncClient(
            timeout=timeout_s, transport=transport,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        self.connected = False
        self.url = base
        self.link_log = LinkLog(base)
        quiet_http_client_logs()
        self.sent_batches = 0
        self.delivered_alarms = 0
        self.last_error: str | None = None

    async def run(self) -> None:
        backlog = asyncio.create_task(log_backlog(self.outbox, url=self.url))
        try:
            await self._run()
        finally:
            backlog.cancel()

    async def _run(self) -> None:
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(self._deliver())
                if self.status is not None:
                    group.create_task(self._report_status())
                if self.alarms is not None:
                    group.create_task(self._deliver_alarms())
        finally:
            await self._client.aclose()

    async def _report_status(self) -> None:
        assert self.status is not None
        while True:
            try:
                await self._client.post(self.status_endpoint, json=self.status().to_json())
            except httpx.HTTPError as exc:
                log.debug("uplink: status report failed: %s", exc)
            await self.clock.sleep(self.status_interval_s)

    async def _deliver(self) -> None:
        backoff = Backoff(max_s=self.retry_max_s)
        while True:
            batches = await asyncio.to_thread(self.outbox.pending, limit=20)
            if not batches:
                await self.outbox.wait_changed(1.0)
                continue
            try:
                for batch in batches:
                    await self._send(batch, first_seq=batches[0].seq)
                backoff.reset()
            except (httpx.HTTPError, RejectedBatch, _Retry) as exc:
                self.connected = False
                self.last_error = str(exc) or type(exc).__name__
                delay = backoff.next_delay()
                self.link_log.down(self.last_error, delay)
                await wait_to_retry(delay, host=self.host, port=self.port, sleep=self.clock.sleep)

    async def _send(self, batch: StoredBatch, *, first_seq: int) -> None:
        seq = batch.seq
        body = encode_envelope(self.site, self.agent, seq, self.clock.now_ms(), batch.readings_json,
                               first_seq=first_seq, gaps_json=batch.gaps_json)
        response = await self._client.post(self.endpoint, content=body)
        if response.status_code == 200:
            acked = _ack(response).acked_seq
            if acked is None:
                raise _Retry(f"the server's answer to batch {seq} holds no {wire.ACKED_SEQ}")
            self.link_log.up()
            self.connected = True
            self.sent_batches += 1
            await self.outbox.ack_async(acked)
            if acked < seq:
                raise _Retry(f"server acked {acked} < {seq}: waiting for it to fill a gap")
            return
        detail = response.text[:300]
        if response.status_code in (401, 403):
            raise _Retry(f"server refused the agent's token ({response.status_code}): {detail}")
        if 400 <= response.status_code < 500 and response.status_code != 429:
            # Kept in the outbox, never dropped: a person must look at it. The uplink keeps retrying slowly.
            raise RejectedBatch(f"batch {seq} rejected ({response.status_code}): {detail}")
        raise _Retry(f"server answered {response.status_code}")

    async def deliver_alarms_once(self) -> int:
        """Send the stored edge alarm events; delete those the server acknowledges. Returns how many it did.
        Raises httpx.HTTPError while the server is unreachable or refuses them, ValueError when its answer is
        not an ack; the events stay stored either way."""
        assert self.alarms is not None
        events = await asyncio.to_thread(self.alarms.pending)
        if not events:
            return 0
        response = await self._client.post(self.alarms_endpoint, content=wire.encode_alarm_events(events))
        response.raise_for_status()
        acked = wire.decode_ack(response.content).acked_alarms or ()
        await asyncio.to_thread(self.alarms.ack, acked)
        self.delivered_alarms += len(acked)
        return len(acked)

    async def _deliver_alarms(self) -> None:
        backoff = Backoff(max_s=self.retry_max_s)
        while True:
            try:
                await self.deliver_alarms_once()
                backoff.reset()
                delay = self.alarm_interval_s
            except (httpx.HTTPError, ValueError) as exc:
                delay = backoff.next_delay()
                log.warning("uplink: edge alarms not delivered (%s); retrying in %.1f s", exc, delay)
            await self.clock.sleep(delay)


def _ack(response: httpx.Response) -> wire.Ack:
    try:
        return wire.decode_ack(response.content)
    except ValueError as exc:
        raise _Retry(f"the server's answer is not an ack: {exc}") from None


class _Retry(Exception):
    pass
