"""Settings documents saved through the API (alert rules `rules`, notification settings `notify`), as TOML
text; when present a document replaces its file (HAZMON_RULES_FILE, HAZMON_NOTIFY_FILE). Every save is audited."""

from __future__ import annotations

from sqlalchemy import BigInteger, String, Text
from sqlalchemy.orm import Mapped, Session, mapped_column

from server.accounts.audit import audit
from server.db.base import Base


class SettingsDocument(Base):
    __tablename__ = "alert_settings"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    toml: Mapped[str] = mapped_column(Text)
    updated_ms: Mapped[int] = mapped_column(BigInteger)
    updated_by: Mapped[str] = mapped_column(String(64))


def stored_document(session: Session, name: str) -> str | None:
    row = session.get(SettingsDocument, name)
    return None if row is None else row.toml


def save_document(session: Session, name: str, text: str, *, actor: str, now_ms: int) -> None:
    """Store the document and audit it (the caller commits)."""
    row = session.get(SettingsDocument, name)
    if row is None:
        session.add(SettingsDocument(name=name, toml=text, updated_ms=now_ms, updated_by=actor))
    else:
        row.toml, row.updated_ms, row.updated_by = text, now_ms, actor
    audit(session, ts_ms=now_ms, actor=actor, action=f"{name}_settings_set", target=f"settings:{name}")
