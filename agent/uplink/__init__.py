"""Uplinks carry outbox batches to the server and turn the server's acks into outbox deletions.

Every uplink has the same shape: `async run()` until cancelled, reading `outbox.pending()` and calling
`outbox.ack_async(n)` only when the *server* says every batch <= n is durably stored.
"""

from __future__ import annotations

from typing import Protocol


class Uplink(Protocol):
    async def run(self) -> None:
        """Deliver batches until cancelled. Connection errors are retried with backoff, never raised."""
        ...

    @property
    def connected(self) -> bool: ...
