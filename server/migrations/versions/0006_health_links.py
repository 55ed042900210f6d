"""health files: stored links of workers to alerts and incidents (and the emergency exam each scheduled)

Revision ID: 0006
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "health_event_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("worker_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("via", sa.String(length=32), nullable=False),
        sa.Column("zone", sa.String(length=64), nullable=True),
        sa.Column("present_from_ms", sa.BigInteger(), nullable=False),
        sa.Column("present_until_ms", sa.BigInteger(), nullable=False),
        sa.Column("linked_ms", sa.BigInteger(), nullable=False),
        sa.Column("exam_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["worker_id"], ["health_workers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "event_id", "worker_id"),
    )
    op.create_index("ix_health_event_links_worker", "health_event_links", ["worker_id", "kind"], unique=False)
    op.create_table(
        "health_event_link_runs",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("linked_ms", sa.BigInteger(), nullable=False),
        sa.Column("workers", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "event_id"),
    )


def downgrade() -> None:
    op.drop_index("ix_health_event_links_worker", table_name="health_event_links")
    op.drop_table("health_event_links")
    op.drop_table("health_event_link_runs")
