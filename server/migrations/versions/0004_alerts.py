"""alerts: lifecycle columns, evaluator state, notification jobs and log, incidents, edge alarm events

Revision ID: 0004
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("alerts",)
depends_on: str | Sequence[str] | None = None

BigInt = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as b:
        b.add_column(sa.Column("site", sa.String(64), nullable=True))
        b.add_column(sa.Column("zone", sa.String(64), nullable=True))
        b.add_column(sa.Column("metric", sa.String(24), nullable=False, server_default="value"))
        b.add_column(sa.Column("origin", sa.String(16), nullable=False, server_default="server"))
        b.add_column(sa.Column("current_severity", sa.String(16), nullable=True))
        b.add_column(sa.Column("step", sa.Integer(), nullable=False, server_default="0"))
        b.add_column(sa.Column("late", sa.Boolean(), nullable=False, server_default=sa.false()))
        b.add_column(sa.Column("acknowledged_by", sa.String(64), nullable=True))
        b.add_column(sa.Column("acknowledged_ms", sa.BigInteger(), nullable=True))
        b.add_column(sa.Column("ack_note", sa.Text(), nullable=True))
        b.add_column(sa.Column("resolved_by", sa.String(64), nullable=True))
        b.add_column(sa.Column("resolve_reason", sa.Text(), nullable=True))
        b.create_index("ix_alerts_state_opened", ["state", "opened_ts"])

    op.create_table(
        "alert_state",
        sa.Column("rule_id", sa.String(64), nullable=False),
        sa.Column("sensor_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("rule_id", "sensor_id"),
    )
    op.create_table(
        "edge_alarm_events",
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=True),
        sa.Column("received_ms", sa.BigInteger(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("agent_id", "event_id"),
    )
    op.create_table(
        "notification_jobs",
        sa.Column("id", BigInt, autoincrement=True, nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=True),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("stage", sa.Integer(), nullable=False),
        sa.Column("repeat", sa.Integer(), nullable=False),
        sa.Column("policy", sa.String(64), nullable=False),
        sa.Column("group_name", sa.String(64), nullable=False),
        sa.Column("recipient", sa.String(128), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("due_ms", sa.BigInteger(), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_ms", sa.BigInteger(), nullable=True),
        sa.Column("sent_ms", sa.BigInteger(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    op.create_index("ix_notification_jobs_due", "notification_jobs", ["state", "due_ms"])
    op.create_table(
        "notification_log",
        sa.Column("id", BigInt, autoincrement=True, nullable=False),
        sa.Column("job_id", sa.BigInteger(), nullable=False),
        sa.Column("ts_ms", sa.BigInteger(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["job_id"], ["notification_jobs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "alert_settings",
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("toml", sa.Text(), nullable=False),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.String(64), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("site", sa.String(64), nullable=False),
        sa.Column("zone", sa.String(64), nullable=False),
        sa.Column("drill", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("opened_ms", sa.BigInteger(), nullable=False),
        sa.Column("opened_by", sa.String(64), nullable=False),
        sa.Column("trigger", sa.Text(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=True),
        sa.Column("closed_ms", sa.BigInteger(), nullable=True),
        sa.Column("closed_by", sa.String(64), nullable=True),
        sa.Column("close_note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "uq_incidents_open_plan", "incidents", ["plan_id", "site", "zone", "drill"], unique=True,
        sqlite_where=sa.text("state = 'open'"), postgresql_where=sa.text("state = 'open'"),
    )
    op.create_table(
        "incident_events",
        sa.Column("id", BigInt, autoincrement=True, nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("ts_ms", sa.BigInteger(), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "incident_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("idx", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("done_ms", sa.BigInteger(), nullable=True),
        sa.Column("done_by", sa.String(64), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("incident_id", "idx"),
    )
    op.create_table(
        "incident_muster",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("contact", sa.Text(), nullable=False),
        sa.Column("safe_ms", sa.BigInteger(), nullable=True),
        sa.Column("via", sa.String(32), nullable=False),
        sa.Column("marked_by", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("incident_id", "person_id"),
    )


def downgrade() -> None:
    for table in ("incident_muster", "incident_steps", "incident_events"):
        op.drop_table(table)
    op.drop_index("uq_incidents_open_plan", table_name="incidents")
    op.drop_table("incidents")
    op.drop_table("alert_settings")
    op.drop_table("notification_log")
    op.drop_index("ix_notification_jobs_due", table_name="notification_jobs")
    op.drop_table("notification_jobs")
    op.drop_table("edge_alarm_events")
    op.drop_table("alert_state")
    with op.batch_alter_table("alerts", schema=None) as b:
        b.drop_index("ix_alerts_state_opened")
        for col in ("resolve_reason", "resolved_by", "ack_note", "acknowledged_ms", "acknowledged_by", "late",
                    "step", "current_severity", "origin", "metric", "zone", "site"):
            b.drop_column(col)
