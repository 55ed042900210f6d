"""Signed "I am safe" links: HMAC-SHA256 over (incident id, person id) with the server's secret key."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from server.settings import Settings


def secret_key(settings: Settings) -> bytes:
    """HAZMON_SECRET_KEY, or a key generated once and kept in the data dir (readable by the server only)."""
    if settings.secret_key:
        return settings.secret_key.encode()
    path: Path = settings.data_dir / "secret.key"
    if not path.exists():
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(48))
    return path.read_text().strip().encode()


def muster_signature(key: bytes, incident_id: int, person_id: str) -> str:
    return hmac.new(key, f"muster:{incident_id}:{person_id}".encode(), hashlib.sha256).hexdigest()[:40]


def check_signature(key: bytes, incident_id: int, person_id: str, signature: str) -> bool:
    return hmac.compare_digest(muster_signature(key, incident_id, person_id), signature)


def muster_path(key: bytes, incident_id: int, person_id: str) -> str:
    """The path of a person's signed "I am safe" page; notify puts the server's public URL in front."""
    return f"/muster/{incident_id}/{person_id}?sig={muster_signature(key, incident_id, person_id)}"
