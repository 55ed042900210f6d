"""delivery: gap ledger, agent status, 1-minute rollups, InfluxDB cursor

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("delivery",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "delivery_gaps",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("agent_id", sa.Integer(), sa.ForeignKey("agents.id"), nullable=False, index=True),
        sa.Column("first_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("after_ts", sa.BigInteger(), nullable=True),
        sa.Column("before_ts", sa.BigInteger(), nullable=True),
        sa.Column("detected_ms", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "agent_status",
        sa.Column("agent_id", sa.Integer(), sa.ForeignKey("agents.id"), primary_key=True),
        sa.Column("max_seq", sa.BigInteger(), nullable=False),
        sa.Column("max_seq_last_ts", sa.BigInteger(), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reported_ms", sa.BigInteger(), nullable=True),
        sa.Column("version", sa.String(32), nullable=False),
        sa.Column("outbox_batches", sa.Integer(), nullable=True),
        sa.Column("outbox_readings", sa.BigInteger(), nullable=True),
        sa.Column("oldest_unsent_ms", sa.BigInteger(), nullable=True),
        sa.Column("outbox_full", sa.Boolean(), nullable=False),
    )
    op.create_table(
        "rollups_1m",
        sa.Column("sensor_id", sa.Integer(), sa.ForeignKey("sensors.id"), primary_key=True),
        sa.Column("quantity", sa.String(32), primary_key=True),
        sa.Column("minute_ms", sa.BigInteger(), primary_key=True),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("value_sum", sa.Float(), nullable=False),
        sa.Column("value_min", sa.Float(), nullable=False),
        sa.Column("value_max", sa.Float(), nullable=False),
        sa.Column("energy_sum", sa.Float(), nullable=True),
        sa.Column("unit", sa.String(16), nullable=False),
    )
    op.create_table(
        "influx_cursor",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("last_reading_id", sa.BigInteger(), nullable=False),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("influx_cursor")
    op.drop_table("rollups_1m")
    op.drop_table("agent_status")
    op.drop_table("delivery_gaps")
