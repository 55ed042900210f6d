"""Where notifications go in tests: a real SMTP server (aiosmtpd) and a real HTTP webhook receiver, on loopback."""

from __future__ import annotations

import email
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.kit.ports import free_port


@dataclass
class Mailbox:
    port: int
    messages: list[Any] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.messages.append(envelope)
        return "250 OK"

    def subjects(self) -> list[str]:
        return [email.message_from_bytes(m.content)["Subject"] for m in self.messages]


@contextmanager
def smtp_server() -> Iterator[Mailbox]:
    """An aiosmtpd server on a free loopback port that keeps every message it receives."""
    from aiosmtpd.controller import Controller

    box = Mailbox(free_port())
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


@dataclass
class Receiver:
    url: str
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)  # answered in order, then 200

    def payloads(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body in list(self.requests)]


@contextmanager
def webhook_server() -> Iterator[Receiver]:
    """An HTTP server on a free loopback port that records every POST to `url` and answers `statuses` in turn."""
    receiver = Receiver("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            receiver.requests.append(({k: v for k, v in self.headers.items()}, body))
            status = receiver.statuses.pop(0) if receiver.statuses else 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{httpd.server_address[1]}/hook"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        httpd.shutdown()
        httpd.server_close()
