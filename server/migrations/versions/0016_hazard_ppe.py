"""hazard PPE and per-source agent status: the protective equipment a site requires for a declared hazard
(health_hazards.ppe, optional), and the latest state and frame counters each agent reported per source
(agent_sources)

Revision ID: 0016_hazard_ppe
Revises: 0015_board_links
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_hazard_ppe"
down_revision: str | tuple[str, ...] | None = "0015_board_links"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("health_hazards") as batch:
        batch.add_column(sa.Column("ppe", sa.String(length=500), nullable=True))
    op.create_table(
        "agent_sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=128), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("frames_ok", sa.BigInteger(), nullable=False),
        sa.Column("frames_bad", sa.BigInteger(), nullable=False),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.Column("last_error_ms", sa.BigInteger(), nullable=True),
        sa.Column("reported_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("agent_id", "source"),
    )


def downgrade() -> None:
    op.drop_table("agent_sources")
    with op.batch_alter_table("health_hazards") as batch:
        batch.drop_column("ppe")
