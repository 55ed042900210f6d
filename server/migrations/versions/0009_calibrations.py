"""calibration register: one row per sensor (last calibration and bump test, intervals, due dates, certificate,
who set it last, and the values its agent last sent)

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "calibrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sensor_id", sa.Integer(), nullable=False),
        sa.Column("last_calibrated", sa.Date(), nullable=True),
        sa.Column("calibration_interval_days", sa.Integer(), nullable=True),
        sa.Column("calibration_due", sa.Date(), nullable=True),
        sa.Column("last_bump_test", sa.Date(), nullable=True),
        sa.Column("bump_test_interval_days", sa.Integer(), nullable=True),
        sa.Column("bump_test_due", sa.Date(), nullable=True),
        sa.Column("certificate", sa.Text(), nullable=True),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("updated_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("updated_by", sa.String(length=128), nullable=False),
        sa.Column("agent_values", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["sensor_id"], ["sensors.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sensor_id"),
    )


def downgrade() -> None:
    op.drop_table("calibrations")
