"""edge gaps: readings an agent could not keep (disk full), reported with the batch that followed

Revision ID: 0007
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "edge_gaps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("sensor", sa.String(length=128), nullable=False),
        sa.Column("from_ts", sa.BigInteger(), nullable=False),
        sa.Column("to_ts", sa.BigInteger(), nullable=False),
        sa.Column("dropped", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("received_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_edge_gaps_agent_id", "edge_gaps", ["agent_id"], unique=False)
    op.create_index("ix_edge_gaps_sensor", "edge_gaps", ["sensor"], unique=False)
    with op.batch_alter_table("agent_status") as batch:
        batch.add_column(sa.Column("disk_full", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("dropped_readings", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("agent_status") as batch:
        batch.drop_column("dropped_readings")
        batch.drop_column("disk_full")
    op.drop_index("ix_edge_gaps_sensor", table_name="edge_gaps")
    op.drop_index("ix_edge_gaps_agent_id", table_name="edge_gaps")
    op.drop_table("edge_gaps")
